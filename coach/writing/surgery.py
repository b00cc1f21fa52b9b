"""Sentence surgery on a draft: a flagged sentence replaced, a missing part inserted where it belongs, the rest
kept byte for byte. Pure functions on strings and issues (the rewrite and the suggested sentence's check use them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coach.models import Issue


@dataclass(frozen=True)
class Fix:
    """One change to a draft: ``draft[start:end]`` becomes ``text`` (an insertion has ``start == end``)."""

    criterion: str
    start: int
    end: int
    text: str


def insertion(draft: str, at: int, sentence: str) -> str:
    """The sentence with the spacing it needs at ``at``: on its own line beside line breaks, else beside a space."""
    before, after = draft[:at], draft[at:]
    if after.startswith("\n"):
        return "\n" + sentence  # after a greeting line
    if before.endswith("\n"):
        return sentence + "\n"  # before a sign-off line
    if not before.strip():
        return sentence + " "  # at the very start
    if not after.strip():
        return " " + sentence  # at the very end
    return " " + sentence if not before.endswith((" ", "\t")) else sentence + " "


def fix_for(draft: str, issue: Issue, sentence: str) -> Fix:
    """The change that puts ``sentence`` in: instead of the quoted words (said), or where it belongs (missing)."""
    if issue.kind == "said" and issue.end > issue.start:
        return Fix(issue.criterion, issue.start, issue.end, sentence)
    return Fix(issue.criterion, issue.start, issue.start, insertion(draft, issue.start, sentence))


def apply_fixes(draft: str, fixes: Sequence[Fix]) -> str:
    """The draft with every fix made; text outside the fixes is kept verbatim. Overlapping replacements: the first
    wins; insertions at one place keep their order."""
    chosen: list[Fix] = []
    for fix in fixes:
        overlaps = any(fix.start < other.end and other.start < fix.end for other in chosen if other.end > other.start)
        if fix.end > fix.start and overlaps:
            continue
        chosen.append(fix)
    order = sorted(range(len(chosen)), key=lambda i: (chosen[i].start, chosen[i].end, i))
    pieces, position = [], 0
    for i in order:
        fix = chosen[i]
        pieces += [draft[position : fix.start], fix.text]
        position = max(position, fix.end)
    pieces.append(draft[position:])
    return "".join(pieces)


def apply_sentence(draft: str, issue: Issue, sentence: str) -> str:
    """The draft with one issue's sentence put in."""
    return apply_fixes(draft, [fix_for(draft, issue, sentence)])


def kept_spans(draft: str, fixes: Sequence[Fix]) -> list[tuple[int, int]]:
    """The parts of the draft no fix touches (what a rewrite keeps byte for byte)."""
    cuts = sorted((f.start, f.end) for f in fixes if f.end > f.start)
    spans, position = [], 0
    for start, end in cuts:
        if start > position:
            spans.append((position, start))
        position = max(position, end)
    if position < len(draft):
        spans.append((position, len(draft)))
    return spans
