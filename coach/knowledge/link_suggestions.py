"""Criteria to suggest for a passage no trainer has linked yet, ranked by how closely it reads like each criterion.

Measured (``bench/link_suggestions.py``: leave one document out over the 43 linked passages of
``knowledge/links.yaml``, 8 criteria): the passage, embedded as a query, against each criterion's name + good
+ fix embedded in all five rubric languages and averaged into one vector, puts a true criterion first for
0.65 of the passages and in the first two for 0.72. Reading the criterion only in the passage's own language
gives 0.56 / 0.65: the average keeps what the translations share (the rule) and washes out one wording. The
passages linked now (nearest neighbours: 0.42 top-1 alone; mixed in, 0.65 at weight 0.2 and 0.60 at 0.5),
per-criterion z-scores (0.53), the best sentence (0.58) and the training drafts' quoted violations (0.60 mixed
in) did not help, so the links are not read. One passage is 0.023 of these figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.knowledge.embeddings import Embedder, Vectors
from coach.knowledge.links import Links, Suggestion
from coach.knowledge.passages import PassageRecord
from coach.prompts import LANGUAGES, Criterion, Rubric


def criterion_text(criterion: Criterion, language: str) -> str:
    """What the agent reads about a criterion in one language: its name, what good looks like, the fix."""
    return f"{criterion.name.get(language)}. {criterion.good.get(language)} {criterion.fix.get(language)}"


def centroids(vectors: Vectors, groups: int) -> Vectors:
    """The L2-normalised mean of each run of ``len(vectors) // groups`` consecutive rows."""
    means = vectors.reshape(groups, -1, vectors.shape[-1]).mean(axis=1)
    return np.asarray(means / np.linalg.norm(means, axis=1, keepdims=True), dtype=np.float32)


def rank_criteria(scores: npt.NDArray[np.floating[Any]], ids: Sequence[str]) -> list[list[Suggestion]]:
    """Per row of scores (a passage; columns: the criteria ``ids``), every criterion best first (ties: rubric order)."""
    return [
        [Suggestion(criterion=ids[i], score=float(row[i])) for i in np.argsort(-row, kind="stable")] for row in scores
    ]


class CriterionSuggester:
    """A ``coach.knowledge.links.Suggester``: every rubric criterion for each target passage, most likely first.

    The criteria are embedded once; passages are embedded once per text, so re-asking after a link or an
    edit elsewhere costs nothing.
    """

    def __init__(self, embedder: Embedder, rubric: Rubric) -> None:
        self.embedder = embedder
        self.rubric = rubric
        self._criteria: Vectors | None = None
        self._passages: dict[str, Vectors] = {}  # passage text -> its query vector

    def criterion_vectors(self) -> Vectors:
        """One vector per criterion, in rubric order: its texts in every rubric language, averaged."""
        if self._criteria is None:
            texts = [criterion_text(c, language) for c in self.rubric.criteria for language in LANGUAGES]
            self._criteria = centroids(self.embedder.passages(texts), len(self.rubric.criteria))
        return self._criteria

    def passage_vectors(self, passages: Sequence[PassageRecord]) -> Vectors:
        """The passages' query vectors, embedding in one batch only the texts not seen before."""
        new = [text for text in dict.fromkeys(p.text for p in passages) if text not in self._passages]
        self._passages.update(zip(new, self.embedder.queries(new), strict=True))
        return np.asarray([self._passages[p.text] for p in passages], dtype=np.float32)

    def __call__(
        self, links: Links, passages: list[PassageRecord], targets: list[PassageRecord]
    ) -> Mapping[str, Sequence[Suggestion]]:
        """Passage id -> every criterion, best first, for the targets (``links`` and ``passages`` are not read)."""
        if not targets:
            return {}
        scores = self.passage_vectors(targets) @ self.criterion_vectors().T  # cosine: both are normalised
        ranked = rank_criteria(scores, self.rubric.ids)
        return {passage.id: suggestions for passage, suggestions in zip(targets, ranked, strict=True)}
