"""Batch files: read replies from CSV/JSONL, append results to JSONL that survives kills, export CSV.

The results file is append-only. Each finished row is one JSON line written with a single ``write``
call; a run killed mid-line leaves at most one partial last line, which ``repair_results`` cuts off
before anything else touches the file. When an id has several lines (an error, then a successful
retry), **the latest line wins**: ``read_results`` and everything built on it follow that rule.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel, Field

from coach.errors import InputError
from coach.models import Severity, Usage

log = logging.getLogger(__name__)

FIELDS = ("id", "draft", "customer_message", "language")
FIELD_ALIASES = {"customer": "customer_message", "message": "customer_message"}
HUMAN_PREFIX = "human_"
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_DELIMITERS = ",;\t|"
SNIFF_CHARS = 64_000
FSYNC_INTERVAL_S = 2.0
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


# --------------------------------------------------------------------------- models


class BatchRow(BaseModel):
    """One reply to score, as read from the input (``error`` set when the row itself is unusable)."""

    id: str
    row: int = Field(description="1-based position in the input (data rows, header excluded).")
    draft: str = ""
    customer_message: str | None = None
    language: str | None = Field(default=None, description="The language given in the input, if any.")
    human: dict[str, int | None] = Field(default_factory=dict, description="Criterion id -> human score 1-5.")
    error: str | None = None


class CriterionResult(BaseModel):
    """One criterion's score and reason in a batch result."""

    score: int
    reason: str = ""


class BatchIssue(BaseModel):
    """One issue of a batch result: what was flagged, where in the draft, and on which passages."""

    criterion: str
    severity: Severity = "medium"
    quote: str = ""
    start: int = 0
    end: int = 0
    passage_ids: list[str] = Field(default_factory=list)


class BatchResult(BaseModel):
    """One line of the results file: a scored reply, or an error that says why it was not scored."""

    id: str
    row: int | None = None
    language: str | None = None
    scores: dict[str, CriterionResult] = Field(default_factory=dict)
    overall: float | None = None
    issues: list[BatchIssue] = Field(default_factory=list)
    model: str = ""
    prompt_version: str = ""
    critic: str = ""
    tokens: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    attempts: int = Field(default=0, description="Critique attempts made (retries of transient LLM errors).")
    human: dict[str, int | None] = Field(default_factory=dict)
    error: str | None = Field(default=None, description="Why the row has no scores; null when it was scored.")
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the row was scored."""
        return self.error is None


class InputTable(BaseModel):
    """The rows of an input file and what was noticed while reading it (encoding fallbacks, renamed ids)."""

    rows: list[BatchRow]
    notes: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- reading input


def read_input(path: str | Path, columns: Mapping[str, str] | None = None) -> InputTable:
    """Rows of a CSV or JSONL file; a file coach cannot use raises ``InputError`` before any LLM call."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise InputError(f"{source}: cannot read the file ({exc.strerror})", field="file") from exc
    text, notes = decode_bytes(data, source.name)
    if not text.strip():
        raise InputError(f"{source.name}: the file is empty", field="file")
    if "\x00" in text:
        raise InputError(f"{source.name}: not a CSV or JSONL file (binary content)", field="file")
    if source.suffix.lower() in JSONL_SUFFIXES or (source.suffix.lower() != ".csv" and text.lstrip()[0] in "{["):
        records = _jsonl_records(text, source.name)
    else:
        records = _csv_records(text, source.name)
    table = rows_from_records(records, columns, source.name)
    return InputTable(rows=table.rows, notes=notes + table.notes)


def decode_bytes(data: bytes, name: str) -> tuple[str, list[str]]:
    """Text of a file: BOMs honoured, UTF-8 first, then cp1251 or latin-1 with a note saying so."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), []
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{name}: starts with a {encoding} mark but is not valid {encoding}", field="file"
                ) from exc
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    guess = data.decode("cp1251", errors="replace")
    letters = [c for c in guess if c.isalpha()]
    cyrillic = sum("\u0400" <= c <= "\u04ff" for c in letters)
    # Russian text is mostly Cyrillic letters; Western text read as cp1251 has only a few (é -> й)
    encoding = "cp1251" if letters and cyrillic / len(letters) > 0.3 else "latin-1"
    note = f"{name} is not valid UTF-8: read as {encoding}; save it as UTF-8 if the text looks wrong"
    log.warning(note)
    return data.decode(encoding, errors="replace"), [note]


def _jsonl_records(text: str, name: str) -> list[dict[str, Any] | str]:
    """One dict per non-blank line; a line that is not a JSON object stays as its error message."""
    records: list[dict[str, Any] | str] = []
    lines = [line for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            records.append(f"line {number} is not valid JSON ({exc.msg})")
            continue
        records.append(value if isinstance(value, dict) else f"line {number} is not a JSON object")
    if records and all(isinstance(r, str) for r in records):
        raise InputError(f"{name}: not a CSV or JSONL file (no line is a JSON object)", field="file")
    return records


def _csv_records(text: str, name: str) -> list[dict[str, Any] | str]:
    """Rows of a CSV file as dicts keyed by the header; the delimiter is sniffed."""
    sample = text[:SNIFF_CHARS]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        first_line = sample.splitlines()[0]
        delimiter = max(CSV_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        table = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise InputError(f"{name}: not a readable CSV file ({exc})", field="file") from exc
    header = [cell.strip().lstrip("\ufeff") for cell in table[0]]
    records: list[dict[str, Any] | str] = []
    for number, cells in enumerate(table[1:], start=1):
        if len(cells) > len(header):
            records.append(f"row {number} has {len(cells)} cells but the header has {len(header)}")
            continue
        records.append(dict(zip(header, cells, strict=False)))
    return records


def rows_from_records(
    records: Iterable[Mapping[str, Any] | str], columns: Mapping[str, str] | None = None, name: str = "input"
) -> InputTable:
    """Batch rows from dicts (file records, API rows); a missing draft column raises ``InputError``."""
    mapping = column_mapping(columns)
    rows: list[BatchRow] = []
    seen: dict[str, int] = {}
    notes: list[str] = []
    draft_column = mapping.get("draft", "draft")
    has_draft = False
    for number, record in enumerate(records, start=1):
        if isinstance(record, str):
            rows.append(BatchRow(id=stable_id(number, record), row=number, error=record))
            continue
        has_draft = has_draft or draft_column in record
        row = _row(record, mapping, number)
        if row.id in seen:
            renamed = f"{row.id}#{number}"
            notes.append(f"id {row.id!r} of row {number} already used by row {seen[row.id]}: renamed {renamed!r}")
            row = row.model_copy(update={"id": renamed})
        seen[row.id] = number
        rows.append(row)
    if rows and not has_draft:
        raise InputError(
            f"{name}: no {draft_column!r} column (map yours with columns, e.g. draft=reply)", field="columns"
        )
    return InputTable(rows=rows, notes=notes)


def column_mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    """Coach's field -> the input's column name, from ``{"id": "ticket", "customer": "message"}``."""
    mapping: dict[str, str] = {}
    for key, column in (columns or {}).items():
        field = FIELD_ALIASES.get(key, key)
        if field not in FIELDS and not field.startswith(HUMAN_PREFIX):
            raise InputError(
                f"unknown column role {key!r}; use {', '.join(FIELDS)} or human_<criterion>", field="columns"
            )
        mapping[field] = column
    return mapping


def parse_columns(spec: str) -> dict[str, str]:
    """``id=ticket,draft=reply`` as a mapping (the CLI's ``--columns``)."""
    pairs = [part.split("=", 1) for part in spec.split(",") if part.strip()]
    if any(len(pair) != 2 or not pair[0].strip() or not pair[1].strip() for pair in pairs):
        raise InputError(f"--columns wants role=column pairs separated by commas, got {spec!r}", field="columns")
    return column_mapping({role.strip(): column.strip() for role, column in pairs})


def stable_id(number: int, *content: str | None) -> str:
    """An id for a row that has none: the same file gives the same ids on every run."""
    digest = hashlib.sha256(json.dumps([number, *content], ensure_ascii=False).encode()).hexdigest()
    return f"row{number}-{digest[:10]}"


def _row(record: Mapping[str, Any], mapping: Mapping[str, str], number: int) -> BatchRow:
    def value(field: str) -> str | None:
        raw = record.get(mapping.get(field, field))
        if raw is None or (isinstance(raw, float) and raw != raw):  # NaN: pandas' empty cell
            return None
        return raw if isinstance(raw, str) else str(raw)

    draft = value("draft") or ""
    customer = value("customer_message")
    given_id = (value("id") or "").strip()
    human, problems = _human_scores(record, mapping)
    error = None
    if "\ufffd" in draft:
        error = "draft has undecodable characters"
    elif problems:
        log.warning("row %s: %s", number, "; ".join(problems))
    return BatchRow(
        id=given_id or stable_id(number, draft, customer),
        row=number,
        draft=draft,
        customer_message=customer if customer and customer.strip() else None,
        language=(value("language") or "").strip() or None,
        human=human,
        error=error,
    )


def _human_scores(record: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[dict[str, int | None], list[str]]:
    """``human_<criterion>`` columns as scores 1-5 (blank = none); unreadable values are reported."""
    renamed = {column: field for field, column in mapping.items() if field.startswith(HUMAN_PREFIX)}
    human: dict[str, int | None] = {}
    problems = []
    for column, raw in record.items():
        field = renamed.get(column, column)
        if not isinstance(field, str) or not field.startswith(HUMAN_PREFIX):
            continue
        criterion = field.removeprefix(HUMAN_PREFIX)
        text = "" if raw is None or (isinstance(raw, float) and raw != raw) else str(raw).strip()
        try:
            score = round(float(text)) if text else None
        except ValueError:
            score = None
        if text and (score is None or not 1 <= score <= 5):
            problems.append(f"{column}={text!r} is not a score 1-5; ignored")
            score = None
        human[criterion] = score
    return human, problems


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
