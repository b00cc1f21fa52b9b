"""Batch input: read replies from CSV, JSONL or Parquet into rows, and the row and result models of a batch run.

The results file those rows end up in is ``coach.batch.results``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from coach.errors import InputError
from coach.models import Severity, Usage

log = logging.getLogger(__name__)

FIELDS = ("id", "draft", "customer_message", "language")
FIELD_ALIASES = {"customer": "customer_message", "message": "customer_message"}
HUMAN_PREFIX = "human_"
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_READ_ROWS = 10_000
CSV_DELIMITERS = ",;\t|"
SNIFF_CHARS = 64_000
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
    """Rows of a CSV, JSONL or Parquet file; a file coach cannot use raises ``InputError`` before any LLM call."""
    source = Path(path)
    if source.suffix.lower() in PARQUET_SUFFIXES:
        return rows_from_records(_parquet_records(source), columns, source.name)
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


def pyarrow_module() -> Any:
    """pyarrow with its Parquet module; it comes with ``coach[ray]`` (the default install has none)."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise InputError("Parquet needs pyarrow: install coach with its Ray extra, `coach[ray]`", field="file") from exc
    return pyarrow


def _parquet_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a Parquet file, read one record batch at a time."""
    pa = pyarrow_module()
    try:
        for batch in pa.parquet.ParquetFile(path).iter_batches(batch_size=PARQUET_READ_ROWS):
            yield from batch.to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path.name}: not a readable Parquet file ({exc})", field="file") from exc


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
