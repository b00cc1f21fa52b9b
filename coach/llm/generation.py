"""Plain text from the LLM, streamed: how rewrites, answers and suggested sentences are written.

A 1.5B model on 2 cores writes short plain text well and JSON with long text inside badly: a rewrite as
JSON overran its token budget and failed after 117–207 s (DESIGN.md, "Generation on the embedded
model"). So the model writes only prose, streamed so the reader watches it appear, and code does the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from coach.llm.structured import stream_chat, usage_of
from coach.models import Passage, Progress, Usage
from coach.progress import Clock, Partial, while_running

# Characters per token of Qwen2.5's tokenizer: the 10th percentile over the drafts and customer messages of
# training/drafts.jsonl (~425 texts per language), by the embedded server's /tokenize (`uv run python -m
# bench.chars_per_token`; never measured on eval/heldout.jsonl, which is for checking only). Medians: English
# 4.19, Russian 2.71, Kazakh 1.54, Mongolian 1.58, Greek 1.17. Prompt tokens cost ~20 ms each on 2 cores, so
# a Greek excerpt costs 3x an English one.
CHARS_PER_TOKEN = {"en": 3.44, "ru": 2.32, "kk": 1.45, "mn": 1.44, "el": 1.13}
_MARKERS = re.compile(r"<<<\s*[A-Z_]+|[A-Z_]+\s*>>>")
_FENCE = re.compile(r"^```[a-z]*\s*|\s*```$")
_WRAPPING_QUOTES = (('"', '"'), ("«", "»"), ("“", "”"), ("'", "'"))
_SENTENCE_END = re.compile(r"[.!?…](?:[\"'»”)\]]*)(?=\s|$)")


@dataclass(frozen=True)
class Reply:
    """One finished streamed answer: its text, why it stopped (``stop``, ``length``) and its cost."""

    text: str
    finish_reason: str | None
    usage: Usage

    @property
    def cut_off(self) -> bool:
        """Whether the model hit its token budget before it finished."""
        return self.finish_reason == "length"


def stream_reply(
    chat_model: Any,
    messages: list[Any],
    clock: Clock,
    passages: list[Passage],
    message: str,
    show: Callable[[str], str] = str,
) -> Generator[Progress, None, Reply]:
    """Stream one answer as ``llm`` events whose ``partial_text`` grows; return the whole reply."""
    partial = Partial()
    merged = yield from while_running(
        lambda: stream_chat(chat_model, messages, partial), partial, clock, passages, message, show
    )
    finish = (merged.response_metadata or {}).get("finish_reason")
    return Reply(str(merged.content), finish, usage_of(merged))


def estimate_tokens(text: str, language: str) -> int:
    """Roughly how many tokens the model needs for a text in a language (no tokenizer download: DESIGN.md)."""
    return round(len(text) / CHARS_PER_TOKEN.get(language, min(CHARS_PER_TOKEN.values()))) + 1


def clean_text(text: str) -> str:
    """The model's prose without what small models wrap it in: code fences, data markers, outer quotes."""
    cleaned = _FENCE.sub("", text.strip())
    cleaned = _MARKERS.sub("", cleaned).strip()
    for opening, closing in _WRAPPING_QUOTES:
        if len(cleaned) > 2 and cleaned.startswith(opening) and cleaned.endswith(closing):
            inner = cleaned[len(opening) : -len(closing)]
            if opening not in inner and closing not in inner:
                cleaned = inner.strip()
    return without_repeats(cleaned)


def without_repeats(text: str) -> str:
    """The text with sentences it already said dropped (a small model at temperature 0 can loop)."""
    kept: list[str] = []
    seen: set[str] = set()
    start = 0
    for match in _SENTENCE_END.finditer(text):
        sentence = text[start : match.end()]
        key = " ".join(sentence.split()).casefold()
        if key not in seen:
            seen.add(key)
            kept.append(sentence)
        start = match.end()
    tail = text[start:]
    if " ".join(tail.split()).casefold() not in seen:
        kept.append(tail)
    return "".join(kept).strip()


def complete_sentences(text: str) -> str:
    """The text up to its last finished sentence (for an answer cut off at its budget); all of it if none."""
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    if not ends or ends[-1] < len(text) // 3:
        return text.strip()
    return text[: ends[-1]].strip()
