"""Facts and personal data in a text: what a rewrite must keep (amounts, dates, order numbers, names) and what
is masked before text leaves for a remote LLM (emails, cards, phones, order numbers), then restored.

Pure functions on plain strings (no I/O, no models); both read the text with the same recognisers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

# --------------------------------------------------------------------------- spotting facts and personal data

_Canonical = Callable[[re.Match[str]], str | None]


class _Found(NamedTuple):
    """One recognised piece of text: where, what kind, and its canonical form."""

    start: int
    end: int
    kind: str
    value: str


def _scan(text: str, rules: Sequence[tuple[str, re.Pattern[str], _Canonical]]) -> list[_Found]:
    """Apply rules in priority order; a later rule never claims text an earlier one took."""
    taken: list[_Found] = []
    for kind, pattern, canonical in rules:
        for match in pattern.finditer(text):
            if any(match.start() < other.end and other.start < match.end() for other in taken):
                continue
            value = canonical(match)
            if value is not None:
                taken.append(_Found(match.start(), match.end(), kind, value))
    return sorted(taken)


def _digits(text: str) -> str:
    """Only the digits of a text."""
    return "".join(char for char in text if char.isdigit())


def _luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum that card numbers carry."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'«»“”]+", re.IGNORECASE)
_CARD = re.compile(r"(?<![\w+])\d(?:[ -]?\d){12,18}(?![\w])")
# Digit groups, optionally one in parentheses, joined by at most one space, dash or dot: "+7 701 123-45-67".
_PHONE = re.compile(r"(?<![\w#№+])\+?(?:\(\d+\)|\d+)(?:[ \u00a0.-]?(?:\(\d+\)|\d+))+(?!\w)")
_ORDER = re.compile(r"(?:#|№)\s?(\d+)\b|(?<![\w-])ORD[-_]?[A-Z0-9]*\d[A-Z0-9]*(?![\w-])")


def _email(match: re.Match[str]) -> str:
    """Emails compare case-insensitively."""
    return match.group().lower()


def _card(match: re.Match[str]) -> str | None:
    """Card numbers: 13–19 digits with a valid Luhn checksum."""
    digits = _digits(match.group())
    return digits if 13 <= len(digits) <= 19 and _luhn_valid(digits) else None


def _phone(match: re.Match[str]) -> str | None:
    """Phone numbers: 10–15 digits, or 7–15 after a leading plus; canonically ``+digits`` or ``digits``."""
    raw = match.group()
    digits = _digits(raw)
    shortest = 7 if raw.startswith("+") else 10
    if not shortest <= len(digits) <= 15:
        return None
    return ("+" if raw.startswith("+") else "") + digits


def _order(match: re.Match[str]) -> str:
    """Order numbers: ``#48213`` and ``№ 48213`` are the same order."""
    return "#" + match.group(1) if match.group(1) else match.group().upper()


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class FactChanges:
    """Facts a rewrite dropped or made up; either is a reason not to trust the rewrite blindly."""

    lost: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        """Whether the rewrite kept every fact and added none."""
        return not (self.lost or self.invented)


_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)*"
_CURRENCIES = {
    "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "доллар": "USD", "доллара": "USD",
    "долларов": "USD", "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "евро": "EUR", "ευρώ": "EUR",
    "£": "GBP", "gbp": "GBP", "₽": "RUB", "rub": "RUB", "руб": "RUB", "руб.": "RUB", "рубль": "RUB",
    "рубля": "RUB", "рублей": "RUB", "ruble": "RUB", "rubles": "RUB", "rouble": "RUB", "roubles": "RUB",
    "₸": "KZT", "kzt": "KZT", "тенге": "KZT", "теңге": "KZT", "tenge": "KZT", "₮": "MNT", "mnt": "MNT",
    "төгрөг": "MNT", "төгрөгийн": "MNT", "tugrik": "MNT", "tugriks": "MNT",
}  # fmt: skip
_CURRENCY = "|".join(re.escape(name) for name in sorted(_CURRENCIES, key=len, reverse=True))
_CURRENCY_BEFORE = "|".join(
    re.escape(name) for name in _CURRENCIES if len(name) == 1 or (name.isascii() and len(name) == 3)
)
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?P<pre>{_CURRENCY_BEFORE})\s?(?P<n1>{_NUMBER})|(?P<n2>{_NUMBER})\s?(?P<post>{_CURRENCY}))"
    r"(?![\w])",
    re.IGNORECASE,
)
_PERCENT_OR_NUMBER = re.compile(rf"(?<![\w.,])(?P<n>{_NUMBER})(?P<pct>\s?%)?(?![\w])")
_ID = re.compile(r"(?<![\w-])(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]+(?:-[A-Z0-9]+)*(?![\w-])")
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])")

_EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RU_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
              "ноября", "декабря")  # fmt: skip
_MONTH = (
    r"(?P<month>(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?|" + "|".join(_RU_MONTHS) + r")(?!\w)"
)
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_DATE_YMD = re.compile(r"(?<![\d.])(?P<year>\d{4})(?P<sep>[-./])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)")
_DATE_DMY = re.compile(r"(?<![\d.])(?P<a>\d{1,2})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})(?![\d])")
_DATE_MONTH_DAY = re.compile(rf"(?<!\w){_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?(?!\d)")
_DATE_DAY_MONTH = re.compile(rf"(?<![\w.,]){_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?(?!\d)")
_DATE_MONTH_YEAR = re.compile(rf"(?<!\w){_MONTH}\s+{_YEAR}(?!\d)")

_GREETING = (
    r"(?i:hi|hello|hey|dear|greetings|good\s+(?:morning|afternoon|evening|day)|здравствуйте|добрый\s+(?:день|вечер)"
    r"|привет|γεια\s+σας|αγαπητ[έή]|сәлеметсіз\s+бе|сәлем|сайн\s+байна\s+уу|сайн\s+уу)"
)
GREETING = re.compile(rf"\s*{_GREETING}\b")
"""A text that opens with a greeting ("Hi", "Здравствуйте", "Γεια σας", "Сәлеметсіз бе", "Сайн байна уу")."""
_NAME_AFTER_GREETING = re.compile(
    rf"(?<!\w){_GREETING}[ \t]*,?[ \t]+(?:(?P<title>Mrs|Mr|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+)?"
    r"(?P<names>[^\W\d_]+(?:['’-][^\W\d_]+)*(?: [^\W\d_]+(?:['’-][^\W\d_]+)*)?)"
)
_NOT_NAMES = {"Customer", "Client", "Sir", "Madam", "Team", "Friend", "Friends", "User", "All", "Everyone", "There"}


def _canonical_number(raw: str) -> str:
    """Digits with thousands separators removed and a dot as decimal mark: "1 500" → "1500", "49,90" → "49.90"."""
    number = re.sub(r"[ \u00a0\u202f]", "", raw)
    marks = [char for char in number if char in ".,"]
    if len(set(marks)) == 2:
        decimal = marks[-1]
        number = number.replace("," if decimal == "." else ".", "").replace(decimal, ".")
    elif len(marks) > 1:
        number = number.replace(marks[0], "")
    elif marks:
        whole, fraction = number.split(marks[0])
        thousands = len(fraction) == 3 and whole != "0" and len(whole) <= 3
        number = whole + fraction if thousands else f"{whole}.{fraction}"
    whole, _, fraction = number.partition(".")
    return (whole.lstrip("0") or "0") + (f".{fraction}" if fraction else "")


def _amount(match: re.Match[str]) -> str:
    """Amounts keep their currency: "1 500 ₽" and "1500 рублей" are both "1500 RUB"."""
    number = match.group("n1") or match.group("n2")
    currency = (match.group("pre") or match.group("post")).lower()
    return f"{_canonical_number(number)} {_CURRENCIES[currency]}"


def _plain_number(match: re.Match[str]) -> str:
    """Numbers and percentages in canonical form."""
    return _canonical_number(match.group("n")) + ("%" if match.group("pct") else "")


def _date(year: int | None, month: int, day: int | None) -> str | None:
    """ISO 8601 form (``--MM-DD`` without a year, ``YYYY-MM`` without a day), or None for an impossible date."""
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    if day is None:
        return f"{year:04d}-{month:02d}" if year is not None else None
    return f"{year:04d}-{month:02d}-{day:02d}" if year is not None else f"--{month:02d}-{day:02d}"


def _date_ymd(match: re.Match[str]) -> str | None:
    """2024-05-03, 2024.05.03, 2024/05/03."""
    return _date(int(match["year"]), int(match["month"]), int(match["day"]))


def _date_dmy(match: re.Match[str]) -> str | None:
    """03.05.2024 and 3/5/2024: day first, as in every language coach serves, unless only month-first is possible."""
    first, second, year = int(match["a"]), int(match["b"]), int(match["year"])
    year += 2000 if year < 100 else 0
    day, month = (second, first) if second > 12 >= first else (first, second)
    return _date(year, month, day)


def _month_number(name: str) -> int:
    """1–12 for an English or Russian month name."""
    name = name.lower().rstrip(".")
    return _RU_MONTHS.index(name) + 1 if name in _RU_MONTHS else _EN_MONTHS.index(name[:3]) + 1


def _named_date(match: re.Match[str]) -> str | None:
    """May 3, 2024 · 3rd of May · 3 мая 2024 · May 2024."""
    groups = match.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    day = int(groups["day"]) if groups.get("day") else None
    return _date(year, _month_number(groups["month"]), day)


def _time(match: re.Match[str]) -> str:
    """14:05 and 9:30 as HH:MM."""
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _product_id(match: re.Match[str]) -> str | None:
    """Ids such as A-1234-XY: upper-case letters and digits, at least four characters."""
    return match.group() if len(match.group()) >= 4 else None


def _url(match: re.Match[str]) -> str:
    """URLs compare without scheme, case, trailing slash or the sentence's punctuation."""
    url = re.sub(r"^https?://", "", match.group().lower())
    return url.rstrip(".,;:!?)]}").rstrip("/")


def _is_latin_name(word: str) -> bool:
    """A capitalised word written in Latin letters."""
    letters = [char for char in word if char.isalpha()]
    return word[0].isupper() and all(unicodedata.name(char, "").startswith("LATIN") for char in letters)


def _greeted_name(match: re.Match[str]) -> str | None:
    """The Latin-script name after a greeting ("Hi Anna", "Dear Mr. Smith" → "Mr Smith")."""
    words: list[str] = []
    for word in match["names"].split(" "):
        if not _is_latin_name(word) or word in _NOT_NAMES:
            break
        words.append(word)
    if not words:
        return None
    return " ".join(([match["title"]] if match["title"] else []) + words)


_FACT_RULES: tuple[tuple[str, re.Pattern[str], _Canonical], ...] = (
    ("name", _NAME_AFTER_GREETING, _greeted_name),
    ("url", _URL, _url),
    ("email", _EMAIL, _email),
    ("date", _DATE_YMD, _date_ymd),
    ("date", _DATE_DMY, _date_dmy),
    ("date", _DATE_MONTH_DAY, _named_date),
    ("date", _DATE_DAY_MONTH, _named_date),
    ("date", _DATE_MONTH_YEAR, _named_date),
    ("time", _TIME, _time),
    ("card", _CARD, _card),
    ("amount", _AMOUNT, _amount),
    ("phone", _PHONE, _phone),
    ("order", _ORDER, _order),
    ("id", _ID, _product_id),
    ("number", _PERCENT_OR_NUMBER, _plain_number),
)


def extract_facts(text: str) -> set[str]:
    """Numbers, amounts, ids, dates, contacts and greeted names, canonical so a rewrite's wording does not matter."""
    return {found.value for found in _scan(text, _FACT_RULES)}


def fact_changes(original: str, rewritten: str) -> FactChanges:
    """Facts a rewrite lost or invented, because a polished reply with the wrong amount is worse than none."""
    before, after = extract_facts(original), extract_facts(rewritten)
    return FactChanges(lost=sorted(before - after), invented=sorted(after - before))


# --------------------------------------------------------------------------- personal data

_KEEP = "keep"

# Dates, times and amounts are claimed (and left alone) first, so a phone number never swallows them.
_PII_RULES: tuple[tuple[str, re.Pattern[str], _Canonical], ...] = (
    ("EMAIL", _EMAIL, _email),
    ("CARD", _CARD, _card),
    *((_KEEP, pattern, canonical) for kind, pattern, canonical in _FACT_RULES if kind in {"date", "time", "amount"}),
    ("PHONE", _PHONE, _phone),
    ("ORDER", _ORDER, _order),
)


def _placeholder(kind: str, used: dict[str, str], text: str) -> str:
    """The next ``[KIND_n]`` that is neither taken nor already written in the text."""
    number = 1 + sum(name.startswith(f"[{kind}_") for name in used)
    while f"[{kind}_{number}]" in text or f"[{kind}_{number}]" in used:
        number += 1
    return f"[{kind}_{number}]"


def mask_pii(text: str) -> tuple[str, dict[str, str]]:
    """Replace emails, cards, phones and order numbers by placeholders before text leaves for a remote LLM."""
    mapping: dict[str, str] = {}
    by_value: dict[tuple[str, str], str] = {}
    pieces: list[str] = []
    position = 0
    for found in _scan(text, _PII_RULES):
        if found.kind == _KEEP:
            continue
        original = text[found.start : found.end]
        key = (found.kind, original)
        if key not in by_value:
            by_value[key] = _placeholder(found.kind, mapping, text)
            mapping[by_value[key]] = original
        pieces += [text[position : found.start], by_value[key]]
        position = found.end
    pieces.append(text[position:])
    return "".join(pieces), mapping


def unmask(text: str, mapping: dict[str, str]) -> str:
    """Put the masked values back, in one pass so a restored value is never replaced again."""
    if not mapping:
        return text
    pattern = re.compile("|".join(re.escape(name) for name in sorted(mapping, key=len, reverse=True)))
    return pattern.sub(lambda match: mapping[match.group()], text)


_SEPARATOR = "\n\u0000\n"  # joins draft and message for masking; no PII pattern spans it


def mask_draft(draft: str, customer: str | None) -> tuple[str, str | None, dict[str, str]]:
    """Draft and message as a remote LLM may see them, and the placeholders to restore.

    Both are masked as one text so a placeholder never stands for two different values.
    """
    if customer is None:
        masked_draft, pii = mask_pii(draft)
        return masked_draft, None, pii
    joined, pii = mask_pii(f"{draft}{_SEPARATOR}{customer}")
    masked_draft, masked_customer = joined.split(_SEPARATOR, 1)
    return masked_draft, masked_customer, pii


# --------------------------------------------------------------------------- facts as slots

SLOT_OF_FACT = {
    "name": "name", "url": "contact", "email": "contact", "phone": "contact", "date": "date", "time": "time",
    "card": "number", "amount": "amount", "order": "order", "id": "order", "number": "number",
}  # fmt: skip
"""The slot a recognised fact fills in a phrasing ("[order number]", "[date]"), by the fact's kind."""


def fact_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, slot kind) of every fact of a text, in order: what a phrasing's slot may be filled from.

    A greeted name's span is the name alone ("Hi Anna" -> "Anna"), not its greeting.
    """
    spans = []
    for found in _scan(text, _FACT_RULES):
        start = found.start
        if found.kind == "name":
            first = found.value.split(" ")[0]
            start = max(found.start, text.rfind(first, found.start, found.end))
        spans.append((start, found.end, SLOT_OF_FACT[found.kind]))
    return spans


def facts_by_slot(*texts: str | None) -> dict[str, list[str]]:
    """Slot kind -> the distinct facts of that kind as written in the texts, first seen first."""
    found: dict[str, list[str]] = {}
    for text in texts:
        for start, end, kind in fact_spans(text or ""):
            value = (text or "")[start:end].strip()
            if value and value not in found.setdefault(kind, []):
                found[kind].append(value)
    return found
