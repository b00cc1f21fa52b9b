"""Versions of guideline documents, so nothing a trainer replaces or removes is ever lost.

Layout under the data dir::

    history/<file name>/<n>-<UTC time>-<sha12><suffix>   every replaced or removed version, n = 1, 2, ...
    history/audit.jsonl                                  one line per change: who, when, what, sha256 before/after
    history/.indexed/<file name>                         the text each document had when it was last indexed
    knowledge.lock                                       held (fcntl.flock) while the knowledge base changes

The ``.indexed`` copies let ``coach index`` keep a version that was edited or deleted straight in the
knowledge folder. Every file is written atomically (temp file, fsync, rename), and every change
holds the lock, so two threads or processes never lose a version. Keeping a version equal to the
newest one already kept is a no-op: a change redone after a crash does not duplicate it.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import os
import re
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, Field

from coach.errors import InputError
from coach.knowledge.passages import DOCUMENT_SUFFIXES

HISTORY_FOLDER = "history"
AUDIT_FILE = "audit.jsonl"
INDEXED_FOLDER = ".indexed"
LOCK_FILE = "knowledge.lock"

_VERSION_FILE = re.compile(r"^(\d+)-(\d{8}T\d{6}Z)-([0-9a-f]{12})(\.[A-Za-z0-9]+)$")
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"

Action = Literal[
    "added",  # uploaded under a new name
    "replaced",  # uploaded under an existing name, confirmed
    "reverted",  # an older version brought back
    "removed",  # removed through coach (kept in history)
    "added-in-folder",  # found by `coach index`, put there by hand
    "edited-in-folder",  # changed by hand; `coach index` kept the indexed version
    "deleted-in-folder",  # gone (or unreadable) when `coach index` ran; the indexed version was kept
    "linked",  # links.yaml: a passage linked to a criterion
    "unlinked",  # links.yaml: a link (or an orphaned one) taken away
    "rejected-link",  # links.yaml: a suggested criterion rejected for a passage
    "links-followed",  # links.yaml: links moved with their passages to a document's new version
    "translated",  # translations/<document id>.yaml: a trainer's translation of a passage
]
LINK_ACTIONS = frozenset({"linked", "unlinked", "rejected-link", "links-followed"})


def default_user() -> str:
    """Who is changing the knowledge base when nobody says: the OS user, else ``cli``."""
    try:
        return getpass.getuser() or "cli"
    except (KeyError, OSError):
        return "cli"


def sha256_of(data: bytes) -> str:
    """The sha256 of a document's bytes, as written in the history and the audit log."""
    return hashlib.sha256(data).hexdigest()


def check_name(name: str) -> str:
    """A document's file name as given, or an ``InputError`` when it is not one (a path, hidden, wrong suffix)."""
    plain = bool(name) and Path(name).name == name and not name.startswith(".")
    if not plain or Path(name).suffix.lower() not in DOCUMENT_SUFFIXES:
        raise InputError(f"{name!r} is not a document name (e.g. en-refunds.md)", field="name")
    return name


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new bytes, never a part (hidden temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class DocumentVersion(BaseModel):
    """One kept version of a document."""

    document: str = Field(description="The document's file name in the knowledge folder.")
    version: int = Field(description="1 for the oldest kept version, then 2, 3, ...")
    saved_at: datetime = Field(description="When it was kept (UTC).")
    sha256: str
    size: int = Field(description="Bytes.")
    path: Path = Field(description="Where the kept copy lives.")


class AuditEntry(BaseModel):
    """One change to the knowledge base: who, when, what, and the document's sha256 before and after."""

    at: datetime
    user: str
    action: Action
    document: str
    before_sha256: str | None = None
    after_sha256: str | None = None
    version: int | None = Field(default=None, description="The history version kept by this change, if any.")
    detail: str = ""

    @classmethod
    def now(
        cls,
        user: str | None,
        action: Action,
        document: str,
        before: bytes | None,
        after: bytes | None,
        *,
        version: int | None = None,
        detail: str = "",
    ) -> AuditEntry:
        """An entry for a change made now, from the file's bytes before and after (None: absent)."""
        return cls(
            at=datetime.now(UTC),
            user=user or default_user(),
            action=action,
            document=document,
            before_sha256=sha256_of(before) if before is not None else None,
            after_sha256=sha256_of(after) if after is not None else None,
            version=version,
            detail=detail,
        )


class DocumentInfo(BaseModel):
    """A document of the knowledge folder as it is now."""

    name: str
    id: str | None = None
    title: str | None = None
    language: str | None = None
    sha256: str
    size: int
    modified: datetime
    versions: int = Field(description="How many earlier versions the history keeps.")
    problem: str | None = Field(default=None, description="Why the file cannot be indexed, if it cannot.")


class KnowledgeLock:
    """An exclusive lock on the knowledge base for threads and processes; re-entrant in one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> KnowledgeLock:
        self._threads.acquire()
        if self._depth == 0:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(self.path, "ab")  # noqa: SIM115  # held open until the outermost exit
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
            self._handle = handle
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
        self._threads.release()


class VersionStore:
    """Kept versions, the audit log and the last indexed copies, under ``<data_dir>/history``."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / HISTORY_FOLDER
        self.lock = KnowledgeLock(data_dir / LOCK_FILE)

    # ------------------------------------------------------------------ versions

    def history(self, name: str) -> list[DocumentVersion]:
        """The kept versions of a document, oldest first."""
        folder = self.root / check_name(name)
        if not folder.is_dir():
            return []
        versions = []
        for path in folder.iterdir():
            match = _VERSION_FILE.match(path.name)
            if match is None:
                continue
            data = path.read_bytes()
            versions.append(
                DocumentVersion(
                    document=name,
                    version=int(match.group(1)),
                    saved_at=datetime.strptime(match.group(2), _TIME_FORMAT).replace(tzinfo=UTC),
                    sha256=sha256_of(data),
                    size=len(data),
                    path=path,
                )
            )
        return sorted(versions, key=lambda v: v.version)

    def version(self, name: str, number: int) -> DocumentVersion:
        """One kept version, or an ``InputError`` naming the versions there are."""
        versions = self.history(name)
        for kept in versions:
            if kept.version == number:
                return kept
        there = ", ".join(str(v.version) for v in versions) or "none"
        raise InputError(f"{name} has no version {number} (kept versions: {there})", field="version")

    def keep(self, name: str, data: bytes) -> DocumentVersion:
        """Keep a version (call with the lock held); the newest kept version when it is the same bytes."""
        versions = self.history(name)
        if versions and versions[-1].sha256 == sha256_of(data):
            return versions[-1]
        number = versions[-1].version + 1 if versions else 1
        stamp = datetime.now(UTC).strftime(_TIME_FORMAT)
        path = self.root / name / f"{number}-{stamp}-{sha256_of(data)[:12]}{Path(name).suffix}"
        atomic_write(path, data)
        return self.history(name)[-1]

    # ------------------------------------------------------------------ audit

    def record(self, entry: AuditEntry) -> None:
        """Append one change to the audit log (one write, flushed to disk; call with the lock held)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / AUDIT_FILE, "a", encoding="utf-8") as log:
            log.write(entry.model_dump_json() + "\n")
            log.flush()
            os.fsync(log.fileno())

    def audit(self, name: str | None = None) -> list[AuditEntry]:
        """Every change, oldest first (only one document's when ``name`` is given); a cut last line is skipped."""
        path = self.root / AUDIT_FILE
        if not path.is_file():
            return []
        entries = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.endswith("}"):
                continue  # a line cut by a crash
            entry = AuditEntry.model_validate_json(line)
            if name is None or entry.document == name:
                entries.append(entry)
        return entries

    # ------------------------------------------------------------------ what the index holds

    def indexed(self) -> dict[str, bytes]:
        """The bytes of each document as it was last indexed."""
        folder = self.root / INDEXED_FOLDER
        if not folder.is_dir():
            return {}
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}

    def set_indexed(self, current: dict[str, bytes]) -> None:
        """Record what the index now holds (call with the lock held, after the index was synced)."""
        folder = self.root / INDEXED_FOLDER
        before = self.indexed()
        for name, data in current.items():
            if before.get(name) != data:
                atomic_write(folder / name, data)
        for name in set(before) - set(current):
            (folder / name).unlink(missing_ok=True)

    def keep_folder_changes(self, current: dict[str, bytes], user: str) -> list[AuditEntry]:
        """Keep each indexed version that the folder no longer has, and log changes made by hand.

        A change is logged when the audit log's last word on a document differs from the folder
        (so a change coach made itself, and a rerun after a crash, is not logged twice).
        """
        indexed = self.indexed()
        kept: dict[str, int] = {}
        for name, data in indexed.items():
            if current.get(name) != data:
                kept[name] = self.keep(name, data).version
        last: dict[str, str | None] = {}
        for entry in self.audit():
            if entry.action not in LINK_ACTIONS:  # the links file is not a document
                last[entry.document] = entry.after_sha256
        logged = []
        for name in sorted(set(current) | set(last) | set(indexed)):
            now = sha256_of(current[name]) if name in current else None
            before = last.get(name, sha256_of(indexed[name]) if name in indexed else None)
            if now == before:
                continue
            action: Action = "added-in-folder" if before is None else "edited-in-folder"
            if now is None:
                action = "deleted-in-folder"
            entry = AuditEntry(
                at=datetime.now(UTC),
                user=user,
                action=action,
                document=name,
                before_sha256=before,
                after_sha256=now,
                version=kept.get(name),
            )
            self.record(entry)
            logged.append(entry)
        return logged
