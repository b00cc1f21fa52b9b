"""Cross-validated measurements of critic candidates, for ``bench/critic_fit.py`` (--sweep, --ablation, quotes).

All on training/drafts.jsonl's 5 stable folds (``coach.judging.folds``), with the fit ``coach train-critic``
uses; nothing here reads eval/. Pure functions on ``Features``: the caller embeds (and caches) once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coach.judging.critic import FeatureSet, fit_logistic
from coach.judging.folds import fold_of, out_of_fold
from coach.judging.lexical import hashed_sparse
from coach.judging.quote_ranker import QUOTE_WEIGHT, quote_ranker
from coach.judging.thresholds import critic_figures, held_apart_flags, line_chooser, precision_cut
from coach.judging.training import PRECISION, Features, LabelledDraft, draft_matrix, said_labels
from coach.prompts import Rubric

TARGETS = (0.6, 0.7, 0.75, 0.8)  # precision lines of the sweep


@dataclass(frozen=True)
class Candidate:
    """One configuration's out-of-fold probabilities per criterion, and what it embeds per row."""

    name: str
    oof: dict[str, np.ndarray]
    texts_per_row: float


def auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve: the chance a violating draft scores above a non-violating one (ties: half)."""
    positive, negative = scores[truth], scores[~truth]
    if not len(positive) or not len(negative):
        return float("nan")
    above = (positive[:, None] > negative[None, :]).sum() + 0.5 * (positive[:, None] == negative[None, :]).sum()
    return float(above / (len(positive) * len(negative)))


def truths(drafts: Sequence[LabelledDraft], rubric: Rubric) -> dict[str, np.ndarray]:
    """Per criterion, whether each draft violates it."""
    return {cid: np.asarray([d.verdicts[cid].violated for d in drafts]) for cid in sorted(rubric.ids)}


def candidate(
    drafts: Sequence[LabelledDraft],
    features: Features,
    rubric: Rubric,
    kind: FeatureSet,
    stacked: bool,
    l2: float,
    lexical: bool = False,
    extra: np.ndarray | None = None,
    name: str = "",
    relation: bool = False,
) -> Candidate:
    """Out-of-fold probabilities of a configuration (the same folds and fit as ``coach train-critic``);
    ``extra``: more feature columns appended (bench variants that the product does not read)."""
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    ids = sorted(rubric.ids)  # the shipped model's order
    matrix = draft_matrix(drafts, features, ids, kind, stacked, l2=l2, lexical=lexical, relation=relation)
    if extra is not None:
        matrix = np.hstack([matrix, extra])
    oof = {c: out_of_fold(matrix, t.astype(np.int64), groups, 5, l2) for c, t in truths(drafts, rubric).items()}
    sentences = np.bincount(features.sentence_draft, minlength=len(drafts))
    messages = np.asarray([bool(d.customer_message) for d in drafts])
    texts = 1.0 + ("sentences" in kind or stacked) * sentences.mean() + ("customer" in kind) * messages.mean()
    name = name or (
        kind
        + (" + sentence logits" if stacked else "")
        + (" + lexical logits" if lexical else "")
        + (" + message x reply cues" if relation else "")
    )
    return Candidate(name, oof, float(texts))


def held_apart(drafts: Sequence[LabelledDraft], rubric: Rubric, found: Candidate, precision: float) -> dict[str, float]:
    """Overall recall and false issues per good draft, each fold's lines chosen on the other folds at ``precision``."""
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    good = np.asarray([d.good for d in drafts])
    flags = held_apart_flags(found.oof, truths(drafts, rubric), good, groups, line_chooser(precision, 0.0))
    return dict(critic_figures(drafts, flags)["all"])


def print_sweep(drafts: Sequence[LabelledDraft], rubric: Rubric, found: Candidate) -> None:
    """Per criterion: AUC and recall at each precision line (out-of-fold); overall held-apart figures per line."""
    truth = truths(drafts, rubric)
    print(
        f"\nsweep, {found.name} (5-fold CV): per criterion AUC, then recall at precision " + "/".join(map(str, TARGETS))
    )
    for cid, t in truth.items():
        recalls = []
        for target in TARGETS:
            flagged = found.oof[cid] >= precision_cut(found.oof[cid], t, target)
            recalls.append(f"{(flagged & t).sum() / max(int(t.sum()), 1):5.2f}")
        print(f"  {cid:26} AUC {auc(found.oof[cid], t):.3f}   " + " ".join(recalls))
    for target in TARGETS:
        row = held_apart(drafts, rubric, found, target)
        print(
            f"  line at precision {target}: held-apart recall {row['recall']:.3f}, "
            f"false/good {row['false_per_good']:.2f}"
        )


def print_ablation(drafts: Sequence[LabelledDraft], rubric: Rubric, found: Sequence[Candidate]) -> None:
    """What each input buys: texts embedded per row, mean AUC, held-apart recall and false/good at the 0.75 line."""
    truth = truths(drafts, rubric)
    print(f"\nablation (5-fold CV; issue line at precision {PRECISION}, chosen on the other folds)")
    print(f"  {'inputs':62} {'texts/row':>9} {'mean AUC':>8} {'recall':>6} {'false/good':>10}")
    for one in found:
        row = held_apart(drafts, rubric, one, PRECISION)
        mean_auc = float(np.nanmean([auc(one.oof[c], t) for c, t in truth.items()]))
        print(
            f"  {one.name:62} {one.texts_per_row:9.2f} {mean_auc:8.4f} {row['recall']:6.3f} "
            f"{row['false_per_good']:10.2f}"
        )


def quote_hits(
    drafts: Sequence[LabelledDraft],
    features: Features,
    rubric: Rubric,
    l2: float,
    *,
    sentence_model: bool,
    ranker: bool = False,
) -> dict[str, list[bool]]:
    """Per criterion, for each `said` label: does the top sentence overlap the span by half the shorter of the two
    (bench/critique.py's rule)? Scored by the criterion's sentence model fitted without the draft's fold, with
    ``ranker`` plus ``QUOTE_WEIGHT`` times its n-gram quote ranker's logit (``coach.judging.quote_ranker``, fitted
    without the fold too), or without a sentence model (``sentence_model=False``): the sentence most aligned with
    the draft model's direction (its weights on the draft vector plus those on the max-pooled sentences)."""
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    sentence_groups = groups[features.sentence_draft]
    matrix = draft_matrix(drafts, features, sorted(rubric.ids), "draft+sentences", False, l2=l2)
    width = features.sentences.shape[1]
    hits: dict[str, list[bool]] = {}
    for cid, truth in truths(drafts, rubric).items():
        said = said_labels(drafts, features, cid)
        scores = np.zeros(len(features.sentences))
        for fold in range(5):
            test, rest = sentence_groups == fold, groups != fold
            if sentence_model and said is not None:
                fitted = fit_logistic(features.sentences[~test], said[~test], l2=l2)
                scores[test] = fitted.logits(features.sentences[test])
                if ranker:
                    scores[test] += QUOTE_WEIGHT * ranker_logits(drafts, features, cid, said, test)
            else:
                weights = np.asarray(fit_logistic(matrix[rest], truth[rest].astype(np.int64), l2=l2).weights)
                scores[test] = features.sentences[test] @ (weights[:width] + weights[width:])
        hits[cid] = []
        for i, draft in enumerate(drafts):
            verdict = draft.verdicts[cid]
            if verdict.label != "said" or verdict.start is None or verdict.end is None:
                continue
            mine = np.flatnonzero(features.sentence_draft == i)
            start, end = features.sentence_spans[int(mine[np.argmax(scores[mine])])]
            shared = min(end, verdict.end) - max(start, verdict.start)
            shorter = min(end - start, verdict.end - verdict.start)
            hits[cid].append(shorter > 0 and 2 * shared >= shorter)
    return hits


def ranker_logits(
    drafts: Sequence[LabelledDraft], features: Features, criterion: str, said: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """The quote ranker's logits for the ``test`` sentences, the ranker fitted on the other sentences' drafts."""
    rest = ~test
    spans = [span for span, keep in zip(features.sentence_spans, rest, strict=True) if keep]
    kept = Features(features.drafts, features.sentences[rest], features.sentence_draft[rest], spans, features.customers)
    labels = [d.verdicts[criterion].label for d in drafts]
    model = quote_ranker([d.text for d in drafts], kept, labels, said[rest])
    assert model is not None
    weights = np.asarray(model.weights)
    logits = []
    for i in np.flatnonzero(test):
        start, end = features.sentence_spans[i]
        indices, values = hashed_sparse(drafts[int(features.sentence_draft[i])].text[start:end], len(weights))
        logits.append(float(weights[indices] @ values) + model.bias)
    return np.asarray(logits)


def print_quotes(title: str, hits: dict[str, list[bool]]) -> None:
    """Per criterion and overall, the share of `said` labels whose top sentence is the labelled one."""
    every = [h for row in hits.values() for h in row]
    print(f"\nquotes, {title}: the top sentence overlaps the labelled `said` span (5-fold CV)")
    for cid, row in hits.items():
        print(f"  {cid:26} {sum(row) / max(len(row), 1):5.2f} ({sum(row)}/{len(row)})")
    print(f"  {'all':26} {sum(every) / max(len(every), 1):5.2f} ({sum(every)}/{len(every)})")
