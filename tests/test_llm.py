"""The LLM connection against a local OpenAI-compatible server: answers, failures, bounded retries."""

from __future__ import annotations

import socket

import pytest

from coach import Coach, Settings

from .fake_openai import Behaviour, fake_openai_server


def settings_for(url: str, tmp_path, **extra) -> Settings:
    return Settings(data_dir=tmp_path / "data", llm_base_url=url, llm_model="fake-model", **extra)


def test_status_of_a_server_that_answers(tmp_path):
    with fake_openai_server(Behaviour(content="OK")) as (url, behaviour):
        status = Coach(settings_for(url, tmp_path)).llm_status()
    assert status.answers and "fake-model" in status.endpoint and "'OK'" in status.detail
    request = behaviour.requests[0]
    assert request["messages"][0]["role"] == "system"
    assert request["temperature"] == 0.0


@pytest.mark.parametrize(("status", "message"), [(500, "HTTP 500"), (429, "HTTP 429"), (401, "HTTP 401")])
def test_failing_server_is_named_after_bounded_retries(tmp_path, status, message):
    behaviour = Behaviour(status=status, retry_after="0" if status == 429 else None)
    with fake_openai_server(behaviour) as (url, state):
        result = Coach(settings_for(url, tmp_path, llm_max_retries=2)).llm_status()
    assert not result.answers and message in result.detail
    assert len(state.requests) == (1 if status == 401 else 3)  # retried twice, except for a client error


def test_slow_server_times_out_within_the_configured_timeout(tmp_path):
    """The server would answer after 60 s; a client that waited for it would get "OK" (no clock is read)."""
    with fake_openai_server(Behaviour(delay_s=60)) as (url, state):
        result = Coach(settings_for(url, tmp_path, llm_timeout_s=0.5, llm_max_retries=0)).llm_status()
    assert not result.answers and "in time" in result.detail
    assert len(state.requests) == 1


def test_unreachable_server_is_named(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = Coach(settings_for(f"http://127.0.0.1:{port}/v1", tmp_path, llm_max_retries=0)).llm_status()
    assert not result.answers and "cannot reach" in result.detail
