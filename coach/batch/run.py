"""Batch evaluation for QA: the same rubric over thousands of replies, resumable, with bounded concurrency.

``evaluate`` yields one ``BatchResult`` per row **in order of completion** (each result keeps its input
``row`` number, so sort on it for input order). ``evaluate_file`` appends them to a JSONL results file
as they finish; when an id appears on several lines, the latest line wins (see ``coach.batch.results``).

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
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypedDict, Unpack

from pydantic import BaseModel

from coach.batch.agreement import BatchSummary, summarize
from coach.batch.io import BatchResult, BatchRow, InputTable, read_input, rows_from_records
from coach.batch.results import ResultWriter, read_results, repair_results, write_csv
from coach.batch.rows import Critic, RetryPolicy, critique_row
from coach.errors import CoachError, InputError, LLMError
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
    return stop_when_llm_is_down(results, stop_after) if stop_after else results


def stop_when_llm_is_down(results: Generator[BatchResult, None, None], stop_after: int) -> Iterator[BatchResult]:
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


# --------------------------------------------------------------------------- evaluate_file


class FileOptions(TypedDict, total=False):
    """The options of a file run that both engines take (``evaluate_file`` here and on Ray).

    ``resume`` skips ids the results file already has (scored or failed); ``retry_failed`` reruns ids whose
    latest line is an error; together they do both. Without either, an existing results file is an
    ``InputError`` (appending a second run to it would mix the two). ``limit``: at most this many rows this run;
    ``columns``: the input's column for each field; ``csv_path`` / ``parquet_path``: exports of the results;
    ``retry``: backoff for transient LLM errors; ``stop_after``: stop once this many rows in a row failed
    because the LLM is down (None: never); ``progress``: called with a ``BatchProgress`` after each row.
    """

    resume: bool
    retry_failed: bool
    limit: int | None
    columns: Mapping[str, str] | None
    csv_path: str | Path | None
    parquet_path: str | Path | None
    retry: RetryPolicy | None
    stop_after: int | None
    progress: Callable[[BatchProgress], None] | None


class FileRun:
    """One run over a file, whatever the engine: what to critique, progress, and the summary at the end."""

    def __init__(self, source: str | Path, destination: str | Path, options: FileOptions) -> None:
        self.options = options
        self.output = Path(destination)
        self.table, self.todo = plan_run(
            source,
            self.output,
            resume=options.get("resume", False),
            retry_failed=options.get("retry_failed", False),
            limit=options.get("limit"),
            columns=options.get("columns"),
        )
        self.state = BatchProgress(total=len(self.todo), skipped=len(self.table.rows) - len(self.todo))
        self.started = time.perf_counter()
        self._report()

    @property
    def retry(self) -> RetryPolicy | None:
        return self.options.get("retry")

    @property
    def stop_after(self) -> int | None:
        return self.options.get("stop_after", STOP_AFTER_FAILURES)

    def record(self, results: Iterable[BatchResult], writer: ResultWriter) -> None:
        """Append each finished row to the results file as it comes, and report progress."""
        for result in results:
            writer.append(result)
            self.state.done += 1
            self.state.failed += not result.ok
            self.state.elapsed_s = time.perf_counter() - self.started
            self._report()

    def finish(self, **extra: Any) -> BatchSummary:
        """Write ``<name>.summary.json`` (and the exports asked for) and return the summary."""
        run = {
            "run_rows": self.state.done,
            "run_failed": self.state.failed,
            "run_skipped": self.state.skipped,
            "run_seconds": round(time.perf_counter() - self.started, 3),
            "notes": self.table.notes,
        }
        options = self.options
        return write_summary(self.output, options.get("csv_path"), options.get("parquet_path"), **run, **extra)

    def _report(self) -> None:
        progress = self.options.get("progress")
        if progress is not None:
            progress(self.state)


def evaluate_file(
    coach: Critic,
    source: str | Path,
    destination: str | Path,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    **options: Unpack[FileOptions],
) -> BatchSummary:
    """Score a CSV/JSONL/Parquet file into append-only JSONL plus ``<name>.summary.json`` (CSV, Parquet when asked).

    The options (resume, retry_failed, limit, exports, retries, progress) are ``FileOptions``.
    """
    run = FileRun(source, destination, options)
    with ResultWriter(run.output) as writer:
        results = evaluate(coach, run.todo, concurrency=concurrency, retry=run.retry, stop_after=run.stop_after)
        run.record(results, writer)
    return run.finish()


def plan_run(
    source: str | Path,
    output: Path,
    *,
    resume: bool,
    retry_failed: bool,
    limit: int | None,
    columns: Mapping[str, str] | None,
) -> tuple[InputTable, list[BatchRow]]:
    """The input's rows and the ones this run must critique, given what the results file already holds."""
    table = read_input(source, columns)
    if output.exists() and output.stat().st_size and not (resume or retry_failed):
        raise InputError(f"{output} exists: pass resume=True (--resume) or retry_failed=True, or another name")
    repair_results(output)
    previous = read_results(output)
    todo = [row for row in table.rows if _wanted(row, previous, resume, retry_failed)]
    return table, todo[:limit] if limit is not None else todo


def _wanted(row: BatchRow, previous: Mapping[str, BatchResult], resume: bool, retry_failed: bool) -> bool:
    """Whether a row must be (re)critiqued given what the results file already holds for its id."""
    before = previous.get(row.id)
    if before is None:
        return not retry_failed or resume
    return retry_failed and not before.ok


def write_summary(
    output: Path, csv_path: str | Path | None = None, parquet_path: str | Path | None = None, **run: Any
) -> BatchSummary:
    """Summarize a results file (latest line per id) into ``<name>.summary.json``; export CSV and Parquet if asked."""
    results = list(read_results(output).values())
    criteria = load_rubric().ids
    target = summary_path(output)
    files = {"output": str(output), "summary_file": str(target), "csv": str(csv_path) if csv_path else None}
    files["parquet"] = str(parquet_path) if parquet_path else None
    summary = summarize(results, criteria).model_copy(update=files | run)
    if csv_path is not None:
        write_csv(results, Path(csv_path), criteria)
    if parquet_path is not None:
        from coach.batch.parquet import write_parquet

        write_parquet(results, Path(parquet_path), criteria)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(summary.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temporary, target)
    return summary


def summary_path(output: Path) -> Path:
    """Where the summary of a results file goes: beside it, ``results.jsonl`` -> ``results.summary.json``."""
    return output.with_name(f"{output.stem}.summary.json")
