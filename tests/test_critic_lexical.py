"""The critic's lexical inputs: hashed character n-grams, the dual fit, out-of-fold logits, the stacked column."""

from __future__ import annotations

import numpy as np
import pytest

from coach.judging.critic import CriticModel, LinearModel
from coach.judging.lexical import BUCKETS, fit_dual, fit_lexical, hashed_row, hashed_rows, out_of_fold_lexical_logits

TEXTS = [
    "I'll call you back tomorrow by 13:00 with the result.",
    "Sorry for the wait, the refund is done just now.",
    "It's our policy, nothing we can do.",
    "Θα σας τηλεφωνήσω αύριο έως τις 13:00.",
    "Мы вернём деньги в течение 3 дней.",
    "Маргааш 10:00 цагт танд залгана.",
    "Ертең сағат 12:00-ге дейін хабарласамын.",
    "Could you tell me your order number?",
]


def test_a_row_is_unit_length_stable_and_folds_digits_and_case() -> None:
    row = hashed_row(TEXTS[0])
    assert row.shape == (BUCKETS,)
    assert np.linalg.norm(row) == pytest.approx(1.0)
    assert np.array_equal(row, hashed_row(TEXTS[0])), "crc32, not Python's salted hash: the same row every run"
    assert np.array_equal(hashed_row("Call me at 13:00"), hashed_row("CALL me  at 09:45"))
    assert not hashed_row("   ").any()


def test_the_dual_fit_is_the_optimum_of_the_primal_objective() -> None:
    rows = hashed_rows(TEXTS * 5, 256)
    labels = np.array([1, 0, 1, 0, 0, 1, 0, 1] * 5)
    l2 = 0.5
    alpha, bias = fit_dual(rows @ rows.T, labels, l2=l2)
    weights = rows.T @ alpha
    p = 1 / (1 + np.exp(-(rows @ weights + bias)))
    positives = labels.sum()
    sample = np.where(labels == 1, len(labels) / (2 * positives), len(labels) / (2 * (len(labels) - positives)))
    assert np.abs(rows.T @ (sample * (p - labels)) + l2 * weights).max() < 1e-6, "gradient of the weights is zero"
    assert abs((sample * (p - labels)).sum()) < 1e-6, "and of the unpenalised intercept"
    stored, stored_bias = fit_lexical(rows, labels, l2=l2)
    assert np.allclose(rows @ np.asarray(stored) + stored_bias, rows @ weights + bias, atol=1e-3)
    assert fit_lexical(rows, labels, l2=l2) == (stored, stored_bias)


def test_out_of_fold_lexical_logits_never_see_their_own_fold() -> None:
    rows = hashed_rows([f"{t} {i}" for i, t in enumerate(TEXTS * 6)], 512)
    labels = np.array([1, 0, 1, 0, 0, 1, 0, 1] * 6, dtype=float)
    groups = np.arange(len(labels)) % 3
    columns = out_of_fold_lexical_logits(rows, [labels, np.zeros_like(labels)], groups, 3, 0.3)
    assert columns.shape == (len(labels), 2)
    assert not columns[:, 1].any(), "a criterion never violated gets 0"
    flipped = labels.copy()
    flipped[groups == 0] = 1 - flipped[groups == 0]
    changed = out_of_fold_lexical_logits(rows, [flipped], groups, 3, 0.3)
    assert np.array_equal(changed[groups == 0, 0], columns[groups == 0, 0]), "fold 0's labels never reach fold 0"
    assert not np.array_equal(changed[groups == 1, 0], columns[groups == 1, 0])
    assert np.corrcoef(columns[:, 0], labels)[0, 1] > 0.5


def test_a_lexical_model_reads_its_lexical_logit_after_the_vectors() -> None:
    lexical = LinearModel(weights=[0.0] * 15 + [2.0], bias=-0.5)
    draft = LinearModel(weights=[0.0, 0.0, 1.0], bias=0.0)  # the draft's two numbers, then the lexical logit
    model = CriticModel.model_validate(
        {
            "embedder": "e",
            "rubric_version": "r",
            "lexical": True,
            "criteria": {"a": {"draft": draft, "threshold": 0.5, "lexical": lexical}},
        }
    )
    text = "thanks, done just now"
    expected = 2.0 * hashed_row(text, 16)[15] - 0.5
    assert model.lexical_logits(text) == pytest.approx([expected])
    assert model.violation_probabilities([0.0, 0.0], lexical=model.lexical_logits(text))["a"] == pytest.approx(
        1 / (1 + np.exp(-expected))
    )
    with pytest.raises(ValueError, match="lexical logits"):
        model.violation_probabilities([0.0, 0.0])
    plain = model.model_copy(update={"lexical": False})
    assert plain.lexical_logits(text).size == 0
