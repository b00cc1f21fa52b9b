"""The JSON critic's schema and checks, and structured output with one repair (a fake chat model)."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import BaseModel

from coach.errors import InvalidModelOutput
from coach.judging.json_critic import DraftCritique, check_critique, critique_schema
from coach.llm.structured import JsonCall, JsonModes, generate_json, parse_json
from coach.models import Usage
from coach.prompts import load_prompt, load_rubric

RUBRIC = load_rubric()


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
    good = '{"text": "Sorry, we will fix it."}'
    call = JsonCall(output=Note, schema={}, name="note", max_tokens=10, repair=load_prompt("repair"))
    usage = Usage()
    chat = FakeListChatModel(responses=["not json", good])
    modes = JsonModes(current=2)  # prompt-only: fake chat models take no response_format
    assert generate_json(chat, ["hi"], call, modes, usage).text == "Sorry, we will fix it."
    assert usage.repairs == 1 and usage.calls == 2
    with pytest.raises(InvalidModelOutput):
        generate_json(FakeListChatModel(responses=["no", "still no"]), ["hi"], call, modes, Usage())
