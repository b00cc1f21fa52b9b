"""Summaries and agreement with human graders: pure functions checked against hand-computed numbers."""

from __future__ import annotations

import pytest

from coach.batch.agreement import exact_match, summarize, weighted_kappa
from coach.batch.io import BatchIssue, BatchResult, CriterionResult
from coach.models import Usage


def test_quadratic_kappa_matches_the_hand_computed_example():
    # observed weighted disagreement 0.5, expected 7/5 (worked out on paper): kappa = 1 - 0.5 / 1.4 = 9/14
    judge, people = [1, 2, 3, 1, 2], [1, 2, 2, 1, 3]
    assert weighted_kappa(judge, people, categories=(1, 2, 3)) == pytest.approx(9 / 14)
    assert exact_match(judge, people) == pytest.approx(3 / 5)


def test_kappa_edges():
    assert weighted_kappa([1, 3, 5], [1, 3, 5]) == pytest.approx(1.0)
    assert weighted_kappa([1, 5], [5, 1]) == pytest.approx(-1.0)
    assert weighted_kappa([], []) is None
    assert weighted_kappa([4, 4], [4, 4]) is None  # no expected disagreement: undefined, not 1 or 0
    assert exact_match([], []) is None
    with pytest.raises(ValueError):
        weighted_kappa([1], [1, 2])


def test_kappa_is_symmetric_and_punishes_far_misses_more():
    near = weighted_kappa([1, 2, 3, 4, 5], [2, 3, 4, 5, 5])
    far = weighted_kappa([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
    assert near is not None and far is not None and near > far
    assert weighted_kappa([2, 3, 4, 5, 5], [1, 2, 3, 4, 5]) == pytest.approx(near)


def result(id: str, scores: dict[str, int], issues=(), human=None, overall=None) -> BatchResult:
    return BatchResult(
        id=id,
        scores={c: CriterionResult(score=s, reason="r") for c, s in scores.items()},
        overall=overall if overall is not None else sum(scores.values()) / len(scores),
        issues=[BatchIssue(criterion=c, quote="q", passage_ids=list(p)) for c, p in issues],
        human=human or {},
        tokens=Usage(prompt_tokens=100, completion_tokens=10, calls=1),
    )


def test_summary_means_distributions_issue_shares_citations_failures_and_agreement():
    results = [
        result("a", {"tone": 2, "apology": 4}, issues=[("tone", ["p#1", "p#2"]), ("tone", ["p#1"])], human={"tone": 2}),
        result("b", {"tone": 4, "apology": 4}, issues=[("apology", ["p#1"])], human={"tone": 3, "apology": None}),
        result("c", {"tone": 5, "apology": 1}, human={"tone": 5}),
        BatchResult(id="d", error="draft is empty", error_type="InputError", human={"tone": 1}),
        BatchResult(id="e", error="draft is empty", error_type="InputError"),
    ]
    summary = summarize(results, ["tone", "apology"])
    assert (summary.rows, summary.succeeded, summary.failed) == (5, 3, 2)
    assert summary.errors == {"draft is empty": 2}
    tone = summary.criteria["tone"]
    assert tone.mean == pytest.approx(11 / 3, abs=1e-3)
    assert tone.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert tone.issue_share == pytest.approx(1 / 3, abs=1e-3)  # a reply with two tone issues counts once
    assert tone.human_pairs == 3  # the failed row's human score is not paired with a score it never got
    assert tone.exact_match == pytest.approx(2 / 3, abs=1e-3)
    assert tone.kappa == pytest.approx(weighted_kappa([2, 4, 5], [2, 3, 5]), abs=1e-3)
    apology = summary.criteria["apology"]
    assert apology.human_pairs == 0 and apology.kappa is None and apology.exact_match is None
    # p#1 is cited by two replies (twice by one of them: counted once per reply)
    assert [(p.passage_id, p.replies) for p in summary.most_cited] == [("p#1", 2), ("p#2", 1)]
    assert summary.overall_mean == pytest.approx((3 + 4 + 3) / 3, abs=1e-3)
    assert summary.prompt_tokens == 300
    assert "kappa" in summary.text() and "failed x2: draft is empty" in summary.text()


def test_summary_of_nothing_and_of_criteria_outside_the_rubric():
    empty = summarize([], ["tone"])
    assert empty.rows == 0 and empty.criteria["tone"].mean is None and empty.overall_mean is None
    old = summarize([result("a", {"old_criterion": 3})], ["tone"])
    assert list(old.criteria) == ["tone", "old_criterion"]
