"""Model selection for the learned critic: which l2, budget and features to fit with (not the product's figures).

Usage:  python -m bench.critic_fit [--l2 300] [--budget 0.4] [--features draft+sentences+customer] [--no-stack]
                                   [--no-lexical] [--no-relation] [--sweep] [--ablation] [--lexical-sweep]
                                   [--relation] [--quotes] [--limit N] [--heldout]

Fits a candidate critic exactly as ``coach train-critic`` does (``coach.judging.training.train_critic``), on
training/drafts.jsonl only, and prints:
- its 5-fold cross-validated figures on the training corpus, each fold scored with thresholds chosen on the
  other folds (per language and per criterion): the figures to choose ``--l2``, ``--budget`` and features by;
- the candidate on the tuning set eval/queries.jsonl, scored the product's way: written as the critic model
  of a temporary prompts folder and called through ``Coach.critique(draft, customer_message)`` (the customer's
  message always read, grader-directed sentences left out);
- with ``--heldout``, the same on eval/heldout.jsonl: for checking only, never for choosing anything;
- with ``--sweep``, per criterion the AUC and the recall at precision .6/.7/.75/.8 (out-of-fold), and the
  held-apart recall and false issues per good draft with the issues' line at each of those precisions;
- with ``--ablation``, what each input buys (issue 24): draft vector alone, + customer message, + max-pooled
  sentences, both, + the sentence models' logits (stacked), + the lexical models' logits (hashed character
  n-grams), + the message x reply cues; texts embedded per row, mean AUC, held-apart recall and false/good at the
  0.75 line; then ``--quotes``;
- with ``--lexical-sweep``, the lexical models' bucket count and l2, the customer message's n-grams and
  hand-written cues (time expressions, question marks, sentences), each stacked onto the shipped inputs
  (``bench/critic_lexical.py``);
- with ``--relation``, the message x reply inputs (issue 21): the shipped cues, cosine similarities of the message
  to the reply's sentences, the coverage of each message sentence, products of the message's and the draft's
  vectors; listening's figures apart (``bench/critic_relation.py``);
- with ``--quotes``, per criterion how often the quoted sentence is the labelled `said` span on CV: the sentence
  classifier with the n-gram quote ranker (shipped), alone, and neither (the sentence most aligned with the draft
  model's direction).
The shipped model's figures are ``bench/critique.py``'s. Training vectors are cached under the data dir
(bench-vectors.npz) so reruns take seconds. ``--limit N``: a smoke run (N eval drafts, about 20 N training drafts).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import numpy as np

from bench.common import HELDOUT, PROMPTS, ROOT, TUNING, bench_settings
from bench.critic_cv import candidate, print_ablation, print_quotes, print_sweep, quote_hits
from bench.critic_lexical import lexical_sweep, print_lexical_sweep
from bench.critic_relation import coverage, print_relation_sweep, relation_sweep
from coach import Coach, Settings
from coach.judging.critic import MODEL_FILE, CriticModel, FeatureSet
from coach.judging.one_thread import one_blas_thread
from coach.judging.thresholds import critic_figures
from coach.judging.training import Features, LabelledDraft, embed, read_labelled, train_critic
from coach.knowledge.embeddings import Vectors, shared_embedder
from coach.knowledge.retrieval import text_vectors
from coach.prompts import Rubric, load_rubric


class VectorCache:
    """Query vectors by text, kept in one .npz file between runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: dict[str, Vectors] = {}
        if path.exists():
            with np.load(path) as data:
                if "keys" in data.files:
                    self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.embedder = shared_embedder()

    def texts(self, texts: Sequence[str]) -> Vectors:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        todo = [t for t, k in zip(texts, keys, strict=True) if k not in self.vectors]
        if todo:
            for text, vector in zip(todo, text_vectors(self.embedder, todo), strict=True):
                self.vectors[hashlib.sha1(text.encode()).hexdigest()] = vector
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, keys=np.asarray(list(self.vectors)), vectors=np.stack(list(self.vectors.values())))
        return np.stack([self.vectors[k] for k in keys])


def training_features(rubric: Rubric, limit: int = 0) -> tuple[VectorCache, list[LabelledDraft], Features]:
    """The training corpus as the critic's fit reads it, vectors from the bench cache; with ``limit`` N, a smoke
    sample of about 20 N drafts."""
    cache = VectorCache(Settings().data_dir / "bench-vectors.npz")
    drafts = read_labelled(ROOT / "training" / "drafts.jsonl", rubric.ids)
    if limit:
        drafts = drafts[:: max(1, len(drafts) // (20 * limit))]
    return cache, drafts, embed(cache.embedder, drafts, cache.texts, drop_customers=True)


def print_figures(title: str, figures: dict[str, Any]) -> None:
    overall = figures["all"]
    print(f"\n{title}: {overall['drafts']} drafts ({overall['good']} good)")
    print(f"  recall {overall['recall']:.2f}   false issues per good draft {overall['false_per_good']:.2f}")
    for lang, row in figures["languages"].items():
        print(f"  {lang}: recall {row['recall']:.2f}  false/good {row['false_per_good']:.2f}  ({row['drafts']} drafts)")
    print(f"  {'criterion':26} {'recall':>6} {'prec':>6} {'n':>4}")
    for cid, row in figures["criteria"].items():
        print(f"  {cid:26} {row['recall']:6.2f} {row['precision']:6.2f} {row['support']:4d}")


def product_flags(model: CriticModel, drafts: Sequence[LabelledDraft], work: Path) -> dict[str, np.ndarray]:
    """Per criterion, whether ``Coach.critique`` flags each draft when ``model`` is the shipped critic."""
    prompts = work / "prompts"
    shutil.copytree(PROMPTS, prompts)
    (prompts / MODEL_FILE).write_text(model.to_json(), encoding="utf-8")
    settings = bench_settings().model_copy(update={"prompts_dir": prompts, "critic": "learned"})
    coach = Coach(settings)
    coach.ensure_index()
    flags = {cid: np.zeros(len(drafts), dtype=bool) for cid in model.criteria}
    for i, draft in enumerate(drafts):
        for issue in coach.critique(draft.text, draft.customer_message).issues:
            flags[issue.criterion][i] = True
    return flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2", type=float, default=None)
    parser.add_argument("--budget", type=float, default=None, help="false issues per good draft allowed (CV)")
    parser.add_argument("--features", default=None, choices=list(get_args(FeatureSet)))
    parser.add_argument("--no-stack", action="store_true", help="draft models without the sentence models' logits")
    parser.add_argument("--no-lexical", action="store_true", help="draft models without the lexical models' logits")
    parser.add_argument("--no-relation", action="store_true", help="draft models without the message x reply cues")
    parser.add_argument("--sweep", action="store_true", help="recall at precision .6/.7/.75/.8 per criterion (CV)")
    parser.add_argument("--ablation", action="store_true", help="what each critic input buys (CV), and --quotes")
    parser.add_argument("--lexical-sweep", action="store_true", help="lexical buckets, l2 and cues (CV)")
    parser.add_argument("--relation", action="store_true", help="message x reply inputs (CV)")
    parser.add_argument("--quotes", action="store_true", help="quote choice with and without the sentence models (CV)")
    parser.add_argument("--heldout", action="store_true", help=f"also score eval/{HELDOUT} (checking only)")
    parser.add_argument("--limit", type=int, default=0, help="a smoke run: N eval drafts, ~20 N training drafts")
    args = parser.parse_args()
    rubric = load_rubric()
    cache, drafts, features = training_features(rubric, args.limit)
    options = {k: v for k, v in (("l2", args.l2), ("budget", args.budget), ("kind", args.features)) if v is not None}
    model = train_critic(
        drafts,
        features,
        rubric,
        stacked=not args.no_stack,
        lexical=not args.no_lexical,
        relation=not args.no_relation,
        **options,
    )
    measured = model.measured
    print(
        f"candidate critic {model.version}; l2 {measured['l2']}, budget {measured['budget']}, features "
        f"{model.features}{' + sentence logits' if model.stacked else ''}{' + lexical logits' if model.lexical else ''}"
        f"{' + message x reply cues' if model.relation else ''}"
    )
    print("thresholds:", {cid: c.threshold for cid, c in model.criteria.items()})
    print_figures("training corpus, 5-fold cross-validated (model selection)", measured["cross_validated"])
    l2 = float(measured["l2"])
    # the fits run as coach train-critic's do, with one BLAS thread (two spin and stall on a busy machine)
    if args.sweep:
        shipped = one_blas_thread(
            candidate,
            drafts,
            features,
            rubric,
            model.features,
            model.stacked,
            l2,
            model.lexical,
            relation=model.relation,
        )
        print_sweep(drafts, rubric, shipped)
    if args.ablation:
        kinds: list[tuple[FeatureSet, bool, bool, bool]] = [(k, False, False, False) for k in get_args(FeatureSet)]
        kinds += [("draft+sentences+customer", True, *more) for more in ((False, False), (True, False), (True, True))]
        found = [
            one_blas_thread(candidate, drafts, features, rubric, k, s, l2, lexical, relation=relation)
            for k, s, lexical, relation in kinds
        ]
        print_ablation(drafts, rubric, found)
    if args.lexical_sweep:
        swept = one_blas_thread(lexical_sweep, drafts, features, rubric, model.features, l2)
        print_lexical_sweep(drafts, rubric, swept)
    if args.relation:
        covered = coverage(features, cache.texts)
        swept = one_blas_thread(relation_sweep, drafts, features, rubric, model.features, l2, covered)
        print_relation_sweep(drafts, rubric, swept)
    if args.ablation or args.quotes:
        choices = (("sentence classifier + n-gram ranker (shipped)", True, True), ("sentence classifier", True, False))
        for title, with_model, ranker in (*choices, ("no sentence classifier", False, False)):
            hits = one_blas_thread(quote_hits, drafts, features, rubric, l2, sentence_model=with_model, ranker=ranker)
            print_quotes(title, hits)
    with tempfile.TemporaryDirectory(prefix="coach-critic-fit-") as folder:
        for name in [TUNING] + ([HELDOUT] if args.heldout else []):
            evaluation = read_labelled(ROOT / "eval" / name, rubric.ids)
            evaluation = evaluation[: args.limit] if args.limit else evaluation
            flags = product_flags(model, evaluation, Path(folder) / name)
            print_figures(f"eval/{name}, candidate through Coach.critique", critic_figures(evaluation, flags))


if __name__ == "__main__":
    main()
