"""The knowledge base's documents: read and validate them, add, revert and remove them, keep the index in step.

Every change takes the ``VersionStore``'s lock, keeps the version it replaces in the history, writes an
audit entry and re-indexes, so the folder, the history and the index never disagree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from coach.errors import InputError, KnowledgeError
from coach.knowledge.diff import DocumentChange, NewVersionError, describe_change, version_passages
from coach.knowledge.index import PassageStore
from coach.knowledge.links import LinkBook
from coach.knowledge.passages import (
    DOCUMENT_SUFFIXES,
    NOTES_FOLDER,
    Document,
    PassageRecord,
    decode_document,
    find_document_files,
    parse_document,
    read_document,
    split_passages,
)
from coach.knowledge.versions import (
    Action,
    AuditEntry,
    DocumentInfo,
    DocumentVersion,
    VersionStore,
    atomic_write,
    check_name,
    default_user,
    sha256_of,
)
from coach.models import IndexReport
from coach.resources import seed_knowledge
from coach.settings import Settings

log = logging.getLogger(__name__)


def _with_bytes(documents: list[Document], skipped: dict[str, str]) -> tuple[list[Document], dict[str, bytes]]:
    """The documents still readable, and their bytes by file name (one that vanished since is skipped)."""
    readable, current = [], {}
    for doc in documents:
        assert doc.path is not None  # read from the folder
        try:
            current[doc.path.name] = doc.path.read_bytes()
        except OSError as exc:
            skipped[doc.path.name] = f"cannot be read ({exc.strerror})"
            continue
        readable.append(doc)
    return readable, current


class DocumentLibrary:
    """The knowledge folder, its kept versions and audit log, and the index built from it."""

    def __init__(
        self,
        settings: Settings,
        versions: VersionStore,
        links: LinkBook,
        store: Callable[[], PassageStore],
        open_lock: threading.RLock,
    ) -> None:
        self.settings = settings
        self.versions = versions
        self.links = links
        self._store = store  # opened lazily by the Coach
        self._open_lock = open_lock
        self._index_checked = False

    def load(self) -> tuple[list[Document], dict[str, str]]:
        """Readable documents of the knowledge folder, and the reason each unreadable one was skipped."""
        documents: list[Document] = []
        skipped: dict[str, str] = {}
        seen: dict[str, str] = {}
        seed_knowledge(self.settings.knowledge_dir)  # an installed tool's default folder starts as a copy
        for path in find_document_files(self.settings.knowledge_dir):
            try:
                doc = read_document(path, self.settings.max_document_bytes, self.settings.knowledge_dir / NOTES_FOLDER)
            except KnowledgeError as exc:
                skipped[path.name] = str(exc).removeprefix(f"{path.name}: ")
                continue
            if doc.id in seen:
                skipped[path.name] = f"document id {doc.id!r} is already used by {seen[doc.id]}"
                continue
            seen[doc.id] = path.name
            documents.append(doc)
        return documents, skipped

    def index(self, *, user: str | None = None) -> IndexReport:
        """Bring the index in line with the knowledge folder; unchanged documents cost nothing.

        A document edited or deleted by hand since the last run has its indexed version kept in the history.
        """
        with self.versions.lock:
            documents, skipped = self.load()
            documents, current = _with_bytes(documents, skipped)
            self.versions.keep_folder_changes(current, user or default_user())
            report = self._store().sync(documents, skipped)
            self.links.follow(current, version_passages, self._kept_version, user=user)
            self.versions.set_indexed(current)
            self._index_checked = True
        for path, reason in skipped.items():
            log.warning("skipped %s: %s", path, reason)
        return report

    def passages(self) -> list[PassageRecord]:
        """Every passage of the readable documents now (what links may point at)."""
        return [passage for doc in self.load()[0] for passage in split_passages(doc)]

    def _criteria_of(self) -> Callable[[str], list[str]]:
        """Passage id -> the criteria linked to it now."""
        return self.links.read().criteria_of

    def _kept_version(self, name: str, sha256: str) -> bytes | None:
        """A version of a document by its hash: as last indexed, or from the history."""
        indexed = self.versions.indexed().get(name)
        if indexed is not None and sha256_of(indexed) == sha256:
            return indexed
        for version in reversed(self.versions.history(name)):
            if version.sha256 == sha256:
                return version.path.read_bytes()
        return None

    def ensure_index(self) -> None:
        """Build the index on first use if it is empty (e.g. a fresh install or a wiped store)."""
        if self._index_checked:
            return
        with self.versions.lock, self._open_lock:  # the order every change takes them in
            if self._index_checked:
                return
            if self._store().count() == 0:
                log.info("index is empty: building it from %s", self.settings.knowledge_dir)
                self.index()
            self._index_checked = True

    def _upload(self, filename: str, content: bytes) -> tuple[str, bytes]:
        """A checked upload: its file name and its text as it will be written (UTF-8, ``\\n`` line ends)."""
        name = Path(filename).name
        if Path(name).suffix.lower() not in DOCUMENT_SUFFIXES:
            raise InputError(f"{name}: only {' and '.join(DOCUMENT_SUFFIXES)} files are accepted", field="file")
        try:
            text = decode_document(content, name, self.settings.max_document_bytes)
            parse_document(text, name)
        except KnowledgeError as exc:
            raise InputError(str(exc), field="file", limit=self.settings.max_document_bytes) from exc
        return name, text.encode("utf-8")

    def preview(self, filename: str, content: bytes) -> DocumentChange:
        """What uploading this file would change (passages added, changed, removed); changes nothing."""
        name, data = self._upload(filename, content)
        target = self.settings.knowledge_dir / name
        return describe_change(name, target.read_bytes() if target.is_file() else None, data, self._criteria_of())

    def add(
        self,
        filename: str,
        content: bytes,
        *,
        replace: bool = False,
        base_sha256: str | None = None,
        user: str | None = None,
    ) -> IndexReport:
        """Validate a guideline file, save it into the knowledge folder and index it at once.

        A file whose name exists with other content is a new version: without ``replace=True`` nothing
        changes and ``NewVersionError`` carries the change (see ``preview``); with it, the old
        version goes into the history first. A page that previewed the change passes the previewed
        ``change.before_sha256`` as ``base_sha256``: if the document changed since, it is asked again.
        """
        name, data = self._upload(filename, content)
        target = self.settings.knowledge_dir / name
        with self.versions.lock:
            old = target.read_bytes() if target.is_file() else None
            if old == data:
                return self.index(user=user)
            kept = None
            if old is not None:
                if not replace or (base_sha256 is not None and base_sha256 != sha256_of(old)):
                    change = describe_change(name, old, data, self._criteria_of())
                    raise NewVersionError(
                        f"{name} exists: this upload is a new version ({change.summary()}); "
                        "confirm it to keep the old version in the history and use this one",
                        change=change,
                    )
                kept = self.versions.keep(name, old).version
            atomic_write(target, data)
            self._audit(user, "replaced" if old is not None else "added", name, old, data, kept)
            return self.index(user=user)

    def documents(self) -> list[DocumentInfo]:
        """The documents of the knowledge folder now, with how many earlier versions each has."""
        documents, skipped = self.load()
        by_name = {doc.path.name: doc for doc in documents if doc.path is not None}
        infos = []
        for path in find_document_files(self.settings.knowledge_dir):
            doc, stat, data = by_name.get(path.name), path.stat(), path.read_bytes()
            infos.append(
                DocumentInfo(
                    name=path.name,
                    id=doc.id if doc else None,
                    title=doc.title if doc else None,
                    language=doc.language if doc else None,
                    sha256=sha256_of(data),
                    size=len(data),
                    modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                    versions=len(self.versions.history(path.name)),
                    problem=skipped.get(path.name),
                )
            )
        return infos

    def file_name(self, name: str) -> str:
        """A document's file name from its file name or its id (what search and citations show).

        An id is looked up among the documents now (their front matter may name another id than the file), then
        among the file names of kept versions (a removed document keeps its history under its file name).
        """
        if Path(name).suffix.lower() in DOCUMENT_SUFFIXES:
            return check_name(name)
        for doc in self.load()[0]:
            if doc.id == name and doc.path is not None:
                return doc.path.name
        for suffix in DOCUMENT_SUFFIXES:
            candidate = f"{name}{suffix}"
            if self.versions.history(check_name(candidate)):
                return candidate
        raise InputError(
            f"{name!r} is neither a document's id nor its file name (e.g. en-refunds or en-refunds.md)", field="name"
        )

    def history(self, name: str) -> list[DocumentVersion]:
        """The kept earlier versions of a document (by id or file name), oldest first."""
        return self.versions.history(self.file_name(name))

    def audit_log(self, name: str | None = None) -> list[AuditEntry]:
        """Every change to the knowledge base (or to one document, by id or file name), oldest first."""
        return self.versions.audit(self.file_name(name) if name is not None else None)

    def revert(self, name: str, version: int | None = None, *, user: str | None = None) -> IndexReport:
        """Bring back a kept version (default: the newest that differs from the document now); re-index."""
        name = self.file_name(name)
        target = self.settings.knowledge_dir / name
        with self.versions.lock:
            current = target.read_bytes() if target.is_file() else None
            if version is not None:
                chosen = self.versions.version(name, version)
            else:
                now = sha256_of(current) if current is not None else None
                older = [v for v in self.versions.history(name) if v.sha256 != now]
                if not older:
                    raise InputError(f"{name} has no earlier version to revert to", field="version")
                chosen = older[-1]
            data = chosen.path.read_bytes()
            kept = self.versions.keep(name, current).version if current is not None and current != data else None
            atomic_write(target, data)
            self._audit(user, "reverted", name, current, data, kept, f"to version {chosen.version}")
            return self.index(user=user)

    def remove(self, name: str, *, user: str | None = None) -> IndexReport:
        """Take a document out of the knowledge folder and the index; it stays in the history."""
        name = self.file_name(name)
        target = self.settings.knowledge_dir / name
        with self.versions.lock:
            if not target.is_file():
                raise InputError(f"there is no document {name} in {self.settings.knowledge_dir}", field="name")
            current = target.read_bytes()
            kept = self.versions.keep(name, current).version
            target.unlink()
            self._audit(user, "removed", name, current, None, kept)
            return self.index(user=user)

    def _audit(
        self,
        user: str | None,
        action: Action,
        name: str,
        before: bytes | None,
        after: bytes | None,
        version: int | None,
        detail: str = "",
    ) -> None:
        self.versions.record(AuditEntry.now(user, action, name, before, after, version=version, detail=detail))
