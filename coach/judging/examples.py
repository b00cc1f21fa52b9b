"""Per issue, the one sentence to write instead (said) or to add (missing), fitted to this case, with no LLM.

Measured (DESIGN.md, "Coaching words"): whole sentences of good replies fix issues by the critic's judgement but
carry another case's facts and situation; a blind rater found 64 % of examples mined that way unusable. So an
example is a phrasebook phrasing (``coach.knowledge.phrasebook``: situation-free, facts as [slots]) of the
issue's criterion in the draft's language, shown only when it fits this case:
- fit gate: a phrasing not curated as situation-free passes only with no situation word foreign to this draft
  and message (a word outside the language's general vocabulary, i.e. used in fewer than 4 of the 12 service
  domains of the good replies) and when it is closer (e5) to this case than to the case it came from; when no
  phrasing passes, the cell's most generic one (no slot, no situation word) is shown;
- choice: among the phrasings that pass, the one the critic would most clearly stop flagging once applied (its
  features updated in place: the phrasing's vector joins the sentence vectors or replaces the quoted one, and
  the draft's vector moves towards it by its share of the characters; no embedding, so no time), a slot left for
  the agent costing a little; without the critic, the closest (e5) to this draft, this customer's message and,
  for said words, the quoted sentence;
- slots are filled by code from the facts of the draft and the message (names, order numbers, amounts,
  contacts). A date or a time is a promise only the agent can make, and a [what happened] is theirs to say: such
  slots stay slots. The phrasings' vectors are computed once per criterion and language;
- conditions: a phrasing whose ``requires`` / ``avoid`` conditions (``coach.judging.conditions``: urgent,
  draft_refuses, company_error, cause_explained, draft_thanked, what the customer asks for: wants_refund, ..., and
  where the case stands, ``coach.judging.situation``: parcel, pending, already_happened, yes_no_question, ...)
  do not hold for this case is never chosen, so an example admits no mistake that is not established, thanks
  "again" only after a thank-you, and names no time frame that clashes with a customer who needs it today; the
  issue's kind is a condition too (``said``, ``missing``): a phrasing that replaces said words ("this will be done
  by [date]") is never added where nothing was said;
- specific beats generic: where phrasings whose ``requires`` hold for the case pass, the choice is among them (a
  refund request gets "the refund of [amount] will reach your card by [date]", not "an update today"), the most
  specific first: one that names what the customer complains about or asks for (``coach.judging.complaints``:
  "I'm sorry about the duplicate charge of [amount]") before one that only suits a condition of the case ("I'm
  sorry this isn't the answer you were hoping for", rated an apology that owns nothing), whatever the critic's
  estimate; among those, a less specific one only when the more specific is not expected to stop the critic's flag;
  a generic one only when no phrasing names what the case is about and it alone is expected to stop the flag.
  Blind raters found the critic's margin alone drifts to phrasings that pack many rubric signals and fit no case in
  particular.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coach.facts import facts_by_slot
from coach.judging.complaints import COMPLAINTS
from coach.judging.conditions import REQUESTS, detect_conditions
from coach.judging.plain_words import CRITERION as PLAIN_CRITERION
from coach.judging.plain_words import SOURCE as PLAIN_SOURCE
from coach.judging.plain_words import shown_plain
from coach.knowledge.embeddings import Embedder, Vectors, vector_key
from coach.knowledge.phrasebook import SLOT, Phrasebook, Phrasing, situation_words
from coach.knowledge.plain_words import PlainWords
from coach.models import Issue

FILLED_SLOTS = ("name", "order", "amount", "contact")
ABOUT_THE_CASE = frozenset(COMPLAINTS + REQUESTS)  # what happened and what is asked, read from the message
# A date, a time or a number of days is a promise only the agent can make: a phrasing that leaves one for them
# costs nothing in the choice (a vague "you'll hear from me today" is not better than "by [date]"). Decided after
# the second blind rating (eval/ratings/examples-2-ratings.jsonl): 8 of 10 time-frame examples "needed editing"
# because the case needed a concrete date, while the rater's brief, like this tool, leaves a date to the agent.
PROMISE_SLOTS = ("date", "time", "number")

# Weights of the closeness to each part of the case (chosen, not tuned: the message says what the case is about).
CUSTOMER_WEIGHT, DRAFT_WEIGHT, QUOTE_WEIGHT = 0.5, 0.3, 0.4
OPEN_SLOT_PENALTY = 0.05  # per slot left for the agent: a phrasing they can paste as it is wins a near tie
FLAG_BONUS = 0.02  # a mined phrasing whose removal made the critic flag the criterion wins a tie
# With the critic at hand, the phrasing chosen is the one with the lowest expected margin (log-odds over the
# threshold) once applied, plus this per slot left for the agent. Chosen on eval/queries.jsonl (62 issues,
# 4 per language; each phrasing applied and judged for real): the lowest expected margin fixes 56 (the best
# possible choice 57, the closest phrasing among those expected to fix 49); with 0.5 per slot 55, and a slot
# is left in 4 examples instead of 14.
SLOT_COST = 0.5

# The critic's margin (log-odds over its threshold) for a criterion, given a draft's features.
Margin = Callable[[str, Vectors, Vectors | None, Vectors | None], float]


@dataclass(frozen=True)
class CaseVectors:
    """The vectors of one case the critique has already computed: draft, its sentences, the customer's message."""

    draft: Vectors
    sentences: Vectors | None = None
    customer: Vectors | None = None
    lexical: np.ndarray | None = None  # the critic's text features of the draft as written (none without them)


def fill_slots(text: str, language: str, book: Phrasebook, facts: Mapping[str, Sequence[str]]) -> str:
    """The phrasing with each slot whose fact the case has replaced by that fact (the first one found)."""

    def filled(match: re.Match[str]) -> str:
        label = match.group(1)
        kind = book.slot_kind(label, language)
        values = facts.get(kind or "", ())
        return str(values[0]) if kind in FILLED_SLOTS and values else f"[{label}]"

    return SLOT.sub(filled, text)


def costly_slots(text: str, language: str, book: Phrasebook) -> int:
    """How many slots a phrasing leaves for the agent that are not a promise only they can make."""
    return sum(book.slot_kind(label, language) not in PROMISE_SLOTS for label in SLOT.findall(text))


def specificity(phrasing: Phrasing) -> int:
    """How many of a phrasing's conditions say what the case is about (a complaint, a request): an apology for a
    duplicate charge beats one for "the answer you were hoping for", which beats "sorry for the trouble"."""
    return len(set(phrasing.requires) & ABOUT_THE_CASE)


def open_slots(text: str) -> int:
    """How many slots a text still has."""
    return len(SLOT.findall(text))


def applied_features(
    case: CaseVectors, phrasing: Vectors, draft_chars: int, quote: tuple[int, int] | None, phrasing_chars: int
) -> tuple[Vectors, Vectors | None]:
    """The draft's vector and sentence vectors with a phrasing put in, without embedding anything: the phrasing
    replaces the quoted sentence (``quote``: its index and length) or joins the sentences, and the draft's vector
    loses the quote and gains the phrasing by their shares of the characters."""
    draft = np.asarray(case.draft, dtype=np.float32).reshape(-1)
    total = max(draft_chars + phrasing_chars - (quote[1] if quote else 0), 1)
    moved = draft * (1 - phrasing_chars / total) + phrasing * (phrasing_chars / total)
    sentences = case.sentences
    if sentences is not None:
        sentences = np.asarray(sentences, dtype=np.float32)
        if quote is not None:
            moved = moved - sentences[quote[0]] * (quote[1] / total)
            sentences = np.delete(sentences, quote[0], axis=0)
        sentences = np.vstack([sentences, phrasing]) if len(sentences) else phrasing.reshape(1, -1)
    return np.asarray(moved / max(float(np.linalg.norm(moved)), 1e-9), dtype=np.float32), sentences


class ExamplePicker:
    """Chooses and fills a phrasing per issue; the phrasings of a criterion and language are embedded once."""

    def __init__(
        self,
        book: Callable[[], Phrasebook],
        embedder: Embedder,
        known: Callable[[], Mapping[str, Vectors]] = dict,
        *,
        general: Callable[[], Mapping[str, set[str]]] = dict,
        source_case: Callable[[str], Vectors | None] = lambda _: None,
        plain_words: Callable[[], PlainWords] | None = None,
    ) -> None:
        self._book = book
        self._embedder = embedder
        self._known = known  # vectors computed when the phrasebook was mined (``knowledge/vectors.npz``)
        self._general = general  # per language, the general vocabulary (``general_vocabulary`` of the replies)
        self._source_case = source_case  # a good reply's situation vector, by id (None when unknown)
        self._plain_words = plain_words  # the plain-words glossary (``knowledge/plain_words.yaml``), when given
        self._vectors: dict[tuple[str, str, str], Vectors] = {}
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """What results name as the phrasebook they used."""
        plain = f"+plain-{self._plain_words().fingerprint}" if self._plain_words is not None else ""
        return f"phrasebook-{self._book().fingerprint}{plain}"

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
                self._vectors[key] = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1 if texts else 0)
            return phrasings, self._vectors[key]

    def warm(self, criteria: Sequence[str], languages: Sequence[str]) -> None:
        """Embed every cell now (the app does it in the background at start-up)."""
        for language in languages:
            for criterion in criteria:
                self.vectors(criterion, language)

    def criterion_of(self, sentence: str, language: str, criteria: Sequence[str]) -> str | None:
        """The criterion whose phrasings in this language hold the sentence's nearest one (e5): what the sentence
        reads as a fix for. None when no cell of the language has a phrasing."""
        cells = [(c, self.vectors(c, language)[1]) for c in criteria]
        cells = [(c, v) for c, v in cells if len(v)]
        if not cells:
            return None
        vector = np.asarray(self._embedder.queries([sentence]), dtype=np.float32).reshape(-1)
        return max(cells, key=lambda cell: float((cell[1] @ vector).max()))[0]

    def fits(self, phrasing: Phrasing, vector: Vectors, language: str, case: CaseVectors, case_text: str) -> bool:
        """The fit gate: a curated phrasing is situation-free by review; any other must have no situation word
        foreign to this case and be closer to this case than to the case it came from."""
        if phrasing.method == "curated":
            return True
        if situation_words(phrasing.text, set(self._general().get(language, ())), case_text):
            return False
        source = self._source_case(phrasing.source.draft)
        if source is None:
            return True
        here = np.asarray(case.draft, dtype=np.float32).reshape(-1)
        if case.customer is not None:
            here = here + np.asarray(case.customer, dtype=np.float32).reshape(-1)
        here = here / max(float(np.linalg.norm(here)), 1e-9)
        return float(vector @ here) > float(vector @ np.asarray(source, dtype=np.float32).reshape(-1))

    def generic(self, phrasings: Sequence[Phrasing], language: str, case_text: str) -> int:
        """The cell's most generic phrasing: curated, fewest slots, fewest situation words, first written."""
        general = set(self._general().get(language, ()))
        return min(
            range(len(phrasings)),
            key=lambda i: (
                phrasings[i].method != "curated",
                open_slots(phrasings[i].text),
                len(situation_words(phrasings[i].text, general, case_text)),
                i,
            ),
        )

    def choose(
        self,
        issue: Issue,
        language: str,
        case: CaseVectors,
        quote_index: int | None,
        *,
        case_text: str = "",
        draft_chars: int = 0,
        margin: Margin | None = None,
        conditions: frozenset[str] = frozenset(),
        facts: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[Phrasing, float] | None:
        """The phrasing for the issue, with its closeness; None when the cell is empty. A phrasing whose
        conditions do not hold for the case (``conditions``: those that do) is never chosen while one suits; a slot
        the case's ``facts`` fill costs nothing."""
        phrasings, vectors = self.vectors(issue.criterion, language)
        if not phrasings:
            return None
        suiting = [i for i, p in enumerate(phrasings) if p.suits(conditions)] or list(range(len(phrasings)))
        score = DRAFT_WEIGHT * (vectors @ np.asarray(case.draft, dtype=np.float32).reshape(-1))
        if case.customer is not None:
            score = score + CUSTOMER_WEIGHT * (vectors @ case.customer)
        if issue.kind == "said" and quote_index is not None and case.sentences is not None:
            score = score + QUOTE_WEIGHT * (vectors @ case.sentences[quote_index])
        book = self._book()
        left = [costly_slots(fill_slots(p.text, language, book, facts or {}), language, book) for p in phrasings]
        score = score - OPEN_SLOT_PENALTY * np.array(left)
        score = score + FLAG_BONUS * np.array([p.method == "ablation-flag" for p in phrasings])
        passing = [i for i in suiting if self.fits(phrasings[i], vectors[i], language, case, case_text)]
        if not passing:
            best = suiting[self.generic([phrasings[i] for i in suiting], language, case_text)]
            return phrasings[best], float(score[best])
        if margin is not None:
            quote = (quote_index, len(issue.quote)) if issue.kind == "said" and quote_index is not None else None

            def expected(i: int) -> float:
                draft, sentences = applied_features(case, vectors[i], draft_chars, quote, len(phrasings[i].text))
                return margin(issue.criterion, draft, sentences, case.customer) + SLOT_COST * left[i]

            ranked = sorted(passing, key=lambda i: (expected(i), -float(score[i])))
            # the most specific tier whose best is expected to stop the flag; a generic one only when it alone is
            tiers = sorted({specificity(phrasings[i]) for i in ranked if phrasings[i].requires}, reverse=True)
            tier_of = {i: specificity(phrasings[i]) for i in ranked if phrasings[i].requires}
            firsts = [next(i for i in ranked if tier_of.get(i) == t) for t in tiers]
            # a phrasing that names what happened or what is asked is never displaced by a less specific one: the
            # expected margin is an estimate, and blind raters called an apology beside a complaint that does not name
            # it ("sorry for the inconvenience", "not the answer you were hoping for") one that owns nothing
            named = [i for i in firsts if tier_of[i] > 0]
            candidates = named or firsts
            fixing = [i for i in candidates if expected(i) < 0]
            specific_stands = bool(named) or bool(firsts) and expected(ranked[0]) >= 0
            best = fixing[0] if fixing else candidates[0] if specific_stands else ranked[0]
            return phrasings[best], float(score[best])
        specific = [i for i in passing if phrasings[i].requires]  # specific beats generic, the most specific first
        top = max((specificity(phrasings[i]) for i in specific), default=0)
        passing = [i for i in specific if specificity(phrasings[i]) == top] or passing
        best = max(passing, key=lambda i: float(score[i]))
        return phrasings[best], float(score[best])

    def examples(
        self,
        issues: Sequence[Issue],
        draft: str,
        customer: str | None,
        language: str,
        case: CaseVectors,
        sentences: Sequence[tuple[int, int]],
        margin: Margin | None = None,
    ) -> list[Issue]:
        """The issues, each with its ``example``: a chosen phrasing, slots filled from the case's facts."""
        facts = facts_by_slot(customer, draft)
        book = self._book()
        case_text = f"{draft}\n{customer or ''}"
        conditions = detect_conditions(draft, customer, language)
        out = []
        for issue in issues:
            plain = self.plain_example(issue, language, customer)
            if plain is not None:
                out.append(issue.model_copy(update={"example": plain, "example_source": PLAIN_SOURCE}))
                continue
            quote_index = next((i for i, (a, b) in enumerate(sentences) if (a, b) == (issue.start, issue.end)), None)
            chosen = self.choose(
                issue,
                language,
                case,
                quote_index,
                case_text=case_text,
                draft_chars=len(draft),
                margin=margin,
                conditions=conditions | {issue.kind},
                facts=facts,
            )
            if chosen is None:
                out.append(issue)
                continue
            example = fill_slots(chosen[0].text, language, book, facts)
            out.append(issue.model_copy(update={"example": example, "example_source": chosen[0].source.draft}))
        return out

    def plain_example(self, issue: Issue, language: str, customer: str | None = None) -> str | None:
        """For jargon or bureaucratic words (said, ``clear_positive_wording``), the quoted sentence put plainly
        (``coach.judging.plain_words``); None when code cannot, and the phrasebook's phrasing stands. A word the
        customer wrote is not jargon to them."""
        if self._plain_words is None or issue.criterion != PLAIN_CRITERION or issue.kind != "said" or not issue.quote:
            return None
        return shown_plain(issue.quote, language, self._plain_words(), customer)

    def alternatives(self, issue: Issue, draft: str, customer: str | None, language: str) -> list[str]:
        """The issue's cell's other phrasings a rewrite may try when its example does not help, filled from the
        case's facts, in the phrasebook's order: only those whose conditions hold for the case (mined ones only when
        situation-free here)."""
        book = self._book()
        facts = facts_by_slot(customer, draft)
        case_text = f"{draft}\n{customer or ''}"
        general = set(self._general().get(language, ()))
        conditions = detect_conditions(draft, customer, language)
        texts = []
        cell = book.phrasings_for(issue.criterion, language)
        for phrasing in sorted(cell, key=lambda p: (-specificity(p), not p.requires)):  # specific first, book's order
            if not phrasing.suits(conditions | {issue.kind}):
                continue
            if phrasing.method != "curated" and situation_words(phrasing.text, general, case_text):
                continue
            text = fill_slots(phrasing.text, language, book, facts)
            if text != issue.example and text not in texts:
                texts.append(text)
        return texts
