"""The plain-words glossary, and the wording example: the quoted sentence put plainly, else a phrasing."""

from __future__ import annotations

import pytest
import yaml

from coach.errors import KnowledgeError
from coach.facts import extract_facts
from coach.judging.examples import CaseVectors, ExamplePicker
from coach.judging.plain_words import SOURCE, leftover_jargon, plain_version, replace_terms, shown_plain
from coach.knowledge.phrasebook import load_phrasebook, parse_phrasebook
from coach.knowledge.plain_words import PlainWords, load_plain_words, parse_plain_words
from coach.models import Issue
from coach.resources import shipped_knowledge_dir
from tests.test_examples import LANGS, WordEmbedder, book_text, phrasing


@pytest.fixture(scope="module")
def words() -> PlainWords:
    return load_plain_words(shipped_knowledge_dir())


def glossary(**terms: dict[str, str]) -> PlainWords:
    return PlainWords(version=1, terms={lang: terms.get(lang, {"xx": "yy"}) for lang in LANGS})  # type: ignore[misc]


def test_the_shipped_glossary_loads_with_terms_in_every_language(words: PlainWords) -> None:
    for language in LANGS:
        terms = words.terms_for(language)
        assert len(terms) >= 40, f"{language}: {len(terms)} terms"
        for term, plain in terms.items():  # every entry compiles and applies: the term alone becomes its wording
            assert replace_terms(f"x {term.rstrip('*')} x", language, words) == " ".join(f"x {plain} x".split()) or (
                term.endswith("*")
            ), (language, term)


@pytest.mark.parametrize(
    ("data", "wrong"),
    [
        ({"version": 1, "terms": {"en": {"rma": "return"}}}, "every language"),
        ({"version": 1, "terms": {lang: {"a*b": "c"} for lang in LANGS}}, "only at its end"),
        ({"version": 1, "terms": {lang: {"ab": "c*"} for lang in LANGS}}, "only for a stem term"),
        ({"version": 1, "terms": {lang: {"ab": "c"} for lang in LANGS}, "extra": 1}, "extra"),
    ],
)
def test_a_malformed_glossary_is_refused_naming_what_is_wrong(data: dict[str, object], wrong: str) -> None:
    with pytest.raises(KnowledgeError, match=wrong):
        parse_plain_words(yaml.safe_dump(data, allow_unicode=True))


def test_terms_are_replaced_on_whole_words_with_endings_case_and_quotes_kept(words: PlainWords) -> None:
    ticket = replace_terms("Номер вашего тикета есть в ЛК.", "ru", words)
    assert ticket == "Номер вашего запроса есть в личном кабинете."
    assert replace_terms("Статус «pending» сменится, pending уйдёт.", "ru", words).startswith("Статус «pending»")
    assert replace_terms("Your RMA is on backorder.", "en", words) == "Your return is waiting for new stock."
    assert replace_terms("It's an RMA.", "en", words) == "It's a return.", "the article agrees with the new word"
    assert replace_terms("Please note that we ship daily.", "en", words) == "we ship daily."
    assert plain_version("Please note that we ship daily.", "en", words) == "We ship daily."
    assert replace_terms("The ETAs and rmas-x stay.", "en", words) == "The ETAs and rmas-x stay."


def test_a_refusal_with_a_condition_says_what_we_can_do(words: PlainWords) -> None:
    refusal = "Unfortunately, we cannot change the name on the booking without a copy of your passport."
    assert plain_version(refusal, "en", words) == "We can change the name on the booking with a copy of your passport."
    receipt = plain_version("Мы не можем вернуть деньги без чека.", "ru", words)
    assert receipt == "Мы можем вернуть деньги при наличии чека."
    assert plain_version("We cannot refund this fare.", "en", words) is None, "no content is invented"
    flat = "Δεν μπορούμε να κάνουμε reset στο token σας."
    assert "token" not in replace_terms(flat, "el", words)
    assert plain_version(flat, "el", words) is None, "a flat refusal in plainer words is still a refusal"


def test_a_change_that_would_lose_a_fact_gives_no_plain_version() -> None:
    sentence = "The refund reaches you at T+5 on card 4111."
    assert "5" in extract_facts(sentence)
    assert plain_version(sentence, "en", glossary(en={"t+5": "soon"})) is None


def picker(words: PlainWords) -> ExamplePicker:
    cell = {
        "en": [phrasing("What we can do is [what we will do].", "curated")],
        "ru": [phrasing("Мы можем сделать следующее: [что мы сделаем].", "curated")],
    }
    slots = {"action": {"en": "what we will do", "ru": "что мы сделаем", "el": "τι", "kk": "не", "mn": "юу"}}
    book = parse_phrasebook(book_text(phrasings={"clear_positive_wording": cell}, slots=slots))
    return ExamplePicker(lambda: book, WordEmbedder(), plain_words=lambda: words)  # type: ignore[arg-type]


def wording_example(words: PlainWords, draft: str, sentence: str, language: str) -> Issue:
    start = draft.index(sentence)
    issue = Issue(
        criterion="clear_positive_wording",
        kind="said",
        quote=sentence,
        start=start,
        end=start + len(sentence),
        explanation="",
    )
    vectors = WordEmbedder().queries([draft, sentence])
    case = CaseVectors(vectors[0], vectors[1:], None)
    [chosen] = picker(words).examples([issue], draft, None, language, case, [(issue.start, issue.end)])
    return chosen


def test_a_russian_jargon_sentence_gets_its_plain_version_with_its_numbers(words: PlainWords) -> None:
    sentence = "Транзакция на 1 500 ₽ отбивается с кодом 05 на стороне эмитента, создайте тикет через ЛК."
    chosen = wording_example(words, f"Здравствуйте! {sentence}", sentence, "ru")
    assert chosen.example == (
        "Операция на 1 500 ₽ отклоняется с кодом 05 на стороне банка, выпустившего карту, "
        "создайте запрос через личный кабинет."
    )
    assert chosen.example_source == SOURCE
    assert extract_facts(sentence) <= extract_facts(str(chosen.example))


def test_an_english_jargon_sentence_gets_its_plain_version_with_its_numbers(words: PlainWords) -> None:
    sentence = "Your RMA 100482733 is on backorder with an ETA of 3 days per our SLA."
    chosen = wording_example(words, f"Hi Anna. {sentence}", sentence, "en")
    assert chosen.example == (
        "Your return 100482733 is waiting for new stock with an expected time of 3 days under our agreed response time."
    )
    assert chosen.example_source == SOURCE
    assert {"100482733", "3"} <= extract_facts(str(chosen.example))


def test_a_sentence_with_no_known_term_falls_back_to_a_phrasing(words: PlainWords) -> None:
    sentence = "Your request has been logged in the appropriate queue."
    chosen = wording_example(words, f"Hello. {sentence}", sentence, "en")
    assert chosen.example == "What we can do is [what we will do]."
    assert chosen.example_source != SOURCE


def test_the_shipped_wording_phrasings_make_no_meta_promise() -> None:
    book = load_phrasebook(shipped_knowledge_dir())
    for language in LANGS:
        texts = [p.text for p in book.phrasings_for("clear_positive_wording", language)]
        assert texts, language
        promises = ("explain each step", "объясню каждый шаг", "εξηγήσω κάθε βήμα", "түсіндіремін", "тайлбарлаж өгнө")
        assert not any(p in t for p in promises for t in texts), "a promise of clarity is not a clear sentence"


def test_a_plain_version_that_is_nearly_the_quote_is_not_shown(words: PlainWords) -> None:
    sentence = "Once the replacement part arrives at our workshop next week, our technician will fit it and call you."
    sentence += " The ETA is Friday."
    assert plain_version(sentence, "en", words) not in (None, sentence), "one term put plainly"
    chosen = wording_example(words, f"Hi Anna. {sentence}", sentence, "en")
    assert chosen.example_source != SOURCE, "a near copy of the agent's sentence reads as copied back"


def test_a_plain_version_that_keeps_unknown_jargon_is_not_shown(words: PlainWords) -> None:
    sentence = "Σας ενημερώνουμε ότι το πρόβλημα οφείλεται σε invalidation των κωδικών μετά την αναβάθμιση του SSO."
    plain = plain_version(sentence, "el", words)
    assert plain is not None and plain != sentence and "invalidation" in plain, "one phrase put plainly, jargon left"
    chosen = wording_example(words, f"Γεια σας. {sentence}", sentence, "el")
    assert chosen.example_source != SOURCE, "a half-plain sentence still needs the agent's rewording"


def test_names_codes_contacts_quoted_statuses_and_the_customers_words_are_not_jargon_left(words: PlainWords) -> None:
    plain = "Заказ AB-77120 в статусе «pending»: оплатите через Kaspi или iPhone, пишите на help@shop.kz, shop.kz/help."
    assert leftover_jargon(plain, "ru", words) == []
    assert leftover_jargon(plain.replace("«pending»", "pending"), "ru", words) == ["pending"]
    assert leftover_jargon("Backend дээр bug гарсан.", "mn", words) == ["Backend", "bug"], "a first word is no name"
    assert leftover_jargon("Статус pending сменится.", "ru", words, customer="У меня висит pending") == []
    assert leftover_jargon("Your DHL parcel AB-77120 needs the PIN from the SMS.", "en", words) == []
    assert leftover_jargon('The CRM shows "PENDING" for order AB-77120.', "en", words) == ["CRM"]


def test_a_plain_version_keeping_an_order_code_a_brand_and_a_quoted_status_is_shown() -> None:
    words = glossary(ru={"тикет*": "запрос*", "эскалирован": "передан специалисту", "холд": "временная блокировка"})
    sentence = "Тикет AB-77120 эскалирован, холд на карте Kaspi в статусе «pending»."
    shown = shown_plain(sentence, "ru", words)
    assert shown == "Запрос AB-77120 передан специалисту, временная блокировка на карте Kaspi в статусе «pending»."
    assert shown_plain(sentence.replace("«pending»", "pending"), "ru", words) is None, "unknown jargon left"


@pytest.mark.parametrize(
    ("language", "sentence", "plain"),
    [
        (
            "mn",
            "Таны картын UID ACS системд sync хийгдээгүй, billing-ээс webhook ирээгүйн улмаас access level pending "
            "төлөвт байна.",
            "Таны картын дугаар нэвтрэх хяналтын системд шинэчлэгдээгүй, төлбөрийн хэсгээс автомат мэдэгдэл ирээгүйн "
            "улмаас нэвтрэх эрх хүлээгдэж буй төлөвт байна.",
        ),
        (
            "en",
            "Your consignment is held at the hub pending the AWB and the HS code.",
            "Your parcel is held at the depot awaiting the shipping document and the customs code.",
        ),
        (
            "ru",
            "Токен протух, поэтому коллбэк от процессинга не дошёл, фикс будет в следующем релизе.",
            "Ключ доступа истёк, поэтому ответ системы от платёжного сервиса не дошёл, исправление будет в следующем "
            "обновлении.",
        ),
        (
            "el",
            "Το refund έγινε initiate και θα γίνει void η pre-authorization όταν ολοκληρωθεί το settlement.",
            "Η επιστροφή χρημάτων ξεκίνησε και θα ακυρωθεί η προσωρινή δέσμευση όταν ολοκληρωθεί η εκκαθάριση.",
        ),
        (
            "kk",
            "Бэкендте баг бар, сондықтан деректер CRM-мен синхрондалмады, фикс келесі релизде шығады.",
            "Біздің жүйеде қате бар, сондықтан деректер клиенттер жүйесімен жаңартылмады, түзету келесі жаңа нұсқада "
            "шығады.",
        ),
    ],
)
def test_common_support_jargon_is_put_plainly_in_every_language(
    words: PlainWords, language: str, sentence: str, plain: str
) -> None:
    assert shown_plain(sentence, language, words) == plain
