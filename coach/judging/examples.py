"""Per issue, the one sentence to write instead (said) or to add (missing), fitted to this case, with no LLM.

Measured (DESIGN.md, "Coaching words"): whole sentences of good replies fix issues by the critic's judgement but
carry another case's facts. So an example is a phrasebook phrasing (``coach.knowledge.phrasebook``: facts as
[slots]) of the issue's criterion in the draft's language, the one closest (e5 vectors) to this draft, this
customer's message and, for said words, the quoted sentence; its slots are then filled by code from the facts
of the draft and the message (names, order numbers, amounts, dates, times, contacts). A slot nothing fills
stays a slot for the agent. The phrasings' vectors are computed once per criterion and language.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coach.facts import facts_by_slot
from coach.knowledge.embeddings import Embedder, Vectors, vector_key
from coach.knowledge.phrasebook import SLOT, Phrasebook, Phrasing
from coach.models import Issue

FILLED_SLOTS = ("name", "order", "amount", "date", "time", "contact")  # a bare [number] is a duration or a count
# Weights of the closeness to each part of the case (chosen, not tuned: the message says what the case is about).
CUSTOMER_WEIGHT, DRAFT_WEIGHT, QUOTE_WEIGHT = 0.5, 0.3, 0.4
OPEN_SLOT_PENALTY = 0.02  # per slot left for the agent: a phrasing code can fill wins a tie
FLAG_BONUS = 0.02  # a phrasing whose removal made the critic flag the criterion wins a tie


@dataclass(frozen=True)
class CaseVectors:
    """The vectors of one case the critique has already computed: draft, its sentences, the customer's message."""

    draft: Vectors
    sentences: Vectors | None = None
    customer: Vectors | None = None


def fill_slots(text: str, language: str, book: Phrasebook, facts: Mapping[str, Sequence[str]]) -> str:
    """The phrasing with each slot whose fact the case has replaced by that fact (the first one found)."""

    def filled(match: object) -> str:
        label = match.group(1)  # type: ignore[attr-defined]
        kind = book.slot_kind(label, language)
        values = facts.get(kind or "", ())
        return str(values[0]) if kind in FILLED_SLOTS and values else f"[{label}]"

    return SLOT.sub(filled, text)


def open_slots(text: str) -> int:
    """How many slots a text still has."""
    return len(SLOT.findall(text))


class ExamplePicker:
    """Chooses and fills a phrasing per issue; the phrasings of a criterion and language are embedded once."""

    def __init__(
        self, book: Callable[[], Phrasebook], embedder: Embedder, known: Callable[[], Mapping[str, Vectors]] = dict
    ) -> None:
        self._book = book
        self._embedder = embedder
        self._known = known  # vectors computed when the phrasebook was mined (``knowledge/vectors.npz``)
        self._vectors: dict[tuple[str, str, str], Vectors] = {}
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """What results name as the phrasebook they used."""
        return f"phrasebook-{self._book().fingerprint}"

    def vectors(self, criterion: str, language: str) -> tuple[list[Phrasing], Vectors]:
        """The cell's phrasings and their vectors (embedded on first use)."""
        book = self._book()
        phrasings = book.phrasings_for(criterion, language)
        key = (book.fingerprint, criterion, language)
        with self._lock:
            if key not in self._vectors:
                known = self._known()
                texts = [p.text for p in phrasings]
                missing = [t for t in texts if vector_key("query", t) not in known]
                embedded = dict(zip(missing, self._embedder.queries(missing), strict=True)) if missing else {}
                rows = [embedded[t] if t in embedded else known[vector_key("query", t)] for t in texts]
                self._vectors[key] = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
            return phrasings, self._vectors[key]

    def warm(self, criteria: Sequence[str], languages: Sequence[str]) -> None:
        """Embed every cell now (the app does it in the background at start-up)."""
        for language in languages:
            for criterion in criteria:
                self.vectors(criterion, language)

    def choose(
        self, issue: Issue, language: str, case: CaseVectors, quote_index: int | None
    ) -> tuple[Phrasing, float] | None:
        """The phrasing closest to this case for the issue, with its score; None when the cell is empty."""
        phrasings, vectors = self.vectors(issue.criterion, language)
        if not phrasings:
            return None
        score = DRAFT_WEIGHT * (vectors @ np.asarray(case.draft, dtype=np.float32).reshape(-1))
        if case.customer is not None:
            score = score + CUSTOMER_WEIGHT * (vectors @ case.customer)
        if issue.kind == "said" and quote_index is not None and case.sentences is not None:
            score = score + QUOTE_WEIGHT * (vectors @ case.sentences[quote_index])
        score = score - OPEN_SLOT_PENALTY * np.array([open_slots(p.text) for p in phrasings])
        score = score + FLAG_BONUS * np.array([p.method == "ablation-flag" for p in phrasings])
        best = int(np.argmax(score))
        return phrasings[best], float(score[best])

    def examples(
        self,
        issues: Sequence[Issue],
        draft: str,
        customer: str | None,
        language: str,
        case: CaseVectors,
        sentences: Sequence[tuple[int, int]],
    ) -> list[Issue]:
        """The issues, each with its ``example``: a chosen phrasing, slots filled from the case's facts."""
        facts = facts_by_slot(customer, draft)
        book = self._book()
        out = []
        for issue in issues:
            quote_index = next((i for i, (a, b) in enumerate(sentences) if (a, b) == (issue.start, issue.end)), None)
            chosen = self.choose(issue, language, case, quote_index)
            if chosen is None:
                out.append(issue)
                continue
            example = fill_slots(chosen[0].text, language, book, facts)
            out.append(issue.model_copy(update={"example": example, "example_source": chosen[0].source.draft}))
        return out
