"""How well the rubric's English exemplars alone separate drafts with and without each problem (no LLM).

Usage:  python bench/critic_exemplars.py

Per criterion: the best similarity of any draft sentence to the criterion's "bad" exemplars (minus
the best similarity to its "good" exemplars, for omissions), scored as ROC AUC against the
problems labelled in eval/queries.jsonl. 0.5 is chance.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.embeddings import Embedder  # noqa: E402
from coach.knowledge import split_sentences  # noqa: E402
from coach.prompts import load_rubric  # noqa: E402


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    wins = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(wins + 0.5 * ties)


def main() -> None:
    embedder = Embedder(2)
    rubric = load_rubric()
    lines = (ROOT / "eval" / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    drafts = [item for item in map(json.loads, filter(None, lines)) if item["kind"] == "draft"]
    sentence_vectors = [embedder.queries(split_sentences(d["text"])) for d in drafts]
    print(f"{len(drafts)} labelled drafts")
    for criterion in rubric.criteria:
        bad = embedder.passages(criterion.exemplars_bad)
        good = embedder.passages(criterion.exemplars_good) if criterion.exemplars_good else None
        scores = []
        for vectors in sentence_vectors:
            score = float((vectors @ bad.T).max())
            if criterion.kind == "omission" and good is not None:
                score -= float((vectors @ good.T).max())
            scores.append(score)
        labels = np.array([criterion.id in d["problems"] for d in drafts])
        values = np.array(scores)
        area = auc(values[labels], values[~labels])
        print(f"{criterion.id:25s} drafts with the problem {labels.sum():2d}  AUC {area:.2f}")


if __name__ == "__main__":
    main()
