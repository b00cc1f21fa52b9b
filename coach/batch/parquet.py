"""Parquet results for large batch runs (pyarrow comes with ``coach[ray]``; the default install has none).

The latest result per id as a typed table (``score_<criterion>`` columns, issues as a list of structs),
written at the end of a run from the JSONL results file, which stays the append-only record a resume reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from coach.batch.io import HUMAN_PREFIX, BatchResult, pyarrow_module


def write_parquet(results: Iterable[BatchResult], path: Path, criteria: Sequence[str]) -> None:
    """The results as one Parquet table, one row per reply (written to a temporary name, then moved)."""
    pa = pyarrow_module()
    results = list(results)
    humans = sorted({cid for r in results for cid in r.human})
    issue = pa.struct(
        [
            ("criterion", pa.string()),
            ("severity", pa.string()),
            ("quote", pa.string()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("passage_ids", pa.list_(pa.string())),
        ]
    )
    fields = [
        ("id", pa.string()),
        ("row", pa.int64()),
        ("language", pa.string()),
        ("overall", pa.float64()),
        ("error", pa.string()),
        ("error_type", pa.string()),
    ]
    fields += [(f"score_{cid}", pa.int64()) for cid in criteria] + [(f"reason_{cid}", pa.string()) for cid in criteria]
    fields += [("issues", pa.list_(issue)), ("model", pa.string()), ("prompt_version", pa.string())]
    fields += [("critic", pa.string()), ("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64())]
    fields += [("latency_s", pa.float64()), ("attempts", pa.int64())]
    fields += [(f"{HUMAN_PREFIX}{cid}", pa.int64()) for cid in humans]
    table = pa.Table.from_pylist([_record(r, criteria, humans) for r in results], schema=pa.schema(fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    pa.parquet.write_table(table, temporary)
    temporary.replace(path)


def _record(result: BatchResult, criteria: Sequence[str], humans: Sequence[str]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": result.id,
        "row": result.row,
        "language": result.language,
        "overall": result.overall,
        "error": result.error,
        "error_type": result.error_type,
        "issues": [json.loads(issue.model_dump_json()) for issue in result.issues],
        "model": result.model,
        "prompt_version": result.prompt_version,
        "critic": result.critic,
        "prompt_tokens": result.tokens.prompt_tokens,
        "completion_tokens": result.tokens.completion_tokens,
        "latency_s": result.latency_s,
        "attempts": result.attempts,
    }
    for cid in criteria:
        score = result.scores.get(cid)
        record[f"score_{cid}"] = score.score if score else None
        record[f"reason_{cid}"] = score.reason if score else None
    record |= {f"{HUMAN_PREFIX}{cid}": result.human.get(cid) for cid in humans}
    return record
