"""How well the rubric's English exemplars alone separate drafts with and without each problem (no LLM).

Usage:  uv run python -m bench.critic_exemplars

Per criterion: the best similarity of any draft sentence to the criterion's "bad" exemplars (minus
the best similarity to its "good" exemplars, for omissions), scored as ROC AUC against the
problems labelled in eval/queries.jsonl. 0.5 is chance.
"""

from __future__ import annotations

import numpy as np

from bench.common import load_eval
from coach.critic import ExemplarScorer, draft_sentences
from coach.embeddings import Embedder
from coach.prompts import load_rubric


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    wins = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(wins + 0.5 * ties)


def main() -> None:
    rubric = load_rubric()
    scorer = ExemplarScorer(Embedder(2), rubric)  # the critic's own exemplar signal, not a copy of it
    drafts = [item for item in load_eval()[0] if item["kind"] == "draft"]
    scores = [scorer.score([d["text"][a:b] for a, b in draft_sentences(d["text"])]) for d in drafts]
    print(f"{len(drafts)} labelled drafts")
    for criterion in rubric.criteria:
        labels = np.array([criterion.id in d["problems"] for d in drafts])
        values = np.array([score[criterion.id][0] for score in scores])
        area = auc(values[labels], values[~labels])
        print(f"{criterion.id:25s} drafts with the problem {labels.sum():2d}  AUC {area:.2f}")


if __name__ == "__main__":
    main()
