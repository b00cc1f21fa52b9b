"""Which guideline passages state each rubric criterion: the trainers' links, kept in ``knowledge/links.yaml``.

A flagged criterion in a critique cites its linked passages, so these links decide what an agent reads next
to an issue. They are trainers' data, not prompt text: edited in the Knowledge tab or by hand, checked by
code (criteria without a passage in a language, passages linked to nothing, links to passages that no
longer exist), and logged in the audit log like every other change to the knowledge base.

Passage ids are positions in their document (``doc#7``), so a new version of a document moves them. The file
records which version of each document its ids refer to; when the index takes a new version, the links follow
their passages (aligned by text), and the links of a removed passage are kept as *orphaned*, with the
passage's text, until a trainer relinks or drops them, or the passage comes back (a revert): never silently
dropped.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from coach.errors import InputError, KnowledgeError
from coach.knowledge.diff import passage_id_map
from coach.knowledge.passages import PassageRecord, safe_yaml
from coach.knowledge.versions import Action, AuditEntry, KnowledgeLock, atomic_write, sha256_of

LINKS_FILE = "links.yaml"
HEADER = """\
# Which guideline passages state each rubric criterion (prompts/rubric.yaml). A flagged criterion in a
# critique cites its linked passages. Trainers' data: edit it in the Knowledge tab (`coach links` on the
# command line) or here by hand; `coach links check` reports criteria without a passage in a language,
# passages linked to nothing and links to passages that no longer exist.
# - links: criterion id -> passage ids (`<document id>#<n>`)
# - rejected: passage id -> criteria a trainer rejected as suggestions (not suggested again)
# - orphaned: links whose passage a new version of its document removed, kept until relinked or dropped
# - documents: the version (sha256) of each document file the ids refer to; kept up to date by coach
"""


class OrphanedLink(BaseModel):
    """A link whose passage a new version of its document removed: reported, with the text it pointed at."""

    criterion: str
    passage_id: str
    text: str = Field(default="", description="The removed passage's text, so the trainer sees what it said.")
    since: datetime


class Suggestion(BaseModel):
    """A criterion suggested for a passage that has none; a trainer accepts (links) or rejects it."""

    criterion: str
    score: float = Field(description="How strongly the passage states the criterion (higher is surer).")


class Links(BaseModel):
    """The content of ``links.yaml``."""

    links: dict[str, list[str]] = Field(default_factory=dict, description="Criterion id -> passage ids.")
    rejected: dict[str, list[str]] = Field(
        default_factory=dict, description="Passage id -> criteria a trainer rejected as suggestions."
    )
    orphaned: list[OrphanedLink] = Field(default_factory=list)
    documents: dict[str, str] = Field(
        default_factory=dict, description="Document file name -> sha256 of the version the passage ids refer to."
    )

    def passages_of(self, criterion: str) -> tuple[str, ...]:
        """The passages linked to a criterion."""
        return tuple(self.links.get(criterion, ()))

    def criteria_of(self, passage_id: str) -> list[str]:
        """The criteria a passage is linked to."""
        return [cid for cid, ids in self.links.items() if passage_id in ids]

    def fingerprint(self) -> str:
        """Changes when any link changes (part of a critique's cache key and version)."""
        canonical = json.dumps({cid: sorted(ids) for cid, ids in sorted(self.links.items())}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


Suggester = Callable[[Links, list[PassageRecord], list[PassageRecord]], Mapping[str, Sequence[Suggestion]]]
"""(links now, every passage, the passages to suggest for) -> passage id -> criteria, best first."""


class LinkReport(BaseModel):
    """How the criteria and the knowledge base's passages are linked, and where the gaps are."""

    languages: list[str] = Field(description="The knowledge base's languages.")
    coverage: dict[str, dict[str, int]] = Field(description="Criterion -> language -> linked passages.")
    unknown: dict[str, list[str]] = Field(
        default_factory=dict, description="Criterion -> linked ids that are not passages of the knowledge base."
    )
    unlinked_passages: list[str] = Field(default_factory=list, description="Passages linked to no criterion.")
    orphaned: list[OrphanedLink] = Field(default_factory=list)
    unknown_criteria: list[str] = Field(default_factory=list, description="Link keys that are not rubric criteria.")

    @property
    def gaps(self) -> dict[str, list[str]]:
        """Criterion -> the languages it has no passage in."""
        return {
            cid: [lang for lang in self.languages if not counts.get(lang)]
            for cid, counts in self.coverage.items()
            if any(not counts.get(lang) for lang in self.languages)
        }

    @property
    def criteria_without_passages(self) -> list[str]:
        """Criteria that cite nothing at all."""
        return [cid for cid, counts in self.coverage.items() if not any(counts.values())]

    @property
    def ok(self) -> bool:
        """Every criterion cites something and every link resolves (gaps and unlinked passages are only reported)."""
        return not (self.criteria_without_passages or self.unknown or self.orphaned or self.unknown_criteria)

    def summary(self) -> str:
        """Readable lines for the CLI."""
        lines = [f"criterion without passages: {cid}" for cid in self.criteria_without_passages]
        lines += [f"{cid}: no passage in {', '.join(langs)}" for cid, langs in self.gaps.items()]
        lines += [f"{cid} links passages that do not exist: {', '.join(ids)}" for cid, ids in self.unknown.items()]
        lines += [f"not a rubric criterion: {cid}" for cid in self.unknown_criteria]
        lines += [f"orphaned: {o.criterion} -> {o.passage_id} (removed {o.since:%Y-%m-%d})" for o in self.orphaned]
        if self.unlinked_passages:
            lines.append(f"{len(self.unlinked_passages)} passages linked to no criterion")
        return "\n".join(lines) or "all criteria linked in every language"


def check_links(links: Links, criteria: Collection[str], passages: Mapping[str, str]) -> LinkReport:
    """Gaps and broken links, given the rubric's criteria and the passages now (id -> language)."""
    languages = sorted(set(passages.values()))
    coverage: dict[str, dict[str, int]] = {}
    unknown: dict[str, list[str]] = {}
    for cid in criteria:
        counts = dict.fromkeys(languages, 0)
        for pid in links.passages_of(cid):
            if pid in passages:
                counts[passages[pid]] += 1
            else:
                unknown.setdefault(cid, []).append(pid)
        coverage[cid] = counts
    linked = {pid for ids in links.links.values() for pid in ids}
    return LinkReport(
        languages=languages,
        coverage=coverage,
        unknown=unknown,
        unlinked_passages=[pid for pid in passages if pid not in linked],
        orphaned=list(links.orphaned),
        unknown_criteria=[cid for cid in links.links if cid not in set(criteria)],
    )


def read_links(path: Path) -> Links:
    """The links file; an absent file is no links. A malformed one raises ``KnowledgeError``."""
    if not path.is_file():
        return Links()
    try:
        data = safe_yaml(path.read_text(encoding="utf-8")) or {}
        return Links.model_validate(data)
    except (yaml.YAMLError, ValidationError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path.name} cannot be read: {exc}") from exc


def dump_links(links: Links) -> str:
    """The file's text: the header, then the links, with empty sections left out."""
    data = links.model_dump(mode="json", exclude_defaults=False)
    data = {key: value for key, value in data.items() if value}
    body: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    return HEADER + body


def follow_new_versions(
    links: Links,
    current: Mapping[str, bytes],
    passages_of: Callable[[str, bytes | None], list[PassageRecord]],
    versions: Callable[[str, str], bytes | None],
) -> Links:
    """Links moved along with their passages to the documents' versions in ``current`` (file name -> bytes).

    ``versions(name, sha256)`` returns a kept version's bytes. A document the links knew at another version
    has its ids remapped by text alignment; links of removed passages become orphaned. Idempotent: a
    document already at its current version is left alone, so a rerun after a crash changes nothing twice.
    """
    moved = links.model_copy(deep=True)
    now = datetime.now(UTC)
    for name in sorted(set(current) | set(links.documents)):
        data = current.get(name)
        known = links.documents.get(name)
        new_sha = sha256_of(data) if data is not None else None
        if known == new_sha:
            continue
        if new_sha is None:
            moved.documents.pop(name, None)
        else:
            moved.documents[name] = new_sha
        if known is None:
            continue  # a document the links never referred to: nothing to move
        old_data = versions(name, known)
        if old_data is None:
            continue  # the version the ids refer to was never kept: leave them as they are, `check` reports them
        new_records = passages_of(name, data)
        mapping, removed = passage_id_map(passages_of(name, old_data), new_records)
        _remap(moved, mapping, removed, now)
        _relink_returned(moved, new_records)
    return moved


def _remap(links: Links, mapping: Mapping[str, str], removed: Mapping[str, str], now: datetime) -> None:
    """Rename moved ids, and orphan the links of removed passages (in place)."""
    for cid, ids in links.links.items():
        kept: list[str] = []
        for pid in ids:
            if pid in removed:
                links.orphaned.append(OrphanedLink(criterion=cid, passage_id=pid, text=removed[pid], since=now))
            else:
                kept.append(mapping.get(pid, pid))
        links.links[cid] = list(dict.fromkeys(kept))
    links.rejected = {mapping.get(pid, pid): criteria for pid, criteria in links.rejected.items() if pid not in removed}


def _relink_returned(links: Links, records: list[PassageRecord]) -> None:
    """An orphaned link whose passage is back word for word (a revert) links it again (in place)."""
    by_text = {(r.document, r.text): r.id for r in records}
    still: list[OrphanedLink] = []
    for orphan in links.orphaned:
        back = by_text.get((orphan.passage_id.split("#")[0], orphan.text))
        if back is None:
            still.append(orphan)
        elif back not in links.links.setdefault(orphan.criterion, []):
            links.links[orphan.criterion].append(back)
    links.orphaned = still


class LinkBook:
    """The links file of one knowledge folder: read when it changes, written under the knowledge lock, audited."""

    def __init__(
        self,
        path: Path,
        lock: KnowledgeLock,
        audit: Callable[[AuditEntry], None],
        *,
        passages: Callable[[], list[PassageRecord]],
        criteria: Callable[[], Sequence[str]],
        document_hashes: Callable[[], dict[str, str]],
    ) -> None:
        self.path = path
        self._lock = lock
        self._audit = audit
        self.passages = passages  # the knowledge base's passages now
        self.criteria = criteria  # the rubric's criterion ids
        self.document_hashes = document_hashes  # file name -> sha256 of the documents now
        self.suggester: Suggester | None = None  # set by the Coach: it needs the embedder
        self._cached: tuple[tuple[int, int], Links] | None = None
        self._guard = threading.Lock()

    def read(self) -> Links:
        """The links now (re-read only when the file changed)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return Links()
        key = (stat.st_mtime_ns, stat.st_size)
        with self._guard:
            if self._cached is None or self._cached[0] != key:
                self._cached = (key, read_links(self.path))
            return self._cached[1]

    def write(self, links: Links, *, user: str | None, action: Action, detail: str) -> None:
        """Save the links (call with the knowledge lock held) and log who changed what.

        The first write of a folder that had no links file records which versions its passage ids refer to.
        """
        before = self.path.read_bytes() if self.path.is_file() else None
        if before is None and not links.documents:
            links = links.model_copy(update={"documents": self.document_hashes()})
        after = dump_links(links).encode("utf-8")
        if before == after:
            return
        atomic_write(self.path, after)
        self._audit(AuditEntry.now(user, action, LINKS_FILE, before, after, detail=detail))

    def check(self) -> LinkReport:
        """Gaps and broken links of the links now, against the rubric and the passages now."""
        return check_links(self.read(), self.criteria(), {p.id: p.language for p in self.passages()})

    def suggestions(self, limit: int = 2) -> dict[str, list[Suggestion]]:
        """For each passage linked to no criterion, the best criteria not yet rejected for it."""
        links, passages = self.read(), self.passages()
        targets = [p for p in passages if not links.criteria_of(p.id)]
        if self.suggester is None or not targets:
            return {}
        ranked = self.suggester(links, passages, targets)
        return {
            pid: [s for s in found if s.criterion not in links.rejected.get(pid, [])][:limit]
            for pid, found in ranked.items()
        }

    def link(self, passage_id: str, criterion: str, *, user: str | None = None) -> Links:
        """Link a passage to a criterion (accepting a suggestion, or by hand)."""
        self._check_criterion(criterion)
        if passage_id not in {p.id for p in self.passages()}:
            raise InputError(f"there is no passage {passage_id!r} in the knowledge base", field="passage")
        with self._lock:
            links = self.read().model_copy(deep=True)
            ids = links.links.setdefault(criterion, [])
            if passage_id not in ids:
                ids.append(passage_id)
            if criterion in links.rejected.get(passage_id, []):
                links.rejected[passage_id].remove(criterion)
            self.write(links, user=user, action="linked", detail=f"{passage_id} -> {criterion}")
            return links

    def unlink(self, passage_id: str, criterion: str, *, user: str | None = None) -> Links:
        """Take a link away (or drop an orphaned one)."""
        with self._lock:
            links = self.read().model_copy(deep=True)
            had = passage_id in links.links.get(criterion, [])
            orphans = [o for o in links.orphaned if (o.passage_id, o.criterion) == (passage_id, criterion)]
            if not had and not orphans:
                raise InputError(f"{passage_id} is not linked to {criterion}", field="passage")
            if had:
                links.links[criterion].remove(passage_id)
            links.orphaned = [o for o in links.orphaned if o not in orphans]
            self.write(links, user=user, action="unlinked", detail=f"{passage_id} -x- {criterion}")
            return links

    def reject(self, passage_id: str, criterion: str, *, user: str | None = None) -> Links:
        """Record that a trainer rejected suggesting this criterion for this passage."""
        self._check_criterion(criterion)
        with self._lock:
            links = self.read().model_copy(deep=True)
            rejected = links.rejected.setdefault(passage_id, [])
            if criterion not in rejected:
                rejected.append(criterion)
            self.write(links, user=user, action="rejected-link", detail=f"{passage_id} -/- {criterion}")
            return links

    def _check_criterion(self, criterion: str) -> None:
        if criterion not in self.criteria():
            raise InputError(
                f"{criterion!r} is not a rubric criterion: {', '.join(self.criteria())}", field="criterion"
            )

    def follow(
        self,
        current: Mapping[str, bytes],
        passages_of: Callable[[str, bytes | None], list[PassageRecord]],
        versions: Callable[[str, str], bytes | None],
        *,
        user: str | None = None,
    ) -> Links:
        """Move the links to the documents' versions now (call with the lock held, from the index run).

        A folder without a links file has nothing to move, and gets no file until a trainer links something.
        """
        if not self.path.is_file():
            return Links()
        links = self.read()
        moved = follow_new_versions(links, current, passages_of, versions)
        if moved != links:
            change = len(moved.orphaned) - len(links.orphaned)
            detail = f"{change} links orphaned" if change >= 0 else f"{-change} orphaned links relinked"
            self.write(moved, user=user, action="links-followed", detail=detail)
        return moved
