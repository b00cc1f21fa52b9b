"""Pure logic of the critic, feedback, structured output, rewrites and answers: plain data, no models."""

from __future__ import annotations

import math

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import BaseModel

from coach.answers import build_answer
from coach.critic import CriterionCalibration, CriterionSignals, questions, yes_probability
from coach.errors import InvalidModelOutput
from coach.feedback import build_feedback, overall_score, score_for, severity_for
from coach.json_critic import DraftCritique, check_critique, critique_schema
from coach.models import Passage, Usage
from coach.prompts import load_prompt, load_rubric
from coach.structured import JsonCall, JsonModes, parse_json

RUBRIC = load_rubric()


def passage(pid: str, score: float = 0.5) -> Passage:
    return Passage(id=pid, document=pid.split("#")[0], title="T", language="ru", text=f"text of {pid}", score=score)


def test_yes_probability_reads_top_logprobs() -> None:
    top = [
        {"token": "Yes", "logprob": math.log(0.6)},
        {"token": " no", "logprob": math.log(0.2)},
        {"token": "Answer", "logprob": math.log(0.1)},
    ]
    assert yes_probability({"content": [{"token": "Yes", "logprob": math.log(0.6), "top_logprobs": top}]}) == (
        pytest.approx(0.75)
    )
    assert yes_probability({"content": [{"token": "Hmm", "logprob": 0.0, "top_logprobs": []}]}) == 0.5
    assert yes_probability(None) == 0.5


def test_every_criterion_is_asked_both_ways() -> None:
    asked = questions(RUBRIC.criteria)
    assert len(asked) == 2 * len(RUBRIC.criteria)
    assert {q.criterion for q in asked if q.asks_for_problem} == set(RUBRIC.ids)


def test_calibration_combines_z_scores() -> None:
    calibration = CriterionCalibration(llm_mean=0.5, llm_std=0.1, exemplar_mean=0.0, exemplar_std=0.1, llm_weight=0.5)
    signals = CriterionSignals(p_yes_bad=0.9, p_yes_good=0.3, exemplar=0.1, sentence=0)
    assert signals.llm == pytest.approx(0.8)
    assert calibration.combined(signals) == pytest.approx(0.5 * 3 + 0.5 * 1)


def test_scores_and_severity_follow_the_margin() -> None:
    assert [score_for(m) for m in (2, 0.1, -0.2, -1, -3)] == [1, 2, 3, 4, 5]
    assert [severity_for(m) for m in (1.5, 0.5, 0.0)] == ["high", "medium", "low"]


def test_feedback_quotes_sentences_and_cites_linked_passages() -> None:
    draft = "Это не наша вина. Ждите."
    criterion = RUBRIC.criterion("calm_professional_tone")
    linked = criterion.passages[0]
    margins = {cid: -2.0 for cid in RUBRIC.ids} | {"calm_professional_tone": 1.2}
    spans = {cid: (0, 17) for cid in RUBRIC.ids}
    passages = [passage("other#1", 0.9), passage(linked, 0.4)]
    scores, issues, strengths = build_feedback(draft, "ru", RUBRIC, margins, spans, passages)
    assert len(issues) == 1
    issue = issues[0]
    assert issue.quote == "Это не наша вина." == draft[issue.start : issue.end]
    assert issue.passage_ids == [linked]
    assert issue.explanation == criterion.good.ru and issue.name == criterion.name.ru
    assert scores["calm_professional_tone"].score == 1 and overall_score(scores) < 5
    assert len(strengths) == 3


def test_schema_bounds_every_list_and_uses_enums() -> None:
    schema = critique_schema(RUBRIC.ids, ["a#1", "b#2"])
    issue = schema["properties"]["issues"]["items"]["properties"]
    assert issue["criterion"]["enum"] == list(RUBRIC.ids)
    assert issue["passage_ids"]["items"]["enum"] == ["a#1", "b#2"]
    assert issue["quote"]["maxLength"] and schema["properties"]["strengths"]["maxItems"]


def test_parse_json_tolerates_fences_and_reports_errors() -> None:
    raw = '```json\n{"scores": [], "issues": [], "strengths": []}\n```'
    assert parse_json(raw, DraftCritique).scores == []
    with pytest.raises(ValueError, match="no JSON object"):
        parse_json("I cannot do that", DraftCritique)


def test_a_critique_missing_criteria_is_not_usable() -> None:
    value = DraftCritique(scores=[], issues=[], strengths=[])
    assert "give one score" in check_critique(value, RUBRIC)[0]


class Note(BaseModel):
    text: str


def test_generate_json_with_a_fake_chat_model_repairs_once() -> None:
    from coach.structured import generate_json

    good = '{"text": "Sorry, we will fix it."}'
    call = JsonCall(output=Note, schema={}, name="note", max_tokens=10, repair=load_prompt("repair"))
    usage = Usage()
    chat = FakeListChatModel(responses=["not json", good])
    modes = JsonModes(current=2)  # prompt-only: fake chat models take no response_format
    assert generate_json(chat, ["hi"], call, modes, usage).text == "Sorry, we will fix it."
    assert usage.repairs == 1 and usage.calls == 2
    with pytest.raises(InvalidModelOutput):
        generate_json(FakeListChatModel(responses=["no", "still no"]), ["hi"], call, modes, Usage())


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
