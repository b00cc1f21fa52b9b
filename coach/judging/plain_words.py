"""A quoted sentence put plainly: its jargon in plain words, a conditional refusal said as what we can do.

Blind raters called the wording example unusable every time while it was a meta-promise from the phrasebook ("I'll
explain each step in plain words…"): it does not make the quoted sentence clearer. So, for a sentence the critic
flags for ``clear_positive_wording``, the example is the sentence itself, changed only where code knows how:
- each term of the language's glossary (``knowledge/plain_words.yaml``) is put in its plain wording: case-insensitive,
  whole words, the longest term first, never inside quotation marks (a status or a menu name is quoted as shown);
  a stem term (``тикет*``) carries its ending over to its wording (``тикета`` → ``запроса``); a word with a
  hyphenated ending (Kazakh "API-інің", Mongolian "staging-д") is left alone unless the glossary lists that form,
  since the ending's grammar would be lost;
- a refusal with a condition ("we cannot … without …") becomes what we can do ("we can … with …"); any other
  refusal stays as it is, since turning it round would need content that only the agent knows.
The result must keep every fact of the sentence (``coach.facts``) and be in its language; otherwise, or when nothing
changed, there is no plain version (None) and the phrasebook's phrasing stands. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.facts import extract_facts, fact_spans
from coach.judging.conditions import REFUSES
from coach.judging.cues import has_cue
from coach.knowledge.plain_words import STEM_MARK, PlainWords
from coach.language import language_matches
from coach.text import is_copy

CRITERION = "clear_positive_wording"
SOURCE = "plain-words"  # what ``Issue.example_source`` says for an example made here
QUOTED = re.compile(r"«[^»]*»|\"[^\"]*\"|“[^”]*”|„[^“”]*[“”]")
LEADING = " \t\n\"'«“„(—–-"
REGRET = re.compile(r"^\s*(?:unfortunately|к сожалению|δυστυχώς),?\s*", re.IGNORECASE)
VOWEL = re.compile(r"[aeiou]", re.IGNORECASE)
# A plain version that still holds an acronym (English) or a Latin-script word (in a Cyrillic or Greek reply) still
# holds jargon the glossary does not know: a blind rater called such a half-plain sentence unusable (tuning set).
_ACRONYM = re.compile(r"\b[A-Z]{2,}s?\b")
_LATIN_WORD = re.compile(r"\b[A-Za-z]{2,}\b")
_DOMAIN = re.compile(r"(?<![\w@.])(?:[\w-]+\.)+[a-z]{2,}(?:/[^\s«»\"“”]*)?", re.IGNORECASE)  # "shop.kz/help"

# A refusal with a condition, said as what we can do on that condition: (pattern, replacement) per language.
CONDITIONAL_REFUSALS: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "en": (
        (re.compile(r"\b(?:cannot|can't|can not)\b([^.;!?]*?)\bwithout\b", re.IGNORECASE), r"can\1with"),
        (re.compile(r"\b(?:unable|not able) to\b([^.;!?]*?)\bwithout\b", re.IGNORECASE), r"able to\1with"),
    ),
    "ru": (
        (re.compile(r"\bне\s+(можем|могу|может|могут|сможем)\b([^.;!?]*?)\bбез\b", re.IGNORECASE), r"\1\2при наличии"),
        (re.compile(r"\bневозможн(о|а|ы)\b([^.;!?]*?)\bбез\b", re.IGNORECASE), r"возможн\1\2при наличии"),
    ),
    "el": (
        (
            re.compile(r"\bδεν\s+(μπορούμε|μπορώ|μπορεί|μπορούν|γίνεται)\b([^.;!?]*?)\bχωρίς\b", re.IGNORECASE),
            r"\1\2με",
        ),
        (re.compile(r"\bδεν\s+(είναι\s+δυνατόν?)\b([^.;!?]*?)\bχωρίς\b", re.IGNORECASE), r"\1\2με"),
    ),
}


@dataclass(frozen=True)
class _Glossary:
    pattern: re.Pattern[str] | None
    exact: dict[str, str]
    stems: list[tuple[str, str]]  # (stem, wording), longest stem first


_COMPILED: dict[tuple[str, str], _Glossary] = {}


def _term_pattern(term: str, language: str) -> str:
    stem = term.endswith(STEM_MARK)
    body = r"\s+".join(re.escape(part) for part in term.rstrip(STEM_MARK).split())
    return rf"(?<![\w-]){body}" + (r"\w*" if stem else r"(?!\w|-\w)")


def _glossary(words: PlainWords, language: str) -> _Glossary:
    key = (words.fingerprint, language)
    if key not in _COMPILED:
        terms = words.terms_for(language)
        ordered = sorted(terms, key=lambda t: (-len(t.rstrip(STEM_MARK)), t))
        pattern = "|".join(_term_pattern(t, language) for t in ordered)
        _COMPILED[key] = _Glossary(
            pattern=re.compile(pattern, re.IGNORECASE) if pattern else None,
            exact={t: w for t, w in terms.items() if not t.endswith(STEM_MARK)},
            stems=[(t.rstrip(STEM_MARK), terms[t]) for t in ordered if t.endswith(STEM_MARK)],
        )
    return _COMPILED[key]


def _wording(found: str, glossary: _Glossary) -> str | None:
    """The plain wording of a matched term (a stem's ending carried over), or None when no entry fits."""
    key = " ".join(found.split()).lower()
    for candidate in (key, key.rsplit("-", 1)[0]):
        if candidate in glossary.exact:
            return glossary.exact[candidate]
    for stem, wording in glossary.stems:
        if key.startswith(stem):
            return wording[:-1] + found[len(stem) :] if wording.endswith(STEM_MARK) else wording
    return None


def _an(before: str, wording: str, language: str) -> str:
    """English: the article before a replaced word agrees with its new first letter."""
    if language != "en":
        return before
    match = re.search(r"\b(a|an)(\s+)$", before, re.IGNORECASE)
    if not match:
        return before
    article = "an" if VOWEL.match(wording) else "a"
    if match.group(1)[0].isupper():
        article = article.capitalize()
    return before[: match.start()] + article + match.group(2)


def replace_terms(sentence: str, language: str, words: PlainWords) -> str:
    """The sentence with each glossary term in its plain wording (outside quotation marks)."""
    glossary = _glossary(words, language)
    if glossary.pattern is None:
        return sentence
    quoted = [m.span() for m in QUOTED.finditer(sentence)]
    pieces: list[str] = []
    position = 0
    for match in glossary.pattern.finditer(sentence):
        if any(a < match.end() and match.start() < b for a, b in quoted):
            continue
        wording = _wording(match.group(), glossary)
        if wording is None:
            continue
        before = sentence[position : match.start()]
        if wording:
            pieces += [_an(before, wording, language), wording]
            position = match.end()
        else:  # a phrase dropped, with the spaces after it
            rest = sentence[match.end() :]
            position = match.end() + len(rest) - len(rest.lstrip())
            pieces.append(before)
    pieces.append(sentence[position:])
    return re.sub(r" {2,}", " ", re.sub(r"\s+([,.;:!?])", r"\1", "".join(pieces)))


def positive_refusal(sentence: str, language: str) -> str:
    """A refusal with a condition ("cannot … without …") said as what we can do on it, its "unfortunately" gone;
    any other sentence as is."""
    if not has_cue(REFUSES, language, sentence):
        return sentence
    for pattern, replacement in CONDITIONAL_REFUSALS.get(language, ()):
        changed = pattern.sub(replacement, sentence, count=1)
        if changed != sentence:
            return REGRET.sub("", changed, count=1)
    return sentence


def _capitalized_like(text: str, original: str) -> str:
    """The text's first letter upper-case when the original sentence's was."""
    first = next((c for c in original if c.isalpha()), "")
    at = next((i for i, c in enumerate(text) if c.isalpha()), None)
    if at is None or not first.isupper():
        return text
    return text[:at] + text[at].upper() + text[at + 1 :]


def plain_version(sentence: str, language: str, words: PlainWords) -> str | None:
    """The sentence put plainly, when code can: every fact kept, in its language and no refusal left (a flat
    refusal in plainer words is still not what we can do); else None."""
    plain = _capitalized_like(positive_refusal(replace_terms(sentence, language, words), language).strip(), sentence)
    if not plain.strip(LEADING + ".,;:!?") or " ".join(plain.split()) == " ".join(sentence.split()):
        return None
    if has_cue(REFUSES, language, plain):
        return None
    if not extract_facts(sentence) <= extract_facts(plain) or not language_matches(plain, language):
        return None
    return plain


def _is_name(word: str, before: str) -> bool:
    """A brand or product name in Latin letters: mixed case ("iPhone", "WhatsApp") or capitalised inside the
    sentence ("… через Kaspi …"), not at its start, where any word is capitalised."""
    if any(c.isupper() for c in word[1:]) and not word.isupper():
        return True
    return word[0].isupper() and not word.isupper() and any(c.isalpha() for c in before)


def leftover_jargon(plain: str, language: str, words: PlainWords, customer: str | None = None) -> list[str]:
    """The words of a plain version that still read as jargon: an acronym (English), a Latin-script word (other
    languages). Not jargon: text in quotation marks (a status or a button shown as it is), a fact (an order code such
    as AB-77120, a URL or a bare domain, an e-mail, a greeted name: ``coach.facts``), a word the customer wrote
    themselves, a word of the glossary's ``known`` list (brands, PIN, SMS) and, outside English, a brand or product
    name (``_is_name``)."""
    masked = list(plain)
    spans = [m.span() for pattern in (QUOTED, _DOMAIN) for m in pattern.finditer(plain)]
    for start, end in spans + [(a, b) for a, b, _ in fact_spans(plain)]:
        masked[start:end] = " " * (end - start)
    text = "".join(masked)
    theirs = {w.lower() for w in _LATIN_WORD.findall(customer or "")}
    known = set(words.known) | theirs
    left = []
    for match in (_ACRONYM if language == "en" else _LATIN_WORD).finditer(text):
        word, lower = match.group(), match.group().lower()
        if lower in known or (lower.endswith("s") and lower[:-1] in known):  # "PINs"
            continue
        if language != "en" and _is_name(word, text[: match.start()]):
            continue
        left.append(word)
    return left


def shown_plain(sentence: str, language: str, words: PlainWords, customer: str | None = None) -> str | None:
    """The plain version the page shows instead of the sentence, or None: a term or two put plainly in a long
    sentence leaves it (nearly) the quote, which would read as the agent's own sentence copied back, and a plain
    version with jargon left still needs the agent's rewording (the phrasebook's phrasing stands)."""
    plain = plain_version(sentence, language, words)
    if plain is None or is_copy(plain, [sentence]) or leftover_jargon(plain, language, words, customer):
        return None
    return plain
