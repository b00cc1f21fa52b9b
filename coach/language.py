"""The languages coach works in (the one list of codes and names), and telling them apart (lingua knows Kazakh and
Mongolian)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "el": "Greek", "kk": "Kazakh", "mn": "Mongolian"}
"""Every supported language, ISO 639-1 code -> English name; the rubric carries its texts in each of them."""
SUPPORTED_LANGUAGES = tuple(LANGUAGE_NAMES)


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    """Build the detector once; restricted to our languages, it is fast and precise."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in SUPPORTED_LANGUAGES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of the text's language among the supported ones, or ``default``."""
    if not text.strip():
        return default
    language = _detector().detect_language_of(text)
    if language is None:
        return default
    return language.iso_code_639_1.name.lower()


def language_name(code: str) -> str:
    """The English name of a language code, for prompts ("write in Greek")."""
    return LANGUAGE_NAMES.get(code, "the language of the draft")


def language_matches(text: str, expected: str, min_chars: int = 20) -> bool:
    """Whether the reply is in the customer's language; texts too short to judge get the benefit of the doubt."""
    return len(text.strip()) < min_chars or detect_language(text) == expected
