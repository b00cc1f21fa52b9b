"""Cue words per language, matched at word starts: how code reads a case (``conditions``, ``complaints``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# A cue matches at a word start (``\b``) unless it starts with "~" (anywhere: an inflected ending, e.g. Kazakh
# "-а алмаймыз"). Each list is per language; a case is read with its own language's cues.
Cues = Mapping[str, tuple[str, ...]]


def _pattern(cues: tuple[str, ...]) -> re.Pattern[str] | None:
    if not cues:
        return None
    parts = [re.escape(c[1:]) if c.startswith("~") else rf"(?<!\w){re.escape(c)}" for c in cues]
    return re.compile("|".join(parts))


_COMPILED: dict[tuple[int, str], re.Pattern[str] | None] = {}


def plain(text: str, language: str) -> str:
    """Lower-cased; Greek also without its accents (a stem's accent moves as it inflects: οφείλεται, οφειλόταν)."""
    text = text.lower()
    if language == "el":
        text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return text


def has_cue(cues: Cues, language: str, text: str | None) -> bool:
    """Whether the text holds one of the language's cues (an unknown language: English)."""
    if not text:
        return False
    key = (id(cues), language if language in cues else "en")
    if key not in _COMPILED:
        _COMPILED[key] = _pattern(tuple(plain(c, key[1]) for c in cues[key[1]]))
    pattern = _COMPILED[key]
    return pattern is not None and pattern.search(plain(text, key[1])) is not None
