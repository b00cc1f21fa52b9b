"""Grounding checks: quotes located in the draft, citations filtered, facts compared, personal data masked."""

from __future__ import annotations

import random

import pytest

from coach.facts import FactChanges, extract_facts, fact_changes, mask_pii, unmask
from coach.judging.quotes import GroundingReport, Span, filter_citations, locate_quote
from coach.language import language_matches

DRAFTS = {
    "en": (
        "Hi Anna, thank you for your patience. Your refund of $49.90 for order #48213 was issued on May 3, 2024. "
        "The money will reach your card within 5 business days."
    ),
    "ru": (
        "Здравствуйте, Анна! Спасибо за ожидание. Возврат по заказу №48213 на 1 500 ₽ от 03.05.2024 уже оформлен. "
        "Деньги поступят на карту в течение 5 рабочих дней."
    ),
    "el": (
        "Γεια σας, Anna! Ευχαριστούμε για την υπομονή σας. Η επιστροφή για την παραγγελία #48213 ύψους 49,90 € "
        "έγινε στις 03/05/2024. Τα χρήματα θα επιστραφούν στην κάρτα σας εντός 5 εργάσιμων ημερών."
    ),
    "kk": (
        "Сәлеметсіз бе, Анна! Күткеніңіз үшін рахмет. №48213 тапсырыс бойынша 12 000 ₸ қайтарылды, күні 03.05.2024. "
        "Ақша картаңызға 5 жұмыс күні ішінде түседі."
    ),
    "mn": (
        "Сайн байна уу, Анна! Хүлээсэнд баярлалаа. Таны A-1234-XY захиалгын 12000₮ буцаан олголтыг 2024-05-03-нд "
        "хийсэн. Мөнгө таны картад 5 ажлын өдрийн дотор орно."
    ),
}
LANGUAGES = sorted(DRAFTS)

# The last sentence of each draft (without its full stop), and the same with one typo.
LAST_SENTENCES = {
    "en": (
        "The money will reach your card within 5 business days",
        "The money will reach your crad within 5 business days",
    ),
    "ru": ("Деньги поступят на карту в течение 5 рабочих дней", "Деньги поступят на карту в течении 5 рабочих дней"),
    "el": (
        "Τα χρήματα θα επιστραφούν στην κάρτα σας εντός 5 εργάσιμων ημερών",
        "Τα χρήματα θα επιστραφούν στην κάρτα σας εντος 5 εργάσιμων ημερών",
    ),
    "kk": ("Ақша картаңызға 5 жұмыс күні ішінде түседі", "Ақша картаңызга 5 жұмыс күні ішінде түседі"),
    "mn": ("Мөнгө таны картад 5 ажлын өдрийн дотор орно", "Мөнгө таны картад 5 ажилын өдрийн дотор орно"),
}

INVENTED = {
    "en": "We will send you a free gift card to make up for the delay",
    "ru": "Мы подарим вам скидку десять процентов на следующий заказ",
    "el": "Θα σας στείλουμε δωροκάρτα ως αποζημίωση για την καθυστέρηση",
    "kk": "Кешіккеніміз үшін сізге сыйлық картасын жібереміз",
    "mn": "Хоцорсны төлөө бид танд бэлгийн карт илгээнэ",
}


def assert_consistent(draft: str, span: Span) -> None:
    """The invariant every caller relies on: the span's text is exactly that slice of the draft."""
    assert 0 <= span.start < span.end <= len(draft)
    assert span.text == draft[span.start : span.end]


def assert_whole_words(draft: str, span: Span) -> None:
    """Neither end of the span falls inside a word."""
    if span.start > 0:
        assert not (draft[span.start - 1].isalnum() and draft[span.start].isalnum())
    if span.end < len(draft):
        assert not (draft[span.end - 1].isalnum() and draft[span.end].isalnum())


# --------------------------------------------------------------------------- locate_quote


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_verbatim_quote_is_found_exactly(language: str) -> None:
    draft = DRAFTS[language]
    quote = LAST_SENTENCES[language][0]
    span = locate_quote(draft, quote)
    assert span is not None
    assert_consistent(draft, span)
    assert (span.text, span.method) == (quote, "exact")
    assert span.start == draft.index(quote)


@pytest.mark.parametrize("language", LANGUAGES)
def test_case_and_whitespace_are_ignored_and_offsets_map_back(language: str) -> None:
    draft = DRAFTS[language]
    sentence = LAST_SENTENCES[language][0]
    quote = "  " + "\n  ".join(sentence.upper().split(" ")) + " "
    span = locate_quote(draft, quote)
    assert span is not None
    assert_consistent(draft, span)
    assert (span.text, span.method) == (sentence, "normalized")


def test_case_folding_that_changes_length_still_maps_offsets_back() -> None:
    draft = "Bitte an die Hauptstraße 5 senden."
    span = locate_quote(draft, "HAUPTSTRASSE 5")
    assert span is not None
    assert_consistent(draft, span)
    assert (span.text, span.method) == ("Hauptstraße 5", "normalized")


@pytest.mark.parametrize("wrapped", ["«{}»", "“{}”", '"{}"', "…{}…", "...{}", "'{}'", " « {} » "])
def test_quote_marks_and_ellipses_around_the_quote_are_stripped(wrapped: str) -> None:
    draft = DRAFTS["ru"]
    sentence = LAST_SENTENCES["ru"][0]
    span = locate_quote(draft, wrapped.format(sentence))
    assert span is not None
    assert_consistent(draft, span)
    assert span.text == sentence


def test_quote_marks_that_are_in_the_draft_are_kept() -> None:
    draft = "Нажмите «Вернуть товар» в личном кабинете."
    span = locate_quote(draft, "«Вернуть товар»")
    assert span is not None
    assert (span.text, span.method) == ("«Вернуть товар»", "exact")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_quote_with_one_typo_is_found_fuzzily(language: str) -> None:
    draft = DRAFTS[language]
    sentence, typo = LAST_SENTENCES[language]
    span = locate_quote(draft, typo)
    assert span is not None
    assert_consistent(draft, span)
    assert_whole_words(draft, span)
    assert (span.text, span.method) == (sentence, "fuzzy")


@pytest.mark.parametrize(
    ("language", "quote", "expected"),
    [
        ("ru", "ньги поступят на карту в течении 5 рабочих дн", "Деньги поступят на карту в течение 5 рабочих дней"),
        ("mn", "Хүлээсэнд баярлаа", "Хүлээсэнд баярлалаа"),
        ("mn", "өнгө таны картад 5 ажилын өдрийн дотор ор", "Мөнгө таны картад 5 ажлын өдрийн дотор орно"),
    ],
)
def test_fuzzy_matches_snap_to_whole_words(language: str, quote: str, expected: str) -> None:
    draft = DRAFTS[language]
    span = locate_quote(draft, quote)
    assert span is not None
    assert_consistent(draft, span)
    assert_whole_words(draft, span)
    assert (span.text, span.method) == (expected, "fuzzy")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_invented_quote_is_not_located(language: str) -> None:
    assert locate_quote(DRAFTS[language], INVENTED[language]) is None


@pytest.mark.parametrize("quote", ["", "   ", "\n", "«»", "…", '""', "..."])
def test_an_empty_quote_is_not_located(quote: str) -> None:
    assert locate_quote(DRAFTS["en"], quote) is None


def test_min_ratio_decides_how_close_is_close_enough() -> None:
    draft = DRAFTS["en"]
    quote = "The money should reach your card within 5 working days"
    assert locate_quote(draft, quote) is None
    span = locate_quote(draft, quote, min_ratio=0.8)
    assert span is not None
    assert span.text == LAST_SENTENCES["en"][0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_any_located_span_slices_the_draft_and_fuzzy_ones_keep_words_whole(language: str) -> None:
    draft = DRAFTS[language]
    rng = random.Random(language)
    for _ in range(40):
        start = rng.randrange(len(draft) - 30)
        quote = list(draft[start : start + rng.randrange(15, 60)])
        position = rng.randrange(len(quote))
        quote[position] = "x" if quote[position] != "x" else "y"
        span = locate_quote(draft, "".join(quote))
        if span is None:
            continue
        assert_consistent(draft, span)
        if span.method == "fuzzy":
            assert_whole_words(draft, span)


# --------------------------------------------------------------------------- citations and the report


def test_filter_citations_keeps_given_ids_in_order_once_and_drops_invented_ones() -> None:
    allowed = {"ru-empathy#1", "ru-empathy#2", "mn-complaints-7-tips#4"}
    cited = ["ru-empathy#2", "ru-empathy#9", "mn-complaints-7-tips#4", "ru-empathy#2", " ru-empathy#1 ", "ru-empathy#9"]
    kept, dropped = filter_citations(cited, allowed)
    assert kept == ["ru-empathy#2", "mn-complaints-7-tips#4", "ru-empathy#1"]
    assert dropped == ["ru-empathy#9"]


def test_filter_citations_with_nothing_allowed_drops_everything() -> None:
    assert filter_citations(["a#1", "b#2"], []) == ([], ["a#1", "b#2"])
    assert filter_citations([], {"a#1"}) == ([], [])


def test_grounding_report_counts_quotes_and_citations() -> None:
    draft = DRAFTS["ru"]
    report = GroundingReport()
    for quote in (LAST_SENTENCES["ru"][0], LAST_SENTENCES["ru"][1], INVENTED["ru"]):
        report.count_quote(locate_quote(draft, quote))
    report.count_citations(*filter_citations(["a#1", "x#9", "a#2"], {"a#1", "a#2"}))
    assert report == GroundingReport(
        quotes_located=2, quotes_dropped=1, citations_kept=2, citations_dropped=1, fuzzy_quotes=1
    )


# --------------------------------------------------------------------------- facts

EXPECTED_FACTS = {
    "en": {"Anna", "49.90 USD", "#48213", "2024-05-03", "5"},
    "ru": {"#48213", "1500 RUB", "2024-05-03", "5"},
    "el": {"Anna", "#48213", "49.90 EUR", "2024-05-03", "5"},
    "kk": {"#48213", "12000 KZT", "2024-05-03", "5"},
    "mn": {"A-1234-XY", "12000 MNT", "2024-05-03", "5"},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_facts_of_each_draft(language: str) -> None:
    assert extract_facts(DRAFTS[language]) == EXPECTED_FACTS[language]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("заказ №48213 на 1 500 ₽ от 03.05.2024", {"#48213", "1500 RUB", "2024-05-03"}),
        ("заказ № 48213 на 1500 рублей от 3 мая 2024", {"#48213", "1500 RUB", "2024-05-03"}),
        ("Total: $49.90", {"49.90 USD"}),
        ("Σύνολο: 49,90 €", {"49.90 EUR"}),
        ("Төлбөр 12000₮ буюу 12 000 төгрөг", {"12000 MNT"}),
        ("Сома 12 000 теңге, yes 12 000 tenge, 12 000 ₸", {"12000 KZT"}),
        ("1,500.50 USD and 1.500,50 EUR", {"1500.50 USD", "1500.50 EUR"}),
        ("Tickets A-1234-XY and ORD123456", {"A-1234-XY", "ORD123456"}),
        ("Dates 2024-05-03, 03.05.2024, 3/5/2024, May 3, 2024, 3 May 2024, 3rd of May 2024", {"2024-05-03"}),
        ("US style 5/13/2024 and a month alone: May 2024", {"2024-05-13", "2024-05"}),
        ("no year: May 3rd", {"--05-03"}),
        ("Write to Help@Shop.COM or see HTTPS://Shop.com/Help/.", {"help@shop.com", "shop.com/help"}),
        ("Call +7 701 123 45 67 or 8 (800) 555-35-35", {"+77011234567", "88005553535"}),
        ("Open 09:00–18:00, 15% off, 3.5 days", {"09:00", "18:00", "15%", "3.5"}),
        ("Dear Mr. Smith, thank you.", {"Mr Smith"}),
        ("Hello Anna Petrova, thank you.", {"Anna Petrova"}),
        ("Γεια σας, Maria! Сәлеметсіз бе, Aigerim! Сайн байна уу, Bat", {"Maria", "Aigerim", "Bat"}),
        ("Dear customer, hi there! Здравствуйте, Анна!", set()),
        ("May I help you? We may.", set()),
    ],
)
def test_extract_facts_canonical_forms(text: str, expected: set[str]) -> None:
    assert extract_facts(text) == expected


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("1 500 ₽", "1500 ₽"),
        ("1 500 ₽", "1500 рублей"),
        ("49,90 €", "49.90 евро"),
        ("№48213", "#48213"),
        ("03.05.2024", "2024-05-03"),
        ("May 3, 2024", "3 May 2024"),
        ("ANNA@EXAMPLE.COM", "anna@example.com"),
        ("Dear Mr. Smith", "Hello Mr Smith"),
    ],
)
def test_the_same_fact_written_two_ways_matches(first: str, second: str) -> None:
    assert extract_facts(first) == extract_facts(second)
    assert fact_changes(first, second).unchanged


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_faithful_rewrite_keeps_every_fact(language: str) -> None:
    draft = DRAFTS[language]
    rewrite = draft.replace("  ", " ") + " 🙂"
    assert fact_changes(draft, rewrite) == FactChanges(lost=[], invented=[])


REWRITES_WITH_CHANGED_FACTS = {
    "en": (DRAFTS["en"].replace("$49.90", "$94.90").replace("5 business", "3 business"), ["49.90 USD", "5"],
           ["3", "94.90 USD"]),
    "ru": (DRAFTS["ru"].replace("03.05.2024", "05.03.2024"), ["2024-05-03"], ["2024-03-05"]),
    "el": (DRAFTS["el"].replace(" #48213", ""), ["#48213"], []),
    "kk": (DRAFTS["kk"] + " Сұрақтар болса: help@shop.kz", [], ["help@shop.kz"]),
    "mn": (DRAFTS["mn"].replace("A-1234-XY", "A-1234-YX").replace("12000₮", "12000 ₸"), ["12000 MNT", "A-1234-XY"],
           ["12000 KZT", "A-1234-YX"]),
}  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_lost_and_invented_facts_are_reported_sorted(language: str) -> None:
    rewrite, lost, invented = REWRITES_WITH_CHANGED_FACTS[language]
    changes = fact_changes(DRAFTS[language], rewrite)
    assert changes == FactChanges(lost=lost, invented=invented)
    assert changes.lost == sorted(changes.lost) and changes.invented == sorted(changes.invented)
    assert not changes.unchanged


# --------------------------------------------------------------------------- personal data

PII_TEXTS = {
    "en": "Hi Anna, order #48213 paid with 4111 1111 1111 1111. Reach me at anna.k@example.com or +1 (555) 123-4567.",
    "ru": "Заказ №48213 оплачен картой 4111-1111-1111-1111. Пишите на anna@mail.ru или звоните 8 (800) 555-35-35.",
    "el": "Παραγγελία ORD123456, κάρτα 4111111111111111, email maria@example.gr, τηλέφωνο +30 210 123 4567.",
    "kk": "Тапсырыс #48213, карта 4111 1111 1111 1111, пошта aigerim@mail.kz, телефон +7 701 123 45 67.",
    "mn": "Захиалга #48213, карт 4111 1111 1111 1111, имэйл bat@mail.mn, утас +976 9911 2233.",
}
PII_PLACEHOLDERS = ["[CARD_1]", "[EMAIL_1]", "[ORDER_1]", "[PHONE_1]"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_mask_pii_replaces_personal_data_and_unmask_restores_it_exactly(language: str) -> None:
    text = PII_TEXTS[language]
    masked, mapping = mask_pii(text)
    assert sorted(mapping) == PII_PLACEHOLDERS
    for original in mapping.values():
        assert original in text and original not in masked
    assert "4111" not in masked and "@" not in masked
    assert unmask(masked, mapping) == text


def test_the_same_value_gets_the_same_placeholder() -> None:
    text = "Email a@b.co, then a@b.co again, or c@d.co; order #1234 and #1234."
    masked, mapping = mask_pii(text)
    assert masked == "Email [EMAIL_1], then [EMAIL_1] again, or [EMAIL_2]; order [ORDER_1] and [ORDER_1]."
    assert mapping == {"[EMAIL_1]": "a@b.co", "[EMAIL_2]": "c@d.co", "[ORDER_1]": "#1234"}
    assert unmask(masked, mapping) == text


def test_a_number_failing_the_luhn_check_is_not_masked_as_a_card() -> None:
    text = "Card 4111 1111 1111 1111 is a test card; 4111 1111 1111 1112 is not a card number."
    masked, mapping = mask_pii(text)
    assert mapping == {"[CARD_1]": "4111 1111 1111 1111"}
    assert "4111 1111 1111 1112" in masked
    assert unmask(masked, mapping) == text


def test_dates_and_amounts_are_not_masked_as_phone_numbers() -> None:
    text = "Возврат 12 000 ₸ от 2024-05-03 10:30, заказ ORD-778899, телефон +7 701 123 45 67."
    masked, mapping = mask_pii(text)
    assert masked == "Возврат 12 000 ₸ от 2024-05-03 10:30, заказ [ORDER_1], телефон [PHONE_1]."
    assert unmask(masked, mapping) == text


def test_placeholders_already_in_the_text_survive_the_round_trip() -> None:
    text = "Literal [EMAIL_1] stays; the address is x@y.kz."
    masked, mapping = mask_pii(text)
    assert mapping == {"[EMAIL_2]": "x@y.kz"}
    assert unmask(masked, mapping) == text


def test_unmask_restores_placeholders_the_model_moved_around() -> None:
    masked, mapping = mask_pii("Order #48213 for anna@example.com")
    reply = "We wrote to [EMAIL_1] about [ORDER_1]; [ORDER_1] ships today. [PHONE_9] is unknown."
    assert (
        unmask(reply, mapping) == "We wrote to anna@example.com about #48213; #48213 ships today. [PHONE_9] is unknown."
    )
    assert unmask("no placeholders", {}) == "no placeholders"


def test_text_without_personal_data_is_unchanged() -> None:
    text = DRAFTS["mn"]
    assert mask_pii(text) == (text, {})


# --------------------------------------------------------------------------- language

SENTENCES = {
    "en": "Thank you for waiting, your refund has been issued and will arrive within five days.",
    "ru": "Спасибо за ожидание, возврат уже оформлен, деньги поступят на вашу карту в течение пяти дней.",
    "el": "Ευχαριστούμε για την αναμονή, η επιστροφή χρημάτων έγινε και θα φτάσει μέσα σε πέντε ημέρες.",
    "kk": "Күткеніңіз үшін рахмет, ақшаңыз қайтарылды және бес күн ішінде картаңызға түседі.",
    "mn": "Хүлээсэнд баярлалаа, таны мөнгийг буцаан олгосон бөгөөд таван хоногийн дотор картад орно.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_matches_its_own_language(language: str) -> None:
    assert language_matches(SENTENCES[language], language)


@pytest.mark.parametrize(
    ("text_language", "expected"),
    [("kk", "ru"), ("ru", "kk"), ("kk", "mn"), ("mn", "kk"), ("ru", "mn"), ("mn", "ru"), ("el", "en"), ("en", "el")],
)
def test_language_mismatch_is_caught(text_language: str, expected: str) -> None:
    assert not language_matches(SENTENCES[text_language], expected)


@pytest.mark.parametrize("text", ["", "   ", "Спасибо!", "Рахмет!", "Баярлалаа!"])
def test_text_too_short_to_judge_passes(text: str) -> None:
    assert language_matches(text, "en")


def test_min_chars_sets_what_is_too_short() -> None:
    assert not language_matches("Спасибо за ожидание!", "en", min_chars=10)
    assert language_matches("Спасибо за ожидание!", "en", min_chars=50)


def test_a_greeting_alone_on_its_line_names_nobody() -> None:
    """'Hi,' then a blank line: the next line's first word ("I'm") is not the customer's name."""
    assert not any("I'm" in str(fact) for fact in extract_facts("Hi,\n\nI'm sorry for the delay."))
    assert "Anna" in str(extract_facts("Hi Anna, sorry for the delay."))
