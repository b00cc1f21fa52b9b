"""The one sentence splitter: verbatim offsets, glued sentences, and pieces that join back into the text."""

from __future__ import annotations

import pytest

from coach.knowledge import passages as knowledge
from coach.text import sentence_chunks, sentence_pieces, sentence_spans, split_sentences

TEXT = "Hello Anna.  We cannot refund you!It is policy…\nRead the email next time"


def test_spans_are_trimmed_verbatim_slices_and_split_glued_sentences():
    assert split_sentences(TEXT) == [
        "Hello Anna.",
        "We cannot refund you!",
        "It is policy…",
        "Read the email next time",
    ]
    assert all(TEXT[a:b] == TEXT[a:b].strip() for a, b in sentence_spans(TEXT))
    assert knowledge.sentence_spans is sentence_spans, "the old import path still works"


@pytest.mark.parametrize(
    "text",
    [TEXT, "", "\n\n", "One line only", "Ανοίξτε.Κλείστε!\n\nЗдравствуйте. Спасибо за ожидание.\n"],
)
def test_pieces_join_back_into_the_text(text: str):
    pieces = sentence_pieces(text)
    assert "".join(pieces) == text
    assert all(pieces), "no empty piece"


def test_pieces_break_at_sentences_and_lines():
    assert sentence_pieces("Hi. Bye.\nNext line") == ["Hi. ", "Bye.\n", "Next line"]


def test_chunks_cut_at_sentence_ends_and_stay_under_the_size_when_sentences_allow():
    chunks = sentence_chunks(TEXT, 40)
    assert all(chunk in TEXT for chunk in chunks)
    assert [len(c) <= 40 for c in chunks] == [True] * len(chunks)
    assert "".join("".join(chunks).split()) == "".join(TEXT.split()), "only whitespace between chunks is lost"
