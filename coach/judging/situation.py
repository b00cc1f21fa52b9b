"""Where a case stands, read by code, so an example never presupposes a situation the case lacks.

Blind raters of tuning-set examples (``eval/ratings/tuning-1*``, ``tuning-2*``) rated unusable or to be edited
phrasings that were right for some case but not this one: "this usually takes up to [N] working days" and "I'll
write to you today how things stand" for a cake already delivered late (nothing is pending: the next step is the
remedy); "where it is now", "when it will arrive" and tracing with the courier for a bank refund; "two options"
for a customer who asked a yes/no question; "if this solution doesn't suit you" beside a draft that offered none;
"tell me more about what happened" to a customer who said what happened and what they want. So a phrasing may
``require`` or ``avoid`` these conditions (``knowledge/phrasebook.yaml``), read by cue words per language
(``coach.judging.cues``):

- ``parcel``: the message or the draft is about a delivery: a parcel, a courier, shipping, tracking;
- ``pending``: something is still to happen: the customer asks where things stand (``asks_status``), asks for a
  remedy (``wants_*``) or for something to be done on the case ("can I add a second driver", "можно ли перенести",
  "беруге бола ма", "сунгаж болох уу"; an ask for information only, "can you tell me whether", is none), or asks
  vaguely what happens now; a service is still out or unusable (``service_down``, "I can't log in", "κρασάρει",
  "хасагдсаар байна"); or the message or the draft says it is still awaited, not received, unanswered or in
  progress. A remedy merely implied by a past complaint, or the draft's own promise, is not pending;
- ``already_happened``: the customer complains about a past event (a complaint, ``coach.judging.complaints``, or
  a past-event cue: "ruined", "too late", "didn't show up", "threw away", "списали", "переносили", "ғана келді",
  "болж ирээд хүйтэн") and nothing is pending: the next step is the remedy, not a wait. So the two never hold
  together;
- ``yes_no_question``: a question of the message asks whether something is so or can be done ("is it possible",
  "does it come with", "можно ли", "бола ма?"): the answer is a yes or a no, not options (an either-or question,
  "…, or …?", "эсвэл", is none);
- ``draft_offers_solution``: a sentence of the draft offers a remedy or reports one done (a refund, a replacement,
  options, "I've added", "исправил", "άλλαξα", "түзетіп", "сунгалаа") and does not refuse it;
- ``customer_clear``: the message says what the customer wants (a ``wants_*`` request or another ask for something
  to be done on the case), or what they still wait for (said, "nobody answers", "ждём уже", or asked about), or
  what went wrong and that they await it (a complaint with ``asks_status``): listening restates it instead of
  asking what happened. A vague ask ("can you do something?", "τι γίνεται;") says neither.

Cue lists: ``coach.judging.situation_cues``.
Precision and recall on rows labelled by the cue writer: ``python -m bench.conditions`` (``eval/conditions.jsonl``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Set

from coach.judging.cues import Cues, has_cue, plain
from coach.judging.situation_cues import (
    ALTERNATIVES,
    ASKS,
    AWAITED,
    IN_PROGRESS,
    NOT_ASKS,
    OFFERS,
    ONGOING,
    PARCEL,
    PAST_EVENT,
    QUESTION_MARKS,
    VAGUE_ASKS,
    YES_NO,
)
from coach.text import split_sentences

SITUATIONS = (
    "parcel", "pending", "already_happened", "yes_no_question", "draft_offers_solution", "customer_clear",
)  # fmt: skip


def _questions(message: str, language: str) -> list[str]:
    """The message's sentences that end in a question mark (Greek's is a semicolon)."""
    marks = QUESTION_MARKS if language == "el" else ("?",)
    pieces = re.split(r"(?<=[.!?;\u037e\n])", message)
    return [piece for piece in pieces if piece.strip() and piece.strip()[-1] in marks]


def _asks_yes_or_no(message: str, language: str) -> bool:
    """A question asks whether something is so or can be done, and not which of two."""
    return any(
        has_cue(YES_NO, language, question) and not has_cue(ALTERNATIVES, language, question)
        for question in _questions(message, language)
    )


def _asks(message: str, language: str) -> bool:
    """The message asks for something to be done on the case (not for information only)."""
    text = plain(message, language)
    for cue in NOT_ASKS.get(language, ()):
        text = text.replace(plain(cue, language), " ")
    return has_cue(ASKS, language, text)


def _offers(draft: str, language: str, refuses: Cues) -> bool:
    return any(
        has_cue(OFFERS, language, sentence) and not has_cue(refuses, language, sentence)
        for sentence in split_sentences(draft)
    )


def detect_situation(
    draft: str, message: str, language: str, held: Set[str], refuses: Cues, requests: Collection[str]
) -> frozenset[str]:
    """The situation conditions of a case, given the conditions already read (``held``: requests and complaints),
    the draft's refusal cues and the names of the requests."""
    case = f"{message}\n{draft}"
    wants = bool(held & {r for r in requests if r.startswith("wants_")})
    complaint = bool(held - set(requests) - {"urgent", "draft_refuses", "cause_explained", "draft_thanked"})
    said_awaited = has_cue(AWAITED, language, message)  # not received, no answer: the customer waits for it
    awaited = said_awaited or has_cue(IN_PROGRESS, language, message)
    asks = _asks(message, language)
    # A status asked, a service still out or unusable, something still awaited or an ask still to be met.
    ongoing = "asks_status" in held or "service_down" in held or has_cue(ONGOING, language, message)
    vague = has_cue(VAGUE_ASKS, language, message)
    pending = wants or asks or vague or ongoing or awaited or has_cue(IN_PROGRESS, language, draft)
    asked = bool(_questions(message, language))
    past = complaint or has_cue(PAST_EVENT, language, message)
    found = {
        "parcel": has_cue(PARCEL, language, case),
        "pending": pending,
        "already_happened": past and not pending,
        "yes_no_question": _asks_yes_or_no(message, language),
        "draft_offers_solution": _offers(draft, language, refuses),
        # What they want said, or what they wait for (said, or asked about); a vague ask says neither.
        "customer_clear": wants or asks or said_awaited or (awaited and asked) or (complaint and "asks_status" in held),
    }
    return frozenset(name for name, holds in found.items() if holds)
