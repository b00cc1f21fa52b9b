"""Retrieval for drafts: several queries per draft, fused scores, and a diverse top k.

A draft mixes several problems, in another language than the guidelines. One vector for the whole
draft finds the loudest problem only, so each sentence also queries on its own; the final list is
chosen with maximal marginal relevance so that k passages cover k things, not one thing k times.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coach.knowledge.embeddings import Embedder, Vectors
from coach.knowledge.index import Candidate, PassageStore
from coach.models import Passage
from coach.text import sentence_chunks, sentence_spans

MIN_SEGMENT_CHARS = 20
MAX_SEGMENTS = 16
CHUNK_CHARS = 400  # longer texts are embedded in sentence-aligned chunks, then averaged
VECTOR_CACHE_SIZE = 2048


@dataclass(frozen=True)
class RetrievalConfig:
    """Knobs of the retrieval recipe; the defaults are the ones that won on eval/ (see bench/)."""

    per_sentence: bool = False  # also query with each sentence (measured: slower and not better)
    whole_weight: float = 0.5  # with per_sentence: weight of the whole draft against the best sentence
    mmr_lambda: float = 1.0  # 1.0 = pure relevance, lower = more diversity (measured: lower hurts)
    per_document_cap: int = 0  # 0 = no cap
    pool: int = 40  # candidates fetched per query vector
    use_notes: bool = True  # score passages also by their retrieval notes' vectors
    note_weight: float = 1.0  # multiplier of a note's similarity against the passage's own


def query_segments(text: str) -> list[str]:
    """The draft's sentences worth a query of their own (tiny greetings merged into the next)."""
    segments: list[str] = []
    carry = ""
    for begin, end in sentence_spans(text):
        sentence = f"{carry} {text[begin:end]}".strip()
        if len(sentence) < MIN_SEGMENT_CHARS:
            carry = sentence
            continue
        carry = ""
        segments.append(sentence)
    if carry and segments:
        segments[-1] = f"{segments[-1]} {carry}"
    return segments[:MAX_SEGMENTS]


class Retriever:
    """Finds the passages that matter for a text, across languages."""

    def __init__(self, store: PassageStore, embedder: Embedder, config: RetrievalConfig | None = None) -> None:
        self._store = store
        self._embedder = embedder
        self.config = config or RetrievalConfig()
        self._vectors: dict[str, Vectors] = {}  # recent query vectors, oldest first
        self._lock = threading.Lock()

    def text_vector(self, text: str) -> Vectors:
        """One query vector for a whole text.

        A long draft is embedded as sentence-aligned chunks whose vectors are averaged: the model's
        attention cost grows with the square of the length, and it truncates at 512 tokens.
        """
        with self._lock:
            cached = self._vectors.get(text)
        if cached is not None:
            return cached
        return self._remember(text, text_vectors(self._embedder, [text])[0])

    def prime(self, texts: Sequence[str]) -> None:
        """Embed many texts in one call (far cheaper per text than one by one) for later searches."""
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t and t not in self._vectors))
        if not todo:
            return
        for text, vector in zip(todo, text_vectors(self._embedder, todo), strict=True):
            self._remember(text, vector)

    def forget_vectors(self) -> None:
        """Drop the remembered query vectors (benchmarks use it to time the embedding too)."""
        with self._lock:
            self._vectors.clear()

    def _remember(self, text: str, vector: Vectors) -> Vectors:
        normalized = np.asarray(vector / np.linalg.norm(vector), dtype=np.float32).reshape(1, -1)
        with self._lock:
            self._vectors[text] = normalized
            while len(self._vectors) > VECTOR_CACHE_SIZE:
                self._vectors.pop(next(iter(self._vectors)))
        return normalized

    def search(
        self, text: str, k: int = 5, *, vector: Vectors | None = None, language: str | None = None
    ) -> list[Passage]:
        """The k passages that best cover the text, best first, each with its fused score.

        ``vector`` is the text's own ``text_vector`` when the caller has it already; with ``language``, the k
        found are listed with that language's passages first (``reader_first``).
        """
        segments = query_segments(text) if self.config.per_sentence else []
        if len(segments) < 2:
            segments = []
        whole = self.text_vector(text) if vector is None else vector
        vectors = np.vstack([whole, self._embedder.queries(segments)])
        pools = self._store.query(vectors, self.config.pool, with_notes=self.config.use_notes)
        hits = [c for pool in pools for c in pool]
        if not hits:
            return []
        scores = fused_scores(vectors, np.stack([c.vector for c in hits]), self.config.whole_weight)
        best: dict[str, float] = {}
        for candidate, score in zip(hits, scores, strict=True):
            value = float(score) * (self.config.note_weight if candidate.is_note else 1.0)
            pid = candidate.passage.id
            best[pid] = max(best.get(pid, -1.0), value)
        passages = self._store.passages_with_vectors(list(best))
        matrix = np.stack([c.vector for c in passages])
        passage_scores = np.array([best[c.passage.id] for c in passages], dtype=np.float32)
        chosen = select_diverse(
            passages, matrix, passage_scores, k, self.config.mmr_lambda, self.config.per_document_cap
        )
        found = [passages[i].passage.model_copy(update={"score": round(float(passage_scores[i]), 4)}) for i in chosen]
        return reader_first(found, language)

    def rank(self, vector: Vectors, ids: Sequence[str], language: str | None = None) -> list[Passage]:
        """Passages by id, scored by their own vector's similarity to the query vector, best first.

        With ``language``, that language's passages come first (``reader_first``), each group best first.
        """
        found = self._store.passages_with_vectors(ids)
        if not found:
            return []
        scores = np.stack([c.vector for c in found]) @ vector.reshape(-1)
        ranked = sorted(zip(found, scores, strict=True), key=lambda pair: -float(pair[1]))
        scored = [c.passage.model_copy(update={"score": round(float(score), 4)}) for c, score in ranked]
        return reader_first(scored, language)


def reader_first(passages: Sequence[Passage], language: str | None) -> list[Passage]:
    """The passages in the reader's language first, then the others, each group in its given (closeness) order.

    No English guideline ships, so an English reader keeps the order as it is; a Russian one reads the Russian
    passages before the closest Kazakh, Mongolian or Greek ones.
    """
    if not language:
        return list(passages)
    return sorted(passages, key=lambda p: p.language != language)


def text_vectors(embedder: Embedder, texts: Sequence[str]) -> Vectors:
    """One L2-normalised query vector per text (long texts: their chunks' vectors averaged), in one batch."""
    pieces = [chunks(text) for text in texts]
    vectors = embedder.queries([piece for text_pieces in pieces for piece in text_pieces])
    rows = []
    start = 0
    for text_pieces in pieces:
        mean = vectors[start : start + len(text_pieces)].mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
        start += len(text_pieces)
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)


def chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Sentence-aligned slices of at most about ``size`` characters (one slice for short texts)."""
    if len(text) <= size:
        return [text]
    return sentence_chunks(text, size)


def fused_scores(query_vectors: Vectors, passage_vectors: Vectors, whole_weight: float) -> Vectors:
    """Per passage: whole-draft similarity blended with its best single-sentence similarity."""
    sims = query_vectors @ passage_vectors.T
    whole = sims[0]
    if len(query_vectors) == 1:
        return np.asarray(whole, dtype=np.float32)
    best_sentence = sims[1:].max(axis=0)
    return np.asarray(whole_weight * whole + (1.0 - whole_weight) * best_sentence, dtype=np.float32)


def select_diverse(
    candidates: list[Candidate],
    matrix: Vectors,
    scores: Vectors,
    k: int,
    mmr_lambda: float,
    per_document_cap: int,
) -> list[int]:
    """Indexes of k candidates chosen by maximal marginal relevance, with an optional per-document cap."""
    chosen: list[int] = []
    per_document: dict[str, int] = {}
    remaining = set(range(len(candidates)))
    while remaining and len(chosen) < k:
        best_index, best_value = -1, -np.inf
        for i in remaining:
            document = candidates[i].passage.document
            if per_document_cap and per_document.get(document, 0) >= per_document_cap:
                continue
            redundancy = max((float(matrix[i] @ matrix[j]) for j in chosen), default=0.0)
            value = mmr_lambda * float(scores[i]) - (1.0 - mmr_lambda) * redundancy
            if value > best_value:
                best_index, best_value = i, value
        if best_index < 0:
            break
        chosen.append(best_index)
        remaining.discard(best_index)
        document = candidates[best_index].passage.document
        per_document[document] = per_document.get(document, 0) + 1
    return chosen
