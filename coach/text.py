"""Sentences: the one splitter that passages, retrieval queries, the critic's quotes and the page's diff share.

Offsets come back as (start, end) slices of the input, so whatever is cut stays verbatim and a quote's
position in the draft is exact by construction. Also the one test of whether a sentence is a copy of another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

_SENTENCE_END = re.compile(r"(?<=[.!?…])(?:\s+|(?=[A-ZА-ЯЁӨҮҚӘҒҢҰҺІΑ-ΩΆ-Ώ«\"“]))")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of a text, whitespace trimmed.

    Also splits sentences glued without a space ("end.Start"), common in the seeds.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for begin, end in spans:
        piece = text[begin:end]
        stripped = piece.strip()
        if stripped:
            offset = begin + len(piece) - len(piece.lstrip())
            trimmed.append((offset, offset + len(stripped)))
    return trimmed


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, each a verbatim slice of it."""
    return [text[begin:end] for begin, end in sentence_spans(text)]


def sentence_chunks(text: str, size: int) -> list[str]:
    """Verbatim slices of a text, cut at sentence ends, each about ``size`` characters at most."""
    chunks: list[str] = []
    chunk_start: int | None = None
    chunk_end = 0
    for begin, end in sentence_spans(text):
        if chunk_start is None:
            chunk_start = begin
        elif end - chunk_start > size:
            chunks.append(text[chunk_start:chunk_end])
            chunk_start = begin
        chunk_end = end
    if chunk_start is not None:
        chunks.append(text[chunk_start:chunk_end])
    return chunks


def sentence_pieces(text: str) -> list[str]:
    """The text cut before each sentence and after each line break, so joining the pieces gives the text back."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        starts = [begin for begin, _ in sentence_spans(line)][1:]
        pieces += [line[a:b] for a, b in zip([0, *starts], [*starts, len(line)], strict=True)]
    return pieces


COPY_RATIO = 0.8  # a sentence this similar (characters, case and spacing ignored) to another is a copy of it


def normalised(text: str) -> str:
    """Lower case, one space, no surrounding punctuation: for comparing sentences."""
    return " ".join(text.lower().split()).strip(" .!?…«»\"'“”")


def is_copy(sentence: str, others: Sequence[str], ratio: float = COPY_RATIO) -> bool:
    """Whether the sentence is (nearly) one of ``others``, or contains one of them whole."""
    mine = normalised(sentence)
    for other in others:
        theirs = normalised(other)
        if not theirs:
            continue
        if mine == theirs or (len(theirs) > 20 and theirs in mine):
            return True
        if SequenceMatcher(None, mine, theirs, autojunk=False).ratio() >= ratio:
            return True
    return False
