"""Guideline documents: read them, parse front matter, cut them into citable passages.

Pure functions on text; the only I/O is reading the files in ``load_documents``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from coach.errors import KnowledgeError
from coach.language import detect_language
from coach.text import sentence_chunks
from coach.text import sentence_spans as sentence_spans  # old home, still imported by the critic and tests
from coach.text import split_sentences as split_sentences

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on the notes files


SECTION_SEPARATOR = " › "  # between the headings of a section path


def safe_yaml(text: str) -> object:
    """``yaml.safe_load`` through libyaml when PyYAML has it (the same results, parsed in C)."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506  (a safe loader)


DOCUMENT_SUFFIXES = (".md", ".txt")
NOTES_FOLDER = "notes"  # knowledge/notes/<document id>.yaml: retrieval notes written by people
# Bump when the passage cutting changes, so every document is re-indexed once.
SPLITTER_VERSION = "2"

MAX_PASSAGE_CHARS = 900
TARGET_CHUNK_CHARS = 600
MIN_PASSAGE_CHARS = 60

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^(\d+[.)]|[-*•])\s+")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Document:
    """A guideline document as read from the knowledge folder."""

    id: str
    title: str
    language: str
    source: str
    body: str
    content_hash: str
    path: Path | None = None
    notes: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PassageRecord:
    """A passage cut from a document, before it is indexed."""

    id: str
    document: str
    title: str
    section: str
    language: str
    text: str
    ordinal: int
    notes: tuple[str, ...] = ()


@dataclass
class _Block:
    section: str
    lines: list[str] = field(default_factory=list)
    is_list_item: bool = False

    @property
    def text(self) -> str:
        return "\n".join(line for line in self.lines if line.strip()).strip()


def slugify(name: str) -> str:
    """A readable ASCII id from a file name (falls back to a hash for non-Latin names)."""
    slug = _SLUG_JUNK.sub("-", name.lower()).strip("-")
    return slug or "doc-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def decode_document(raw: bytes, name: str, max_bytes: int) -> str:
    """Bytes of a guideline file as text, or a ``KnowledgeError`` that says why not."""
    if len(raw) > max_bytes:
        raise KnowledgeError(f"{name}: {len(raw):,} bytes is over the {max_bytes:,}-byte limit", path=name)
    if b"\x00" in raw[:8192]:
        raise KnowledgeError(f"{name}: looks like a binary file, not text", path=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"{name}: not valid UTF-8 text ({exc.reason} at byte {exc.start})", path=name) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_document(text: str, name: str, path: Path | None = None) -> Document:
    """Front matter (all fields optional) plus body; title and language are inferred when absent."""
    meta: dict[str, object] = {}
    body = text
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = safe_yaml(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise KnowledgeError(f"{name}: front matter is not valid YAML: {exc}", path=name) from exc
        if not isinstance(loaded, dict):
            raise KnowledgeError(f"{name}: front matter must be a mapping of fields", path=name)
        meta = loaded
        body = text[match.end() :]
    if not body.strip():
        raise KnowledgeError(f"{name}: the document has no text", path=name)
    stem = Path(name).stem
    title = str(meta.get("title") or _first_heading(body) or stem)
    language = str(meta.get("language") or detect_language(body))
    digest = hashlib.sha256(f"{SPLITTER_VERSION}\n{text}".encode()).hexdigest()
    return Document(
        id=str(meta.get("id") or slugify(stem)),
        title=title,
        language=language,
        source=str(meta.get("source") or name),
        body=body,
        content_hash=digest,
        path=path,
    )


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        match = _HEADING.match(line)
        if match:
            return match.group(2)
        if line.strip():
            return line.strip() if len(line.strip()) <= 120 else None
    return None


def read_document(path: Path, max_bytes: int, notes_dir: Path | None = None) -> Document:
    """Read and parse one guideline file, with its retrieval notes when ``notes_dir`` has some."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"{path.name}: cannot be read ({exc.strerror})", path=str(path)) from exc
    doc = parse_document(decode_document(raw, path.name, max_bytes), path.name, path)
    notes_file = notes_dir / f"{doc.id}.yaml" if notes_dir is not None else None
    if notes_file is None or not notes_file.is_file():
        return doc
    notes_raw = notes_file.read_bytes()
    notes = parse_notes(decode_document(notes_raw, notes_file.name, max_bytes), notes_file.name)
    digest = hashlib.sha256(doc.content_hash.encode() + notes_raw).hexdigest()
    return replace(doc, notes=notes, content_hash=digest)


def parse_notes(text: str, name: str) -> dict[str, list[str]]:
    """Retrieval notes: per passage id, its typical phrases joined into one text per language.

    The English ``rule`` of each entry documents the note for reviewers; measured, embedding it
    too added nothing to recall and cost index time.

    Notes are written by people next to a document (``knowledge/notes/<document id>.yaml``); each
    text becomes an extra vector that points at its passage, so a draft in any language that sounds
    like a violation finds the passage that it violates.
    """
    try:
        data = safe_yaml(text) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{name}: not valid YAML: {exc}", path=name) from exc
    entries = data.get("passages") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise KnowledgeError(f"{name}: expected a `passages:` mapping of passage ids", path=name)
    notes: dict[str, list[str]] = {}
    for passage_id, entry in entries.items():
        if not isinstance(entry, dict):
            raise KnowledgeError(f"{name}: entry {passage_id} must be a mapping", path=name)
        phrases = entry.get("phrases") or {}
        if not isinstance(phrases, dict):
            raise KnowledgeError(f"{name}: phrases of {passage_id} must map languages to lists", path=name)
        notes[str(passage_id)] = [" ".join(str(p) for p in items) for items in phrases.values() if items]
    return notes


def find_document_files(folder: Path) -> list[Path]:
    """The guideline files of a folder, in a stable order (hidden files ignored)."""
    if not folder.is_dir():
        raise KnowledgeError(f"knowledge folder {folder} does not exist", path=str(folder))
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith(".")
    )


def split_passages(doc: Document) -> list[PassageRecord]:
    """Cut a document along its own structure into passages a reader can cite on their own."""
    texts: list[tuple[str, str]] = []
    for block in _merge_short(_blocks(doc.body)):
        for chunk in _split_long(block.text):
            texts.append((block.section, chunk))
    return [
        PassageRecord(
            id=f"{doc.id}#{n}",
            document=doc.id,
            title=doc.title,
            section=section,
            language=doc.language,
            text=text,
            ordinal=n,
            notes=tuple(doc.notes.get(f"{doc.id}#{n}", ())),
        )
        for n, (section, text) in enumerate(texts, start=1)
    ]


def _blocks(body: str) -> list[_Block]:
    """Paragraphs and top-level list items (with their indented continuation), under their headings."""
    headings: dict[int, str] = {}
    blocks: list[_Block] = []
    current: _Block | None = None

    def section() -> str:
        return SECTION_SEPARATOR.join(headings[level] for level in sorted(headings) if level > 1)

    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            headings = {lvl: text for lvl, text in headings.items() if lvl < level}
            headings[level] = heading.group(2)
            current = None
            continue
        if not line.strip():
            if current is not None and not current.is_list_item:
                current = None
            continue
        indented = line.startswith((" ", "\t"))
        item = _LIST_ITEM.match(line)
        if item and not indented:
            current = _Block(section(), [line[item.end() :].strip()], is_list_item=True)
            blocks.append(current)
        elif current is not None and (indented or not current.is_list_item):
            current.lines.append(line.strip())
        else:
            current = _Block(section(), [line.strip()])
            blocks.append(current)
    return [b for b in blocks if b.text]


def _merge_short(blocks: list[_Block]) -> list[_Block]:
    """Glue lead-ins ("Here are 7 tips:") and fragments to the next block of the same section."""
    merged: list[_Block] = []
    pending: _Block | None = None
    for block in blocks:
        if pending is not None and pending.section == block.section:
            block = _Block(block.section, pending.lines + block.lines, block.is_list_item)
        elif pending is not None:
            merged.append(pending)
        pending = None
        if len(block.text) < MIN_PASSAGE_CHARS:
            pending = block
        else:
            merged.append(block)
    if pending is not None:
        if merged and merged[-1].section == pending.section:
            merged[-1].lines.extend(pending.lines)
        else:
            merged.append(pending)
    return merged


def _split_long(text: str) -> list[str]:
    """Cut an over-long block at sentence ends into verbatim chunks of about TARGET_CHUNK_CHARS."""
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    return sentence_chunks(text, TARGET_CHUNK_CHARS)
