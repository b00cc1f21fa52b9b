"""A small non-linear learner beside the critic's linear draft models: one hidden layer shared by every criterion.

The linear draft models separate violating drafts from the rest with an AUC near 0.92, but the issues' line at
precision 0.75 sits where few drafts are sure; a tanh layer over the same inputs (the draft models' feature rows,
stacked logits and message x reply cues included) bends that edge. Each criterion's logit is then
``(1 - weight) * linear + weight * hidden``: the two disagree where each is unsure, and the blend is surer.

The fit is deterministic: full-batch Adam from a fixed seed (normal initial weights, input dropout masks), a fixed
number of steps, inputs standardised and the standardisation folded into the first layer, the weights rounded to
``DIGITS`` significant digits (a reviewable file, the same bytes on every run with one BLAS thread). Both classes
of every criterion weigh half, as the linear models' ``balanced`` fit does.

Measured (bench/critic_learner.py, 5-fold CV on training/drafts.jsonl, issues' lines at precision 0.75 chosen on
the other folds): held-apart recall 0.545 -> 0.568 with two seeds' layers averaged (one seed: .556-.574 by its
initial weights), false issues per good draft 0.05 -> 0.08; second-stage stacking of the other criteria's
out-of-fold logits and a language one-hot bought nothing (listed there).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

Matrix = npt.NDArray[np.float64]

HIDDEN = 128  # units per seed; 64 and 256 in one layer were no better (bench/critic_learner.py)
DROPOUT = 0.2  # share of the standardised inputs zeroed at each step
STEPS = 300  # full-batch Adam steps
RATE = 3e-3  # Adam's step size
DECAY = 1e-3  # L2 on both layers' weights
SEEDS = (0, 1)  # one layer per seed, logits averaged: one seed's CV recall varied .556-.574 with the init
WEIGHT = 0.5  # the hidden layer's share of each criterion's logit
DIGITS = 6  # significant digits of the stored weights


class HiddenLayer(BaseModel):
    """tanh(x W1 + b1) W2 + b2: one logit per criterion (in the rubric's order), inputs as the draft models read."""

    model_config = ConfigDict(frozen=True)

    hidden_weights: list[list[float]] = Field(description="Per hidden unit, its weights on the draft model's inputs.")
    hidden_biases: list[float]
    output_weights: list[list[float]] = Field(description="Per criterion (rubric order), its weights on the units.")
    output_biases: list[float]
    weight: float = Field(ge=0, le=1, description="The layer's share of each criterion's logit (the rest: linear).")

    @cached_property
    def _layers(self) -> tuple[Matrix, Matrix, Matrix, Matrix]:
        return (
            np.asarray(self.hidden_weights, dtype=np.float64).T,
            np.asarray(self.hidden_biases, dtype=np.float64),
            np.asarray(self.output_weights, dtype=np.float64).T,
            np.asarray(self.output_biases, dtype=np.float64),
        )

    def logits(self, features: npt.ArrayLike) -> Matrix:
        """Per row of ``features`` (or one vector), the log-odds of each criterion's violation: rows x criteria."""
        w1, b1, w2, b2 = self._layers
        x = np.atleast_2d(np.asarray(features, dtype=np.float64))
        return np.asarray(np.tanh(x @ w1 + b1) @ w2 + b2, dtype=np.float64)


def fit_hidden_layer(features: npt.ArrayLike, labels: npt.ArrayLike, *, seeds: Sequence[int] = SEEDS) -> HiddenLayer:
    """Fit the layer on feature rows and a 0/1 label matrix (rows x criteria); see the module's notes.

    One layer of ``HIDDEN`` units per seed, their logits averaged: stored as one layer of their units side by side.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    fitted = [_fit_one((x - mean) / scale, y, seed) for seed in seeds]
    w1 = np.hstack([f[0] for f in fitted]) / scale[:, None]  # the standardisation folded into the first layer
    b1 = np.concatenate([f[1] for f in fitted]) - mean @ w1
    w2 = np.vstack([f[2] for f in fitted]) / len(fitted)
    b2 = np.mean([f[3] for f in fitted], axis=0)
    return HiddenLayer(
        hidden_weights=[[_short(v) for v in unit] for unit in w1.T],
        hidden_biases=[_short(v) for v in b1],
        output_weights=[[_short(v) for v in column] for column in w2.T],
        output_biases=[_short(v) for v in b2],
        weight=WEIGHT,
    )


def _fit_one(z: np.ndarray, y: np.ndarray, seed: int) -> list[np.ndarray]:
    """One layer on standardised rows: full-batch Adam from the seed's initial weights, with input dropout."""
    rng = np.random.default_rng(seed)
    n, width = z.shape
    positives = np.clip(y.mean(axis=0), 1.0 / n, 1.0 - 1.0 / n)
    sample = np.where(y == 1, 0.5 / positives, 0.5 / (1.0 - positives)) / n
    params = [
        rng.normal(0.0, 1.0 / np.sqrt(width), (width, HIDDEN)),
        np.zeros(HIDDEN),
        rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), (HIDDEN, y.shape[1])),
        np.zeros(y.shape[1]),
    ]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for step in range(1, STEPS + 1):
        dropped = z * (rng.random(z.shape) >= DROPOUT) / (1.0 - DROPOUT)
        hidden = np.tanh(dropped @ params[0] + params[1])
        out = hidden @ params[2] + params[3]
        error = sample * (1.0 / (1.0 + np.exp(-np.clip(out, -40.0, 40.0))) - y)
        back = (error @ params[2].T) * (1.0 - hidden * hidden)
        grads = [dropped.T @ back + DECAY * params[0], back.sum(axis=0), hidden.T @ error + DECAY * params[2]]
        grads.append(error.sum(axis=0))
        for i, grad in enumerate(grads):
            first[i] = 0.9 * first[i] + 0.1 * grad
            second[i] = 0.999 * second[i] + 0.001 * grad * grad
            params[i] -= RATE * (first[i] / (1 - 0.9**step)) / (np.sqrt(second[i] / (1 - 0.999**step)) + 1e-8)
    return params


def out_of_fold_hidden(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, folds: int) -> Matrix:
    """Each row's logits (rows x criteria) from a layer fitted without its fold."""
    logits = np.zeros(labels.shape, dtype=np.float64)
    for fold in range(folds):
        test = groups == fold
        if test.any():
            logits[test] = fit_hidden_layer(features[~test], labels[~test]).logits(features[test])
    return logits


def blend(probabilities: dict[str, np.ndarray], hidden_logits: np.ndarray, weight: float) -> dict[str, np.ndarray]:
    """The linear models' probabilities blended with the layer's logits (columns in the dict's order), 6 decimals:
    what ``CriticModel.violation_probabilities`` gives, for the thresholds and figures of the fit."""
    blended = {}
    for column, (cid, p) in enumerate(probabilities.items()):
        linear = np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))
        mixed = (1 - weight) * linear + weight * hidden_logits[:, column]
        blended[cid] = np.round(1.0 / (1.0 + np.exp(-np.clip(mixed, -40.0, 40.0))), 6)
    return blended


def _short(value: float) -> float:
    return float(f"{float(value):.{DIGITS}g}")
