"""Passages readable in the reader's language: the original, a trainer's translation or a checked machine translation.

No English guideline ships, and a Russian agent cited a Kazakh passage reads nothing (issue 20). A machine
translation is made once per passage version (the sha256 of its text) and language, by the LLM, one passage at a
time, and kept under ``<data_dir>/translations/``; a new version of a document has new hashes, so its old
translations are simply never read again. Before a reader sees one, code checks it (``translation_problems``): the
language, the original's numbers, and closeness in meaning to the original (cross-lingual e5 similarity, the
threshold measured on translations of the shipped passages, see ``SIMILARITY_THRESHOLD``). A failed check means the
original with a note, never a bad translation. Trainers' own translations (``knowledge/translations/<document
id>.yaml``, tied to the passage's hash) win over machine ones.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, Field

from coach.errors import CoachError
from coach.knowledge.embeddings import Embedder
from coach.knowledge.passages import SECTION_SEPARATOR
from coach.knowledge.versions import atomic_write
from coach.language import detect_language, language_name
from coach.llm.client import chat_messages, invoke_chat
from coach.llm.generation import clean_text, estimate_tokens
from coach.models import Passage
from coach.prompts import PromptTemplate, load_prompt

TRANSLATIONS_FOLDER = "translations"  # under the data dir (machine) and the knowledge dir (trainers')
HEADINGS_FILE = "_headings.yaml"  # in the trainers' folder: the documents' titles and headings translated
# Measured (bench/readers.py, and the retrieval notes' English rule of each shipped passage as a stand-in for a
# faithful English rendering): a passage against its own rule, median 0.875 (p5 0.842), 84 % >= 0.85; against
# another passage's rule of the same language, median 0.828, 18 % >= 0.85. So it catches an invented or wrong text
# (a 1.5B "translation" of kk#4 that made up a new text scored 0.8498), not a subtle mistranslation.
SIMILARITY_THRESHOLD = 0.85
MAX_TRANSLATION_TOKENS = 700
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# "Here is the English translation of the Kazakh text:" before, "This translation keeps…" after (seen on the 1.5B)
_PREAMBLE = re.compile(r"^[^\n]{0,120}\btranslation\b[^\n]{0,80}:\s*\n", re.IGNORECASE)
_AFTERWORD = re.compile(r"\n\s*(?:This|The above) translation\b[^\n]*$", re.IGNORECASE)

MEANING_DRIFTED = "meaning drifted"
NOTE_PENDING = "machine translation not made yet: the original is shown"
NOTE_REFUSED = "the machine translation failed its checks ({problems}): the original is shown"


def passage_hash(text: str) -> str:
    """The version of a passage a translation belongs to: the sha256 of its text (first 16 hex digits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def without_wrapping(text: str) -> str:
    """The translation without the lines a small model puts around it (a preamble, a comment after it)."""
    inner = _AFTERWORD.sub("", _PREAMBLE.sub("", text.strip())).strip()
    return clean_text(inner)


def numbers_of(text: str) -> set[str]:
    """The numbers written in a text (``14``, ``24``, ``1.5``), as written."""
    return set(_NUMBER.findall(text))


def translation_problems(
    original: str, translation: str, language: str, similarity: float, *, threshold: float = SIMILARITY_THRESHOLD
) -> list[str]:
    """What is wrong with a translation into ``language``; empty when it may be shown.

    ``similarity`` is the cross-lingual e5 cosine between the original and the translation.
    """
    problems = []
    if not translation.strip():
        return ["empty"]
    if detect_language(translation) != language:
        problems.append(f"not in {language_name(language)}")
    lost = sorted(numbers_of(original) - numbers_of(translation))
    if lost:
        problems.append(f"numbers dropped: {', '.join(lost)}")
    if similarity < threshold:
        problems.append(f"{MEANING_DRIFTED} (similarity {similarity:.2f} < {threshold:.2f})")
    return problems


class MachineTranslation(BaseModel):
    """One machine translation as cached: what was translated, the result and the measurements of its checks."""

    passage_id: str
    language: str
    source_hash: str
    text: str
    similarity: float = Field(description="Cross-lingual e5 cosine between the original and the translation.")
    model: str = ""
    prompt_version: str = ""
    seconds: float = 0.0
    error: str = Field(default="", description="Why no translation was made (the LLM failed), else empty.")

    def problems(self, original: str, threshold: float = SIMILARITY_THRESHOLD) -> list[str]:
        """The checks, run again on each read: a new threshold needs no new translation."""
        if self.error:
            return [self.error]
        return translation_problems(original, self.text, self.language, self.similarity, threshold=threshold)


class TranslationCache:
    """Machine translations on disk, one JSON file per passage version and language."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, source_hash: str, language: str) -> Path:
        return self.folder / language / f"{source_hash}.json"

    def get(self, source_hash: str, language: str) -> MachineTranslation | None:
        """The cached translation of that passage version into that language, if one was made."""
        path = self._path(source_hash, language)
        try:
            return MachineTranslation.model_validate_json(path.read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, translation: MachineTranslation) -> None:
        """Keep a translation (atomically: a reader never sees half a file)."""
        path = self._path(translation.source_hash, translation.language)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, translation.model_dump_json(indent=1).encode("utf-8"))


class TrainerTranslation(BaseModel):
    """A trainer's own translation of a passage, tied to the version of the passage it translates."""

    text: str
    source_hash: str
    by: str = ""


class TrainerTranslations:
    """Trainers' translations: ``knowledge/translations/<document id>.yaml``, passage id -> language -> entry; and
    the documents' titles and section headings, ``_headings.yaml``: original heading -> language -> text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # parsed files by (mtime, size): a page reads the same file for every citation, parsing took 0.15 s
        self._parsed: dict[str, tuple[tuple[int, int], dict[str, dict[str, TrainerTranslation]]]] = {}
        self._headings: tuple[tuple[int, int], dict[str, dict[str, str]]] | None = None

    def headings(self) -> dict[str, dict[str, str]]:
        """Original heading -> language -> its translation (an unreadable file counts as none)."""
        path = self.folder / HEADINGS_FILE
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if self._headings is None or self._headings[0] != stamp:
                raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                table = raw.get("headings", {}) if isinstance(raw, dict) else {}
                found = {
                    str(original): {str(lang): str(text) for lang, text in languages.items() if text}
                    for original, languages in (table.items() if isinstance(table, dict) else [])
                    if isinstance(languages, dict)
                }
                self._headings = (stamp, found)
        except (OSError, yaml.YAMLError):
            return {}
        return self._headings[1]

    def heading(self, text: str, language: str) -> str:
        """A title or a section path ("A › B") in ``language``, each heading the file has translated."""
        table = self.headings()
        return SECTION_SEPARATOR.join(table.get(part, {}).get(language, part) for part in text.split(SECTION_SEPARATOR))

    def _path(self, document: str) -> Path:
        return self.folder / f"{document}.yaml"

    def read(self, document: str) -> dict[str, dict[str, TrainerTranslation]]:
        """Every trainer's translation of a document's passages (an unreadable file counts as none)."""
        path = self._path(document)
        try:
            stat = path.stat()
        except OSError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        kept = self._parsed.get(document)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        found = self._parse(path)
        self._parsed[document] = (stamp, found)
        return found

    def _parse(self, path: Path) -> dict[str, dict[str, TrainerTranslation]]:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return {}
        if not isinstance(raw, dict):
            return {}
        found: dict[str, dict[str, TrainerTranslation]] = {}
        for pid, languages in raw.items():
            if isinstance(languages, dict):
                found[str(pid)] = {
                    str(lang): TrainerTranslation.model_validate(entry)
                    for lang, entry in languages.items()
                    if isinstance(entry, dict) and "text" in entry and "source_hash" in entry
                }
        return found

    def get(self, passage: Passage, language: str) -> TrainerTranslation | None:
        """A trainer's translation of this version of the passage, if there is one."""
        entry = self.read(passage.document).get(passage.id, {}).get(language)
        return entry if entry is not None and entry.source_hash == passage_hash(passage.text) else None

    def put(self, passage: Passage, language: str, text: str, user: str) -> tuple[bytes | None, bytes]:
        """Write a trainer's translation; returns the file's bytes before and after (for the audit log)."""
        path = self._path(passage.document)
        before = path.read_bytes() if path.is_file() else None
        current = {
            pid: {lang: e.model_dump() for lang, e in langs.items()}
            for pid, langs in self.read(passage.document).items()
        }
        entry = TrainerTranslation(text=text.strip(), source_hash=passage_hash(passage.text), by=user)
        current.setdefault(passage.id, {})[language] = entry.model_dump()
        after = yaml.safe_dump(current, allow_unicode=True, sort_keys=True, width=120).encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, after)
        return before, after

    def languages(self, passages: Iterable[Passage]) -> dict[str, set[str]]:
        """Per passage id, the languages a trainer's translation of its current version covers."""
        by_document: dict[str, list[Passage]] = {}
        for passage in passages:
            by_document.setdefault(passage.document, []).append(passage)
        covered: dict[str, set[str]] = {}
        for document, group in by_document.items():
            entries = self.read(document)
            for passage in group:
                current = passage_hash(passage.text)
                covered[passage.id] = {
                    lang for lang, e in entries.get(passage.id, {}).items() if e.source_hash == current
                }
        return covered


@dataclass
class Translator:
    """Makes one machine translation with the LLM and measures it (language, numbers, similarity are re-checked on
    each read)."""

    chat_model: Callable[..., Any]
    model_name: Callable[[], str]
    embedder: Embedder
    prompt: PromptTemplate
    system: PromptTemplate

    @classmethod
    def load(
        cls, chat_model: Callable[..., Any], model_name: Callable[[], str], embedder: Embedder, folder: Path | None
    ) -> Translator:
        """A translator with the prompts from ``folder`` (default: as shipped)."""
        return cls(
            chat_model, model_name, embedder, load_prompt("translate", folder), load_prompt("translator", folder)
        )

    @property
    def version(self) -> str:
        """The prompt versions, kept with each translation."""
        return f"{self.system.version}+{self.prompt.version}"

    def translate(self, passage: Passage, language: str) -> MachineTranslation:
        """The passage in ``language``; an LLM failure is kept as the translation's ``error`` (never raised)."""
        started = time.perf_counter()
        prompt = self.prompt.render(
            source_language=language_name(passage.language), target_language=language_name(language), text=passage.text
        )
        budget = min(MAX_TRANSLATION_TOKENS, int(estimate_tokens(passage.text, language) * 1.6) + 40)
        base: dict[str, Any] = {
            "passage_id": passage.id,
            "language": language,
            "source_hash": passage_hash(passage.text),
        }
        try:
            reply = invoke_chat(self.chat_model(max_tokens=budget), chat_messages(self.system.render(), prompt))
            model = self.model_name()
        except CoachError as exc:
            seconds = round(time.perf_counter() - started, 2)
            return MachineTranslation(**base, text="", similarity=0.0, seconds=seconds, error=f"LLM failed: {exc}")
        text = without_wrapping(str(reply.content))
        similarity = self.similarity(passage.text, text) if text else 0.0
        return MachineTranslation(
            **base,
            text=text,
            similarity=round(similarity, 4),
            model=model,
            prompt_version=self.version,
            seconds=round(time.perf_counter() - started, 2),
        )

    def similarity(self, original: str, translation: str) -> float:
        """Cross-lingual e5 cosine of two texts (both embedded as passages)."""
        vectors = self.embedder.passages([original, translation])
        return float(np.dot(vectors[0], vectors[1]))


def as_read(
    passage: Passage,
    language: str,
    text: str,
    *,
    machine: bool,
    by: str = "",
    note: str = "",
    headings: Callable[[str, str], str] | None = None,
) -> Passage:
    """The passage as read in ``language``: the translation's text (and, with ``headings``, its title and section
    in that language), the originals kept beside them."""
    title = headings(passage.title, language) if headings else passage.title
    section = headings(passage.section, language) if headings and passage.section else passage.section
    return passage.model_copy(
        update={
            "language": language,
            "text": text,
            "title": title,
            "section": section,
            "original_title": passage.title if title != passage.title else None,
            "original_section": passage.section if section != passage.section else None,
            "machine_translated": machine,
            "translated_by": by,
            "original_language": passage.language,
            "original_text": passage.text,
            "note": note,
        }
    )


def with_note(passage: Passage, note: str) -> Passage:
    """The original, with a note saying why it is not in the reader's language."""
    return passage.model_copy(update={"note": note})
