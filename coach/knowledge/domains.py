"""Which service domain a case is about (parcels, banking, telecom, …): a learned classifier over what it says.

Features of a case (its customer message and draft): hashed character 2–5-grams of both texts (lower case,
digits as 0, ``BITS`` buckets shared by all languages, log counts weighted by idf and L2-normalised) next to its
e5 situation vector (``coach.knowledge.replies.situation``) times ``E5_WEIGHT``. One ridge (least-squares)
classifier per domain, fitted in closed form on the training drafts of the good replies' domains
(``training/domains.py``), so a rebuild is deterministic. Chosen by 5-fold CV on those drafts
(bench/similar_replies.py): accuracy 0.84 with n-grams + 2 × e5 at ridge 0.3 (e5 alone 0.79, n-grams alone 0.65;
e5 weight 3: 0.83, 4: 0.82; 2^13 buckets 0.82; the language in the hash changed nothing).

The model is two files of the prompts folder: ``domain_model.json`` (settings, domains) and ``domain_model.npy``
(float16: column 0 the idf of each n-gram bucket, 1 for the e5 rows; then one column of weights per domain).
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.errors import KnowledgeError
from coach.knowledge.embeddings import DIMENSION, Vectors

MODEL_JSON = "domain_model.json"
MODEL_WEIGHTS = "domain_model.npy"
BITS = 14
NGRAMS = (2, 5)
E5_WEIGHT = 2.0
RIDGE = 0.3
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d")


def domain_name(name: str) -> str:
    """A domain as compared: lower case, spaces as underscores ("food delivery" = "food_delivery")."""
    return name.strip().lower().replace(" ", "_")


def case_text(draft: str, customer: str | None) -> str:
    """What a case says, as the classifier reads it: the customer's message, then the draft."""
    return f"{customer} {draft}" if customer else draft


def ngram_counts(text: str, bits: int = BITS) -> Counter[int]:
    """Hashed character n-grams (crc32, ``bits`` buckets) of a text: lower case, digits as 0, spaces collapsed."""
    padded = " " + _SPACES.sub(" ", _DIGITS.sub("0", text.lower())).strip() + " "
    mask = (1 << bits) - 1
    counts: Counter[int] = Counter()
    for size in range(NGRAMS[0], NGRAMS[1] + 1):
        for start in range(len(padded) - size + 1):
            counts[zlib.crc32(padded[start : start + size].encode("utf-8")) & mask] += 1
    return counts


def ngram_matrix(texts: Sequence[str], bits: int = BITS) -> np.ndarray:
    """One row of log(1 + count) per text."""
    rows = np.zeros((len(texts), 1 << bits), dtype=np.float64)
    for i, text in enumerate(texts):
        for bucket, count in ngram_counts(text, bits).items():
            rows[i, bucket] = np.log1p(count)
    return rows


def _normalised(rows: np.ndarray) -> np.ndarray:
    return np.asarray(rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9))


@dataclass(frozen=True)
class DomainModel:
    """A fitted domain classifier: ``domains`` and a (buckets + 384, 1 + domains) float16 table."""

    domains: tuple[str, ...]
    table: np.ndarray
    bits: int = BITS
    e5_weight: float = E5_WEIGHT

    @classmethod
    def fit(cls, texts: Sequence[str], situations: Vectors, labels: Sequence[str], ridge: float = RIDGE) -> DomainModel:
        """Fit on cases (``case_text``), their situation vectors and domain labels; deterministic."""
        domains = tuple(sorted(set(labels)))
        counts = ngram_matrix(texts)
        idf = np.log((1 + len(texts)) / (1 + (counts > 0).sum(axis=0))) + 1
        idf = idf.astype(np.float16).astype(np.float64)  # as stored, so fitting and use see the same features
        features = np.hstack([_normalised(counts * idf), E5_WEIGHT * np.asarray(situations, dtype=np.float64)])
        targets = np.array([[1.0 if label == d else -1.0 for d in domains] for label in labels])
        dual = np.linalg.solve(features @ features.T + ridge * np.eye(len(texts)), targets)
        weights = features.T @ dual
        column = np.concatenate([idf, np.ones(DIMENSION)])[:, None]
        return cls(domains, np.hstack([column, weights]).astype(np.float16))

    def scores(self, text: str, case: Vectors) -> np.ndarray:
        """One score per domain (higher is likelier) for a case's text and situation vector."""
        table = np.asarray(self.table, dtype=np.float32)
        counts = ngram_counts(text, self.bits)
        buckets = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = np.log1p(np.fromiter(counts.values(), dtype=np.float32, count=len(counts))) * table[buckets, 0]
        values /= max(float(np.linalg.norm(values)), 1e-9)
        ngrams = values @ table[buckets, 1:]
        return np.asarray(ngrams + self.e5_weight * (np.asarray(case, dtype=np.float32) @ table[1 << self.bits :, 1:]))

    def predict(self, text: str, case: Vectors) -> str:
        """The likeliest domain of a case."""
        return self.domains[int(np.argmax(self.scores(text, case)))]

    def save(self, folder: Path) -> None:
        """Write ``domain_model.json`` and ``domain_model.npy`` (byte for byte the same for the same fit)."""
        meta = {"domains": list(self.domains), "bits": self.bits, "ngrams": list(NGRAMS), "e5_weight": self.e5_weight}
        (folder / MODEL_JSON).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        np.save(folder / MODEL_WEIGHTS, np.ascontiguousarray(self.table, dtype=np.float16), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> DomainModel:
        """The model saved in ``folder``."""
        try:
            meta = json.loads((folder / MODEL_JSON).read_text(encoding="utf-8"))
            table = np.load(folder / MODEL_WEIGHTS, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise KnowledgeError(f"{MODEL_JSON}: cannot be read ({exc})", path=str(folder / MODEL_JSON)) from exc
        if tuple(meta["ngrams"]) != NGRAMS or table.shape != (
            (1 << meta["bits"]) + DIMENSION,
            1 + len(meta["domains"]),
        ):
            raise KnowledgeError(f"{MODEL_JSON}: does not match its weights", path=str(folder / MODEL_JSON))
        return cls(tuple(meta["domains"]), table.astype(np.float32), int(meta["bits"]), float(meta["e5_weight"]))
