"""The Chroma store of passages: incremental (re)indexing and nearest-neighbour search.

The only module that imports chromadb. Vectors are computed by our ``Embedder`` and handed to
Chroma; the collection still gets an explicit embedding function so Chroma never falls back to
its default one (which downloads a model).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from coach.errors import CoachError, IndexStoreError
from coach.knowledge.embeddings import MODEL_NAME, Embedder, Vectors, shared_embedder
from coach.knowledge.passages import Document, PassageRecord, split_passages
from coach.models import IndexReport, Passage

log = logging.getLogger(__name__)

_MAX_ADD_BATCH = 4000  # Chroma accepts at most ~5,400 records per add


NOTE_SEPARATOR = "~note"


@dataclass(frozen=True)
class Candidate:
    """A stored vector found by the store: a passage's own, or one of its notes (``is_note``)."""

    passage: Passage
    vector: Vectors
    is_note: bool = False


_embedding_function_type: Any = None


def make_embedding_function(embedder: Embedder) -> Any:
    """An explicit Chroma embedding function around our embedder.

    Built lazily (chromadb is slow to import) and registered once under our model's name, so
    Chroma can rebuild it from a collection's stored config instead of guessing a default.
    """
    global _embedding_function_type
    if _embedding_function_type is None:
        _embedding_function_type = _define_embedding_function()
    return _embedding_function_type(embedder)


def _define_embedding_function() -> Any:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import known_embedding_functions, register_embedding_function

    class CoachEmbeddingFunction(EmbeddingFunction[Documents]):
        def __init__(self, embedder: Embedder) -> None:
            self._embedder = embedder

        def __call__(self, input: Documents) -> Embeddings:
            return list(self._embedder.passages(list(input)))

        def embed_query(self, input: Documents) -> Embeddings:
            return list(self._embedder.queries(list(input)))

        @staticmethod
        def name() -> str:
            return MODEL_NAME

        def get_config(self) -> dict[str, Any]:
            return {"model": MODEL_NAME}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> CoachEmbeddingFunction:
            return CoachEmbeddingFunction(shared_embedder())

        def default_space(self) -> Any:
            return "cosine"

        def is_legacy(self) -> bool:
            return False

    if MODEL_NAME not in known_embedding_functions:
        register_embedding_function(CoachEmbeddingFunction)  # type: ignore[no-untyped-call]  # chromadb: untyped
    return CoachEmbeddingFunction


class PassageStore:
    """Passages of all documents in one Chroma collection, local or on a Chroma server."""

    def __init__(self, embedder: Embedder, *, path: Path | None, url: str | None, collection: str) -> None:
        if path is None and url is None:
            raise IndexStoreError("the index needs a directory or a Chroma server URL")
        self._embedder = embedder
        self._path = path
        self._url = url
        self._collection_name = collection
        self._client: Any = None
        self._collection: Any = None
        self._open_lock = threading.Lock()
        self.rebuilt = False

    @property
    def location(self) -> str:
        """Where the store lives, for messages."""
        return self._url or str(self._path)

    def _open(self) -> Any:
        if self._collection is not None:
            return self._collection
        with self._open_lock:  # threads of one process must not open (or "repair") the store twice
            if self._collection is None:
                self._open_locked()
        return self._collection

    def _open_locked(self) -> None:
        try:
            self._client = self._make_client()
            self._collection = self._get_collection()
        except CoachError:
            raise
        except Exception as exc:
            if self._url is not None:
                raise IndexStoreError(f"cannot use the Chroma server at {self._url}: {exc}") from exc
            self._rebuild_local(exc)

    def _make_client(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self._url is not None:
            parsed = urlparse(self._url if "://" in self._url else f"http://{self._url}")
            return chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        assert self._path is not None
        if self._path.exists() and not self._path.is_dir():
            raise IndexStoreError(f"index path {self._path} exists and is not a directory")
        self._path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self._path), settings=chroma_settings)

    def _get_collection(self) -> Any:
        collection = self._client.get_or_create_collection(
            name=self._collection_name,
            embedding_function=make_embedding_function(self._embedder),
            metadata={"hnsw:space": "cosine", "embedding_model": MODEL_NAME},
        )
        collection.count()  # touches the storage: a corrupt store fails here, not later
        return collection

    def _rebuild_local(self, cause: Exception) -> None:
        """A local store that cannot be opened is derived data: wipe it and start again."""
        assert self._path is not None
        log.warning("index at %s is unreadable (%s); rebuilding it", self._path, cause)
        self._client = None
        _forget_local_system(self._path)
        shutil.rmtree(self._path, ignore_errors=True)
        try:
            self._client = self._make_client()
            self._collection = self._get_collection()
        except Exception as exc:
            raise IndexStoreError(f"cannot create an index at {self._path}: {exc}") from exc
        self.rebuilt = True

    def count(self) -> int:
        """Number of passages in the store."""
        return int(self._call(lambda c: c.count()))

    def _call(self, action: Any) -> Any:
        collection = self._open()
        try:
            return action(collection)
        except CoachError:
            raise
        except Exception as exc:
            raise IndexStoreError(f"index at {self.location} failed: {exc}") from exc

    def passage_count(self) -> int:
        """Number of passages (not counting their note vectors)."""
        found = self._call(lambda c: c.get(where={"kind": "passage"}, include=[]))
        return len(found["ids"])

    def document_hashes(self) -> dict[str, tuple[str, list[str]]]:
        """For each indexed document: its content hash and the ids of all its records (passages and notes)."""
        found = self._call(lambda c: c.get(include=["metadatas"]))
        documents: dict[str, tuple[str, list[str]]] = {}
        for record_id, meta in zip(found["ids"], found["metadatas"], strict=True):
            _, ids = documents.setdefault(str(meta["document"]), (str(meta.get("doc_hash", "")), []))
            ids.append(record_id)
        return documents

    def sync(self, documents: Sequence[Document], skipped: dict[str, str] | None = None) -> IndexReport:
        """Make the store hold exactly these documents' passages, touching only what changed."""
        started = time.perf_counter()
        report = IndexReport(skipped=dict(skipped or {}))
        stored = self.document_hashes()
        report.rebuilt = self.rebuilt
        wanted = {doc.id: doc for doc in documents}
        for doc_id in sorted(set(stored) - set(wanted)):
            self._delete(stored[doc_id][1])
            report.removed.append(doc_id)
            report.passages_removed += len(stored[doc_id][1])
        to_embed: list[tuple[Document, list[PassageRecord]]] = []
        for doc in documents:
            previous = stored.get(doc.id)
            if previous is not None and previous[0] == doc.content_hash:
                report.unchanged.append(doc.id)
                continue
            if previous is not None:
                self._delete(previous[1])
                report.passages_removed += len(previous[1])
                report.updated.append(doc.id)
            else:
                report.added.append(doc.id)
            to_embed.append((doc, split_passages(doc)))
        records = [(doc, record) for doc, passages in to_embed for record in passages]
        self._add(records)
        report.passages_added = len(records)
        report.total_passages = self.passage_count()
        report.seconds = time.perf_counter() - started
        return report

    def _delete(self, ids: list[str]) -> None:
        if ids:
            self._call(lambda c: c.delete(ids=ids))

    def _add(self, records: list[tuple[Document, PassageRecord]]) -> None:
        """Embed passages and their notes in one batch, then store them."""
        if not records:
            return
        rows: list[tuple[str, str, dict[str, str | int]]] = []
        texts: list[str] = []
        for doc, record in records:
            rows.append((record.id, record.text, _metadata(doc, record, "passage")))
            texts.append(embedding_text(record))
            for n, note in enumerate(record.notes, start=1):
                rows.append((f"{record.id}{NOTE_SEPARATOR}{n}", note, _metadata(doc, record, "note")))
                texts.append(note)
        vectors = self._embedder.passages(texts)
        for start in range(0, len(rows), _MAX_ADD_BATCH):
            batch = rows[start : start + _MAX_ADD_BATCH]
            self._call(
                lambda c, batch=batch, start=start: c.add(
                    ids=[row[0] for row in batch],
                    documents=[row[1] for row in batch],
                    embeddings=vectors[start : start + len(batch)],
                    metadatas=[row[2] for row in batch],
                )
            )

    def query(self, vectors: Vectors, n_results: int, *, with_notes: bool = True) -> list[list[Candidate]]:
        """Nearest stored vectors (passages and, unless told not to, their notes) per query vector, best first."""
        total = self.count()
        if total == 0:
            return [[] for _ in range(len(vectors))]
        found = self._call(
            lambda c: c.query(
                query_embeddings=vectors,
                n_results=min(n_results, total),
                where=None if with_notes else {"kind": "passage"},
                include=["documents", "metadatas", "distances", "embeddings"],
            )
        )
        results = []
        for row in range(len(vectors)):
            results.append(
                [
                    _candidate(pid, text, meta, vec, 1.0 - float(dist))
                    for pid, text, meta, dist, vec in zip(
                        found["ids"][row],
                        found["documents"][row],
                        found["metadatas"][row],
                        found["distances"][row],
                        found["embeddings"][row],
                        strict=True,
                    )
                ]
            )
        return results

    def all_passages(self) -> list[Candidate]:
        """Every stored passage with its vector (notes left out)."""
        found = self._call(lambda c: c.get(where={"kind": "passage"}, include=["documents", "metadatas", "embeddings"]))
        return _candidates(found)

    def passages_with_vectors(self, ids: Sequence[str]) -> list[Candidate]:
        """Passages by id with their own vectors, in the order asked (unknown ids left out)."""
        wanted = list(ids)
        if not wanted:
            return []
        found = self._call(lambda c: c.get(ids=wanted, include=["documents", "metadatas", "embeddings"]))
        by_id = {c.passage.id: c for c in _candidates(found)}
        return [by_id[pid] for pid in wanted if pid in by_id]

    def get(self, ids: Iterable[str]) -> list[Passage]:
        """Passages by id, in the order asked (unknown ids are left out)."""
        return [c.passage for c in self.passages_with_vectors(list(ids))]


def _candidates(found: Any) -> list[Candidate]:
    return [
        _candidate(pid, text, meta, vec, 0.0)
        for pid, text, meta, vec in zip(
            found["ids"], found["documents"], found["metadatas"], found["embeddings"], strict=True
        )
    ]


def _candidate(record_id: str, text: str, meta: dict[str, Any], vector: Any, score: float) -> Candidate:
    """A store record as a Candidate; a note carries its passage's id (its text is fetched later)."""
    is_note = meta.get("kind") == "note"
    passage_id = str(meta["passage"]) if is_note else record_id
    return Candidate(_passage(passage_id, text, meta, score), np.asarray(vector, dtype=np.float32), is_note)


def _forget_local_system(path: Path) -> None:
    """Drop Chroma's cached (broken) client system for a path, so a fresh one can be opened there."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    system = SharedSystemClient._identifier_to_system.pop(str(path), None)
    if system is not None:
        try:
            system.stop()
        except Exception as exc:  # a broken system may fail to stop; it is discarded either way
            log.debug("stopping the broken Chroma system failed: %s", exc)


def embedding_text(record: PassageRecord) -> str:
    """What is embedded for a passage: its section heading gives the principle's name."""
    return f"{record.section}: {record.text}" if record.section else record.text


def _metadata(doc: Document, record: PassageRecord, kind: str) -> dict[str, str | int]:
    return {
        "kind": kind,
        "passage": record.id,
        "document": record.document,
        "title": record.title,
        "section": record.section,
        "language": record.language,
        "ordinal": record.ordinal,
        "source": doc.source,
        "doc_hash": doc.content_hash,
    }


def _passage(passage_id: str, text: str, meta: dict[str, Any], score: float) -> Passage:
    return Passage(
        id=passage_id,
        document=str(meta["document"]),
        title=str(meta["title"]),
        section=str(meta.get("section", "")),
        language=str(meta["language"]),
        text=text,
        score=score,
    )
