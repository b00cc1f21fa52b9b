"""The critic for small models: narrow Yes/No questions read from logprobs, beside cross-lingual exemplars.

Measured (DESIGN.md, "the critic on the embedded model"): a 1.5B model cannot write a critique, but the
probability it gives "Yes" to a narrow question, asked both ways per criterion, plus the similarity of the
draft's sentences to short English exemplars of each problem, separates flawed drafts from good ones once
both are turned into z-scores and thresholded per criterion. The numbers for that live in a calibration
file made by ``bench/calibrate_critic.py``; nothing here writes prose.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from coach.embeddings import Embedder
from coach.errors import LLMError, PromptError
from coach.knowledge import sentence_spans
from coach.llm import invoke_chat
from coach.models import Usage
from coach.prompts import DEFAULT_PROMPTS_DIR, Criterion, PromptTemplate, Rubric

CALIBRATION_FILE = "critic_calibration.json"
NO_CUSTOMER_MESSAGE = "(none)"
_YES = {"yes", "да", "ναι", "иә", "тийм"}
_NO = {"no", "нет", "όχι", "жоқ", "үгүй"}


# --------------------------------------------------------------------------- signals


@dataclass(frozen=True)
class CriterionSignals:
    """What the critic measured for one criterion of one draft, before calibration."""

    p_yes_bad: float  # P("Yes") to the question that describes the problem
    p_yes_good: float  # P("Yes") to the question that describes the good behaviour
    exemplar: float  # similarity to "bad" exemplars (minus "good" ones for omissions)
    sentence: int  # index of the draft sentence that best matches the problem

    @property
    def llm(self) -> float:
        """Both questions folded into one problem probability."""
        return (self.p_yes_bad + 1.0 - self.p_yes_good) / 2.0

    def as_dict(self) -> dict[str, float | int]:
        """Plain numbers, for the calibration cache."""
        return {
            "p_yes_bad": self.p_yes_bad,
            "p_yes_good": self.p_yes_good,
            "exemplar": self.exemplar,
            "sentence": self.sentence,
        }


def yes_probability(logprobs: Mapping[str, Any] | None) -> float:
    """P(yes) among yes/no answers from an OpenAI ``logprobs`` block of a one-token answer; 0.5 if neither."""
    if not logprobs or not logprobs.get("content"):
        return 0.5
    first = logprobs["content"][0]
    candidates = first.get("top_logprobs") or [first]
    yes = no = 0.0
    for item in candidates:
        token = str(item.get("token", "")).strip().lower()
        chance = math.exp(float(item.get("logprob", -math.inf)))
        if token in _YES:
            yes += chance
        elif token in _NO:
            no += chance
    return yes / (yes + no) if yes + no > 0 else 0.5


class ExemplarScorer:
    """Cross-lingual similarity of each draft sentence to the rubric's English exemplars (no LLM)."""

    def __init__(self, embedder: Embedder, rubric: Rubric) -> None:
        self._embedder = embedder
        self._rubric = rubric
        self._vectors: dict[str, tuple[np.ndarray, np.ndarray | None]] | None = None

    def _exemplar_vectors(self) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        if self._vectors is None:
            texts = [t for c in self._rubric.criteria for t in (*c.exemplars_bad, *c.exemplars_good)]
            embedded = iter(self._embedder.passages(texts))
            vectors = {}
            for criterion in self._rubric.criteria:
                bad = np.stack([next(embedded) for _ in criterion.exemplars_bad])
                good = (
                    np.stack([next(embedded) for _ in criterion.exemplars_good]) if criterion.exemplars_good else None
                )
                vectors[criterion.id] = (bad, good)
            self._vectors = vectors
        return self._vectors

    def score(self, sentences: Sequence[str]) -> dict[str, tuple[float, int]]:
        """Criterion id -> (exemplar score, index of the sentence that matches the problem best)."""
        exemplars = self._exemplar_vectors()
        sentence_vectors = self._embedder.queries(list(sentences))
        scores: dict[str, tuple[float, int]] = {}
        for criterion in self._rubric.criteria:
            bad, good = exemplars[criterion.id]
            to_bad = (sentence_vectors @ bad.T).max(axis=1)
            if criterion.kind == "omission" and good is not None:
                to_good = (sentence_vectors @ good.T).max(axis=1)
                score = float(to_bad.max() - to_good.max())
                best = int(np.argmax(to_bad - to_good))
            else:
                score, best = float(to_bad.max()), int(np.argmax(to_bad))
            scores[criterion.id] = (score, best)
        return scores


def draft_sentences(draft: str) -> list[tuple[int, int]]:
    """Sentence offsets of the draft; the whole draft when it has no sentence break."""
    return sentence_spans(draft) or [(0, len(draft))]


# --------------------------------------------------------------------------- calibration


class CriterionCalibration(BaseModel):
    """How one criterion's two signals become a z-score, and where it is flagged."""

    llm_mean: float = 0.5
    llm_std: float = 0.15
    exemplar_mean: float = 0.0
    exemplar_std: float = 0.05
    llm_weight: float = Field(default=0.5, ge=0, le=1)
    threshold: float = 0.5

    def combined(self, signals: CriterionSignals) -> float:
        """Weighted mean of the two z-scores; above ``threshold`` the criterion is flagged."""
        llm_z = (signals.llm - self.llm_mean) / max(self.llm_std, 1e-6)
        exemplar_z = (signals.exemplar - self.exemplar_mean) / max(self.exemplar_std, 1e-6)
        return self.llm_weight * llm_z + (1 - self.llm_weight) * exemplar_z

    def margin(self, signals: CriterionSignals) -> float:
        """How far the combined score lies above the threshold: >= 0 means the criterion is flagged."""
        return self.combined(signals) - self.threshold


class Calibration(BaseModel):
    """Per-criterion calibration measured for one model, prompt and rubric version."""

    model: str = "uncalibrated"
    prompt_version: str = ""
    rubric_version: str = ""
    criteria: dict[str, CriterionCalibration] = Field(default_factory=dict)
    measured: dict[str, Any] = Field(default_factory=dict, description="What the calibration run reported.")

    def for_criterion(self, criterion_id: str) -> CriterionCalibration:
        """The criterion's calibration, or neutral defaults for a criterion added since."""
        return self.criteria.get(criterion_id, CriterionCalibration())


def load_calibration(folder: Path | None = None) -> Calibration:
    """The calibration file from ``prompts/``; neutral defaults when there is none."""
    path = (folder or DEFAULT_PROMPTS_DIR) / CALIBRATION_FILE
    if not path.exists():
        return Calibration()
    try:
        return Calibration.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, OSError) as exc:
        raise PromptError(
            f"{path.name}: not a valid calibration file: {exc}", name=CALIBRATION_FILE, path=path
        ) from exc


# --------------------------------------------------------------------------- asking


@dataclass(frozen=True)
class Question:
    """One Yes/No question about one criterion."""

    criterion: str
    text: str
    asks_for_problem: bool


def questions(criteria: Sequence[Criterion]) -> list[Question]:
    """Each criterion asked both ways; the draft stays first in every prompt so the server reuses its cache."""
    asked = []
    for criterion in criteria:
        asked.append(Question(criterion.id, criterion.question_bad, True))
        asked.append(Question(criterion.id, criterion.question_good, False))
    return asked


AskFunction = Callable[[list[Any]], tuple[float, Usage]]


class Scorer:
    """Runs the Yes/No questions and the exemplar match for one draft and yields progress."""

    def __init__(self, rubric: Rubric, template: PromptTemplate, system: str, exemplars: ExemplarScorer) -> None:
        self.rubric = rubric
        self.template = template
        self.system = system
        self.exemplars = exemplars

    def signals(
        self,
        draft: str,
        customer_message: str | None,
        ask: AskFunction,
        usage: Usage,
        *,
        exemplar_text: str | None = None,
    ) -> Iterator[tuple[float, dict[str, CriterionSignals] | None]]:
        """Yield (fraction done, None) while asking, then (1.0, signals per criterion).

        ``exemplar_text`` is the unmasked draft when the LLM sees a PII-masked one: sentence indexes
        refer to it.
        """
        from langchain_core.messages import HumanMessage, SystemMessage

        local = exemplar_text if exemplar_text is not None else draft
        exemplar = self.exemplars.score([local[start:end] for start, end in draft_sentences(local)])
        asked = questions(self.rubric.criteria)
        answers: dict[tuple[str, bool], float] = {}
        for done, question in enumerate(asked, start=1):
            prompt = self.template.render(
                draft=draft, customer_message=customer_message or NO_CUSTOMER_MESSAGE, question=question.text
            )
            p_yes, call_usage = ask([SystemMessage(self.system), HumanMessage(prompt)])
            usage.add(call_usage)
            answers[(question.criterion, question.asks_for_problem)] = p_yes
            yield done / len(asked), None
        signals = {
            c.id: CriterionSignals(answers[(c.id, True)], answers[(c.id, False)], *exemplar[c.id])
            for c in self.rubric.criteria
        }
        yield 1.0, signals


def ask_yes_no(chat_model: Any) -> AskFunction:
    """An ``AskFunction`` over a langchain chat model bound to ``max_tokens=1, logprobs=True``."""

    def ask(messages: list[Any]) -> tuple[float, Usage]:
        reply = invoke_chat(chat_model, messages)
        metadata = reply.response_metadata or {}
        if not metadata.get("logprobs"):
            raise LLMError("the LLM server returned no logprobs; set COACH_CRITIC=json for this server")
        tokens = reply.usage_metadata or {}
        usage = Usage(
            prompt_tokens=tokens.get("input_tokens", 0), completion_tokens=tokens.get("output_tokens", 0), calls=1
        )
        return yes_probability(metadata["logprobs"]), usage

    return ask
