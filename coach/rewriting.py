"""Rewrites: the model's new reply, held to the draft's facts and language and to the rubric by code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from coach.facts import fact_changes, unmask
from coach.language import language_matches
from coach.models import Change, Critique, Grounding, Passage, Rewrite
from coach.prompts import Rubric
from coach.quotes import filter_citations

MAX_CHANGES = 5


class DraftChange(BaseModel):
    """A change as the model describes it."""

    criterion: str = ""
    what: str = Field(default="", max_length=300)
    why: str = Field(default="", max_length=300)
    passage_ids: list[str] = Field(default_factory=list, max_length=3)


class DraftRewrite(BaseModel):
    """The model's whole answer."""

    text: str
    changes: list[DraftChange] = Field(default_factory=list, max_length=MAX_CHANGES)


def rewrite_token_budget(draft: str) -> int:
    """Room for a reply about as long as the draft plus the list of changes (Cyrillic costs more tokens)."""
    return min(1600, 350 + len(draft) // 2)


def rewrite_schema(criteria: Sequence[str], passage_ids: Sequence[str], draft_chars: int) -> dict[str, Any]:
    """Bounded JSON schema of a rewrite; ids and criteria as enums."""
    change = {
        "type": "object",
        "properties": {
            "criterion": {"type": "string", "enum": list(criteria)},
            "what": {"type": "string", "maxLength": 150},
            "why": {"type": "string", "maxLength": 150},
            "passage_ids": {
                "type": "array",
                "items": {"type": "string", "enum": list(passage_ids) or [""]},
                "maxItems": 3,
            },
        },
        "required": ["criterion", "what", "why", "passage_ids"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 2 * draft_chars + 400},
            "changes": {"type": "array", "items": change, "maxItems": MAX_CHANGES},
        },
        "required": ["text", "changes"],
        "additionalProperties": False,
    }


def check_rewrite(value: DraftRewrite) -> list[str]:
    """What makes a rewrite unusable: no text."""
    return [] if value.text.strip() else ["text is empty: write the improved reply"]


def review_rewrite(value: DraftRewrite, draft: str, language: str) -> list[str]:
    """Problems worth one repair, shown as warnings if they stay: unchanged, wrong language, facts changed."""
    text = value.text.strip()
    problems = []
    if " ".join(text.split()) == " ".join(draft.split()):
        problems.append("text is the DRAFT unchanged: improve it")
    if not language_matches(text, language):
        problems.append(f"text must be in the DRAFT's language ({language}), written by the agent")
    changes = fact_changes(draft, text)
    if changes.lost:
        problems.append(f"keep these facts of the DRAFT exactly: {', '.join(changes.lost)}")
    if changes.invented:
        problems.append(f"remove facts that are not in the DRAFT: {', '.join(changes.invented)}")
    return problems


def build_rewrite(
    value: DraftRewrite,
    text: str,
    draft: str,
    language: str,
    rubric: Rubric,
    passages: Sequence[Passage],
    before: Critique,
    after: Critique | None,
    pii: dict[str, str],
) -> Rewrite:
    """The checked rewrite: warnings for lost or invented facts, wrong language, or no better score."""
    facts = fact_changes(draft, text)
    grounding = Grounding(language_ok=language_matches(text, language))
    warnings = []
    if facts.lost:
        warnings.append(f"facts of the draft missing from the rewrite: {', '.join(facts.lost)}")
    if facts.invented:
        warnings.append(f"facts in the rewrite that the draft does not have: {', '.join(facts.invented)}")
    if not grounding.language_ok:
        warnings.append(f"the rewrite is not in the draft's language ({language})")
    if after is not None and after.overall <= before.overall:
        warnings.append(
            f"the rewrite scores no better than the draft on the rubric ({before.overall} → {after.overall})"
        )
    allowed = {p.id for p in passages}
    changes = []
    for item in value.changes:
        kept, dropped = filter_citations(item.passage_ids, allowed)
        grounding.citations_dropped += len(dropped)
        what, why = unmask(item.what, pii).strip(), unmask(item.why, pii).strip()
        if not language_matches(f"{what} {why}", language):
            if item.criterion not in rubric.ids:
                continue
            criterion = rubric.criterion(item.criterion)
            what, why = criterion.fix.get(language), criterion.good.get(language)
        if what:
            changes.append(Change(what=what, why=why, passage_ids=kept))
    return Rewrite(
        text=text,
        language=language,
        changes=changes,
        lost_facts=facts.lost,
        invented_facts=facts.invented,
        warnings=warnings,
        draft_overall=before.overall,
        rewrite_overall=after.overall if after else None,
        passages=list(passages),
        grounding=grounding,
    )
