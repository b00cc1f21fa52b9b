"""Trainers' answers: numbered passages in, ``[n]`` markers checked against them out."""

from __future__ import annotations

import re
from collections.abc import Sequence

from coach.language import language_matches
from coach.models import Answer, Citation, Grounding, Passage

_MARKER = re.compile(r"\[(\d{1,3})\]")
PASSAGE_CHARS = 500


def numbered_passages(passages: Sequence[Passage]) -> str:
    """The passages as ``[1] text`` lines, in their own language, shortened for a small model's budget."""
    return "\n".join(f"[{n}] ({p.title}) {p.excerpt(PASSAGE_CHARS)}" for n, p in enumerate(passages, 1))


def build_answer(question: str, text: str, language: str, passages: Sequence[Passage]) -> Answer:
    """The answer with markers that point nowhere removed (and counted), and one citation per marker used."""
    grounding = Grounding(language_ok=language_matches(text, language))
    used: list[int] = []

    def keep(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if 1 <= number <= len(passages):
            if number not in used:
                used.append(number)
            return match.group()
        grounding.citations_dropped += 1
        return ""

    cleaned = _MARKER.sub(keep, text).strip()
    citations = [Citation(marker=n, passage=passages[n - 1]) for n in sorted(used)]
    return Answer(
        question=question,
        text=cleaned,
        language=language,
        citations=citations,
        passages=list(passages),
        grounding=grounding,
    )
