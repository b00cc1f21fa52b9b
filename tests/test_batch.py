"""Batch evaluation: reading files, ids, the append-only results file, resume, retries, concurrency, summary.

The first part drives coach's batch logic with a scripted stand-in for ``Coach.critique`` (plain data,
fast); the fault tests at the end run the real Coach against the fake OpenAI server.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach import Coach, Settings
from coach.batch.io import BatchResult, BatchRow, parse_columns, read_input, rows_from_records, stable_id
from coach.batch.results import ResultWriter, read_results, repair_results
from coach.batch.run import BatchProgress, RetryPolicy, _prepared, evaluate, evaluate_file, summary_path
from coach.errors import InputError, InvalidModelOutput, LLMError
from coach.knowledge.embeddings import Embedder
from coach.models import Critique, Issue, Score, Usage
from coach.prompts import load_rubric
from tests.conftest import KNOWLEDGE
from tests.fake_openai import Behaviour, critique_answer, fake_openai_server, last_user_text, quoted_section

CRITERIA = load_rubric().ids
FAST_RETRY = RetryPolicy(attempts=4, base_s=0.01, max_s=0.05)


def make_critique(draft: str, score: int = 4) -> Critique:
    """A well-formed critique of a draft: every criterion scored, one issue quoting the first word."""
    word = draft.split()[0]
    return Critique(
        language="en",
        scores={cid: Score(criterion=cid, score=score, reason=f"{cid} ok") for cid in CRITERIA},
        overall=score,
        issues=[
            Issue(
                criterion=CRITERIA[0],
                quote=word,
                start=0,
                end=len(word),
                explanation="x",
                passage_ids=["en-doc#1"],
            )
        ],
        critic="json",
        model="fake-model",
        prompt_version="critique-1",
        usage=Usage(prompt_tokens=50, completion_tokens=20, calls=1),
        latency_s=0.01,
    )


class ScriptedCritic:
    """Stands in for ``Coach.critique``: per draft, a list of errors to raise before answering."""

    def __init__(self, failures: dict[str, list[Exception]] | None = None, delay_s: float = 0.0) -> None:
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.delay_s = delay_s
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0

    def critique(self, draft: str, customer_message: str | None = None) -> Critique:
        with self.lock:
            self.calls.append(draft)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            pending = self.failures.get(draft)
            error = pending.pop(0) if pending else None
        try:
            time.sleep(self.delay_s)
            if error is not None:
                raise error
            if not draft.strip():
                raise InputError("draft is empty", field="draft")
            return make_critique(draft)
        finally:
            with self.lock:
                self.running -= 1


def write_csv_file(path: Path, rows: list[dict[str, str]], delimiter: str = ",", encoding: str = "utf-8") -> Path:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- reading input


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_are_sniffed(tmp_path: Path, delimiter: str):
    path = write_csv_file(
        tmp_path / "in.csv",
        [
            {"id": "t1", "draft": "Hello there", "human_apology_ownership": "4"},
            {"id": "t2", "draft": "Bye", "human_apology_ownership": ""},
        ],
        delimiter,
    )
    table = read_input(path)
    assert [(r.id, r.draft) for r in table.rows] == [("t1", "Hello there"), ("t2", "Bye")]
    assert table.rows[0].human == {"apology_ownership": 4} and table.rows[1].human == {"apology_ownership": None}
    assert table.notes == []


def test_csv_with_commas_inside_quoted_cells(tmp_path: Path):
    path = tmp_path / "in.csv"
    path.write_text('id,draft,customer_message\nt1,"Sorry, we are late; really.","Where, is it?"\n', encoding="utf-8")
    row = read_input(path).rows[0]
    assert (row.draft, row.customer_message) == ("Sorry, we are late; really.", "Where, is it?")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_boms_are_honoured(tmp_path: Path, encoding: str):
    path = write_csv_file(tmp_path / "in.csv", [{"id": "t1", "draft": "Извините за задержку"}], ";", encoding)
    assert encoding == "utf-8" or path.read_bytes()[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"\xef\xbb")
    table = read_input(path)
    assert table.rows[0].id == "t1" and table.rows[0].draft == "Извините за задержку"
    assert table.notes == []


def test_legacy_encodings_fall_back_with_a_note(tmp_path: Path):
    russian = write_csv_file(tmp_path / "ru.csv", [{"id": "t1", "draft": "Извините за задержку"}], ",", "cp1251")
    table = read_input(russian)
    assert table.rows[0].draft == "Извините за задержку"
    assert "cp1251" in table.notes[0]
    western = write_csv_file(tmp_path / "fr.csv", [{"id": "t1", "draft": "Désolé pour le délai"}], ",", "latin-1")
    table = read_input(western)
    assert table.rows[0].draft == "Désolé pour le délai" and "latin-1" in table.notes[0]


def test_jsonl_rows_and_bad_lines_become_error_rows(tmp_path: Path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": 7, "draft": "Hello", "customer_message": "Hi", "language": "en"}\n'
        "\n"
        "{not json\n"
        "[1, 2]\n"
        '{"draft": "No id here"}\n',
        encoding="utf-8",
    )
    rows = read_input(path).rows
    assert rows[0].id == "7" and rows[0].customer_message == "Hi" and rows[0].language == "en"
    assert rows[1].error and "not valid JSON" in rows[1].error
    assert rows[2].error and "not a JSON object" in rows[2].error
    assert rows[3].id.startswith("row4-") and rows[3].error is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("in.csv", b"ticket,reply\n1,Hello\n", "no 'draft' column"),
        ("in.jsonl", b'{"reply": "Hello"}\n', "no 'draft' column"),
        ("in.csv", b"", "empty"),
        ("in.bin", b"\x00\x01\x02PK\x03\x04" * 50, "not a CSV or JSONL"),
        ("in.jsonl", b"{oops\n{nope\n", "not a CSV or JSONL"),
    ],
)
def test_a_bad_file_stops_before_any_llm_call(tmp_path: Path, name: str, content: bytes, message: str):
    path = tmp_path / name
    path.write_bytes(content)
    critic = ScriptedCritic()
    with pytest.raises(InputError, match=message):
        evaluate_file(critic, path, tmp_path / "out.jsonl")
    assert critic.calls == [] and not (tmp_path / "out.jsonl").exists()


def test_a_missing_file_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="cannot read"):
        read_input(tmp_path / "nope.csv")


def test_column_mapping(tmp_path: Path):
    path = write_csv_file(
        tmp_path / "in.csv", [{"ticket": "A-1", "reply": "Hello", "message": "Where is it?", "qa_tone": "2"}]
    )
    columns = parse_columns("id=ticket, draft=reply,customer=message,human_calm_professional_tone=qa_tone")
    row = read_input(path, columns).rows[0]
    assert (row.id, row.draft, row.customer_message) == ("A-1", "Hello", "Where is it?")
    assert row.human == {"calm_professional_tone": 2}
    with pytest.raises(InputError, match="unknown column role"):
        parse_columns("body=reply")
    with pytest.raises(InputError, match="role=column"):
        parse_columns("draft")


def test_ids_are_stable_and_duplicates_are_renamed():
    records = [{"draft": "Hello"}, {"draft": "Hello"}, {"id": "x", "draft": "a"}, {"id": "x", "draft": "b"}]
    first, second = rows_from_records(records), rows_from_records(records)
    assert [r.id for r in first.rows] == [r.id for r in second.rows]
    assert first.rows[0].id != first.rows[1].id  # same text, different row: different id
    assert first.rows[0].id == stable_id(1, "Hello", None)
    assert [r.id for r in first.rows[2:]] == ["x", "x#4"] and "renamed" in first.notes[0]


def test_human_scores_out_of_range_are_ignored():
    row = rows_from_records([{"draft": "Hi", "human_a": "7", "human_b": "good", "human_c": "3.0", "human_d": 2}]).rows[
        0
    ]
    assert row.human == {"a": None, "b": None, "c": 3, "d": 2}


# --------------------------------------------------------------------------- the results file


def test_partial_last_line_is_cut_and_latest_line_wins(tmp_path: Path):
    path = tmp_path / "out.jsonl"
    with ResultWriter(path) as writer:
        writer.append(BatchResult(id="a", error="boom", error_type="LLMError"))
        writer.append(BatchResult(id="b", overall=3))
        writer.append(BatchResult(id="a", overall=4))
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"id": "c", "over')  # a kill mid-line
    assert read_results(path).keys() == {"a", "b"}  # readers ignore the partial line
    assert repair_results(path) == len(b'{"id": "c", "over')
    assert path.read_bytes() == whole
    latest = read_results(path)
    assert latest["a"].ok and latest["a"].overall == 4
    assert repair_results(path) == 0


def test_a_file_that_is_all_partial_line_is_emptied(tmp_path: Path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": "a"')
    repair_results(path)
    assert path.read_bytes() == b""


def test_a_garbled_line_inside_the_file_is_skipped(tmp_path: Path):
    path = tmp_path / "out.jsonl"
    path.write_text('{"id": "a", "overall": 2}\n\x00\x00garbage\n{"id": "b", "overall": 3}\n', encoding="utf-8")
    assert list(read_results(path)) == ["a", "b"]


# --------------------------------------------------------------------------- evaluate


def test_evaluate_yields_every_row_once_with_errors_for_bad_rows():
    rows = [{"id": str(i), "draft": f"Reply number {i}"} for i in range(10)] + [{"id": "empty", "draft": "  "}]
    critic = ScriptedCritic(delay_s=0.01)
    results = list(evaluate(critic, rows, concurrency=3))
    assert sorted(r.id for r in results) == sorted(r["id"] for r in rows)
    by_id = {r.id: r for r in results}
    assert by_id["empty"].error == "draft is empty" and by_id["empty"].error_type == "InputError"
    assert by_id["empty"].scores == {} and by_id["empty"].overall is None  # an error, never a zero
    good = by_id["3"]
    assert good.ok and set(good.scores) == set(CRITERIA) and good.scores[CRITERIA[0]].score == 4
    assert good.issues[0].quote == "Reply" and good.issues[0].passage_ids == ["en-doc#1"]
    assert good.tokens.prompt_tokens == 50 and good.model == "fake-model" and good.attempts == 1
    assert critic.most_running <= 3


def test_concurrency_runs_rows_in_parallel():
    """Eight rows judged at once (counted, not timed: throughput is bench/batch.py's figure)."""
    critic = ScriptedCritic(delay_s=0.05)
    results = list(evaluate(critic, [{"draft": f"Reply {i}"} for i in range(16)], concurrency=8))
    assert len(results) == 16
    assert critic.most_running == 8


class PreparingCritic(ScriptedCritic):
    """A critic with ``prepare``, as ``Coach`` has: records each batch of drafts it is asked to embed."""

    def __init__(self, fail_prepare: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.prepared: list[list[str]] = []
        self.fail_prepare = fail_prepare
        self.thread_names: set[str] = set()

    def prepare(self, texts: list[str]) -> None:
        self.thread_names.add(threading.current_thread().name)
        self.prepared.append(list(texts))
        if self.fail_prepare:
            raise LLMError("embedding failed")


def test_drafts_are_embedded_ahead_in_chunks_off_the_main_thread():
    critic = PreparingCritic()
    rows = [{"id": str(i), "draft": f"Reply {i}"} for i in range(70)]
    results = list(evaluate(critic, rows, concurrency=2))
    assert len(results) == 70
    assert [len(batch) for batch in critic.prepared] == [4, 32, 32, 2]
    assert [d for batch in critic.prepared for d in batch] == [r["draft"] for r in rows]
    assert critic.thread_names == {"coach-batch-embed"}


def test_a_failed_pre_embedding_loses_no_row():
    critic = PreparingCritic(fail_prepare=True)
    results = list(evaluate(critic, [{"id": str(i), "draft": f"Reply {i}"} for i in range(40)], concurrency=2))
    assert sorted(int(r.id) for r in results if r.ok) == list(range(40))


def test_an_error_while_reading_rows_reaches_the_consumer():
    def rows() -> Iterator[BatchRow]:
        yield BatchRow(id="1", row=1, draft="Reply 1")
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="the disk went away"):
        list(_prepared(PreparingCritic(), rows()))


def test_stopping_early_stops_the_embedding_thread():
    critic = PreparingCritic()
    results = evaluate(critic, [{"id": str(i), "draft": f"Reply {i}"} for i in range(500)], concurrency=2)
    next(results)
    results.close()
    deadline = time.monotonic() + 5
    while any(t.name == "coach-batch-embed" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "coach-batch-embed" for t in threading.enumerate())
    assert len(critic.prepared) < 500 // 32


def test_transient_errors_are_retried_and_permanent_ones_are_not():
    rows = [{"id": "flaky", "draft": "flaky"}, {"id": "broken", "draft": "broken"}, {"id": "down", "draft": "down"}]
    critic = ScriptedCritic(
        {
            "flaky": [LLMError("429", status=429), LLMError("502", status=502), LLMError("timeout")],
            "broken": [InvalidModelOutput("not JSON", raw="{")],
            "down": [LLMError("500", status=500)] * 10,
        }
    )
    results = {r.id: r for r in evaluate(critic, rows, concurrency=2, retry=FAST_RETRY)}
    assert results["flaky"].ok and results["flaky"].attempts == 4
    assert results["broken"].error == "not JSON" and results["broken"].attempts == 1
    assert results["broken"].error_type == "InvalidModelOutput"
    assert results["down"].error and "after 4 attempts" in results["down"].error
    assert results["down"].error_type == "LLMError"
    assert critic.calls.count("broken") == 1 and critic.calls.count("down") == 4


def test_retry_after_is_honoured():
    critic = ScriptedCritic({"slow down": [LLMError("429", status=429, retry_after=0.3)]})
    started = time.perf_counter()
    [result] = evaluate(critic, [{"draft": "slow down"}], retry=RetryPolicy(base_s=0.01, max_s=5))
    assert result.ok and result.attempts == 2
    assert time.perf_counter() - started >= 0.3


def test_backoff_grows_with_jitter_and_is_capped():
    policy = RetryPolicy(base_s=1.0, max_s=10.0)
    delays = [policy.delay(attempt, None) for attempt in (1, 2, 3, 4, 5, 6)]
    assert 0.5 <= delays[0] <= 1 and 1 <= delays[1] <= 2 and 2 <= delays[2] <= 4
    assert all(d <= 10 for d in delays)
    assert 30 <= RetryPolicy(max_s=60).delay(1, 30.0) <= 30.25
    assert RetryPolicy(max_s=60).delay(1, 3600.0) <= 60.25  # a Retry-After of an hour is capped


def test_a_run_stops_when_the_llm_is_down_and_resumes_later(tmp_path: Path):
    source = write_csv_file(tmp_path / "replies.csv", [{"id": str(i), "draft": f"Reply {i}"} for i in range(30)])
    output = tmp_path / "results.jsonl"
    down = ScriptedCritic({f"Reply {i}": [LLMError("401 bad key", status=401)] for i in range(30)})
    with pytest.raises(LLMError, match="failed 5 rows in a row"):
        evaluate_file(down, source, output, concurrency=2, retry=FAST_RETRY, stop_after=5)
    assert len(lines_of(output)) == 5  # the failures seen are kept; nothing is written for the rest
    summary = evaluate_file(ScriptedCritic(), source, output, resume=True, retry_failed=True)
    assert (summary.run_rows, summary.succeeded, summary.failed) == (30, 30, 0)


def test_failures_of_single_rows_do_not_stop_the_run():
    critic = ScriptedCritic({f"Reply {i}": [InvalidModelOutput("bad JSON")] for i in range(10)})
    results = list(evaluate(critic, [{"draft": f"Reply {i}"} for i in range(10)], stop_after=3))
    assert len(results) == 10 and not any(r.ok for r in results)


def test_a_bug_stops_the_run_instead_of_becoming_a_score():
    critic = ScriptedCritic({"bug": [ZeroDivisionError("oops")]})
    with pytest.raises(ZeroDivisionError):
        list(evaluate(critic, [{"draft": "bug"}], concurrency=1))


def test_evaluate_accepts_a_dataframe_and_a_limit():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {"ticket": ["a", "b", "c"], "reply": ["Hi", "Hello", "Hey"], "human_apology_ownership": [3, None, 5]}
    )
    results = list(evaluate(ScriptedCritic(), frame, columns={"id": "ticket", "draft": "reply"}, limit=2))
    assert sorted(r.id for r in results) == ["a", "b"]
    assert {r.id: r.human for r in results} == {"a": {"apology_ownership": 3}, "b": {"apology_ownership": None}}


def test_bad_concurrency_is_an_input_error():
    with pytest.raises(InputError):
        evaluate(ScriptedCritic(), [], concurrency=0)


# --------------------------------------------------------------------------- evaluate_file


@pytest.fixture
def replies(tmp_path: Path) -> Path:
    rows = [{"id": f"t{i}", "draft": f"Reply {i}", "human_apology_ownership": str(1 + i % 5)} for i in range(12)]
    rows.append({"id": "t-empty", "draft": "", "human_apology_ownership": ""})
    return write_csv_file(tmp_path / "replies.csv", rows, ";")


def test_evaluate_file_writes_results_summary_and_csv(tmp_path: Path, replies: Path):
    output, export = tmp_path / "out" / "results.jsonl", tmp_path / "out" / "results.csv"
    seen: list[BatchProgress] = []
    summary = evaluate_file(ScriptedCritic(), replies, output, concurrency=4, csv_path=export, progress=seen.append)
    lines = lines_of(output)
    assert len(lines) == 13 and len({line["id"] for line in lines}) == 13
    assert {"id", "language", "scores", "overall", "issues", "model", "prompt_version", "critic", "tokens"} <= set(
        lines[0]
    )
    assert (summary.rows, summary.succeeded, summary.failed) == (13, 12, 1)
    assert (summary.run_rows, summary.run_failed, summary.run_skipped) == (13, 1, 0)
    assert summary.criteria["apology_ownership"].human_pairs == 12
    assert summary.criteria["apology_ownership"].exact_match == pytest.approx(2 / 12, abs=1e-3)
    saved = json.loads(summary_path(output).read_text(encoding="utf-8"))
    assert saved["succeeded"] == 12 and saved["most_cited"][0] == {"passage_id": "en-doc#1", "replies": 12}
    header = export.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {f"score_{c}" for c in CRITERIA} | {f"reason_{c}" for c in CRITERIA} <= set(header)
    assert seen[-1].done == 13 and seen[-1].failed == 1 and seen[-1].eta_s == 0


def test_existing_output_needs_resume(tmp_path: Path, replies: Path):
    output = tmp_path / "results.jsonl"
    evaluate_file(ScriptedCritic(), replies, output, limit=3)
    with pytest.raises(InputError, match="resume"):
        evaluate_file(ScriptedCritic(), replies, output)


def test_resume_skips_done_rows_and_retry_failed_reruns_only_failures(tmp_path: Path, replies: Path):
    output = tmp_path / "results.jsonl"
    flaky = ScriptedCritic({"Reply 1": [InvalidModelOutput("bad JSON")], "Reply 2": [InvalidModelOutput("bad")]})
    first = evaluate_file(flaky, replies, output, limit=5)
    assert (first.run_rows, first.failed) == (5, 2)

    rest = ScriptedCritic()
    second = evaluate_file(rest, replies, output, resume=True)
    assert second.run_skipped == 5 and second.run_rows == 8
    assert sorted(rest.calls) == sorted(["", *(f"Reply {i}" for i in range(5, 12))])
    assert second.failed == 3  # the two failures stay failures until retried, plus the empty draft

    again = ScriptedCritic()
    third = evaluate_file(again, replies, output, retry_failed=True)
    assert sorted(again.calls) == ["", "Reply 1", "Reply 2"]  # every failed row, input errors too
    assert third.run_rows == 3 and third.failed == 1 and third.succeeded == 12  # latest line per id wins
    lines = lines_of(output)
    assert len(lines) == 16  # history kept: 5 + 8 + 3 lines, 13 ids
    assert len(read_results(output)) == 13

    nothing = ScriptedCritic()
    assert evaluate_file(nothing, replies, output, resume=True).run_rows == 0 and nothing.calls == []


def test_ctrl_c_keeps_finished_rows_and_resume_finishes(tmp_path: Path, replies: Path):
    output = tmp_path / "results.jsonl"

    def interrupt(progress: BatchProgress) -> None:
        if progress.done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate_file(ScriptedCritic(delay_s=0.01), replies, output, concurrency=2, progress=interrupt)
    assert len(lines_of(output)) == 4
    summary = evaluate_file(ScriptedCritic(), replies, output, resume=True)
    assert summary.run_skipped == 4 and summary.rows == 13
    assert len(lines_of(output)) == 13


# --------------------------------------------------------------------------- the real Coach against the fake server

TOPICS = ["refund", "delivery", "password reset", "invoice", "broken screen", "late parcel", "upgrade", "login"]


def english_rows(n: int) -> list[dict[str, str]]:
    """Distinct English drafts (distinct, so no row is answered from another row's cache entry)."""
    return [
        {
            "id": f"T-{i}",
            "draft": f"Hello, thanks for writing about the {TOPICS[i % len(TOPICS)]} (case {i}). "
            f"We have checked it and will update you within {i + 2} days.",
            "customer_message": f"Where is my {TOPICS[i % len(TOPICS)]}? I have waited for ages.",
            "human_acknowledgement_empathy": str(1 + i % 5),
        }
        for i in range(n)
    ]


def critique_requests(behaviour: Behaviour) -> list[dict]:
    with behaviour.lock:
        return [r for r in behaviour.requests if "<<<DRAFT" in last_user_text(r)]


def drafts_of(requests: list[dict]) -> list[str]:
    return [quoted_section(last_user_text(r), "DRAFT") for r in requests]


@pytest.fixture(scope="module")
def indexed_coach(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Coach:
    """A Coach over an index of one guideline document (quick to build; retrieval is real all the same)."""
    root = tmp_path_factory.mktemp("batch-index")
    (root / "knowledge").mkdir()
    shutil.copy(KNOWLEDGE / "ru-handle-complaints-quickly.md", root / "knowledge")
    coach = Coach(Settings(knowledge_dir=root / "knowledge", data_dir=root / "data"), embedder=embedder)
    coach.index()
    return coach


@pytest.fixture
def json_llm() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour(respond=lambda request: critique_answer(request, list(CRITERIA)))
    with fake_openai_server(behaviour) as served:
        yield served


def json_coach(indexed: Coach, embedder: Embedder, url: str, data_dir: Path, timeout_s: float = 5.0) -> Coach:
    """A Coach on the module's index with its own data dir (own result cache) and the fake JSON critic.

    The openai client's own retries are off, so the retries seen are the batch's.
    """
    settings = Settings(
        knowledge_dir=indexed.settings.knowledge_dir,
        index_dir=indexed.settings.resolved_index_dir,
        data_dir=data_dir,
        llm_base_url=url,
        llm_max_retries=0,
        llm_timeout_s=timeout_s,
        critic="json",
    )
    return Coach(settings, embedder=embedder)


@pytest.mark.slow
def test_real_coach_scores_a_file(indexed_coach: Coach, embedder: Embedder, json_llm, tmp_path: Path):
    url, behaviour = json_llm
    coach = json_coach(indexed_coach, embedder, url, tmp_path)
    rows = english_rows(6) + [
        {"id": "T-empty", "draft": " ", "customer_message": "", "human_acknowledgement_empathy": ""}
    ]
    source = write_csv_file(tmp_path / "replies.csv", rows)
    summary = coach.evaluate_file(source, tmp_path / "results.jsonl", concurrency=3, csv_path=tmp_path / "r.csv")
    assert (summary.rows, summary.succeeded, summary.failed) == (7, 6, 1)
    results = read_results(tmp_path / "results.jsonl")
    drafts = {r["id"]: r["draft"] for r in rows}
    for result in results.values():
        if not result.ok:
            assert result.id == "T-empty" and "empty" in (result.error or "") and result.scores == {}
            continue
        assert set(result.scores) == set(CRITERIA) and result.critic == "json" and result.model
        assert result.prompt_version and result.tokens.calls == 1 and result.language == "en"
        for issue in result.issues:
            assert drafts[result.id][issue.start : issue.end] == issue.quote
    assert len(critique_requests(behaviour)) == 6
    assert summary.criteria["acknowledgement_empathy"].human_pairs == 6
    assert summary.most_cited, "issues cite retrieved passages"


@pytest.mark.slow
def test_429_with_retry_after_is_retried(indexed_coach: Coach, embedder: Embedder, json_llm, tmp_path: Path):
    url, behaviour = json_llm
    behaviour.retry_after = "0.3"
    behaviour.status_for = lambda request: 429 if len(behaviour.requests) <= 3 else 200
    coach = json_coach(indexed_coach, embedder, url, tmp_path)
    started = time.perf_counter()
    results = list(coach.evaluate(english_rows(3), concurrency=3, retry=FAST_RETRY))
    assert all(r.ok for r in results) and sorted(r.id for r in results) == ["T-0", "T-1", "T-2"]
    assert sum(r.attempts for r in results) == 6  # each row: one 429, then an answer
    assert time.perf_counter() - started >= 0.3  # Retry-After beats the 50 ms backoff cap of FAST_RETRY


@pytest.mark.slow
def test_500_on_one_row_makes_an_error_row_after_retries(
    indexed_coach: Coach, embedder: Embedder, json_llm, tmp_path: Path
):
    url, behaviour = json_llm
    behaviour.status_for = lambda request: 500 if "case 1)" in last_user_text(request) else 200
    coach = json_coach(indexed_coach, embedder, url, tmp_path)
    results = {r.id: r for r in coach.evaluate(english_rows(3), concurrency=2, retry=FAST_RETRY)}
    assert results["T-0"].ok and results["T-2"].ok
    failed = results["T-1"]
    assert failed.error and "500" in failed.error and failed.attempts == FAST_RETRY.attempts
    assert failed.scores == {} and failed.overall is None
    assert sum("case 1)" in d for d in drafts_of(critique_requests(behaviour))) == FAST_RETRY.attempts


@pytest.mark.slow
def test_malformed_json_is_an_error_row_without_batch_retries(
    indexed_coach: Coach, embedder: Embedder, json_llm, tmp_path: Path
):
    url, behaviour = json_llm

    def answer(request: dict) -> str:
        if "case 0)" in last_user_text(request) or "case 0)" in json.dumps(request["messages"]):
            return '{"scores": [{"criterion": "nope", '
        return critique_answer(request, list(CRITERIA))

    behaviour.respond = answer
    coach = json_coach(indexed_coach, embedder, url, tmp_path)
    results = {r.id: r for r in coach.evaluate(english_rows(2), concurrency=2, retry=FAST_RETRY)}
    assert results["T-1"].ok
    assert results["T-0"].error_type == "InvalidModelOutput" and results["T-0"].attempts == 1


@pytest.mark.slow
def test_a_slow_answer_times_out_and_the_retry_succeeds(
    indexed_coach: Coach, embedder: Embedder, json_llm, tmp_path: Path
):
    url, behaviour = json_llm
    slowed: set[str] = set()

    def answer(request: dict) -> str:
        draft = quoted_section(last_user_text(request), "DRAFT")
        if "case 1)" in draft and draft not in slowed:
            slowed.add(draft)
            time.sleep(1.5)
        return critique_answer(request, list(CRITERIA))

    behaviour.respond = answer
    coach = json_coach(indexed_coach, embedder, url, tmp_path, timeout_s=0.5)
    results = {r.id: r for r in coach.evaluate(english_rows(3), concurrency=3, retry=FAST_RETRY)}
    assert all(r.ok for r in results.values())
    assert results["T-1"].attempts == 2 and results["T-0"].attempts == 1


@pytest.mark.slow
def test_server_dies_mid_run_then_retry_failed_completes(
    indexed_coach: Coach, embedder: Embedder, json_llm, tmp_path: Path
):
    url, behaviour = json_llm
    behaviour.die_after = 4
    coach = json_coach(indexed_coach, embedder, url, tmp_path)
    source = write_csv_file(tmp_path / "replies.csv", english_rows(10))
    output = tmp_path / "results.jsonl"
    first = evaluate_file(coach, source, output, concurrency=2, retry=FAST_RETRY)
    assert (first.succeeded, first.failed) == (4, 6)
    assert all(
        "reach" in (r.error or "") or "fail" in (r.error or "") for r in read_results(output).values() if not r.ok
    )
    assert len(lines_of(output)) == 10  # every row once: no lost and no duplicate rows

    behaviour.die_after = None  # the server is back
    second = evaluate_file(coach, source, output, retry_failed=True, concurrency=2, retry=FAST_RETRY)
    assert (second.run_rows, second.succeeded, second.failed) == (6, 10, 0)
    assert len(lines_of(output)) == 16 and len(read_results(output)) == 10


@pytest.mark.slow
def test_rerunning_a_file_is_answered_from_the_cache(indexed_coach: Coach, embedder: Embedder, json_llm, tmp_path):
    url, behaviour = json_llm
    coach = json_coach(indexed_coach, embedder, url, tmp_path)
    source = write_csv_file(tmp_path / "replies.csv", english_rows(4))
    evaluate_file(coach, source, tmp_path / "first.jsonl", concurrency=2)
    asked = len(critique_requests(behaviour))
    again = evaluate_file(coach, source, tmp_path / "second.jsonl", concurrency=2)
    assert again.succeeded == 4 and len(critique_requests(behaviour)) == asked == 4


@pytest.mark.slow
def test_a_new_process_reruns_a_file_from_the_disk_cache(indexed_coach, embedder, json_llm, tmp_path: Path):
    url, behaviour = json_llm
    source = write_csv_file(tmp_path / "replies.csv", english_rows(3))
    evaluate_file(json_coach(indexed_coach, embedder, url, tmp_path / "data"), source, tmp_path / "first.jsonl")
    asked = len(critique_requests(behaviour))
    fresh = json_coach(indexed_coach, embedder, url, tmp_path / "data")  # a new Coach: nothing in memory
    summary = evaluate_file(fresh, source, tmp_path / "second.jsonl")
    assert summary.succeeded == 3 and len(critique_requests(behaviour)) == asked == 3


# --------------------------------------------------------------------------- the CLI, killed and resumed


def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.slow
def test_cli_killed_at_random_points_resumes_with_every_row_exactly_once(indexed_coach, json_llm, tmp_path: Path):
    url, behaviour = json_llm
    behaviour.delay_s = 0.05
    rows = english_rows(24)
    source = write_csv_file(tmp_path / "replies.csv", rows)
    output = tmp_path / "results.jsonl"
    env = {
        **os.environ,
        "COACH_KNOWLEDGE_DIR": str(indexed_coach.settings.knowledge_dir),
        "COACH_INDEX_DIR": str(shutil.copytree(indexed_coach.settings.resolved_index_dir, tmp_path / "index")),
        "COACH_DATA_DIR": str(tmp_path / "data"),
        "COACH_LLM_BASE_URL": url,
        "COACH_LLM_MAX_RETRIES": "0",
        "COACH_CRITIC": "json",
    }
    command = [sys.executable, "-m", "coach.cli", "evaluate", str(source), "-o", str(output), "--resume"]
    chance = random.Random(6)
    for _ in range(2):
        target = count_lines(output) + chance.randint(1, 8)
        process = subprocess.Popen(
            [*command, "--concurrency", "3"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while count_lines(output) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    assert "24 rows: 24 scored, 0 failed" in final.stdout
    ids = [line["id"] for line in lines_of(output)]  # every line parses: no half line survived
    assert sorted(ids) == sorted(row["id"] for row in rows)  # every row exactly once


def test_cli_stops_on_a_bad_file_with_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from coach.cli.main import main

    source = write_csv_file(tmp_path / "replies.csv", [{"ticket": "1", "reply": "Hello"}])
    assert main(["evaluate", str(source), "-o", str(tmp_path / "out.jsonl")]) == 1
    assert "error: replies.csv: no 'draft' column" in capsys.readouterr().err
    assert main(["evaluate", str(source), "-o", str(tmp_path / "out.jsonl"), "--columns", "draft"]) == 1
    assert "role=column" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_the_local_engine_never_imports_ray(tmp_path: Path):
    """Ray is an optional extra: the default engine, the CLI and the facade run without importing it."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "draft": "Hello there."}\n', encoding="utf-8")
    code = (
        "import sys; from coach.batch.run import evaluate_file; from tests.test_batch import make_critique; "
        "import coach.cli.main, coach.coach; "
        "C = type('C', (), {'critique': lambda self, d, c=None: make_critique(d)}); "
        f"s = evaluate_file(C(), {str(source)!r}, {str(tmp_path / 'out.jsonl')!r}); "
        "print(s.succeeded, [m for m in ('ray', 'pyarrow') if m in sys.modules])"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[-2] == "1 []"


def test_the_ray_engine_without_ray_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from coach.batch import ray_engine

    monkeypatch.setitem(sys.modules, "ray", None)  # as in the default install: `import ray` fails
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "draft": "Hello there."}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"coach\[ray\]"):
        ray_engine.evaluate_file(object(), source, tmp_path / "out.jsonl", make_critic=Coach)  # type: ignore[arg-type]
