"""The phrasebook: per rubric criterion and language, sentences an agent can write, with [slots] for the facts.

Measured (DESIGN.md, "Coaching words"): sentences taken whole from good training replies fix an issue by the
critic's judgement (0.76) but carry another case's numbers and situation; masking only the facts of mined
sentences left their situation in (a blind rater found 64 % of examples unusable: a late-payment fine offered
for a broken screen). So the shipped phrasings are curated: sayable in any complaint (an apology, empathy,
thanks, a time frame, a clarifying question, a solution step), with the situation and the facts as [slots]
such as ``[what happened]`` or ``[date]``; code fills the slots it can from the draft and the customer's
message, and a slot it cannot fill stays a slot for the agent. Mined candidates (``training/phrasebook.py``)
are kept apart for trainers to review.
The file (``knowledge/phrasebook.yaml``) is trainers' data: reviewable, validated here, unknown keys refused.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from coach.knowledge.yaml_models import load_model, parse_model
from coach.language import SUPPORTED_LANGUAGES

PHRASEBOOK_FILE = "phrasebook.yaml"
GENERAL_DOMAINS = 4  # a word used in this many of the good replies' service domains is general vocabulary
STEM = 6  # characters of a word that stand for it (ru, kk, mn and el inflect heavily)
WORD = re.compile(r"[^\W\d_]{4,}")
MIN_PHRASINGS = 5  # per criterion and language: fewer is a gap the coverage check reports

# What a case may be, detected by code (``coach.judging.conditions``), and the kind (``said``: the phrasing
# replaces a quoted sentence; ``missing``: it is added): a phrasing can require or avoid them.
Condition = Literal[
    "urgent", "draft_refuses", "company_error", "cause_explained", "draft_thanked",
    "wants_refund", "wants_replacement", "wants_repair", "wants_cancel", "wants_reschedule", "asks_status",
    "late", "wrong_item", "item_missing", "damaged_or_faulty", "faulty", "charged_wrongly", "staff_rude",
    "service_down",
    "parcel", "pending", "already_happened", "yes_no_question", "draft_offers_solution", "customer_clear",
    "said", "missing",
]  # fmt: skip
SlotKind = Literal["name", "order", "amount", "date", "time", "number", "contact", "detail", "action", "info"]
Language = Literal["en", "ru", "el", "kk", "mn"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
SLOT = re.compile(r"\[([^\[\]\n]{1,40})\]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a phrasing came from: a good training draft and its sentence, before the facts were masked
    (``curated`` for a phrasing written from the guidelines)."""

    draft: Text
    sentence: Text
    domain: str = ""


class Phrasing(_Strict):
    """One sentence to write, fact-free: the case's facts are [slots]."""

    text: Text
    source: Source
    method: Literal["curated", "ablation-flag", "ablation-delta", "trainer"] = Field(
        description="curated: written from the guidelines to be sayable in any complaint (reviewed situation-free); "
        "ablation-flag: without the sentence the critic flags the criterion; ablation-delta: without "
        "it the critic's P(violated) rises the most among the language's sentences; trainer: written by a person."
    )
    delta: float = Field(default=0.0, description="Log-odds the critic's P(violated) rose by without the sentence.")
    requires: tuple[Condition, ...] = Field(default=(), description="Shown only in a case where all of these hold.")
    avoid: tuple[Condition, ...] = Field(default=(), description="Never shown in a case where any of these holds.")

    def suits(self, conditions: Iterable[str]) -> bool:
        """Whether the phrasing may be shown in a case with these conditions."""
        held = set(conditions)
        return set(self.requires) <= held and not held.intersection(self.avoid)

    def slots(self) -> list[str]:
        """The slot labels of the text, in order."""
        return SLOT.findall(self.text)


class Phrasebook(_Strict):
    """Phrasings per criterion and language, and the slot labels in each language."""

    version: Text
    method: Text
    slots: dict[SlotKind, dict[Language, Text]]
    phrasings: dict[str, dict[Language, list[Phrasing]]]

    @model_validator(mode="after")
    def _slots_are_known(self) -> Phrasebook:
        for kind, labels in self.slots.items():
            if set(labels) != set(SUPPORTED_LANGUAGES):
                raise ValueError(f"slot {kind!r} needs a label in every language {list(SUPPORTED_LANGUAGES)}")
        for criterion, by_language in self.phrasings.items():
            for language, phrasings in by_language.items():
                known = {labels[language] for labels in self.slots.values()}
                for phrasing in phrasings:
                    unknown = [s for s in phrasing.slots() if s not in known]
                    if unknown:
                        raise ValueError(f"{criterion}.{language}: {phrasing.text!r} has unknown slots {unknown}")
        return self

    def phrasings_for(self, criterion: str, language: str) -> list[Phrasing]:
        """The phrasings of a criterion in a language (empty when there are none)."""
        return list(self.phrasings.get(criterion, {}).get(language, []))  # type: ignore[call-overload]

    def slot_kind(self, label: str, language: str) -> str | None:
        """Which fact a slot label stands for in a language, or None for an unknown label."""
        for kind, labels in self.slots.items():
            if labels.get(language) == label:  # type: ignore[call-overload]
                return kind
        return None

    def slot_label(self, kind: str, language: str) -> str:
        """The slot label of a fact kind in a language, e.g. ``[дата]``."""
        return f"[{self.slots[kind][language]}]"  # type: ignore[index]

    def coverage(self, criteria: Iterable[str]) -> dict[str, dict[str, int]]:
        """Criterion -> language -> number of phrasings (zeros included)."""
        return {c: {lang: len(self.phrasings_for(c, lang)) for lang in SUPPORTED_LANGUAGES} for c in criteria}

    def gaps(self, criteria: Iterable[str]) -> list[str]:
        """``criterion/language`` cells with fewer than ``MIN_PHRASINGS`` phrasings."""
        return [
            f"{c}/{lang} ({n})"
            for c, row in self.coverage(criteria).items()
            for lang, n in row.items()
            if n < MIN_PHRASINGS
        ]

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hash of the phrasings (what results and cache keys carry)."""
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()[:12]


def stems(text: str) -> set[str]:
    """The word stems of a text outside its slots (words of 4+ letters)."""
    return {w.lower()[:STEM] for w in WORD.findall(SLOT.sub(" ", text))}


def general_vocabulary(cases: Iterable[tuple[str, str, str]]) -> dict[str, set[str]]:
    """Per language, the word stems used in at least ``GENERAL_DOMAINS`` service domains of (language, domain,
    text) cases: words any complaint may use. Any other word belongs to some case's situation."""
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for language, domain, text in cases:
        for word in stems(text):
            seen[language][word].add(domain)
    return {lang: {w for w, d in words.items() if len(d) >= GENERAL_DOMAINS} for lang, words in seen.items()}


def situation_words(text: str, general: set[str], case_text: str) -> list[str]:
    """The words of a phrasing that belong to some situation and not to this case's draft and message."""
    here = stems(case_text)
    return sorted(w for w in stems(text) if w not in general and w not in here)


def parse_phrasebook(text: str, name: str = PHRASEBOOK_FILE) -> Phrasebook:
    """A phrasebook from its YAML text; ``KnowledgeError`` naming what is wrong."""
    return parse_model(text, Phrasebook, name)


def load_phrasebook(folder: Path, fallback: Path | None = None) -> Phrasebook:
    """``<folder>/phrasebook.yaml`` (else the ``fallback`` folder's, e.g. the shipped one), validated and cached."""
    missing = "the phrasebook is missing; run `python training/phrasebook.py`"
    return load_model(folder, fallback, PHRASEBOOK_FILE, Phrasebook, missing)
