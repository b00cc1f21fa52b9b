"""What the customer asks for, read per language, and examples fitted to it: a refund request gets the refund's
time frame with its amount, a refusal never gets a promise of what it refuses, an apology promises nothing vague."""

from __future__ import annotations

import numpy as np
import pytest

from coach.judging.conditions import ERROR_ADMITTED, REQUESTS, detect_conditions, has_cue
from coach.judging.examples import CaseVectors, ExamplePicker
from coach.knowledge.phrasebook import load_phrasebook
from coach.models import Issue
from coach.resources import shipped_knowledge_dir
from tests.test_examples import LANGS, WordEmbedder

# Real customer messages of the training drafts and the tuning set (eval/conditions.jsonl), with what they ask for.
MESSAGES = [
    ("en", "Your app charged me £42 twice for my March membership. Please refund the extra one.", {"wants_refund"}),
    ("en", "The jacket I ordered in a medium came in a small. Order #44718. Can I swap it?", {"wants_replacement"}),
    ("en", "The boiler in flat 3B stopped working last night. Please send someone.", {"wants_repair"}),
    ("en", "Hi, I need to cancel my appointment next week.", {"wants_cancel"}),
    ("en", "Can I move my driving lesson on Wednesday from 4 pm to 5 pm?", {"wants_reschedule"}),
    ("en", "Where's my food? It's been 70 minutes. Order 33-9012.", {"asks_status"}),
    ("en", "You cancelled the 7am class 10 minutes before it started.", set()),  # a complaint, not a request
    ("ru", "У меня из заказа пропало одно блюдо. Верните деньги.", {"wants_refund"}),
    ("ru", "Могу ли я перенести сеанс на следующую неделю без потери предоплаты?", {"wants_reschedule"}),
    ("ru", "Обещали привезти диван 12 апреля, сегодня уже 15-е. Когда привезут?", {"asks_status"}),
    ("ru", "Во сколько у вас завтрак и входит ли он в стоимость номера?", set()),
    ("el", "Θέλω να ακυρώσω τη συνδρομή μου αλλά δεν βρίσκω πουθενά την επιλογή.", {"wants_cancel"}),
    ("el", "Ακύρωσα τη συνδρομή μου, αλλά χρεώθηκα ξανά 11,99€. Θέλω τα χρήματά μου πίσω.", {"wants_refund"}),
    ("el", "Πήρα τα παπούτσια σε νούμερο 42 αλλά μου είναι μικρά. Μπορώ να τα αλλάξω με 43;", {"wants_replacement"}),
    ("kk", "Абонементімнің ақшасын қайтарыңыздар! Залдарыңыз лас.", {"wants_refund"}),
    ("kk", "Ертеңгі сағат 11:00-дегі жазылуымды 15:00-ге ауыстыруға бола ма?", {"wants_reschedule"}),
    ("kk", "Тапсырыс берген зарядтау картам қашан келеді? Оны жексенбі күні төлегенмін.", {"asks_status"}),
    ("kk", "Күшігімізге 2 ай толды. Қандай екпелер салу керек?", set()),
    ("mn", "Маргаашийн 9 цагийн цагаа цуцлах гэсэн юм.", {"wants_cancel"}),
    ("mn", "Захиалсан гутал маань 38 размер байх ёстой байтал 41 ирсэн. Солиулж болох уу?", {"wants_replacement"}),
    ("mn", "Захиалгат шүүгээ маань 4-р сарын 20-нд ирнэ гэсэн. Хэзээ ирэх юм бэ?", {"asks_status"}),
]


@pytest.mark.parametrize(("language", "message", "wants"), MESSAGES)
def test_what_the_customer_asks_for_is_read_in_each_language(language: str, message: str, wants: set[str]) -> None:
    assert detect_conditions("Hello.", message, language) & set(REQUESTS) == wants


def test_a_request_is_read_from_the_message_not_from_the_draft() -> None:
    assert not detect_conditions("We will refund you.", "Do you have parking?", "en") & set(REQUESTS)


def shipped_picker() -> ExamplePicker:
    book = load_phrasebook(shipped_knowledge_dir())
    return ExamplePicker(lambda: book, WordEmbedder())  # type: ignore[arg-type]


def example(picker: ExamplePicker, criterion: str, draft: str, message: str, language: str = "en") -> str:
    """The example when the critic expects every phrasing to fix the issue and likes the generic update best."""
    embedder = WordEmbedder()
    generic = embedder.queries(["update from me today where things stand"])[0]
    vectors = embedder.queries([draft, message])
    case = CaseVectors(vectors[0], embedder.queries([draft]), vectors[1])
    issue = Issue(criterion=criterion, kind="missing", quote="", start=0, end=0, explanation="")

    def margin(_: str, vector: np.ndarray, sentences: np.ndarray | None, customer: np.ndarray | None) -> float:
        assert sentences is not None
        return -1.0 - float(sentences[-1] @ generic)

    [chosen] = picker.examples([issue], draft, message, language, case, [(0, len(draft))], margin=margin)
    assert chosen.example is not None
    return chosen.example


def test_a_refund_request_gets_the_refunds_time_frame_with_the_amount_from_the_message() -> None:
    picker = shipped_picker()
    message = "I was charged £42 twice for my March membership. Please refund the extra one."
    shown = example(picker, "expectations_timeframe", "Hello, thanks for writing.", message)
    assert "refund" in shown and "£42" in shown and "[date]" in shown, shown
    assert "update from me today" not in shown, "specific beats generic even where the critic likes the generic"
    ru = "С меня списали 1 299 ₽ дважды. Верните деньги."
    shown = example(picker, "expectations_timeframe", "Здравствуйте.", ru, "ru")
    assert "возврат" in shown.lower() and "[дата]" in shown, shown


def test_a_draft_that_refuses_gets_no_phrasing_that_promises_what_it_refuses() -> None:
    picker = shipped_picker()
    draft = "Unfortunately we cannot refund this ticket: it is non-refundable."
    message = "I paid £42 for the ticket and can't go. I want a refund."
    assert {"draft_refuses", "wants_refund"} <= detect_conditions(draft, message, "en")
    for criterion in ("expectations_timeframe", "solution_alternatives"):
        shown = example(picker, criterion, draft, message)
        promises = [p for p in picker.vectors(criterion, "en")[0] if "draft_refuses" in p.avoid]
        assert all(shown != p.text.replace("[amount]", "£42") for p in promises), shown
        assert "will reach your card" not in shown and "I'll refund" not in shown, shown
    shown = example(picker, "solution_alternatives", draft, message)
    assert shown.startswith("I can't refund this"), "beside a refusal, what can be done instead"
    alternatives = picker.alternatives(
        Issue(criterion="expectations_timeframe", kind="missing", quote="", start=0, end=0, explanation=""),
        draft,
        message,
        "en",
    )
    assert alternatives and not any("refund of" in text for text in alternatives)


def test_every_promise_of_a_request_in_the_phrasebook_avoids_a_refusal_or_answers_one() -> None:
    book = load_phrasebook(shipped_knowledge_dir())
    for criterion in ("solution_alternatives", "expectations_timeframe"):
        for language in LANGS:
            asked = [p for p in book.phrasings_for(criterion, language) if set(p.requires) & set(REQUESTS)]
            assert len({r for p in asked for r in p.requires if r in REQUESTS}) == len(REQUESTS), language
            for p in asked:
                if set(p.requires) <= {"asks_status", "parcel"} and book.slot_label("date", language) not in p.text:
                    continue  # "I'm checking where it is now" promises no delivery
                assert "draft_refuses" in p.avoid or "draft_refuses" in p.requires, p.text


# "Your request" said to someone who complained, and a promise of attention tacked on: rated "needs editing".
VAGUE = {
    "en": ("request", "attention", "make sure"),
    "ru": ("обращени", "внимани", "прослежу"),
    "el": ("αίτημα", "προσοχή"),
    "kk": ("өтініш", "назар"),
    "mn": ("хүсэлт", "анхаар"),
}


def test_an_apology_is_about_what_happened_and_owns_a_mistake_only_where_one_is_established() -> None:
    book = load_phrasebook(shipped_knowledge_dir())
    for language in LANGS:
        for p in book.phrasings_for("apology_ownership", language):
            assert not any(word in p.text.lower() for word in VAGUE[language]), p.text
            if has_cue(ERROR_ADMITTED, language, p.text):
                assert "company_error" in p.requires, f"an admission without an established error: {p.text}"
