"""The guard of ``coach train-critic``: the held-out set is for checking only, never for fitting."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from coach.errors import InputError


class Draft(Protocol):
    """What the guard reads of a labelled draft (``coach.judging.training.LabelledDraft``)."""

    @property
    def id(self) -> str: ...

    @property
    def text(self) -> str: ...


def refuse_heldout(data: Path, drafts: Sequence[Draft], heldout: Path | None = None) -> None:
    """Raise ``InputError`` when the data shares an id or a text with the held-out set (checking only, never fitting).

    ``heldout`` defaults to the checkout's ``eval/heldout.jsonl``; an installed package has none to compare.
    """
    from coach.resources import heldout_file

    heldout = heldout or heldout_file()
    if heldout is None or not heldout.is_file():
        return
    rows = [json.loads(line) for line in heldout.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = {str(row.get("id")) for row in rows}
    texts = {str(row.get("text", "")).strip() for row in rows} - {""}
    shared = [d.id for d in drafts if d.id in ids or d.text.strip() in texts]
    if shared:
        raise InputError(
            f"{data}: {len(shared)} drafts ({', '.join(shared[:3])}{', ...' if len(shared) > 3 else ''}) are in the "
            f"held-out set {heldout.name}, which is for checking only: fit on training data",
            field="data",
        )
