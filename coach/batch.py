"""Batch evaluation for QA: the same rubric over thousands of replies, resumable, with bounded concurrency.

``evaluate`` yields one ``BatchResult`` per row **in order of completion** (each result keeps its input
``row`` number, so sort on it for input order). ``evaluate_file`` appends them to a JSONL results file
as they finish; when an id appears on several lines, the latest line wins (see ``coach.batch_io``).

Transient LLM errors (429, 5xx, timeouts, unreachable server) are retried with exponential backoff and
jitter, waiting at least the server's ``Retry-After``; a row that still fails is an error row, never a
score. Ctrl-C stops at once: finished rows are already on disk, rows in flight are dropped.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from coach.agreement import BatchSummary, summarize
from coach.batch_io import (
    BatchIssue,
    BatchResult,
    BatchRow,
    CriterionResult,
    ResultWriter,
    read_input,
    read_results,
    repair_results,
    rows_from_records,
    write_csv,
)
from coach.errors import CoachError, InputError, LLMError
from coach.models import Critique
from coach.prompts import load_rubric

__all__ = ["BatchProgress", "BatchResult", "BatchRow", "BatchSummary", "RetryPolicy", "evaluate", "evaluate_file"]

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
STOP_AFTER_FAILURES = 20
PREPARE_CHUNK = 32  # drafts embedded per call ahead of the workers
FIRST_CHUNK = 4  # the first call is short so that the first rows start at once
PREPARE_AHEAD = 2  # chunks embedded and waiting at most
LLM_DOWN = ("LLMError", "ModelIntegrityError")  # failures of the LLM itself, not of one row's content


class Critic(Protocol):
    """What batch evaluation needs of a Coach."""

    def critique(self, draft: str, customer_message: str | None = None) -> Critique: ...


class RetryPolicy(BaseModel):
    """How transient LLM errors of one row are retried: exponential backoff with jitter, honouring Retry-After."""

    attempts: int = 5
    base_s: float = 1.0
    max_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: full jitter, never less than Retry-After."""
        backoff = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        if retry_after is not None:
            return min(self.max_s, retry_after) + random.uniform(0, backoff / 4)
        return random.uniform(backoff / 2, backoff)


class BatchProgress(BaseModel):
    """Where a file run is, for progress bars."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0

    @property
    def rows_per_min(self) -> float:
        """Finished rows per minute so far."""
        return 60 * self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current pace; None before the first row finishes."""
        if not self.done:
            return None
        return (self.total - self.done) * self.elapsed_s / self.done

    def text(self) -> str:
        """One plain-text progress line: ``37/200 rows  2 failed  41.3 rows/min  ETA 3m57s``."""
        eta = "-" if self.eta_s is None else _duration(self.eta_s)
        skipped = f"  ({self.skipped} already done)" if self.skipped else ""
        return (
            f"{self.done}/{self.total} rows  {self.failed} failed  {self.rows_per_min:.1f} rows/min  ETA {eta}{skipped}"
        )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


# --------------------------------------------------------------------------- evaluate


def evaluate(
    coach: Critic,
    rows: Any,
    *,
    columns: Mapping[str, str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    limit: int | None = None,
    retry: RetryPolicy | None = None,
    stop_after: int | None = STOP_AFTER_FAILURES,
) -> Iterator[BatchResult]:
    """Critique rows (dicts, a DataFrame, or ``BatchRow``s); yields results in order of completion.

    When ``stop_after`` rows in a row fail because the LLM itself fails (down, rate-limited beyond the
    retries, a wrong key), the run stops with that ``LLMError`` instead of writing an error for every row.
    """
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(f"concurrency must be 1-{MAX_CONCURRENCY}, got {concurrency}", field="concurrency")
    batch = _as_rows(rows, columns)
    results = _run(coach, batch[:limit] if limit is not None else batch, concurrency, retry or RetryPolicy())
    return _stop_when_llm_is_down(results, stop_after) if stop_after else results


def _stop_when_llm_is_down(results: Generator[BatchResult, None, None], stop_after: int) -> Iterator[BatchResult]:
    failures = 0
    try:
        for result in results:
            yield result
            failures = failures + 1 if result.error_type in LLM_DOWN else 0
            if failures >= stop_after:
                raise LLMError(
                    f"stopped: the LLM failed {failures} rows in a row (last: {result.error}); finished rows are "
                    "kept, rerun with --resume --retry-failed once it answers"
                )
    finally:
        results.close()


def _as_rows(rows: Any, columns: Mapping[str, str] | None) -> list[BatchRow]:
    if hasattr(rows, "to_dict"):  # a pandas DataFrame, without importing pandas
        rows = rows.to_dict("records")
    rows = list(rows)
    if rows and all(isinstance(r, BatchRow) for r in rows):
        return [r for r in rows if isinstance(r, BatchRow)]
    return rows_from_records(rows, columns).rows


def _run(
    coach: Critic, rows: Iterable[BatchRow], concurrency: int, retry: RetryPolicy
) -> Generator[BatchResult, None, None]:
    """Feed rows to worker threads, at most ``2 x concurrency`` in flight, and yield what finishes."""
    tasks: queue.Queue[BatchRow | None] = queue.Queue()
    done: queue.Queue[BatchResult | BaseException] = queue.Queue()
    stop = threading.Event()
    workers = [
        threading.Thread(target=_work, args=(coach, tasks, done, stop, retry), daemon=True, name=f"coach-batch-{i}")
        for i in range(concurrency)
    ]
    for worker in workers:
        worker.start()
    pending = _prepared(coach, rows)
    in_flight = finished = 0
    try:
        while True:
            # the first row runs alone: the Coach opens its index, LLM and caches once instead of racing N threads
            capacity = 2 * concurrency if finished else 1
            while in_flight < capacity and (row := next(pending, None)) is not None:
                tasks.put(row)
                in_flight += 1
            if in_flight == 0:
                return
            outcome = _next(done)
            in_flight -= 1
            finished += 1
            if isinstance(outcome, BaseException):
                raise outcome
            yield outcome
    finally:
        stop.set()  # workers stop waiting in backoff; rows in flight are dropped (daemon threads)
        pending.close()
        for _ in workers:
            tasks.put(None)


def _prepared(coach: Critic, rows: Iterable[BatchRow]) -> Generator[BatchRow, None, None]:
    """The rows, each chunk's drafts embedded in one call by a background thread ahead of the workers.

    One call per chunk is much cheaper than one per draft, and the embedding (C code, outside the GIL)
    runs while the workers wait on the LLM instead of between their rows. The first chunk is small so
    the first rows start at once.
    """
    prepare = getattr(coach, "prepare", None)
    if prepare is None:
        yield from rows
        return
    ready: queue.Queue[list[BatchRow] | BaseException | None] = queue.Queue(maxsize=PREPARE_AHEAD)
    stop = threading.Event()

    def hand_over(item: list[BatchRow] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def embed_ahead() -> None:
        try:
            for chunk in _chunks(rows):
                try:
                    prepare([row.draft for row in chunk if isinstance(row.draft, str)])
                except CoachError as exc:  # only a speed-up: each row still reports its own error
                    log.warning("could not pre-embed drafts: %s", exc)
                if not hand_over(chunk):
                    return
            hand_over(None)
        except BaseException as exc:  # reading the rows failed: the consumer re-raises it
            hand_over(exc)

    thread = threading.Thread(target=embed_ahead, daemon=True, name="coach-batch-embed")
    thread.start()
    try:
        while (chunk := ready.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            yield from chunk
    finally:
        stop.set()


def _chunks(rows: Iterable[BatchRow]) -> Iterator[list[BatchRow]]:
    """Rows in chunks of ``PREPARE_CHUNK``, the first one of ``FIRST_CHUNK``."""
    iterator = iter(rows)
    size = FIRST_CHUNK
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
        size = PREPARE_CHUNK


def _next(done: queue.Queue[BatchResult | BaseException]) -> BatchResult | BaseException:
    """The next finished row, waking twice a second so Ctrl-C is seen at once."""
    while True:
        try:
            return done.get(timeout=0.5)
        except queue.Empty:
            continue


def _work(
    coach: Critic,
    tasks: queue.Queue[BatchRow | None],
    done: queue.Queue[BatchResult | BaseException],
    stop: threading.Event,
    retry: RetryPolicy,
) -> None:
    while (row := tasks.get()) is not None and not stop.is_set():
        try:
            done.put(critique_row(coach, row, retry, stop))
        except BaseException as exc:  # a bug, not a bad row: handed to the main thread, which stops the run
            done.put(exc)


def critique_row(coach: Critic, row: BatchRow, retry: RetryPolicy, stop: threading.Event | None = None) -> BatchResult:
    """One row's result: its critique, or an error row after bounded retries of transient LLM errors."""
    if row.error is not None:
        return _error(row, row.error, "InputError", attempts=0)
    started = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        try:
            critique = coach.critique(row.draft, row.customer_message)
        except LLMError as exc:
            if not exc.transient or attempt >= retry.attempts or (stop is not None and stop.is_set()):
                return _error(row, _message(exc, attempt), type(exc).__name__, attempt, started)
            wait = retry.delay(attempt, exc.retry_after)
            log.info("row %s: %s; retry %d in %.1f s", row.id, exc, attempt, wait)
            if (stop or threading.Event()).wait(wait):  # a stopped run does not sit out the backoff
                return _error(row, _message(exc, attempt), type(exc).__name__, attempt, started)
        except CoachError as exc:
            return _error(row, str(exc), type(exc).__name__, attempt, started)
        else:
            return _success(row, critique, attempt)


def _message(exc: LLMError, attempts: int) -> str:
    return f"{exc} (after {attempts} attempts)" if attempts > 1 else str(exc)


def _error(row: BatchRow, message: str, kind: str, attempts: int, started: float | None = None) -> BatchResult:
    return BatchResult(
        id=row.id,
        row=row.row,
        language=row.language,
        human=row.human,
        attempts=attempts,
        latency_s=round(time.perf_counter() - started, 3) if started is not None else 0.0,
        error=message,
        error_type=kind,
    )


def _success(row: BatchRow, critique: Critique, attempts: int) -> BatchResult:
    return BatchResult(
        id=row.id,
        row=row.row,
        language=critique.language,
        scores={cid: CriterionResult(score=s.score, reason=s.reason) for cid, s in critique.scores.items()},
        overall=critique.overall,
        issues=[
            BatchIssue(
                criterion=i.criterion,
                severity=i.severity,
                quote=i.quote,
                start=i.start,
                end=i.end,
                passage_ids=i.passage_ids,
            )
            for i in critique.issues
        ],
        model=critique.model,
        prompt_version=critique.prompt_version,
        critic=critique.critic,
        tokens=critique.usage,
        latency_s=critique.latency_s,
        attempts=attempts,
        human=row.human,
    )


# --------------------------------------------------------------------------- evaluate_file


def evaluate_file(
    coach: Critic,
    source: str | Path,
    destination: str | Path,
    *,
    resume: bool = False,
    retry_failed: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    limit: int | None = None,
    columns: Mapping[str, str] | None = None,
    csv_path: str | Path | None = None,
    retry: RetryPolicy | None = None,
    stop_after: int | None = STOP_AFTER_FAILURES,
    progress: Callable[[BatchProgress], None] | None = None,
) -> BatchSummary:
    """Score a CSV/JSONL file into append-only JSONL plus ``<name>.summary.json`` (and a CSV when asked).

    ``resume`` skips ids the results file already has (scored or failed); ``retry_failed`` reruns ids
    whose latest line is an error; together they do both. Without either, an existing results file
    is an ``InputError`` (appending a second run to it would mix the two).
    """
    output = Path(destination)
    table = read_input(source, columns)
    if output.exists() and output.stat().st_size and not (resume or retry_failed):
        raise InputError(f"{output} exists: pass resume=True (--resume) or retry_failed=True, or another name")
    repair_results(output)
    previous = read_results(output)
    todo = [row for row in table.rows if _wanted(row, previous, resume, retry_failed)]
    if limit is not None:
        todo = todo[:limit]
    state = BatchProgress(total=len(todo), skipped=len(table.rows) - len(todo))
    started = time.perf_counter()
    if progress is not None:
        progress(state)
    with ResultWriter(output) as writer:
        for result in evaluate(coach, todo, concurrency=concurrency, retry=retry, stop_after=stop_after):
            writer.append(result)
            state.done += 1
            state.failed += not result.ok
            state.elapsed_s = time.perf_counter() - started
            if progress is not None:
                progress(state)
    run = {
        "run_rows": state.done,
        "run_failed": state.failed,
        "run_skipped": state.skipped,
        "run_seconds": round(time.perf_counter() - started, 3),
        "notes": table.notes,
    }
    return write_summary(output, csv_path, **run)


def _wanted(row: BatchRow, previous: Mapping[str, BatchResult], resume: bool, retry_failed: bool) -> bool:
    """Whether a row must be (re)critiqued given what the results file already holds for its id."""
    before = previous.get(row.id)
    if before is None:
        return not retry_failed or resume
    return retry_failed and not before.ok


def write_summary(output: Path, csv_path: str | Path | None = None, **run: Any) -> BatchSummary:
    """Summarize a results file (latest line per id) into ``<name>.summary.json``, and export CSV if asked."""
    results = list(read_results(output).values())
    criteria = load_rubric().ids
    target = summary_path(output)
    files = {"output": str(output), "summary_file": str(target), "csv": str(csv_path) if csv_path else None}
    summary = summarize(results, criteria).model_copy(update=files | run)
    if csv_path is not None:
        write_csv(results, Path(csv_path), criteria)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(summary.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temporary, target)
    return summary


def summary_path(output: Path) -> Path:
    """Where the summary of a results file goes: beside it, ``results.jsonl`` -> ``results.summary.json``."""
    return output.with_name(f"{output.stem}.summary.json")
