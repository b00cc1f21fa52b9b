"""Feedback from the critic's verdicts: scores, quoted and missing issues, their order. Plain data, no models."""

from __future__ import annotations

from coach.judging.feedback import Judgement, build_feedback, insertion_point, overall_score, score_for, severity
from coach.prompts import load_rubric, load_why

RUBRIC = load_rubric()


def judgements(**probabilities: float) -> dict[str, Judgement]:
    """Every criterion clear (P 0.02 against a 0.5 cut) but those given."""
    return {cid: Judgement(cid, probabilities.get(cid, 0.02), 0.5) for cid in RUBRIC.ids}


def test_scores_follow_the_log_odds_margin() -> None:
    assert [score_for(m) for m in (2, 0.1, -0.2, -2, -3)] == [1, 2, 3, 4, 5]
    assert Judgement("a", 0.5, 0.5).flagged and not Judgement("a", 0.49, 0.5).flagged
    assert Judgement("a", 0.9, 0.5).margin > Judgement("a", 0.6, 0.5).margin > 0


def test_feedback_quotes_what_was_said_and_cites_what_it_was_given() -> None:
    draft = "Это не наша вина. Ждите."
    criterion = RUBRIC.criterion("calm_professional_tone")
    verdicts = judgements() | {"calm_professional_tone": Judgement("calm_professional_tone", 0.95, 0.5, (0, 17))}
    cited = {"calm_professional_tone": ["ru-handle-complaints-quickly#5"]}
    feedback = build_feedback(draft, "ru", RUBRIC, verdicts, [(0, 17), (18, 24)], cited)
    scores, issues, strengths = feedback.scores, feedback.issues, feedback.strengths
    assert len(issues) == 1
    issue = issues[0]
    assert issue.kind == "said" and issue.quote == "Это не наша вина." == draft[issue.start : issue.end]
    assert issue.passage_ids == ["ru-handle-complaints-quickly#5"]
    assert issue.explanation == criterion.good.ru and issue.name == criterion.name.ru, "no why templates given"
    why = load_why()
    [quoted] = build_feedback(draft, "ru", RUBRIC, verdicts, [(0, 17), (18, 24)], cited, why).issues
    assert quoted.explanation.startswith("«Это не наша вина.»"), "the why quotes this draft's words"
    assert issue.confidence == 0.95
    assert scores["calm_professional_tone"].score == 1 and overall_score(scores) < 5
    assert len(strengths) == 3


def test_an_omission_is_shown_as_missing_where_it_belongs() -> None:
    draft = "Hi Anna, Your parcel left today. Best, Tom"
    sentences = [(0, 8), (9, 32), (33, 42)]
    verdicts = judgements(apology_ownership=0.9, followup_thanks=0.8)
    issues = build_feedback(draft, "en", RUBRIC, verdicts, sentences, {}).issues
    where = {issue.criterion: issue for issue in issues}
    assert all(issue.kind == "missing" and issue.quote == "" for issue in issues)
    assert where["apology_ownership"].start == 8  # after the greeting
    assert where["followup_thanks"].start == 33  # before the sign-off
    issues = build_feedback(draft, "en", RUBRIC, verdicts, sentences, {}, load_why()).issues
    where = {issue.criterion: issue for issue in issues}
    assert "after the greeting" in where["apology_ownership"].explanation
    assert "before the sign-off" in where["followup_thanks"].explanation


def test_insertion_point_without_greeting_or_sign_off() -> None:
    draft = "Your parcel left the depot today and should arrive tomorrow."
    assert insertion_point(draft, [(0, len(draft))], "start") == 0
    assert insertion_point(draft, [(0, len(draft))], "end") == len(draft)


def test_issues_are_ordered_by_severity_then_confidence() -> None:
    severities = {c.id: c.severity for c in RUBRIC.criteria}
    high = next(cid for cid, s in severities.items() if s == "high")
    lower = next(cid for cid, s in severities.items() if s != "high")
    verdicts = judgements(**{lower: 0.99, high: 0.9})
    issues = build_feedback("Fine. Ok.", "en", RUBRIC, verdicts, [(0, 5), (6, 9)], {}).issues
    assert [i.criterion for i in issues] == [high, lower]
    assert severity("high", 0.1) == "medium" and severity("high", 2.0) == "high" and severity("low", 0.1) == "low"


def test_a_tip_is_shown_apart_and_is_not_an_issue() -> None:
    """Between the tip's line and the issue's line: a tip, after the issues, and the score stays at 3 or above."""
    draft = "Hi Anna, Your parcel left today. Best, Tom"
    sentences = [(0, 8), (9, 32), (33, 42)]
    verdicts = judgements() | {
        "expectations_timeframe": Judgement("expectations_timeframe", 0.45, 0.6, tip_threshold=0.3),
        "apology_ownership": Judgement("apology_ownership", 0.9, 0.6, tip_threshold=0.3),
        "followup_thanks": Judgement("followup_thanks", 0.2, 0.6, tip_threshold=0.3),
    }
    feedback = build_feedback(draft, "en", RUBRIC, verdicts, sentences, {})
    assert [i.criterion for i in feedback.issues] == ["apology_ownership"]
    assert [t.criterion for t in feedback.tips] == ["expectations_timeframe"]
    assert feedback.tips[0].severity == "low" and feedback.tips[0].kind == "missing"
    assert feedback.scores["expectations_timeframe"].score >= 3
    assert feedback.scores["apology_ownership"].score <= 2
