"""The critic's lexical inputs: hashed character n-grams of a text, and a linear model over them fitted in its dual.

Embeddings miss surface cues a reader sees at once: a date or an hour ("до 13:00", "αύριο"), a question mark,
"thank you", "sorry", "done just now". Character n-grams catch them in any language without a word list:
the lowercased text, digits folded to 0 (so "13:00" and "09:30" share their n-grams), padded with a space,
its 2- to 5-character n-grams hashed (crc32, signed) into ``BUCKETS`` columns, sublinear term frequency
(1 + log tf), the row L2-normalised.

A per-criterion logistic regression over these rows has far more columns than the corpus has drafts, so it is
fitted in its dual (the weights are a combination of the training rows: Newton's method on the n x n kernel of
row dot products, from zero, deterministic); its weights are then folded back into one vector per criterion.
Its out-of-fold logits are stacked into the draft models (``coach.judging.folds``), as the sentence models' are.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

BUCKETS = 2**14  # 5-fold CV: 2^15 no better (bench/critic_fit.py --lexical-sweep); 2^14 keeps the model file small
NGRAMS = (2, 5)  # shortest and longest n-gram, in characters
LEXICAL_L2 = 0.3  # chosen by 5-fold CV among 0.1, 0.3, 1, 3 (bench/critic_fit.py --lexical-sweep)
DECIMALS = 5  # significant digits of the stored lexical weights: a compact model file

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d")


def normalised(text: str) -> str:
    """Lowercased, whitespace collapsed, every digit 0, padded with one space on each side ("" for blank text)."""
    clean = _DIGITS.sub("0", _SPACES.sub(" ", text.lower()).strip())
    return f" {clean} " if clean else ""


def hashed_sparse(
    text: str, buckets: int = BUCKETS, ngrams: tuple[int, int] = NGRAMS
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """One text's hashed n-gram row as its non-zero buckets (sorted) and their values, L2-normalised.

    Signed sublinear term frequencies; elementwise numpy only (BLAS calls on one vector can stall on a busy
    machine: a norm by ``np.linalg.norm`` took 30 ms there).
    """
    clean = normalised(text)
    counts = Counter(clean[i : i + n] for n in range(ngrams[0], ngrams[1] + 1) for i in range(len(clean) - n + 1))
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    hashes = np.fromiter((zlib.crc32(gram.encode("utf-8")) for gram in counts), dtype=np.int64, count=len(counts))
    tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
    buckets_of, where = np.unique(hashes % buckets, return_inverse=True)
    values = np.bincount(where, weights=np.where(hashes & (1 << 31), -tf, tf)).astype(np.float64)
    norm = float(np.sqrt(np.sum(values * values)))
    return buckets_of, (values / norm if norm > 0 else values)


def hashed_row(text: str, buckets: int = BUCKETS) -> npt.NDArray[np.float64]:
    """``hashed_sparse`` as a dense row of ``buckets`` columns (zeros for a blank text)."""
    row = np.zeros(buckets)
    indices, values = hashed_sparse(text, buckets)
    row[indices] = values
    return row


def hashed_rows(texts: Sequence[str], buckets: int = BUCKETS) -> npt.NDArray[np.float64]:
    """``hashed_row`` for each text, stacked."""
    return np.stack([hashed_row(t, buckets) for t in texts]) if texts else np.zeros((0, buckets))


def fit_dual(
    kernel: npt.NDArray[np.float64], labels: npt.ArrayLike, *, l2: float = LEXICAL_L2
) -> tuple[npt.NDArray[np.float64], float]:
    """Class-balanced L2 logistic regression in its dual: ``(alpha, bias)`` with logits ``kernel @ alpha + bias``.

    At the optimum ``alpha = -sample * (p - y) / l2`` (weights = rows' transpose @ alpha); Newton's method solves
    that fixed point with the unpenalised intercept from zero, so the same kernel gives the same numbers.
    """
    y = np.asarray(labels, dtype=np.float64)
    n = len(y)
    positives = y.sum()
    sample = np.ones(n)
    if 0 < positives < n:
        sample = np.where(y == 1, n / (2 * positives), n / (2 * (n - positives)))
    alpha = np.zeros(n)
    bias = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(kernel @ alpha + bias, -40.0, 40.0)))
        weight = sample * p * (1 - p)
        residual = np.r_[sample * (p - y) + l2 * alpha, (sample * (p - y)).sum()]
        jacobian = np.empty((n + 1, n + 1))
        jacobian[:n, :n] = weight[:, None] * kernel
        jacobian[:n, :n][np.diag_indices(n)] += l2
        jacobian[:n, n] = weight
        jacobian[n, :n] = weight @ kernel
        jacobian[n, n] = weight.sum() + 1e-9
        step = np.linalg.solve(jacobian, residual)
        alpha -= step[:n]
        bias -= float(step[n])
        if np.abs(step).max() < 1e-8:
            break
    return alpha, bias


def fit_lexical(
    rows: npt.NDArray[np.float64], labels: npt.ArrayLike, *, l2: float = LEXICAL_L2
) -> tuple[list[float], float]:
    """One criterion's lexical model: weights over the hashed buckets and a bias, to ``DECIMALS`` digits."""
    alpha, bias = fit_dual(rows @ rows.T, labels, l2=l2)
    return [_compact(v) for v in rows.T @ alpha], _compact(bias)


def fit_quote_lexical(
    sentences: Sequence[str], said: npt.ArrayLike, quoted: npt.ArrayLike, *, l2: float = LEXICAL_L2
) -> tuple[list[float], float]:
    """A criterion's quote ranker over sentences' n-grams: fitted on the sentences of drafts with a quoted violation
    (``quoted``), the quoted ones (``said``) against the others, so it learns which sentence of such a draft says it.
    """
    mask = np.asarray(quoted, dtype=bool)
    rows = hashed_rows([text for text, keep in zip(sentences, mask, strict=True) if keep])
    return fit_lexical(rows, np.asarray(said)[mask], l2=l2)


def out_of_fold_lexical_logits(
    rows: npt.NDArray[np.float64], truth: Sequence[npt.ArrayLike], groups: np.ndarray, folds: int, l2: float
) -> npt.NDArray[np.float64]:
    """Per draft and criterion (columns in ``truth``'s order), the lexical logit of a model fitted without its fold.

    A fold whose rest has one class only gets 0. Rounded like ``coach.judging.folds``' numbers.
    """
    kernel = rows @ rows.T
    columns = np.zeros((len(groups), len(truth)))
    for column, labels in enumerate(truth):
        y = np.asarray(labels, dtype=np.float64)
        for fold in range(folds):
            test = groups == fold
            train = ~test
            if not test.any() or y[train].min() == y[train].max():
                continue
            alpha, bias = fit_dual(kernel[np.ix_(train, train)], y[train], l2=l2)
            columns[test, column] = kernel[np.ix_(test, train)] @ alpha + bias
    return np.round(columns, 6)


def _compact(value: float) -> float:
    return float(f"{float(value):.{DECIMALS}g}")
