"""The critic's hidden layer (coach.judging.hidden_layer): what it learns, how it is blended, that it refits alike."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coach.judging.critic import CriticModel, LinearModel, fit_logistic, sigmoid
from coach.judging.hidden_layer import HiddenLayer, blend, fit_hidden_layer


def _xor(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two criteria no linear model separates: same-sign coordinates, and the first coordinate's size."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
    return x, np.stack([x[:, 0] * x[:, 1] > 0, np.abs(x[:, 0]) > 0.5], axis=1).astype(np.float64)


def test_the_layer_learns_what_a_linear_model_cannot() -> None:
    x, y = _xor()
    layer = fit_hidden_layer(x[:300], y[:300])
    found = layer.logits(x[300:]) > 0
    assert (found == (y[300:] == 1)).mean(axis=0).min() > 0.85
    linear = fit_logistic(x[:300], y[:300, 0].astype(np.int64), l2=1.0).logits(x[300:]) > 0
    assert (linear == (y[300:, 0] == 1)).mean() < 0.7


def test_a_refit_gives_the_same_numbers() -> None:
    x, y = _xor()
    assert fit_hidden_layer(x, y) == fit_hidden_layer(x, y)


def _model(hidden: HiddenLayer | None) -> CriticModel:
    criteria = {
        "a": {"draft": LinearModel(weights=[1.0, 0.0], bias=-1.0), "threshold": 0.5},
        "b": {"draft": LinearModel(weights=[0.0, 2.0], bias=0.0), "threshold": 0.5},
    }
    return CriticModel.model_validate({"embedder": "e", "rubric_version": "r", "criteria": criteria, "hidden": hidden})


def test_the_critic_blends_each_criterions_linear_logit_with_the_layers() -> None:
    layer = HiddenLayer(
        hidden_weights=[[1.0, 0.0], [0.0, 1.0]],
        hidden_biases=[0.0, 0.0],
        output_weights=[[3.0, 0.0], [0.0, -3.0]],
        output_biases=[0.5, 0.0],
        weight=0.25,
    )
    x = np.asarray([0.5, -0.2])
    hidden = np.tanh(x) * np.asarray([3.0, -3.0]) + np.asarray([0.5, 0.0])
    linear = np.asarray([0.5 - 1.0, -0.4])
    expected = sigmoid(0.75 * linear + 0.25 * hidden)
    got = _model(layer).violation_probabilities(x)
    assert [got["a"], got["b"]] == pytest.approx(expected.tolist())
    assert blend({"a": sigmoid(linear[:1]), "b": sigmoid(linear[1:])}, hidden[None, :], 0.25)["b"] == pytest.approx(
        expected[1:], abs=1e-6
    )


def test_a_model_file_without_the_layer_still_loads_and_judges_linearly() -> None:
    written = json.loads(_model(None).to_json())
    del written["hidden"]  # a model file from before the layer
    model = CriticModel.model_validate_json(json.dumps(written))
    assert model.hidden is None
    assert model.violation_probabilities([1.0, 0.0])["a"] == pytest.approx(0.5)


def test_the_columns_per_criterion_follow_the_same_order_in_memory_and_from_the_file() -> None:
    """The stacked lexical logits and the layer's outputs are read per criterion in order; a model built in the
    rubric's order must judge alike once written (the file sorts its keys) and read back."""
    layer = HiddenLayer(
        hidden_weights=[[1.0, 0.0, 0.0, 0.0]],
        hidden_biases=[0.0],
        output_weights=[[2.0], [-2.0]],
        output_biases=[0.0, 0.0],
        weight=0.5,
    )
    lexical = {"zeta": [1.0] * 8, "alpha": [-1.0] * 8}
    criteria = {
        cid: {
            "draft": LinearModel(weights=[0.0, 0.0, 3.0, -3.0], bias=0.0),
            "lexical": LinearModel(weights=weights, bias=0.0),
            "threshold": 0.5,
        }
        for cid, weights in lexical.items()
    }
    built = CriticModel.model_validate(
        {"embedder": "e", "rubric_version": "r", "lexical": True, "criteria": criteria, "hidden": layer}
    )
    read = CriticModel.model_validate_json(built.to_json())
    text = "We are sorry, the refund is done."
    got = built.violation_probabilities([0.4, 0.1], lexical=built.lexical_logits(text))
    assert got == read.violation_probabilities([0.4, 0.1], lexical=read.lexical_logits(text))
    assert got["alpha"] != got["zeta"]
