"""Batch results file: append results to JSONL that survives kills, read them back, export CSV.

The results file is append-only. Each finished row is one JSON line written with a single ``write``
call; a run killed mid-line leaves at most one partial last line, which ``repair_results`` cuts off
before anything else touches the file. When an id has several lines (an error, then a successful
retry), **the latest line wins**: ``read_results`` and everything built on it follow that rule.
"""

from __future__ import annotations

import csv
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from coach.batch.io import HUMAN_PREFIX, BatchResult

log = logging.getLogger(__name__)

FSYNC_INTERVAL_S = 2.0


# --------------------------------------------------------------------------- the results file


def repair_results(path: Path) -> int:
    """Cut a partial last line left by a kill; returns the number of bytes removed."""
    if not path.exists():
        return 0
    with path.open("r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        keep = _last_newline_end(handle, size)
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    log.warning("%s: cut a partial last line (%d bytes) left by an interrupted run", path.name, size - keep)
    return size - keep


def _last_newline_end(handle: BinaryIO, size: int) -> int:
    """Offset just after the last newline of the file (0 when there is none)."""
    position = size
    while position > 0:
        step = min(65_536, position)
        position -= step
        handle.seek(position)
        chunk = handle.read(step)
        found = chunk.rfind(b"\n")
        if found >= 0:
            return position + found + 1
    return 0


def iter_results(path: Path) -> Iterator[BatchResult]:
    """Every line of a results file, oldest first; unreadable lines are logged and skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith("\n") or not line.strip():
                continue  # a partial last line: not a finished row
            try:
                yield BatchResult.model_validate_json(line)
            except ValueError as exc:
                log.warning("%s line %d is not a result; skipped (%s)", path.name, number, exc)


def read_results(path: Path) -> dict[str, BatchResult]:
    """The results of a file by id; when an id has several lines, the latest wins."""
    latest: dict[str, BatchResult] = {}
    for result in iter_results(path):
        latest.pop(result.id, None)  # keep dict order = order of each id's latest line
        latest[result.id] = result
    return latest


class ResultWriter:
    """Appends result lines to the results file: one ``write`` per line, fsync'd every few seconds and at close."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_results(path)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        self._synced = time.monotonic()

    def append(self, result: BatchResult) -> None:
        """Write one finished row as one line; it is on disk (or in the OS cache) when this returns."""
        line = (result.model_dump_json() + "\n").encode("utf-8")
        with self._lock:
            written = os.write(self._fd, line)
            while written < len(line):  # short writes happen only on full disks or signals
                written += os.write(self._fd, line[written:])
            if time.monotonic() - self._synced > FSYNC_INTERVAL_S:
                os.fsync(self._fd)
                self._synced = time.monotonic()

    def close(self) -> None:
        """Flush to disk and close."""
        with self._lock:
            if self._fd >= 0:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- CSV export


def write_csv(results: Iterable[BatchResult], path: Path, criteria: Iterable[str]) -> None:
    """Flatten results into one CSV row each: ``score_<criterion>`` and ``reason_<criterion>`` per criterion."""
    criteria = list(criteria)
    header = ["id", "row", "language", "overall", "error"]
    header += [f"{kind}_{cid}" for cid in criteria for kind in ("score", "reason")]
    header += ["issues", "passage_ids", "model", "prompt_version", "critic", "prompt_tokens", "completion_tokens"]
    header += ["latency_s"]
    results = list(results)
    humans = sorted({cid for r in results for cid in r.human})
    header += [f"{HUMAN_PREFIX}{cid}" for cid in humans]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for r in results:
            cells: list[Any] = [r.id, r.row, r.language, r.overall, r.error]
            for cid in criteria:
                score = r.scores.get(cid)
                cells += [score.score if score else None, score.reason if score else None]
            cells += [
                "; ".join(sorted({i.criterion for i in r.issues})),
                " ".join(sorted({pid for i in r.issues for pid in i.passage_ids})),
                r.model,
                r.prompt_version,
                r.critic,
                r.tokens.prompt_tokens,
                r.tokens.completion_tokens,
                r.latency_s,
            ]
            cells += [r.human.get(cid) for cid in humans]
            writer.writerow(["" if cell is None else cell for cell in cells])
    temporary.replace(path)
