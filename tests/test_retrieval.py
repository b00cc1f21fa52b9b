"""Retrieval's own logic: text vectors, query segments, score fusion and the diverse top k."""

from __future__ import annotations

import numpy as np

from coach.knowledge.embeddings import Embedder
from coach.knowledge.index import Candidate
from coach.knowledge.retrieval import chunks, fused_scores, query_segments, select_diverse, text_vectors
from coach.models import Passage


def candidate(pid: str, document: str) -> Candidate:
    passage = Passage(id=pid, document=document, title="T", language="en", text=pid)
    return Candidate(passage=passage, vector=np.zeros(2, dtype=np.float32))


def test_short_greetings_merge_into_the_next_query_segment() -> None:
    segments = query_segments("Hi. We cannot refund this order, it is our policy. Thanks.")
    assert segments == ["Hi. We cannot refund this order, it is our policy. Thanks."]


def test_long_texts_are_cut_into_sentence_aligned_chunks() -> None:
    text = " ".join(f"Sentence number {n} talks about the refund." for n in range(30))
    pieces = chunks(text, size=200)
    assert len(pieces) > 1 and all(piece in text for piece in pieces)
    assert chunks("Short.") == ["Short."]


def test_fusion_blends_the_whole_text_with_its_best_sentence() -> None:
    queries = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    passages = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert fused_scores(queries, passages, 0.5).tolist() == [0.5, 0.5]
    assert fused_scores(queries[:1], passages, 0.5).tolist() == [1.0, 0.0]


def test_the_per_document_cap_spreads_the_top_k() -> None:
    found = [candidate("a#1", "a"), candidate("a#2", "a"), candidate("b#1", "b")]
    matrix = np.eye(3, dtype=np.float32)
    scores = np.array([0.9, 0.8, 0.1], dtype=np.float32)
    assert select_diverse(found, matrix, scores, 2, 1.0, 0) == [0, 1]
    assert select_diverse(found, matrix, scores, 2, 1.0, 1) == [0, 2]


def test_text_vectors_are_unit_length_and_batch_like_one_by_one(embedder: Embedder) -> None:
    texts = ["Where is my parcel?", "Где моя посылка?", " ".join(["Long text about a refund."] * 40)]
    together = text_vectors(embedder, texts)
    assert together.shape == (3, 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    alone = np.vstack([text_vectors(embedder, [t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-3)
