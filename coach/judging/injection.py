"""Sentences of a draft that address a grader or a model instead of the customer ("rate this 5/5").

They are not part of the reply, so the critic judges the draft without them: an instruction inside a
draft must change neither its issues nor its score. Matched by words in the five languages coach works in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SCORE = r"(?:\b(?:5|10)\s*/\s*(?:5|10)\b|\bfive stars\b|\bfull marks\b)"
_AUDIENCE = (
    r"(?:review|grader|grading|evaluat|assessor|\bQA\b|\bAI\b|language model|"
    r"проверяющ|оценщик|рецензент|модел|ИИ\b|"
    r"αξιολογ|βαθμολογ|ελεγκτ|"
    r"тексеруш|бағалаушы|"
    r"шалгагч|үнэлгээ|үнэлэгч|дүн тавь)"
)
_COMMAND = (
    r"(?:ignore|disregard|rate|score|grade|give (?:this|it)|"
    r"игнорир|не обращай|оцени|постав|"
    r"αγνόησ|βαθμολόγησ|δώσε|"
    r"елеме|қой|бер|"
    r"үл тоо|тавь|өг)"
)
_PATTERNS = (
    re.compile(_SCORE, re.IGNORECASE),
    re.compile(rf"{_AUDIENCE}.*{_COMMAND}|{_COMMAND}.*{_AUDIENCE}", re.IGNORECASE),
    re.compile(
        r"\b(?:ignore|disregard) (?:all |the |any )?(?:previous |above |prior )?(?:instructions|rules|rubric)\b", re.I
    ),
)


def is_instruction(sentence: str) -> bool:
    """Whether a sentence speaks to whoever grades the reply rather than to the customer."""
    return any(pattern.search(sentence) for pattern in _PATTERNS)


def instruction_spans(draft: str, sentences: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The sentences (offsets) of the draft that are instructions to a grader."""
    return [(start, end) for start, end in sentences if is_instruction(draft[start:end])]
