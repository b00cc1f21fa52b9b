"""The plain-words glossary: per language, jargon terms and bureaucratic phrases with their plain wording.

Blind raters called every wording example unusable while it was a meta-promise from the phrasebook ("I'll explain
each step in plain words…"): it does not make the quoted sentence clearer. So the example for jargon is the quoted
sentence itself with its jargon put plainly, term by term, from this glossary (``coach.judging.plain_words``).
The terms were mined from the sentences labelled ``said`` for ``clear_positive_wording`` in ``training/drafts.jsonl``
and from the tuning set; the plain wordings were written per language.
The file (``knowledge/plain_words.yaml``) is trainers' data, like ``links.yaml``: reviewable, validated here,
unknown keys refused. Its ``known`` list names the Latin-script words a customer knows (brands, PIN, SMS), which a
plain version may keep. A term ending in ``*`` is a word stem (any ending); a plain wording with ``*`` takes that
ending (for Russian nouns of one declension: ``тикет*`` → ``запрос*``). An empty plain wording drops the phrase
("Please be advised that").
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from coach.knowledge.yaml_models import load_model, parse_model
from coach.language import SUPPORTED_LANGUAGES

PLAIN_WORDS_FILE = "plain_words.yaml"
STEM_MARK = "*"
Language = Literal["en", "ru", "el", "kk", "mn"]


class PlainWords(BaseModel):
    """Per language, term (lower case) -> its plain wording in that language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    terms: dict[Language, dict[str, str]]
    # Latin-script words and acronyms a customer knows (brands, everyday acronyms such as PIN or SMS): never
    # counted as jargon left in a plain version, in any language.
    known: list[str] = []

    @field_validator("known")
    @classmethod
    def _known_words(cls, known: list[str]) -> list[str]:
        return sorted({" ".join(str(word).split()).lower() for word in known if str(word).strip()})

    @field_validator("terms")
    @classmethod
    def _well_formed(cls, terms: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        missing = [lang for lang in SUPPORTED_LANGUAGES if not terms.get(lang)]
        if missing:
            raise ValueError(f"no terms for {missing}: every language needs a glossary")
        cleaned: dict[str, dict[str, str]] = {}
        for language, entries in terms.items():
            cleaned[language] = {}
            for term, plain in entries.items():
                key, value = " ".join(str(term).split()).lower(), " ".join(str(plain or "").split())
                if len(key.rstrip(STEM_MARK)) < 2 or STEM_MARK in key[:-1]:
                    raise ValueError(f"{language}: {term!r}: a term has 2+ characters and '*' only at its end")
                if STEM_MARK in value[:-1] or (value.endswith(STEM_MARK) and not key.endswith(STEM_MARK)):
                    raise ValueError(f"{language}: {plain!r}: '*' only at the end, and only for a stem term")
                if key in cleaned[language]:
                    raise ValueError(f"{language}: {term!r} is listed twice")
                cleaned[language][key] = value
        return cleaned

    def terms_for(self, language: str) -> dict[str, str]:
        """The language's glossary (empty for a language it lacks)."""
        return dict(self.terms.get(language, {}))  # type: ignore[call-overload]

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hash of the glossary (what results and cache keys carry)."""
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()[:12]


def parse_plain_words(text: str, name: str = PLAIN_WORDS_FILE) -> PlainWords:
    """A glossary from its YAML text; ``KnowledgeError`` naming what is wrong."""
    return parse_model(text, PlainWords, name)


def load_plain_words(folder: Path, fallback: Path | None = None) -> PlainWords:
    """``<folder>/plain_words.yaml`` (else the ``fallback`` folder's, e.g. the shipped one), validated and cached."""
    return load_model(folder, fallback, PLAIN_WORDS_FILE, PlainWords, "the plain-words glossary is missing")
