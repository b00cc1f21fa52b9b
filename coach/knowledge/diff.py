"""What a new version of a document changes: its passages added, changed and removed, aligned by text.

Shown to a trainer before an upload replaces a document, and used to move the rubric links along with their
passages when the index takes a new version (passage ids are positions, so a new paragraph shifts them).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Literal

from pydantic import BaseModel, Field

from coach.errors import CoachError, KnowledgeError
from coach.knowledge.passages import PassageRecord, decode_document, parse_document, split_passages
from coach.knowledge.versions import sha256_of


class PassageChange(BaseModel):
    """A passage that a new version adds, changes or removes."""

    kind: Literal["added", "changed", "removed"]
    passage_id: str = Field(description="The new passage's id (the old one's for a removed passage).")
    before: str | None = None
    after: str | None = None


class DocumentChange(BaseModel):
    """What uploading a document would change: shown to the trainer before a new version replaces the old."""

    document: str
    exists: bool = Field(description="Whether a document with this name is there now.")
    before_sha256: str | None = None
    after_sha256: str
    passages: list[PassageChange] = Field(default_factory=list)
    unchanged: int = Field(default=0, description="Passages that stay exactly as they are.")
    links_kept: int = Field(default=0, description="Rubric links that follow their passage into the new version.")
    links_orphaned: dict[str, list[str]] = Field(
        default_factory=dict, description="Removed passage id -> the criteria it was linked to (reported after)."
    )

    @property
    def identical(self) -> bool:
        """The upload is the document as it already is."""
        return self.before_sha256 == self.after_sha256

    def count(self, kind: str) -> int:
        """Passages added, changed or removed."""
        return sum(1 for p in self.passages if p.kind == kind)

    def summary(self) -> str:
        """One line, e.g. ``+1 added, 2 changed, -3 removed, 5 unchanged passages``."""
        return (
            f"+{self.count('added')} added, {self.count('changed')} changed, -{self.count('removed')} removed, "
            f"{self.unchanged} unchanged passages"
            + (f"; {sum(map(len, self.links_orphaned.values()))} rubric links orphaned" if self.links_orphaned else "")
        )


def _aligned(
    old: list[PassageRecord], new: list[PassageRecord]
) -> Iterator[tuple[str, PassageRecord | None, PassageRecord | None]]:
    """Two versions' passages aligned by text: ("equal" | "changed" | "removed" | "added", old, new)."""
    matcher = difflib.SequenceMatcher(a=[p.text for p in old], b=[p.text for p in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                yield "equal", old[i1 + k], new[j1 + k]
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            yield "changed", old[i1 + k], new[j1 + k]
        for record in old[i1 + paired : i2]:
            yield "removed", record, None
        for record in new[j1 + paired : j2]:
            yield "added", None, record


def passage_changes(old: list[PassageRecord], new: list[PassageRecord]) -> tuple[list[PassageChange], int]:
    """Passages added, changed and removed between two versions (aligned by text), and how many are unchanged."""
    changes: list[PassageChange] = []
    unchanged = 0
    for kind, before, after in _aligned(old, new):
        if kind == "equal":
            unchanged += 1
        elif kind == "changed" and before is not None and after is not None:
            changes.append(PassageChange(kind="changed", passage_id=after.id, before=before.text, after=after.text))
        elif kind == "removed" and before is not None:
            changes.append(PassageChange(kind="removed", passage_id=before.id, before=before.text))
        elif kind == "added" and after is not None:
            changes.append(PassageChange(kind="added", passage_id=after.id, after=after.text))
    return changes, unchanged


def passage_id_map(old: list[PassageRecord], new: list[PassageRecord]) -> tuple[dict[str, str], dict[str, str]]:
    """Where each old passage went (old id -> new id, kept or changed in place), and the removed ones (id -> text)."""
    moved: dict[str, str] = {}
    removed: dict[str, str] = {}
    for _, before, after in _aligned(old, new):
        if before is not None and after is not None:
            moved[before.id] = after.id
        elif before is not None:
            removed[before.id] = before.text
    return moved, removed


def version_passages(name: str, data: bytes | None) -> list[PassageRecord]:
    """A version's passages; none when it is absent or (an old hand edit) unreadable."""
    if data is None:
        return []
    try:
        return split_passages(parse_document(decode_document(data, name, max(len(data), 1)), name))
    except KnowledgeError:
        return []


def describe_change(
    name: str, old: bytes | None, new: bytes, criteria_of: Callable[[str], list[str]] | None = None
) -> DocumentChange:
    """What replacing ``old`` (None: no such document) by ``new`` does to the document's passages.

    With ``criteria_of`` (passage id -> linked criteria), also what it does to the rubric links.
    """
    old_records, new_records = version_passages(name, old), version_passages(name, new)
    changes, unchanged = passage_changes(old_records, new_records)
    links_kept, orphaned = 0, {}
    if criteria_of is not None:
        moved, removed = passage_id_map(old_records, new_records)
        links_kept = sum(len(criteria_of(pid)) for pid in moved)
        orphaned = {pid: criteria_of(pid) for pid in removed if criteria_of(pid)}
    return DocumentChange(
        links_kept=links_kept,
        links_orphaned=orphaned,
        document=name,
        exists=old is not None,
        before_sha256=sha256_of(old) if old is not None else None,
        after_sha256=sha256_of(new),
        passages=changes,
        unchanged=unchanged,
    )


class NewVersionError(CoachError):
    """An upload whose name exists: a new version, kept only when the caller confirms (``replace=True``)."""

    def __init__(self, message: str, *, change: DocumentChange) -> None:
        super().__init__(message)
        self.change = change
