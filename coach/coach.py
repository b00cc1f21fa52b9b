"""The ``Coach`` facade: the one public entry point the CLI, the app and scripts call."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coach.embeddings import Embedder, shared_embedder
from coach.errors import InputError, KnowledgeError
from coach.index import PassageStore
from coach.knowledge import (
    DOCUMENT_SUFFIXES,
    NOTES_FOLDER,
    Document,
    decode_document,
    find_document_files,
    parse_document,
    read_document,
)
from coach.llm import LLMProvider, LLMStatus
from coach.models import IndexReport, Passage
from coach.retrieval import RetrievalConfig, Retriever
from coach.settings import Settings

log = logging.getLogger(__name__)

MAX_K = 50


class Coach:
    """Knowledge base, retrieval and (in later layers) critique, rewrite and ask.

    Creating a Coach is cheap: models and stores open on first use.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        retrieval: RetrievalConfig | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder or shared_embedder(self.settings.embed_threads)
        self._retrieval_config = retrieval
        self._store: PassageStore | None = None
        self._retriever: Retriever | None = None
        self._index_lock = threading.Lock()
        self._index_checked = False
        self._llm: LLMProvider | None = None

    @property
    def store(self) -> PassageStore:
        """The passage store (opened lazily)."""
        if self._store is None:
            self._store = PassageStore(
                self._embedder,
                path=None if self.settings.chroma_url else self.settings.resolved_index_dir,
                url=self.settings.chroma_url,
                collection=self.settings.collection,
            )
        return self._store

    @property
    def retriever(self) -> Retriever:
        """The retriever over the store."""
        if self._retriever is None:
            self._retriever = Retriever(self.store, self._embedder, self._retrieval_config)
        return self._retriever

    @property
    def llm(self) -> LLMProvider:
        """The LLM connection (the embedded server starts only when first needed)."""
        if self._llm is None:
            self._llm = LLMProvider(self.settings)
        return self._llm

    def llm_status(self) -> LLMStatus:
        """Which LLM is in use and whether it answers."""
        return self.llm.status()

    def close(self) -> None:
        """Stop what this Coach started (the embedded LLM server)."""
        if self._llm is not None:
            self._llm.close()

    def load_documents(self) -> tuple[list[Document], dict[str, str]]:
        """Readable documents of the knowledge folder, and the reason each unreadable one was skipped."""
        documents: list[Document] = []
        skipped: dict[str, str] = {}
        seen: dict[str, str] = {}
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

    def index(self) -> IndexReport:
        """Bring the index in line with the knowledge folder; unchanged documents cost nothing."""
        with self._index_lock:
            documents, skipped = self.load_documents()
            report = self.store.sync(documents, skipped)
            self._index_checked = True
        for path, reason in skipped.items():
            log.warning("skipped %s: %s", path, reason)
        return report

    def ensure_index(self) -> None:
        """Build the index on first use if it is empty (e.g. a fresh install or a wiped store)."""
        if self._index_checked:
            return
        if self.store.count() == 0:
            log.info("index is empty: building it from %s", self.settings.knowledge_dir)
            self.index()
        self._index_checked = True

    def search(self, text: str, k: int = 5) -> list[Passage]:
        """The k guideline passages that matter most for a draft or question, in any language."""
        query = self.check_text(text, "query")
        if not 1 <= k <= MAX_K:
            raise InputError(f"k must be between 1 and {MAX_K}, got {k}", field="k", limit=MAX_K)
        self.ensure_index()
        return self.retriever.search(query, k)

    def check_text(self, text: str, field: str) -> str:
        """The text, stripped, or an ``InputError`` when it is empty or too long."""
        if not isinstance(text, str):
            raise InputError(f"{field} must be text", field=field)
        stripped = text.strip()
        if not stripped:
            raise InputError(f"{field} is empty", field=field)
        limit = self.settings.max_input_chars
        if len(stripped) > limit:
            raise InputError(
                f"{field} is {len(stripped):,} characters; the limit is {limit:,} (COACH_MAX_INPUT_CHARS)",
                field=field,
                limit=limit,
            )
        return stripped

    def add_document(self, filename: str, content: bytes) -> IndexReport:
        """Validate a new guideline file, save it into the knowledge folder and index it at once."""
        name = Path(filename).name
        if Path(name).suffix.lower() not in DOCUMENT_SUFFIXES:
            raise InputError(f"{name}: only {' and '.join(DOCUMENT_SUFFIXES)} files are accepted", field="file")
        try:
            text = decode_document(content, name, self.settings.max_document_bytes)
            parse_document(text, name)
        except KnowledgeError as exc:
            raise InputError(str(exc), field="file", limit=self.settings.max_document_bytes) from exc
        target = self.settings.knowledge_dir / name
        self.settings.knowledge_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return self.index()

    # ------------------------------------------------------------------ batch evaluation (coach/batch.py)

    def evaluate(self, rows: Any, **options: Any) -> Iterator[Any]:
        """Critique many replies with the same rubric; yields one result per row (see `coach.batch`)."""
        from coach import batch

        return batch.evaluate(self, rows, **options)

    def evaluate_file(self, source: str | Path, destination: str | Path, **options: Any) -> Any:
        """Score a CSV/JSONL file of replies into append-only JSONL, resumable; returns the summary."""
        from coach import batch

        return batch.evaluate_file(self, source, destination, **options)
