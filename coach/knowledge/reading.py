"""``read_passage``: a passage in the reader's language, and the background job that translates the knowledge base.

The page never waits for the LLM to read a passage: a translation not made yet is the original at once, with a
note; the translations are made by one background thread after indexing, one passage at a time, and kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from coach.errors import InputError
from coach.knowledge.translations import (
    NOTE_PENDING,
    NOTE_REFUSED,
    SIMILARITY_THRESHOLD,
    MachineTranslation,
    TrainerTranslations,
    TranslationCache,
    Translator,
    as_read,
    passage_hash,
    with_note,
)
from coach.language import SUPPORTED_LANGUAGES
from coach.models import Passage

log = logging.getLogger(__name__)


@dataclass
class PassageReader:
    """Reads passages in a language: the original, a trainer's translation, else a checked machine translation."""

    lookup: Callable[[Sequence[str]], list[Passage]]  # passage ids -> the passages now (unknown ids left out)
    cache: TranslationCache
    trainers: TrainerTranslations
    translator: Callable[[], Translator]  # opened on first need (the LLM starts only then)
    threshold: float = SIMILARITY_THRESHOLD
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _job: TranslationJob | None = None

    def passage(self, passage_id: str) -> Passage:
        """The passage of that id now, or an ``InputError``."""
        found = self.lookup([passage_id])
        if not found:
            raise InputError(f"there is no passage {passage_id!r} in the index", field="passage_id")
        return found[0]

    def read(self, passage: Passage, language: str, *, wait: bool = False) -> Passage:
        """``passage`` in ``language``; ``wait`` makes a missing machine translation now (else the original + note)."""
        if language not in SUPPORTED_LANGUAGES:
            raise InputError(f"{language!r} is not a supported language ({', '.join(SUPPORTED_LANGUAGES)})")
        if passage.translated:
            passage = passage.model_copy(
                update={
                    "language": passage.original_language,
                    "text": passage.original_text,
                    "title": passage.original_title or passage.title,
                    "section": passage.section if passage.original_section is None else passage.original_section,
                    "original_text": None,
                    "original_title": None,
                    "original_section": None,
                }
            )
        if passage.language == language:
            return passage
        trainer = self.trainers.get(passage, language)
        if trainer is not None:
            by = trainer.by or "trainer"
            return as_read(passage, language, trainer.text, machine=False, by=by, headings=self.trainers.heading)
        made = self.cache.get(passage_hash(passage.text), language)
        if made is None and wait:
            made = self.make(passage, language)
        if made is None:
            return with_note(passage, NOTE_PENDING)
        problems = made.problems(passage.text, self.threshold)
        if problems:
            return with_note(passage, NOTE_REFUSED.format(problems="; ".join(problems)))
        return as_read(passage, language, made.text, machine=True, headings=self.trainers.heading)

    def read_all(self, passages: Sequence[Passage], language: str) -> list[Passage]:
        """Each passage in ``language``, never waiting."""
        return [self.read(p, language) for p in passages]

    def make(self, passage: Passage, language: str) -> MachineTranslation:
        """A machine translation, made now and kept (a cached one is reused)."""
        cached = self.cache.get(passage_hash(passage.text), language)
        if cached is not None:
            return cached
        made = self.translator().translate(passage, language)
        if not made.error:  # an LLM failure is tried again next time
            self.cache.put(made)
        return made

    def missing(
        self, passages: Sequence[Passage], languages: Sequence[str] = SUPPORTED_LANGUAGES
    ) -> list[tuple[Passage, str]]:
        """The (passage, language) pairs with neither a trainer's nor a cached machine translation.

        Each passage's languages in turn, so a half-finished run covers every language.
        """
        covered = self.trainers.languages(passages)
        todo = []
        for passage in passages:
            for language in languages:
                if language == passage.language or language in covered.get(passage.id, set()):
                    continue
                if self.cache.get(passage_hash(passage.text), language) is None:
                    todo.append((passage, language))
        return todo

    def translated_coverage(
        self, passages: Sequence[Passage], linked: Mapping[str, Sequence[str]]
    ) -> dict[str, dict[str, int]]:
        """Per criterion and language: its linked passages readable there only through a translation (a trainer's,
        or a machine's that passed its checks). The gaps in the originals stay gaps; this says what fills them."""
        by_id = {p.id: p for p in passages}
        counts: dict[str, dict[str, int]] = {}
        for criterion, ids in linked.items():
            row = dict.fromkeys(SUPPORTED_LANGUAGES, 0)
            for pid in ids:
                passage = by_id.get(pid)
                for language in SUPPORTED_LANGUAGES:
                    if passage is not None and language != passage.language:
                        row[language] += self.read(passage, language).translated
            counts[criterion] = row
        return counts

    def start(self, passages: Callable[[], list[Passage]]) -> TranslationJob:
        """Translate every passage into every other supported language in a background thread (one at a time).

        A job already running is returned as it is.
        """
        with self._lock:
            if self._job is None or not self._job.running:
                self._job = TranslationJob(self, passages)
                self._job.start()
            return self._job


class TranslationJob:
    """The background translation of the knowledge base: one daemon thread, stoppable, with counts."""

    def __init__(self, reader: PassageReader, passages: Callable[[], list[Passage]]) -> None:
        self._reader = reader
        self._passages = passages
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="coach-translations", daemon=True)
        self.total = 0
        self.done = 0
        self.failed = 0

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the thread is still translating."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop after the translation under way (what is made is kept)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; whether it ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __iter__(self) -> Iterator[int]:
        """Counts as the job goes (for a CLI progress line)."""
        while self._thread.is_alive():
            self._thread.join(5.0)
            yield self.done

    def _run(self) -> None:
        try:
            todo = self._reader.missing(self._passages())
        except Exception:  # noqa: BLE001 - a background thread must log, not die silently
            log.exception("translations: could not list the passages")
            return
        self.total = len(todo)
        for passage, language in todo:
            if self._stop.is_set():
                return
            try:
                made = self._reader.make(passage, language)
            except Exception:  # noqa: BLE001 - one passage's failure must not stop the others
                log.exception("translations: %s into %s failed", passage.id, language)
                made = None
            self.done += 1
            if made is None or made.error or made.problems(passage.text, self._reader.threshold):
                self.failed += 1
