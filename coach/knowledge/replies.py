"""Good replies to similar messages: how a reply that meets the rubric reads, for a case like the agent's.

``knowledge/replies.jsonl`` holds the good training replies with their facts masked as [slots] (written by
``training/phrasebook.py``). A case's situation is its customer message and its reply together: each reply's
situation vector is the normalised sum of both texts' e5 vectors, computed once and kept in the data folder
(``replies-<sha>.npy``). The replies of the case's service domain in the draft's language come first, closest
first; the domain is the learned classifier's (``coach.knowledge.domains``), else the vote of the closest replies.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Collection
from pathlib import Path

import numpy as np

from coach.errors import KnowledgeError
from coach.knowledge.domains import DomainModel, case_text, domain_name
from coach.knowledge.embeddings import Embedder, Vectors, read_vectors, vector_key
from coach.knowledge.phrasebook import general_vocabulary
from coach.knowledge.retrieval import text_vectors
from coach.language import detect_language
from coach.models import SimilarReply

REPLIES_FILE = "replies.jsonl"
BATCH = 16
# Without a domain classifier, the closest replies in any language (e5 is multilingual) vote for the case's service
# domain. Chosen on training drafts held apart (bench/similar_replies.py): top reply's domain right 0.44 with 5
# voters in any language, 0.43 with 3, 0.41 with 9, 0.38 with the closest same-language reply alone (150 drafts).
# The classifier (0.84 on 5-fold CV) replaced it; no score line below which the vote or the closest situation
# would do better was found on that CV (falling back below a ridge score of 0 gave 0.62, of 0.2 0.53).
DOMAIN_VOTERS = 5


def situation(first: Vectors, second: Vectors | None) -> Vectors:
    """One case's situation vector: its message's and reply's vectors summed and normalised."""
    total = np.asarray(first, dtype=np.float32).reshape(-1)
    if second is not None:
        total = total + np.asarray(second, dtype=np.float32).reshape(-1)
    return np.asarray(total / max(float(np.linalg.norm(total)), 1e-9), dtype=np.float32)


class ReplyBook:
    """The good replies and their situation vectors (embedded once, then read from the data folder)."""

    def __init__(
        self,
        path: Path,
        embedder: Embedder,
        cache_dir: Path,
        known: Path | None = None,
        domains: DomainModel | None = None,
    ) -> None:
        self.path = path
        self.domains = domains  # the service-domain classifier (None: the closest replies vote)
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._known = known  # vectors computed when the replies were written (``knowledge/vectors.npz``)
        self._replies: list[SimilarReply] | None = None
        self._vectors: Vectors | None = None
        self._vocabulary: dict[str, set[str]] | None = None
        self._lock = threading.Lock()

    def replies(self) -> list[SimilarReply]:
        """Every reply of the file, in order."""
        with self._lock:
            if self._replies is None:
                try:
                    lines = self.path.read_text(encoding="utf-8").splitlines()
                    self._replies = [SimilarReply.model_validate(json.loads(line)) for line in lines if line.strip()]
                except (OSError, ValueError) as exc:
                    raise KnowledgeError(f"{self.path.name}: cannot be read ({exc})", path=str(self.path)) from exc
            return self._replies

    def vectors(self) -> Vectors:
        """One situation vector per reply."""
        replies = self.replies()
        with self._lock:
            if self._vectors is None:
                digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]
                cached = self._cache_dir / f"replies-{digest}.npy"
                if cached.is_file():
                    self._vectors = np.load(cached)
                else:
                    texts = [t for r in replies for t in (r.customer_message, r.text)]
                    known = read_vectors(self._known) if self._known is not None else {}
                    missing = [t for t in texts if vector_key("text", t) not in known]
                    embedded: dict[str, Vectors] = {}
                    for start in range(0, len(missing), BATCH):  # small batches: a critique may embed in between
                        part = missing[start : start + BATCH]
                        embedded |= dict(zip(part, text_vectors(self._embedder, part), strict=True))
                    rows = [embedded[t] if t in embedded else known[vector_key("text", t)] for t in texts]
                    pairs = np.asarray(rows, dtype=np.float32).reshape(len(replies), 2, -1)
                    self._vectors = np.stack([situation(m, t) for m, t in pairs])
                    self._cache_dir.mkdir(parents=True, exist_ok=True)
                    np.save(cached, self._vectors)
            return self._vectors

    def for_case(self, draft: str, customer: str | None = None, k: int = 2) -> list[SimilarReply]:
        """The good replies closest to a draft and its customer's message, in the draft's language."""
        texts = [draft] if not customer else [draft, customer]
        vectors = text_vectors(self._embedder, texts)
        case = situation(vectors[0], vectors[1] if customer else None)
        domain = self.domains.predict(case_text(draft, customer), case) if self.domains is not None else None
        return self.similar(detect_language(draft), case, k, domain=domain)

    def fits(self, sentence: str, draft: str, customer: str | None, source: str) -> bool:
        """Whether a sentence is closer to this case (draft + message) than to the reply its phrasing came from."""
        ids = [r.id for r in self.replies()]
        if source not in ids:
            return True
        texts = [sentence, draft] + ([customer] if customer else [])
        vectors = text_vectors(self._embedder, texts)
        case = situation(vectors[1], vectors[2] if customer else None)
        return float(vectors[0] @ case) > float(vectors[0] @ self.vectors()[ids.index(source)])

    def situation_of(self, reply_id: str) -> Vectors | None:
        """A reply's situation vector, by id (None for an id the file lacks)."""
        ids = [r.id for r in self.replies()]
        return self.vectors()[ids.index(reply_id)] if reply_id in ids else None

    def vocabulary(self) -> dict[str, set[str]]:
        """Per language, the words general to complaints: used in 4+ service domains of the replies."""
        replies = self.replies()
        with self._lock:
            if self._vocabulary is None:
                cases = [(r.language, r.domain, f"{r.customer_message} {r.text}") for r in replies]
                self._vocabulary = general_vocabulary(cases)
            return self._vocabulary

    def similar(
        self, language: str, case: Vectors, k: int = 2, exclude: Collection[str] = (), domain: str | None = None
    ) -> list[SimilarReply]:
        """The ``k`` replies in ``language`` closest to ``case`` (a ``situation`` vector), those of the case's
        service ``domain`` first (when it has none in ``language``: the closest). Without a ``domain``, the one most
        of the case's ``DOMAIN_VOTERS`` closest replies in any language share, weighted by closeness."""
        replies, vectors = self.replies(), self.vectors()
        scores = vectors @ np.asarray(case, dtype=np.float32)
        order = [i for i in np.argsort(-scores) if replies[i].id not in exclude]
        if domain is None:
            votes: dict[str, float] = {}
            for i in order[:DOMAIN_VOTERS]:
                votes[replies[i].domain] = votes.get(replies[i].domain, 0.0) + max(float(scores[i]), 0.0)
            domain = max(votes, key=votes.__getitem__) if votes else ""
        ranked = [i for i in order if replies[i].language == language]
        ranked.sort(
            key=lambda i: domain_name(replies[i].domain) != domain_name(domain)
        )  # stable: closest first within each group
        return [replies[i].model_copy(update={"score": round(float(scores[i]), 4)}) for i in ranked[:k]]
