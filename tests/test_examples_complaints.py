"""Examples fitted to what the customer complains about: the shipped phrasebook's apology names what happened and a
solution the concrete remedy when the complaint is read, the generic phrasing stands otherwise, and a phrasing that
owns a mistake is never shown where the draft denies one."""

from __future__ import annotations

import pytest

from coach.judging.complaints import COMPLAINTS
from coach.judging.conditions import ERROR_ADMITTED, detect_conditions, has_cue
from coach.knowledge.phrasebook import load_phrasebook
from coach.resources import shipped_knowledge_dir
from tests.test_examples import LANGS
from tests.test_examples_requests import example, shipped_picker

APOLOGY, SOLUTION, WORDING = "apology_ownership", "solution_alternatives", "clear_positive_wording"
HELLO = {"en": "Hello.", "ru": "Здравствуйте.", "el": "Γεια σας.", "kk": "Сәлеметсіз бе.", "mn": "Сайн байна уу."}
# A message per language with its complaint (real messages of the training drafts and the tuning set).
COMPLAINED = [
    ("en", "I was charged twice for my subscription this month.", "charged_wrongly"),
    (
        "en",
        "Your employee rolled his eyes and told me to 'read the sign'. I've never been treated like that.",
        "staff_rude",
    ),
    ("ru", "Пришли не те кроссовки — заказывала 38-й размер, а прислали 40-й.", "wrong_item"),
    ("el", "Τρίτη μέρα χωρίς ίντερνετ! Δουλεύω από το σπίτι.", "service_down"),
    ("kk", "Тапсырысымды 3 наурызда жеткіземіз деп уәде бердіңіздер, бүгін 9 наурыз.", "late"),
    ("mn", "Захиалсан ширээ маань эвдэрхий ирлээ, нэг хөл нь хугарсан байна.", "damaged_or_faulty"),
]


def cell_texts(criterion: str, language: str, complaint: str) -> set[str]:
    book = load_phrasebook(shipped_knowledge_dir())
    return {p.text for p in book.phrasings_for(criterion, language) if complaint in p.requires}


@pytest.mark.parametrize(("language", "message", "complaint"), COMPLAINED)
def test_a_complaint_gets_the_apology_and_the_solution_that_name_it(
    language: str, message: str, complaint: str
) -> None:
    picker = shipped_picker()
    assert complaint in detect_conditions(HELLO[language], message, language)
    for criterion in (APOLOGY, SOLUTION):
        shown = example(picker, criterion, HELLO[language], message, language)
        assert shown in cell_texts(criterion, language, complaint), f"{criterion}: {shown}"


def test_without_a_complaint_the_generic_apology_stands() -> None:
    picker = shipped_picker()
    message = "Can you tell me whether the TV I ordered comes with a wall mount?"
    assert not detect_conditions("Hello.", message, "en") & set(COMPLAINTS)
    shown = example(picker, APOLOGY, "Hello.", message)
    named = {p.text for p in picker.vectors(APOLOGY, "en")[0] if set(p.requires) & set(COMPLAINTS)}
    assert shown not in named, shown


def test_rudeness_reported_gets_an_apology_for_it_even_beside_a_refusal() -> None:
    """Rated unusable: "I'm sorry this isn't the answer you were hoping for" to a customer who reported rudeness."""
    picker = shipped_picker()
    draft = "Unfortunately we cannot offer compensation for this."
    message = "Your cashier shouted at me in front of everyone. I want compensation."
    assert {"draft_refuses", "staff_rude"} <= detect_conditions(draft, message, "en")
    shown = example(picker, APOLOGY, draft, message)
    assert shown in cell_texts(APOLOGY, "en", "staff_rude"), shown
    assert "hoping for" not in shown


def test_an_owning_apology_is_never_shown_where_the_draft_denies_the_mistake() -> None:
    picker = shipped_picker()
    message = "You sent me the wrong size! I ordered a medium."
    admitted = "Sorry."
    denied = "It is not our fault: the size you ordered is the one we sent."
    assert "company_error" in detect_conditions(admitted, message, "en")
    assert "company_error" not in detect_conditions(denied, message, "en")
    assert has_cue(ERROR_ADMITTED, "en", example(picker, APOLOGY, admitted, message))
    shown = example(picker, APOLOGY, denied, message)
    assert not has_cue(ERROR_ADMITTED, "en", shown), shown
    assert shown in cell_texts(APOLOGY, "en", "wrong_item"), "it still names what happened"


def test_beside_a_refusal_the_solution_names_a_concrete_alternative_and_the_wording_does_not_promise_one() -> None:
    picker = shipped_picker()
    draft = "We cannot refund a charge that has already been processed."
    message = "You charged me twice this month."
    assert {"draft_refuses", "charged_wrongly"} <= detect_conditions(draft, message, "en")
    shown = example(picker, SOLUTION, draft, message)
    assert "check today which other options" not in shown and "line by line" in shown, shown
    # rated unusable on the tuning set: "instead, I can ..." put in place of the refusal while the draft still refuses
    shown = example(picker, WORDING, draft, message)
    assert "line by line" not in shown, shown


def test_every_complaint_has_its_apology_and_solution_in_every_language() -> None:
    book = load_phrasebook(shipped_knowledge_dir())
    for language in LANGS:
        for complaint in set(COMPLAINTS) - {"faulty"}:
            for criterion in (APOLOGY, SOLUTION):
                assert cell_texts(criterion, language, complaint), f"{criterion}/{language}/{complaint}"
        for criterion in (APOLOGY, SOLUTION, WORDING):
            for p in book.phrasings_for(criterion, language):
                if not set(p.requires) & set(COMPLAINTS):
                    continue
                labels = {book.slot_kind(label, language) for label in p.slots()}
                assert labels <= {"date", "time", "amount"}, f"a blank for the agent's content: {p.text}"
                if criterion == SOLUTION and "draft_refuses" not in p.requires:
                    assert "draft_refuses" in p.avoid, f"a remedy promised beside a refusal: {p.text}"
