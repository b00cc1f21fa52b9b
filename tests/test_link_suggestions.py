"""Link suggestions: the real embedder, rubric and guideline passages rank criteria for unlinked passages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from coach.knowledge.embeddings import Embedder, Vectors
from coach.knowledge.link_suggestions import CriterionSuggester, centroids, rank_criteria
from coach.knowledge.links import Links
from coach.knowledge.passages import PassageRecord, find_document_files, read_document, split_passages
from coach.prompts import Rubric, load_rubric
from tests.conftest import KNOWLEDGE


class CountingEmbedder(Embedder):
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, real: Embedder) -> None:
        super().__init__()
        self.real = real
        self.embedded: list[str] = []

    def passages(self, texts: Sequence[str]) -> Vectors:
        self.embedded += texts
        return self.real.passages(texts)

    def queries(self, texts: Sequence[str]) -> Vectors:
        self.embedded += texts
        return self.real.queries(texts)


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric()


@pytest.fixture(scope="module")
def passages() -> dict[str, PassageRecord]:
    docs = [read_document(path, 10_000_000) for path in find_document_files(KNOWLEDGE)]
    return {p.id: p for doc in docs for p in split_passages(doc)}


@pytest.fixture(scope="module")
def suggester(embedder: Embedder, rubric: Rubric) -> CriterionSuggester:
    return CriterionSuggester(CountingEmbedder(embedder), rubric)


@pytest.mark.parametrize(
    ("passage_id", "criterion"),
    [
        ("ru-handle-complaints-quickly#9", "apology_ownership"),  # "Решите проблему и вежливо извинитесь…"
        ("el-customer-queries#10", "followup_thanks"),  # "Ευχαριστώ τον πελάτη…"
    ],
)
def test_a_passage_gets_the_criterion_it_states_in_its_top_two(
    suggester: CriterionSuggester, passages: dict[str, PassageRecord], passage_id: str, criterion: str
) -> None:
    found = suggester(Links(), list(passages.values()), [passages[passage_id]])
    assert criterion in [s.criterion for s in found[passage_id][:2]]


def test_every_criterion_once_best_first_and_only_for_targets(
    suggester: CriterionSuggester, passages: dict[str, PassageRecord], rubric: Rubric
) -> None:
    targets = [passages["ru-handle-complaints-quickly#9"], passages["kk-dissatisfied-clients#9"]]
    found = suggester(Links(), list(passages.values()), targets)
    assert set(found) == {p.id for p in targets}
    for ranked in found.values():
        assert sorted(s.criterion for s in ranked) == sorted(rubric.ids)
        scores = [s.score for s in ranked]
        assert scores == sorted(scores, reverse=True)
        assert all(isinstance(score, float) and -1.0 <= score <= 1.0 for score in scores)


def test_no_targets_no_suggestions(suggester: CriterionSuggester, passages: dict[str, PassageRecord]) -> None:
    assert suggester(Links(), list(passages.values()), []) == {}


def test_repeated_calls_embed_nothing_new(suggester: CriterionSuggester, passages: dict[str, PassageRecord]) -> None:
    counting = suggester.embedder
    assert isinstance(counting, CountingEmbedder)
    target = [passages["mn-complaints-7-tips#10"]]
    first = suggester(Links(), list(passages.values()), target)
    before = len(counting.embedded)
    again = suggester(Links(), list(passages.values()), target)
    assert len(counting.embedded) == before
    assert again == first


def test_rank_criteria_orders_by_score_and_keeps_rubric_order_on_ties() -> None:
    ranked = rank_criteria(np.array([[0.1, 0.5, 0.5], [0.9, 0.2, 0.3]]), ["a", "b", "c"])
    assert [[s.criterion for s in row] for row in ranked] == [["b", "c", "a"], ["a", "c", "b"]]


def test_centroids_are_unit_means_of_consecutive_rows() -> None:
    vectors = np.array([[1, 0], [0, 1], [3, 0], [5, 0]], dtype=np.float32)
    assert np.allclose(centroids(vectors, 2), np.array([[2**-0.5, 2**-0.5], [1.0, 0.0]]))
