"""The `coach` command as a user runs it: a subprocess, real model, real store, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def run_cli(*args: str, env_extra: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "coach.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def cli_env(knowledge_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {"COACH_KNOWLEDGE_DIR": str(knowledge_dir), "COACH_DATA_DIR": str(tmp_path / "cli-data")}


def test_help_lists_the_commands():
    result = run_cli("--help", env_extra={})
    assert result.returncode == 0
    for command in ("index", "search", "serve"):
        assert command in result.stdout


def test_index_then_search_json(cli_env: dict[str, str]):
    first = run_cli("index", env_extra=cli_env)
    assert first.returncode == 0, first.stderr
    assert "added: ru-handle-complaints-quickly" in first.stdout
    second = run_cli("index", env_extra=cli_env)
    assert "5 unchanged, +0 / -0 passages" in second.stdout

    found = run_cli(
        "search", "Мы не можем вернуть деньги, такова политика компании.", "-k", "3", "--json", env_extra=cli_env
    )
    assert found.returncode == 0, found.stderr
    passages = json.loads(found.stdout)
    assert len(passages) == 3
    assert set(passages[0]) == {"id", "document", "title", "section", "language", "text", "score"} | {
        "machine_translated",
        "translated_by",
        "original_language",
        "original_text",
        "original_title",
        "original_section",
        "note",
    }
    assert passages[0]["machine_translated"] is False  # search shows the originals
    assert passages[0]["original_title"] is None  # the title, too, is the original's


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("search", ""), None, "query is empty"),
        (("search", "-"), "x" * 1_000_000, "limit is"),
        (("search", "hello", "-k", "0"), None, "k must be"),
    ],
)
def test_bad_input_is_a_clear_message_without_traceback(cli_env, args, stdin, message):
    result = run_cli(*args, env_extra=cli_env, stdin=stdin)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_knowledge_folder_is_a_clear_message(tmp_path: Path):
    result = run_cli(
        "index", env_extra={"COACH_KNOWLEDGE_DIR": str(tmp_path / "nowhere"), "COACH_DATA_DIR": str(tmp_path / "d")}
    )
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_unreadable_index_location_is_a_clear_message(knowledge_dir: Path, tmp_path: Path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    result = run_cli("index", env_extra={"COACH_KNOWLEDGE_DIR": str(knowledge_dir), "COACH_INDEX_DIR": str(blocker)})
    assert result.returncode == 1
    assert "not a directory" in result.stderr and "Traceback" not in result.stderr


def test_critique_rewrite_and_ask_from_the_command_line(indexed_coach, tmp_path: Path) -> None:
    """Against the fake OpenAI server (tests/fake_openai.py), on the session's index: a thin shell, JSON out."""
    from tests.fake_openai import Behaviour, fake_openai_server

    draft = tmp_path / "draft.txt"
    draft.write_text("It's not our fault the courier lost it. Please be patient.", encoding="utf-8")
    env = {
        "COACH_KNOWLEDGE_DIR": str(indexed_coach.settings.knowledge_dir),
        "COACH_DATA_DIR": str(indexed_coach.settings.data_dir),
        "COACH_CRITIC": "learned",
        "COACH_LLM_MAX_RETRIES": "0",
    }
    with fake_openai_server(Behaviour(content="Stay calm and acknowledge the feelings [1].", yes_probability=0.9)) as (
        url,
        _,
    ):
        env["COACH_LLM_BASE_URL"] = url
        critique = run_cli("critique", str(draft), "--json", env_extra=env)
        assert critique.returncode == 0, critique.stderr
        result = json.loads(critique.stdout)
        text = draft.read_text(encoding="utf-8")
        assert result["issues"] and all(text[i["start"] : i["end"]] == i["quote"] for i in result["issues"])
        shown = run_cli("critique", str(draft), env_extra=env)  # for people: each issue's example, no offsets
        assert shown.returncode == 0, shown.stderr
        first = result["issues"][0]
        assert f"{'write instead' if first['kind'] == 'said' else 'add'}: {first['example']}" in shown.stdout
        assert "belongs at" not in shown.stdout
        asked = run_cli("ask", "How do I calm an angry customer?", env_extra=env)
        assert asked.returncode == 0, asked.stderr
        assert "[1]" in asked.stdout
    missing = run_cli("critique", str(tmp_path / "nope.txt"), env_extra=env)
    assert missing.returncode == 1 and missing.stderr.startswith("error: cannot read")
    empty = run_cli("critique", "-", env_extra=env, stdin="   ")
    assert empty.returncode == 1 and "draft is empty" in empty.stderr


def test_a_tip_prints_after_the_issues_with_its_why_and_the_sentence_to_add() -> None:
    from coach.cli.report import critique_text
    from coach.models import Issue
    from tests.test_app import make_critique

    tip = Issue(
        criterion="followup_thanks",
        name="Thanks and follow-up",
        kind="missing",
        severity="low",
        quote="",
        start=0,
        end=0,
        explanation="The reply ends without thanks: add them before the sign-off.",
        suggestion="Thank the customer.",
        example="Thank you for writing to us.",
    )
    critique = make_critique().model_copy(update={"tips": [tip], "critic": "learned-1", "model": "learned-1"})
    text = critique_text(critique)
    assert text.index("tips (not issues):") > text.index("issue(s):")
    assert "~ Thanks and follow-up: The reply ends without thanks: add them before the sign-off." in text
    assert "could add: Thank you for writing to us." in text
    assert "learned-1 · learned-1" not in text and "learned-1" in text, "the critic is named once"
