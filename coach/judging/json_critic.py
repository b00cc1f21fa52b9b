"""The critic for capable models: the model writes the critique as bounded JSON, and code checks every point.

Quotes must be found in the draft, citations must be retrieved passages, every criterion needs a 1–5
score, and the prose must be in the draft's language (one repair, then the localized rubric text stands
in for prose in the wrong language).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from coach.facts import unmask
from coach.judging.quotes import filter_citations, locate_quote
from coach.language import language_matches
from coach.models import Grounding, Issue, Passage, Score
from coach.prompts import Rubric

MAX_ISSUES = 5
MAX_STRENGTHS = 3
MAX_TEXT = 300
PASSAGE_CHARS = 400


class DraftScore(BaseModel):
    """A score as the model writes it."""

    criterion: str
    score: int = Field(ge=1, le=5)
    reason: str = Field(default="", max_length=MAX_TEXT)


class DraftIssue(BaseModel):
    """An issue as the model writes it, before grounding."""

    criterion: str
    severity: Literal["low", "medium", "high"] = "medium"
    quote: str = Field(max_length=MAX_TEXT)
    explanation: str = Field(default="", max_length=MAX_TEXT)
    suggestion: str = Field(default="", max_length=MAX_TEXT)
    passage_ids: list[str] = Field(default_factory=list, max_length=3)


class DraftCritique(BaseModel):
    """The model's whole answer."""

    scores: list[DraftScore]
    issues: list[DraftIssue] = Field(default_factory=list, max_length=MAX_ISSUES)
    strengths: list[str] = Field(default_factory=list, max_length=MAX_STRENGTHS)


def _string(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


def critique_schema(criteria: Sequence[str], passage_ids: Sequence[str]) -> dict[str, Any]:
    """A JSON schema with every list and string bounded and ids as enums, so output cannot run away."""
    criterion = {"type": "string", "enum": list(criteria)}
    ids = {"type": "array", "items": {"type": "string", "enum": list(passage_ids) or [""]}, "maxItems": 3}
    score = {
        "type": "object",
        "properties": {
            "criterion": criterion,
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "reason": _string(150),
        },
        "required": ["criterion", "score", "reason"],
        "additionalProperties": False,
    }
    issue = {
        "type": "object",
        "properties": {
            "criterion": criterion,
            "severity": {"type": "string", "enum": ["low", "medium", "high"]},
            "quote": _string(200),
            "explanation": _string(200),
            "suggestion": _string(200),
            "passage_ids": ids,
        },
        "required": ["criterion", "severity", "quote", "explanation", "suggestion", "passage_ids"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "scores": {"type": "array", "items": score, "minItems": len(criteria), "maxItems": len(criteria)},
            "issues": {"type": "array", "items": issue, "maxItems": MAX_ISSUES},
            "strengths": {"type": "array", "items": _string(150), "maxItems": MAX_STRENGTHS},
        },
        "required": ["scores", "issues", "strengths"],
        "additionalProperties": False,
    }


def passages_block(passages: Sequence[Passage]) -> str:
    """The passages as the prompt shows them: id, then the text (shortened), in its own language."""
    return "\n".join(f"[{passage.id}] {passage.excerpt(PASSAGE_CHARS)}" for passage in passages)


def prose(value: DraftCritique) -> str:
    """All free text of the answer, for the language check."""
    parts = [s.reason for s in value.scores] + [t for i in value.issues for t in (i.explanation, i.suggestion)]
    return " ".join([*parts, *value.strengths])


def check_critique(value: DraftCritique, rubric: Rubric) -> list[str]:
    """What makes the answer unusable: missing or unknown criteria."""
    problems = []
    scored = [s.criterion for s in value.scores]
    missing = [cid for cid in rubric.ids if cid not in scored]
    unknown = sorted({c for c in scored + [i.criterion for i in value.issues] if c not in rubric.ids})
    if missing:
        problems.append(f"scores: give one score for each of {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown criterion ids {', '.join(unknown)}; use only {', '.join(rubric.ids)}")
    return problems


def check_language(value: DraftCritique, language: str) -> list[str]:
    """Prose in another language than the draft's: worth a repair; the rubric's words stand in after it."""
    if language_matches(prose(value), language):
        return []
    return [f"write reason, explanation, suggestion and strengths in the draft's language ({language})"]


def ground_critique(
    value: DraftCritique,
    draft: str,
    language: str,
    rubric: Rubric,
    passages: Sequence[Passage],
    pii: dict[str, str],
) -> tuple[dict[str, Score], list[Issue], list[str], Grounding]:
    """Scores, located issues and strengths; anything the checks reject is dropped and counted."""
    grounding = Grounding(language_ok=language_matches(prose(value), language))
    allowed = {p.id for p in passages}

    def shown(text: str, fallback: str) -> str:
        text = unmask(text, pii).strip()
        return text if grounding.language_ok and text else fallback

    scores: dict[str, Score] = {}
    for item in value.scores:
        if item.criterion in rubric.ids and item.criterion not in scores:
            criterion = rubric.criterion(item.criterion)
            default = (criterion.fix if item.score <= 3 else criterion.good).get(language)
            scores[item.criterion] = Score(
                criterion=item.criterion,
                name=criterion.name.get(language),
                score=item.score,
                reason=shown(item.reason, default),
            )
    issues: list[Issue] = []
    for drafted in value.issues:
        if drafted.criterion not in rubric.ids:
            continue
        span = locate_quote(draft, unmask(drafted.quote, pii))
        if span is None:
            grounding.quotes_dropped += 1
            continue
        grounding.fuzzy_quotes += span.method == "fuzzy"
        kept, dropped = filter_citations(drafted.passage_ids, allowed)
        grounding.citations_dropped += len(dropped)
        criterion = rubric.criterion(drafted.criterion)
        issues.append(
            Issue(
                criterion=drafted.criterion,
                name=criterion.name.get(language),
                severity=drafted.severity,
                quote=span.text,
                start=span.start,
                end=span.end,
                explanation=shown(drafted.explanation, criterion.good.get(language)),
                suggestion=shown(drafted.suggestion, criterion.fix.get(language)),
                passage_ids=kept,
            )
        )
    strengths = [unmask(s, pii) for s in value.strengths if s.strip()] if grounding.language_ok else []
    return scores, issues, strengths, grounding
