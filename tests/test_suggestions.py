"""The suggested sentence for a critique's top issues, streamed from the fake OpenAI server."""

from __future__ import annotations

import pytest

from coach import LLMError, Settings
from coach.llm.client import LLMProvider
from coach.models import Issue
from coach.prompts import load_prompt, load_rubric
from coach.writing.suggestions import first_sentence, suggest_stream
from tests.fake_openai import Behaviour, fake_openai_server, last_user_text

RUBRIC = load_rubric()
DRAFT = "Вы сами виноваты, надо было читать условия."
FIX = RUBRIC.criterion("apology_ownership").fix.ru
ISSUE = Issue(criterion="apology_ownership", quote="Вы сами виноваты", start=0, end=16, explanation="", suggestion=FIX)


def provider(url: str, tmp_path) -> LLMProvider:
    return LLMProvider(Settings(data_dir=tmp_path, llm_base_url=url, llm_max_retries=0, llm_timeout_s=5))


def test_one_sentence_streams_in_the_drafts_language(tmp_path) -> None:
    sentence = "Приносим извинения за неудобства, мы сейчас всё исправим."
    behaviour = Behaviour(content=f"{sentence} А ещё мы хотели бы сказать много лишнего.", chunk_delay_s=0.05)
    with fake_openai_server(behaviour) as (url, state):
        shown = list(suggest_stream(provider(url, tmp_path), load_prompt("suggest"), DRAFT, None, [ISSUE], "ru"))
    assert shown[-1] == sentence, "stops at the end of the first sentence"
    assert len(shown) > 1 and all(sentence.startswith(s) for s in shown), "streamed as it grows"
    prompt = last_user_text(state.requests[0])
    assert len(state.requests) == 1
    assert FIX in prompt and "Вы сами виноваты" in prompt and "Russian" in prompt
    assert state.requests[0]["stream"] is True and state.requests[0]["messages"][0]["role"] == "system"


def test_no_issue_asks_nothing(tmp_path) -> None:
    with fake_openai_server() as (url, state):
        assert list(suggest_stream(provider(url, tmp_path), load_prompt("suggest"), DRAFT, None, [], "ru")) == []
    assert not state.requests


def test_a_garbage_answer_is_a_readable_error(tmp_path) -> None:
    with fake_openai_server(Behaviour(raw_body="not an answer {")) as (url, _), pytest.raises(LLMError, match="again"):
        list(suggest_stream(provider(url, tmp_path), load_prompt("suggest"), DRAFT, None, [ISSUE], "ru"))


def test_first_sentence() -> None:
    assert first_sentence("One. Two.") == "One."
    assert first_sentence("Still writing") == "Still writing"
