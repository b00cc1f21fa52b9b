"""Checks that keep the model honest about the draft and the passages: quotes found in the draft, citations
among the passages it was given, and a count of what was dropped.

Pure functions on plain strings (no I/O, no models), so every rule the model's output must pass is decided by
code and tested without a model.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal, NamedTuple

# --------------------------------------------------------------------------- quotes

QuoteMethod = Literal["exact", "normalized", "fuzzy"]
_LENGTH_SLACK = 0.2  # fuzzy windows are the quote's length ±20%; beyond that a 0.9 ratio is out of reach anyway


@dataclass(frozen=True, slots=True)
class Span:
    """Where a quote sits in the draft; ``text == draft[start:end]`` always holds."""

    start: int
    end: int
    text: str
    method: QuoteMethod


class _Folded(NamedTuple):
    """A case- and whitespace-folded text with, per folded character, the index of its source character."""

    text: str
    origin: list[int]


# Typographic look-alikes folded one-for-one, so offsets stay simple.
_LOOKALIKES = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-"})
_WRAPPERS = re.compile(r"^(?:\s|\.{3}|[\"'«»“”„‘’…])+|(?:\s|\.{3}|[\"'«»“”„‘’…])+$")
_TOKEN = re.compile(r"\S+")
_CORE = re.compile(r"\w.*\w|\w", re.DOTALL)


def _unwrap(quote: str) -> str:
    """The quote without the quotation marks or ellipses a model tends to put around it."""
    return _WRAPPERS.sub("", quote)


def _fold(text: str) -> _Folded:
    """Collapse whitespace, casefold and unify quote marks, remembering where each character came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text.translate(_LOOKALIKES)):
        if char.isspace():
            if chars and chars[-1] == " ":
                continue
            folded = " "
        else:
            folded = char.casefold()
        chars.extend(folded)
        origin.extend([index] * len(folded))
    return _Folded("".join(chars), origin)


def _fold_quote(quote: str) -> str:
    """The quote folded the same way as the draft, without outer whitespace."""
    return _fold(quote).text.strip()


def _to_span(draft: str, folded: _Folded, start: int, end: int, method: QuoteMethod) -> Span:
    """A span of the draft covering the folded characters ``start:end``."""
    begin, finish = folded.origin[start], folded.origin[end - 1] + 1
    return Span(begin, finish, draft[begin:finish], method)


def _exact(draft: str, candidates: Iterable[str]) -> Span | None:
    """The first candidate found verbatim in the draft."""
    for candidate in candidates:
        start = draft.find(candidate)
        if start >= 0:
            return Span(start, start + len(candidate), candidate, "exact")
    return None


def _normalized(draft: str, folded: _Folded, candidates: Iterable[str]) -> Span | None:
    """The first candidate found once case and whitespace are ignored."""
    for candidate in candidates:
        needle = _fold_quote(candidate)
        start = folded.text.find(needle)
        if needle and start >= 0:
            return _to_span(draft, folded, start, start + len(needle), "normalized")
    return None


def _word_boundaries(text: str) -> tuple[list[int], list[int]]:
    """Offsets where a window may start and end without cutting a word: token edges, with or without punctuation."""
    starts: set[int] = set()
    ends: set[int] = set()
    for token in _TOKEN.finditer(text):
        starts.add(token.start())
        ends.add(token.end())
        core = _CORE.search(token.group())
        if core:
            starts.add(token.start() + core.start())
            ends.add(token.start() + core.end())
    return sorted(starts), sorted(ends)


def _fuzzy(draft: str, folded: _Folded, quote: str, min_ratio: float) -> Span | None:
    """The word-aligned window of the draft, about the quote's length, most similar to the quote."""
    needle = _fold_quote(quote)
    if not needle:
        return None
    starts, ends = _word_boundaries(folded.text)
    shortest = max(1, math.floor(len(needle) * (1 - _LENGTH_SLACK)))
    longest = math.ceil(len(needle) * (1 + _LENGTH_SLACK))
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(needle)
    best: tuple[float, int, int] | None = None
    for start in starts:
        for end in ends[bisect_left(ends, start + shortest) : bisect_right(ends, start + longest)]:
            matcher.set_seq1(folded.text[start:end])
            floor = best[0] if best else min_ratio
            if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
                continue
            ratio = matcher.ratio()
            if ratio >= min_ratio and (best is None or ratio > best[0]):
                best = (ratio, start, end)
    return _to_span(draft, folded, best[1], best[2], "fuzzy") if best else None


def locate_quote(draft: str, quote: str, min_ratio: float = 0.9) -> Span | None:
    """Find what the model quoted in the draft, so feedback points at text the agent really wrote."""
    candidates = list(dict.fromkeys(text for text in (quote.strip(), _unwrap(quote)) if text))
    if not candidates:
        return None
    folded = _fold(draft)
    return (
        _exact(draft, candidates)
        or _normalized(draft, folded, candidates)
        or _fuzzy(draft, folded, candidates[-1], min_ratio)
    )


# --------------------------------------------------------------------------- citations and the report


@dataclass(slots=True)
class GroundingReport:
    """How much of the model's output survived the checks, so silent drops show up in results and logs."""

    quotes_located: int = 0
    quotes_dropped: int = 0
    citations_kept: int = 0
    citations_dropped: int = 0
    fuzzy_quotes: int = 0

    def count_quote(self, span: Span | None) -> None:
        """Record one quote check."""
        if span is None:
            self.quotes_dropped += 1
            return
        self.quotes_located += 1
        self.fuzzy_quotes += span.method == "fuzzy"

    def count_citations(self, kept: Sequence[str], dropped: Sequence[str]) -> None:
        """Record one citation check."""
        self.citations_kept += len(kept)
        self.citations_dropped += len(dropped)


def filter_citations(cited: Sequence[str], allowed: Collection[str]) -> tuple[list[str], list[str]]:
    """Split cited passage ids into those actually given to the model and invented ones, each once, in order."""
    kept: list[str] = []
    dropped: list[str] = []
    for passage_id in dict.fromkeys(item.strip() for item in cited):
        (kept if passage_id in allowed else dropped).append(passage_id)
    return kept, dropped
