"""The learned critic's quality: cross-validated on the training corpus, then on eval/ drafts it never saw.

Usage:  python -m bench.critic_fit [--l2 30] [--budget 0.4] [--features draft+sentences+customer] [--heldout]

Fits exactly as ``coach train-critic`` does (coach.training), on training/drafts.jsonl only, then prints:
- 5-fold cross-validated recall / false issues per good draft on the training corpus (per language and
  per criterion) — the figures to choose ``--l2``, ``--budget`` and features by;
- the same figures on eval/queries.jsonl (tuning set);
- with ``--heldout``, on eval/heldout.jsonl: for checking only, never for choosing anything.
Vectors are cached under the data dir (bench-vectors.npz) so reruns take seconds.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any, get_args

import numpy as np

from bench.common import ROOT
from coach import Settings
from coach.judging.critic import CriticModel, FeatureSet
from coach.judging.training import critic_figures, embed, read_labelled, train_critic
from coach.knowledge.embeddings import shared_embedder
from coach.knowledge.retrieval import text_vectors
from coach.prompts import load_rubric


class VectorCache:
    """Query vectors by text, kept in one .npz file between runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                self.vectors = {key: data[key] for key in data.files}
        self.embedder = shared_embedder()

    def texts(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        todo = [t for t, k in zip(texts, keys, strict=True) if k not in self.vectors]
        if todo:
            for text, vector in zip(todo, text_vectors(self.embedder, todo), strict=True):
                self.vectors[hashlib.sha1(text.encode()).hexdigest()] = vector
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, **self.vectors)
        return np.stack([self.vectors[k] for k in keys])


def print_figures(title: str, figures: dict[str, Any]) -> None:
    overall = figures["all"]
    print(f"\n{title}: {overall['drafts']} drafts ({overall['good']} good)")
    print(f"  recall {overall['recall']:.2f}   false issues per good draft {overall['false_per_good']:.2f}")
    for lang, row in figures["languages"].items():
        print(f"  {lang}: recall {row['recall']:.2f}  false/good {row['false_per_good']:.2f}  ({row['drafts']} drafts)")
    print(f"  {'criterion':26} {'recall':>6} {'prec':>6} {'n':>4}")
    for cid, row in figures["criteria"].items():
        print(f"  {cid:26} {row['recall']:6.2f} {row['precision']:6.2f} {row['support']:4d}")


def flags(model: CriticModel, vectors: np.ndarray) -> dict[str, np.ndarray]:
    return {cid: c.draft.probabilities(vectors) >= c.threshold for cid, c in model.criteria.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2", type=float, default=None)
    parser.add_argument("--budget", type=float, default=None, help="false issues per good draft allowed (CV)")
    parser.add_argument("--features", default=None, choices=list(get_args(FeatureSet)))
    parser.add_argument("--heldout", action="store_true", help="also score eval/heldout.jsonl (checking only)")
    args = parser.parse_args()
    rubric = load_rubric()
    cache = VectorCache(Settings().data_dir / "bench-vectors.npz")
    drafts = read_labelled(ROOT / "training" / "drafts.jsonl", rubric.ids)
    features = embed(cache.embedder, drafts, cache.texts)
    options = {k: v for k, v in (("l2", args.l2), ("budget", args.budget), ("kind", args.features)) if v is not None}
    model = train_critic(drafts, features, rubric, **options)
    measured = model.measured
    print(f"critic {model.version}; l2 {measured['l2']}, budget {measured['budget']}, features {model.features}")
    print("thresholds:", {cid: c.threshold for cid, c in model.criteria.items()})
    print_figures("training corpus, 5-fold cross-validated", model.measured["cross_validated"])
    sets = ["queries.jsonl"] + (["heldout.jsonl"] if args.heldout else [])
    for name in sets:
        evaluation = read_labelled(ROOT / "eval" / name, rubric.ids)
        matrix = embed(cache.embedder, evaluation, cache.texts).matrix(model.features)
        print_figures(f"eval/{name}", critic_figures(evaluation, flags(model, matrix)))


if __name__ == "__main__":
    main()
