"""The LLM adapts the chosen phrasing to this case; code decides whether its sentence may be shown.

Measured (DESIGN.md, "Coaching words"): the embedded model, asked to write a sentence like an example for this
case, copied the example (with its case), echoed the customer, or was cut off; 4 of 8 passed the checks. So its
sentence is shown only when every check passes: the draft's language, no number or name the draft and message
lack, not a copy of a draft sentence, of the rubric's advice or of the customer's message, not in the customer's
voice (no first-person phrase of their message repeated), no preamble, the
critic no longer flags the criterion with it applied, and it is closer to this case than to the case its
phrasing came from. Otherwise the filled phrasing is the honest answer. The checks are plain functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from coach.facts import extract_facts
from coach.text import is_copy, split_sentences

_PREAMBLE = re.compile(
    r"^\s*(?:sure|certainly|of course|here(?:'s| is| are)|okay|ok|конечно|вот|разумеется|хорошо|"
    r"βεβαίως|φυσικά|ορίστε|εδώ είναι|әрине|міне|жарайды|мэдээж|за|энд|ийм)\b[^.!?]*[:,!]|"
    r"^\s*(?:sentence|example|answer|предложение|ответ|πρόταση|сөйлем|өгүүлбэр)\s*:",
    re.IGNORECASE,
)
# The model declining the task (seen once in a blind rating: "I'm sorry, but I can't help with that." passed every
# other check as an apology). Its English refusals, whatever the draft's language.
_MODEL_REFUSAL = re.compile(
    r"\b(?:can(?:'|’)?t|cannot|can not|unable to|not able to)\s+(?:help|assist)\s+(?:you\s+)?with\s+(?:that|this)\b|"
    r"\bas an ai\b",
    re.IGNORECASE,
)
_POLITE = re.compile(r"(?:вы|вас|вам|вами|ваш\w*|сіз\w*|та|тан\w*|σας|εσείς)", re.IGNORECASE)  # "Вы" is not a name
# First-person object and possessive words of a customer's message: an agent's sentence that repeats a two-word
# phrase holding one of them ("my suitcase", «мне вернули», "παραγγελία μου") speaks in the customer's voice (seen
# once: an adapted sentence passed every other check written as the customer).
_FIRST_PERSON = frozenset(
    {"me", "my", "mine", "myself", "мой", "моя", "моё", "мое", "мои", "моего", "моей", "мою", "моих", "моим", "мне",
     "меня", "μου", "μένα", "εμένα", "менің", "маған", "мені", "менде", "миний", "надад", "намайг", "минийх"}
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_CAPITALISED = re.compile(r"(?<=[\s,;(«\"“])([^\W\d_][^\W\d_'’-]+)")


def advice_pieces(advice: Sequence[str]) -> list[str]:
    """The advice texts and the example sentences quoted inside them («…», "…", “…”)."""
    quoted = [q for text in advice for q in re.findall(r"«([^»]{8,})»|\"([^\"]{8,})\"|“([^”]{8,})”", text)]
    return [*advice, *(part for parts in quoted for part in parts if part)]


def has_preamble(sentence: str) -> bool:
    """Whether the model talked about its answer ("Sure, here is the sentence:") instead of giving it."""
    return bool(_PREAMBLE.match(sentence))


def invented(sentence: str, *sources: str | None) -> list[str]:
    """Numbers, amounts, dates, ids and capitalised names of the sentence that none of the sources has."""
    known_text = "\n".join(s for s in sources if s)
    facts = sorted(extract_facts(sentence) - extract_facts(known_text))
    known_words = {w.lower() for w in re.findall(r"[^\W\d_]+", known_text)}
    names = [
        w
        for w in _CAPITALISED.findall(sentence)
        if w[0].isupper() and w.lower() not in known_words and not _POLITE.fullmatch(w)
    ]
    return facts + names


def customer_phrases(customer: str) -> set[tuple[str, str]]:
    """The customer's two-word phrases that hold a first-person word (lower case)."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(customer)]
    return {pair for pair in zip(words, words[1:], strict=False) if _FIRST_PERSON & set(pair)}


def in_customer_voice(sentence: str, customer: str | None) -> bool:
    """Whether the sentence repeats a first-person phrase of the customer's message, i.e. speaks as them."""
    if not customer:
        return False
    words = [w.lower().replace("’", "'") for w in _WORD.findall(sentence)]
    return bool(set(zip(words, words[1:], strict=False)) & customer_phrases(customer))


def text_problems(
    sentence: str,
    *,
    language: str,
    draft: str,
    customer: str | None,
    advice: Sequence[str],
    detect: Callable[[str], str],
) -> list[str]:
    """Why an adapted sentence may not be shown, by the checks that need no model (empty when it passes them)."""
    problems = []
    if not sentence.strip() or "[" in sentence:
        problems.append("empty, or a blank left unfilled")
    if has_preamble(sentence):
        problems.append("talks about the answer instead of giving it")
    if _MODEL_REFUSAL.search(sentence):
        problems.append("the model declined the task")
    if len(sentence.strip()) >= 20 and detect(sentence) != language:
        problems.append("not in the draft's language")
    extra = invented(sentence, draft, customer)
    if extra:
        problems.append(f"facts the draft and message lack: {', '.join(extra)}")
    if is_copy(sentence, split_sentences(draft)):
        problems.append("a copy of a draft sentence")
    if is_copy(sentence, advice_pieces(advice)):
        problems.append("a copy of the rubric's advice")
    if customer and is_copy(sentence, [customer, *split_sentences(customer)]):
        problems.append("a repeat of the customer's message")
    elif in_customer_voice(sentence, customer):
        problems.append("speaks in the customer's voice")
    return problems
