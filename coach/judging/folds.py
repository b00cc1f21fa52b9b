"""Cross-validation folds of the critic's fit: stable folds, out-of-fold probabilities, and the stacked
sentence logits the draft models read (``CriticModel.stacked``).

Pure numpy on vectors and labels; deterministic (folds by a hash of each draft's id, Newton's method from zero,
out-of-fold numbers rounded so last-bit noise cannot move a threshold or a weight's 7th digit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from coach.judging.critic import fit_logistic

PROBABILITY_DECIMALS = 6  # out-of-fold probabilities are rounded so last-bit noise cannot move a threshold


def fold_of(draft_id: str, folds: int) -> int:
    """A stable fold for a draft: the same in every run and on every machine."""
    return int(hashlib.sha256(draft_id.encode("utf-8")).hexdigest(), 16) % folds


def out_of_fold(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, folds: int, l2: float) -> np.ndarray:
    """Each row's probability from a model fitted without its fold."""
    predicted = np.zeros(len(labels))
    for fold in range(folds):
        test = groups == fold
        train = ~test
        if not test.any():
            continue
        if labels[train].min() == labels[train].max():
            predicted[test] = float(labels[train][0])
            continue
        predicted[test] = fit_logistic(features[train], labels[train], l2=l2).probabilities(features[test])
    return np.round(predicted, PROBABILITY_DECIMALS)


def out_of_fold_sentence_logits(
    sentences: np.ndarray,
    sentence_draft: np.ndarray,
    said: Sequence[np.ndarray | None],
    groups: np.ndarray,
    folds: int,
    l2: float,
) -> np.ndarray:
    """Per draft and criterion, the highest logit of its sentences under a sentence model fitted without its fold.

    ``said`` holds each criterion's sentence labels, or None where the shipped model has no sentence model (the
    column is then 0, as ``CriticModel.sentence_logits`` gives). A fold whose rest has no positive gets 0 too.
    The draft models are fitted on these columns so that they learn how far to trust a sentence score that
    was not fitted on the draft itself.
    """
    n_drafts = len(groups)
    starts = np.r_[0, np.flatnonzero(np.diff(sentence_draft)) + 1]
    if len(starts) != n_drafts or (np.diff(sentence_draft) < 0).any():
        raise ValueError("every draft needs at least one sentence, listed in draft order")
    sentence_groups = groups[sentence_draft]
    columns = np.zeros((n_drafts, len(said)))
    for column, labels in enumerate(said):
        if labels is None:
            continue
        logits = np.zeros(len(labels))
        for fold in range(folds):
            test = sentence_groups == fold
            train = ~test
            if test.any() and labels[train].min() != labels[train].max():
                logits[test] = fit_logistic(sentences[train], labels[train], l2=l2).logits(sentences[test])
        columns[:, column] = np.maximum.reduceat(logits, starts)
    return np.round(columns, PROBABILITY_DECIMALS)
