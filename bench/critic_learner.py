"""What learner the critic's draft models should be: linear alone, second-stage stacking, a hidden layer (issue 21).

Usage:  python -m bench.critic_learner [--limit N]

On training/drafts.jsonl only (nothing here reads eval/), with the shipped inputs (``coach train-critic``'s draft
matrix: vectors, stacked sentence and lexical logits, message x reply cues) and its 5 stable folds, prints per
candidate the held-apart recall and false issues per good draft with the issues' lines at precision 0.75 chosen
on the other folds (``train_critic``'s measured figures), the mean AUC, and per criterion recall / precision:
- the linear draft models alone (the critic before the hidden layer);
- cross-criterion stacking: a second linear stage per criterion reading the draft matrix and every criterion's
  out-of-fold logit (a rude draft usually lacks an apology too);
- a small second stage: only those logits, the stacked logits and cues, and a language one-hot (l2 10);
- the linear models with a language one-hot added to their inputs;
- the hidden layer alone (``coach.judging.hidden_layer``), and blended with the linear models (shipped).
Training vectors are cached as bench/critic_fit.py caches them. ``--limit N``: a smoke run (~20 N drafts).
``--learning-curve``: the linear draft models on 40, 60, 80 and 100 % of the drafts (a stable draw by id), each
cross-validated on its own drafts: whether more labelled drafts of the same kind would raise the recall.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from bench.critic_cv import Candidate, auc, held_apart, truths
from bench.critic_fit import training_features
from coach.judging.folds import fold_of, out_of_fold
from coach.judging.hidden_layer import WEIGHT, blend, out_of_fold_hidden
from coach.judging.one_thread import one_blas_thread
from coach.judging.thresholds import critic_figures, held_apart_flags, line_chooser
from coach.judging.training import FEATURES, L2, PRECISION, Features, LabelledDraft, draft_matrix
from coach.prompts import Rubric, load_rubric

SMALL_L2 = 10.0  # the small second stage's l2 (1 and 100 were no better)
STACKED_COLUMNS = 23  # the draft matrix's last columns: 8 sentence logits, 8 lexical logits, 7 message x reply cues


def candidates(drafts: Sequence[LabelledDraft], features: Features, rubric: Rubric) -> list[Candidate]:
    """Every candidate's out-of-fold probabilities (run with one BLAS thread, as the fit is)."""
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    truth = truths(drafts, rubric)
    matrix = draft_matrix(drafts, features, sorted(rubric.ids), FEATURES, True, l2=L2, lexical=True, relation=True)
    languages = sorted({d.language for d in drafts})
    one_hot = np.asarray([[d.language == lang for lang in languages] for d in drafts], dtype=np.float64)

    def linear(x: np.ndarray, l2: float = L2) -> dict[str, np.ndarray]:
        return {c: out_of_fold(x, t.astype(np.int64), groups, 5, l2) for c, t in truth.items()}

    first = linear(matrix)
    logits = np.stack([np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1)) for p in first.values()], 1)
    labels = np.stack(list(truth.values()), axis=1).astype(np.float64)
    hidden = out_of_fold_hidden(matrix, labels, groups, 5)
    small = np.hstack([logits, matrix[:, -STACKED_COLUMNS:], one_hot])
    found = [
        ("linear draft models (before)", first),
        ("+ second stage: all criteria's out-of-fold logits", linear(np.hstack([matrix, logits]))),
        ("small second stage: logits, cues, language (l2 10)", linear(small, SMALL_L2)),
        ("+ language one-hot", linear(np.hstack([matrix, one_hot]))),
        ("hidden layer alone", blend(first, hidden, 1.0)),
        (f"linear + hidden layer, weight {WEIGHT} (shipped)", blend(first, hidden, WEIGHT)),
    ]
    return [Candidate(name, oof, 0.0) for name, oof in found]


CURVE = (0.4, 0.6, 0.8, 1.0)  # shares of the training drafts


def share_of(drafts: Sequence[LabelledDraft], share: float) -> list[LabelledDraft]:
    """A stable share of the drafts, drawn apart from the folds (a salted hash of the id in ten buckets)."""
    return [d for d in drafts if fold_of(f"share {d.id}", 10) < round(share * 10)]


def features_of(drafts: Sequence[LabelledDraft], features: Features, part: Sequence[LabelledDraft]) -> Features:
    """``features`` of the drafts in ``part`` only, their sentences re-indexed."""
    ids = {d.id for d in part}
    keep = [i for i, d in enumerate(drafts) if d.id in ids]
    new_index = {old: new for new, old in enumerate(keep)}
    rows = [j for j, i in enumerate(features.sentence_draft) if int(i) in new_index]
    return Features(
        drafts=features.drafts[keep],
        sentences=features.sentences[rows],
        sentence_draft=np.asarray([new_index[int(features.sentence_draft[j])] for j in rows]),
        sentence_spans=[features.sentence_spans[j] for j in rows],
        customers=features.customers[keep],
        messages=tuple(features.messages[i] for i in keep) if features.messages else (),
    )


def learning_curve(drafts: Sequence[LabelledDraft], features: Features, rubric: Rubric) -> list[Candidate]:
    """The linear draft models' out-of-fold probabilities on growing shares of the drafts (one per share)."""
    found = []
    for share in CURVE:
        part = share_of(drafts, share)
        groups = np.asarray([fold_of(d.id, 5) for d in part])
        truth = truths(part, rubric)
        own = features_of(drafts, features, part)
        matrix = draft_matrix(part, own, sorted(rubric.ids), FEATURES, True, l2=L2, lexical=True, relation=True)
        oof = {c: out_of_fold(matrix, t.astype(np.int64), groups, 5, L2) for c, t in truth.items()}
        found.append(Candidate(f"linear, {share:.0%} of the drafts ({len(part)})", oof, 0.0))
    return found


def print_table(drafts: Sequence[LabelledDraft], rubric: Rubric, found: Sequence[Candidate]) -> None:
    """Per candidate: held-apart recall and false/good at the 0.75 line, mean AUC, per criterion recall/precision."""
    print_header(drafts, rubric)
    for one in found:
        print_row(drafts, rubric, one)


def print_header(drafts: Sequence[LabelledDraft], rubric: Rubric) -> None:
    """``print_table``'s heading."""
    short = [cid.split("_")[0][:6] for cid in sorted(rubric.ids)]
    print(f"\ncritic learners (5-fold CV, {len(drafts)} drafts; issues' lines at precision {PRECISION}, chosen on the")
    print("other folds); per criterion: held-apart recall/precision")
    print(f"  {'candidate':52} {'recall':>6} {'f/good':>6} {'AUC':>6}  " + " ".join(f"{s:>9}" for s in short))


def print_row(drafts: Sequence[LabelledDraft], rubric: Rubric, one: Candidate) -> None:
    """One candidate's line of ``print_table``."""
    truth = truths(drafts, rubric)
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    good = np.asarray([d.good for d in drafts])
    row = held_apart(drafts, rubric, one, PRECISION)
    flags = held_apart_flags(one.oof, truth, good, groups, line_chooser(PRECISION, 0.0))
    criteria = critic_figures(drafts, flags)["criteria"]
    mean_auc = float(np.nanmean([auc(one.oof[c], t) for c, t in truth.items()]))
    cells = " ".join(f"{criteria[c]['recall']:4.2f}/{criteria[c]['precision']:4.2f}" for c in truth)
    print(f"  {one.name:52} {row['recall']:6.3f} {row['false_per_good']:6.2f} {mean_auc:6.3f}  {cells}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="a smoke run: ~20 N training drafts")
    parser.add_argument("--learning-curve", action="store_true", help="linear models on 40-100 %% of the drafts")
    args = parser.parse_args()
    rubric = load_rubric()
    _, drafts, features = training_features(rubric, args.limit)
    if args.learning_curve:
        from bench.critic_learner import learning_curve as run  # pickled by module name for the one-thread child

        print_header(drafts, rubric)
        for share, found in zip(CURVE, one_blas_thread(run, drafts, features, rubric), strict=True):
            print_row(share_of(drafts, share), rubric, found)
        return
    from bench.critic_learner import candidates as by_name  # pickled by module name for the one-thread child

    print_table(drafts, rubric, one_blas_thread(by_name, drafts, features, rubric))


if __name__ == "__main__":
    main()
