"""Answers keep only citations that point at passages; passages cut to one-line excerpts."""

from __future__ import annotations

from coach.models import Passage
from coach.writing.answers import build_answer


def passage(pid: str, score: float = 0.5) -> Passage:
    return Passage(id=pid, document=pid.split("#")[0], title="T", language="ru", text=f"text of {pid}", score=score)


def test_answer_keeps_only_markers_that_point_at_passages() -> None:
    passages = [passage("a#1"), passage("b#2")]
    answer = build_answer("q?", "First [2], then [1][7].", "en", passages)
    assert [c.marker for c in answer.citations] == [1, 2]
    assert answer.text == "First [2], then [1]."
    assert answer.grounding.citations_dropped == 1


def test_passage_excerpt_is_one_line_cut_at_a_word() -> None:
    long = passage("a#1").model_copy(update={"text": "first line\n  second   line with more words"})
    assert long.excerpt(100) == "first line second line with more words"
    assert long.excerpt(20) == "first line second …"
