"""Good replies to similar messages: how a reply that meets the rubric reads, for a case like the agent's.

``knowledge/replies.jsonl`` holds the good training replies with their facts masked as [slots] (written by
``training/phrasebook.py``). A case's situation is its customer message and its reply together: each reply's
situation vector is the normalised sum of both texts' e5 vectors, computed once and kept in the data folder
(``replies-<sha>.npy``). The replies in the draft's language are ranked by closeness to the case, the customer's
message weighing ``MESSAGE_WEIGHT`` times the draft, plus a small bonus for the case's service domain (the learned
classifier's, ``coach.knowledge.domains``, else the vote of the closest replies) and one for sharing the situation
kinds (what went wrong, what is asked) that code reads from both customer messages (a reader given by the layer
above: the cues are ``coach.judging``'s).

Measured on ``eval/situations.jsonl`` (105 messages labelled with a situation kind, none a reply's; ``python -m
bench.similar_replies``): with the domain's replies strictly first, the top reply's situation kind was the case's
for 0.20 (there are only 2-8 replies per domain and language); e5 closeness alone did no better (0.19). With the
message weighted, the domain a bonus and the kinds shared: 0.27, the domain still right for 0.82 (aimed >= 0.8).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Collection
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
# Chosen on eval/situations.jsonl (top-1 situation kind / share of the top 2 of the same kind, 105 messages) and the
# domain bar (top reply's domain, 200 training drafts, 5-fold; python -m bench.similar_replies): the domain's replies
# strictly first 0.20/0.20 (domain 0.85); the message weighted 2x 0.21/0.20 (3x the same, the message alone 0.19);
# kinds shared (Jaccard) x 0.1 with a domain bonus of 0.1 0.27/0.23 (domain 0.82), of 0.06 0.30/0.26 (domain 0.77),
# of 0.03 0.31/0.27 (0.72), of none 0.35/0.27; kinds with the domain strictly first 0.25/0.21. Re-ranking the top 5
# or 10 by message-to-message closeness did not help (0.22-0.30/0.21-0.29).
MESSAGE_WEIGHT = 2.0
DOMAIN_BONUS = 0.1
KIND_WEIGHT = 0.1

KindReader = Callable[[str, str], frozenset[str]]  # (customer message, language) -> its situation kinds


def shared(first: frozenset[str], second: frozenset[str]) -> float:
    """How far two sets of situation kinds agree (Jaccard; 0 when either is empty)."""
    return len(first & second) / len(first | second) if first and second else 0.0


def situation(first: Vectors, second: Vectors | None, weight: float = 1.0) -> Vectors:
    """One case's situation vector: its two texts' vectors (a message and a reply), the ``second`` times
    ``weight``, summed and normalised."""
    total = np.asarray(first, dtype=np.float32).reshape(-1)
    if second is not None:
        total = total + weight * np.asarray(second, dtype=np.float32).reshape(-1)
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
        kinds: KindReader | None = None,
    ) -> None:
        self.path = path
        self.domains = domains  # the service-domain classifier (None: the closest replies vote)
        self.kinds = kinds  # reads a message's situation kinds (None: closeness and domain alone)
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._known = known  # vectors computed when the replies were written (``knowledge/vectors.npz``)
        self._replies: list[SimilarReply] | None = None
        self._vectors: Vectors | None = None
        self._kinds: list[frozenset[str]] | None = None
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
        case = situation(vectors[0], vectors[1] if customer else None)  # as the domain classifier was fitted
        domain = self.domains.predict(case_text(draft, customer), case) if self.domains is not None else None
        language = detect_language(draft)
        kinds = self.kinds(customer, language) if self.kinds is not None and customer else frozenset()
        weighted = situation(vectors[0], vectors[1] if customer else None, MESSAGE_WEIGHT)
        return self.similar(language, weighted, k, domain=domain, kinds=kinds)

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

    def reply_kinds(self) -> list[frozenset[str]]:
        """Each reply's situation kinds, read from its customer message (none without a reader)."""
        replies = self.replies()
        with self._lock:
            if self._kinds is None:
                read = self.kinds
                self._kinds = [read(r.customer_message, r.language) if read else frozenset() for r in replies]
            return self._kinds

    def vocabulary(self) -> dict[str, set[str]]:
        """Per language, the words general to complaints: used in 4+ service domains of the replies."""
        replies = self.replies()
        with self._lock:
            if self._vocabulary is None:
                cases = [(r.language, r.domain, f"{r.customer_message} {r.text}") for r in replies]
                self._vocabulary = general_vocabulary(cases)
            return self._vocabulary

    def similar(
        self,
        language: str,
        case: Vectors,
        k: int = 2,
        exclude: Collection[str] = (),
        domain: str | None = None,
        kinds: frozenset[str] = frozenset(),
    ) -> list[SimilarReply]:
        """The ``k`` replies in ``language`` closest to ``case`` (a ``situation`` vector), those of the case's
        service ``domain`` raised by ``DOMAIN_BONUS`` and those sharing its situation ``kinds`` by up to
        ``KIND_WEIGHT``. Without a ``domain``, the one most of the case's ``DOMAIN_VOTERS`` closest replies in any
        language share, weighted by closeness."""
        replies, vectors = self.replies(), self.vectors()
        reply_kinds = self.reply_kinds() if kinds else []
        scores = vectors @ np.asarray(case, dtype=np.float32)
        order = [i for i in np.argsort(-scores) if replies[i].id not in exclude]
        if domain is None:
            votes: dict[str, float] = {}
            for i in order[:DOMAIN_VOTERS]:
                votes[replies[i].domain] = votes.get(replies[i].domain, 0.0) + max(float(scores[i]), 0.0)
            domain = max(votes, key=votes.__getitem__) if votes else ""
        ranked = [i for i in order if replies[i].language == language]
        rank = {
            i: float(scores[i])
            + DOMAIN_BONUS * (domain_name(replies[i].domain) == domain_name(domain))
            + (KIND_WEIGHT * shared(kinds, reply_kinds[i]) if kinds else 0.0)
            for i in ranked
        }
        ranked.sort(key=lambda i: -rank[i])  # stable: the closest first at equal rank
        return [replies[i].model_copy(update={"score": round(float(scores[i]), 4)}) for i in ranked[:k]]
