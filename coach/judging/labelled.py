"""Labelled drafts, the critic's training data: a verdict per rubric criterion, read from JSONL.

Training rows carry ``verdicts`` (with the quoted span of a `said` violation); eval rows carry ``problems``
(the violated criteria only). ``coach.judging.training`` fits on them; it re-exports these names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from coach.errors import InputError

Label = Literal["ok", "said", "omission", "violated"]


class Verdict(BaseModel):
    """One criterion's label for one draft; ``said`` carries the offending sentence's offsets."""

    label: Label
    start: int | None = None
    end: int | None = None

    @property
    def violated(self) -> bool:
        """Whether the criterion is broken, whatever the kind."""
        return self.label != "ok"


class LabelledDraft(BaseModel):
    """A draft with the customer's message and a verdict per rubric criterion."""

    id: str
    language: str
    text: str = Field(min_length=1)
    customer_message: str | None = None
    domain: str = ""
    verdicts: dict[str, Verdict]

    @model_validator(mode="after")
    def _spans_inside(self) -> LabelledDraft:
        for cid, verdict in self.verdicts.items():
            if verdict.label == "said" and (
                verdict.start is None or verdict.end is None or not 0 <= verdict.start < verdict.end <= len(self.text)
            ):
                raise ValueError(f"{self.id}: {cid} is 'said' without a span inside the text")
        return self

    @property
    def problems(self) -> set[str]:
        """The violated criteria."""
        return {cid for cid, verdict in self.verdicts.items() if verdict.violated}

    @property
    def good(self) -> bool:
        """No criterion violated."""
        return not self.problems


def read_labelled(path: Path, criteria: Sequence[str]) -> list[LabelledDraft]:
    """Labelled drafts from JSONL: training rows (``verdicts``) or eval rows (``problems``, drafts only)."""
    drafts: list[LabelledDraft] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc})", field="data") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row.get("kind", "draft") != "draft":
                continue
            drafts.append(_labelled(row, criteria))
        except (ValueError, ValidationError) as exc:
            raise InputError(f"{path.name}:{number}: not a labelled draft: {exc}", field="data") from exc
    return drafts


def _labelled(row: dict[str, Any], criteria: Sequence[str]) -> LabelledDraft:
    if "verdicts" in row:
        verdicts = {cid: Verdict.model_validate(v) for cid, v in row["verdicts"].items()}
    else:
        problems = set(row.get("problems", []))
        verdicts = {cid: Verdict(label="violated" if cid in problems else "ok") for cid in criteria}
    missing = set(criteria) - verdicts.keys()
    if missing:
        raise ValueError(f"no verdict for {sorted(missing)}")
    return LabelledDraft(
        id=row["id"],
        language=row["language"],
        text=row["text"],
        customer_message=row.get("customer_message"),
        domain=row.get("domain", ""),
        verdicts={cid: verdicts[cid] for cid in criteria},
    )
