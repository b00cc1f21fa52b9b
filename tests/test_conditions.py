"""A case's conditions, read by code, and the example picker skipping a phrasing whose conditions do not hold."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from coach.judging.conditions import CASE_CONDITIONS, CONDITIONS, ISSUE_KINDS, detect_conditions
from coach.judging.examples import CaseVectors, ExamplePicker
from coach.knowledge.phrasebook import load_phrasebook, parse_phrasebook
from coach.models import Issue
from coach.resources import shipped_knowledge_dir
from tests.test_examples import SLOTS, WordEmbedder

# Real sentences of the tuning set and the training drafts (eval/conditions.jsonl), per language and condition:
# (language, draft, customer message, the conditions that hold).
CASES = [
    ("en", "Unfortunately our return window is 30 days and the system doesn't allow exceptions.",
     "I tried to return my unopened headphones on day 31. Can you help?", {"draft_refuses"}),
    ("en", "The message was sent by mistake during a calendar update on our side. Thank you for checking with us.",
     "We booked the garden terrace, but just got an email saying it's 'unavailable'.",
     {"company_error", "cause_explained", "draft_thanked"}),
    ("en", "Our same-day appointments are all taken for today, I'm afraid.",
     "My 3-year-old has had a high temperature for two days. Can someone see her today?",
     {"urgent", "draft_refuses"}),
    ("en", "Seat selection is a paid extra; window seats are £12.", "Can I get a window seat?", set()),
    ("ru", "Заявки были закрыты по ошибке, это наша вина. Спасибо, что не оставили это без внимания.",
     "У меня уже месяц не работает домофон.", {"company_error", "cause_explained", "draft_thanked"}),
    ("ru", "Начислениями занимается другой отдел, мы к этому отношения не имеем.",
     "Мне выставили счёт на 18 400 рублей вместо 3 000. Это явно ошибка!", {"draft_refuses"}),  # a claim refused
    ("ru", "Скорее всего, вы сами очистили кэш приложения, поэтому загрузки и пропали.",
     "Ваше приложение удалило все мои треки, а я завтра лечу.", {"urgent", "cause_explained"}),
    ("ru", "Заявка передана технику, ждите звонка.", "Интернет не работает с понедельника!", set()),
    ("el", "Η καθυστέρηση οφειλόταν σε κακές καιρικές συνθήκες. Σας ευχαριστούμε για την κατανόηση.",
     "Η πτήση μου είχε 4 ώρες καθυστέρηση.", {"cause_explained", "draft_thanked"}),
    ("el", "Δυστυχώς, δεν είναι δυνατόν να προστεθούν επιπλέον χρήστες στο πρόγραμμα Basic.",
     "Θα ήθελα να προσθέσω δύο ακόμη χρήστες.", {"draft_refuses"}),
    ("el", "Η ευθύνη είναι δική μας.", "Είναι για τη μητέρα μου και το φάρμακο της τελειώνει αύριο.",
     {"urgent", "company_error", "cause_explained"}),  # an admission says what happened
    ("el", "Ρυθμίσεις > Γλώσσα > Ελληνικά.", "Πώς αλλάζω τη γλώσσα της εφαρμογής;", set()),
    ("kk", "Сіз тауарды тексермей қабылдағандықтан, талабыңызды қанағаттандыра алмаймыз.",
     "Қорапты ашсам, ішінде телефон жоқ!", {"draft_refuses", "cause_explained"}),
    ("kk", "Карта кассада белсендірілмей қалған, бұл біздің қате. Рахмет!",
     "Сыйлық картасының балансы 0 көрсетеді.", {"company_error", "cause_explained", "draft_thanked"}),
    ("kk", "Курьерді 18:30–19:30 аралығына ауыстырдым.",
     "Анама дәрігерді үйге шақырдым, қазір 16:00, әлі ешкім жоқ.", {"urgent"}),
    ("kk", "Өтініміңізді техникалық бөлімге бердім.", "Үш күннен бері үйде интернет жоқ!", set()),
    ("mn", "Компанийн бодлогын дагуу төлбөр буцаагдахгүй. Бид энэ асуудалд юу ч хийж чадахгүй.",
     "Аялалын багцаа цуцлах шаардлагатай боллоо.", {"draft_refuses", "cause_explained"}),  # a policy is a reason
    ("mn", "Нислэг цаг агаарын улмаас цуцлагдсан тул манай буруу биш.",
     "Танай компани яагаад миний нислэгийг цуцалчихаад мөнгийг нь буцааж өгөхгүй байгаа юм бэ?",
     {"cause_explained"}),
    ("mn", "Хаягийг 17-р байр болгон засварлалаа. Хандсанд баярлалаа.",
     "Хаягаа буруу бичсэн байна, 7-р байр биш 17-р байр.", {"draft_thanked"}),
    ("mn", "Тийм.", "Өнөөдөр төлсөн, хэзээ залгах вэ? Хүүхэд маань өвчтэй.", {"urgent"}),
]  # fmt: skip


@pytest.mark.parametrize(("language", "draft", "message", "held"), CASES)
def test_each_condition_is_read_from_real_sentences(language: str, draft: str, message: str, held: set[str]) -> None:
    assert detect_conditions(draft, message, language) & set(CASE_CONDITIONS) == held


def test_until_now_is_not_urgent_and_a_denial_outweighs_an_admission() -> None:
    assert "urgent" not in detect_conditions("Тийм.", "89 000 төгрөг одоо болтол дансанд орж ирээгүй.", "mn")
    assert "company_error" not in detect_conditions("It's not our fault.", "You sent the wrong item.", "en")
    assert "company_error" in detect_conditions("Sorry.", "You sent the wrong item.", "en")
    assert "company_error" not in detect_conditions("Sorry.", "I typed the wrong address by accident.", "en")
    explained = "Sorry, the duplicate is a hold due to a bank timeout."
    assert "company_error" not in detect_conditions(explained, "You charged me twice!", "en"), "explained away"
    within = "Refunds take up to 14 days. It has only been 9, so please be patient."
    assert "company_error" not in detect_conditions(within, "My refund still hasn't arrived.", "en"), "on time"
    on_time_ru = "Возврат занимает до 14 дней, прошло всего 9."
    assert "company_error" not in detect_conditions(on_time_ru, "Возврат до сих пор не пришёл, это задержка!", "ru")


def picker_for(cell: list[dict[str, object]]) -> ExamplePicker:
    data = {"version": "t", "method": "test", "slots": SLOTS, "phrasings": {"apology_ownership": {"en": cell}}}
    book = parse_phrasebook(yaml.safe_dump(data, allow_unicode=True))
    return ExamplePicker(lambda: book, WordEmbedder())  # type: ignore[arg-type]


def entry(text: str, **conditions: list[str]) -> dict[str, object]:
    return {"text": text, "source": {"draft": "curated", "sentence": text}, "method": "curated", **conditions}


def choose(picker: ExamplePicker, draft: str, customer: str, liked: str) -> str | None:
    """The example when the critic would most like the phrasing ``liked``."""
    embedder = WordEmbedder()
    target = embedder.queries([liked])[0]
    vectors = embedder.queries([draft, customer])
    case = CaseVectors(vectors[0], embedder.queries([draft]), vectors[1])
    issue = Issue(criterion="apology_ownership", kind="missing", quote="", start=0, end=0, explanation="")

    def margin(criterion: str, vector: np.ndarray, sentences: np.ndarray | None, message: np.ndarray | None) -> float:
        assert sentences is not None
        return 1.0 - 3.0 * float(sentences[-1] @ target)

    [chosen] = picker.examples([issue], draft, customer, "en", case, [(0, len(draft))], margin=margin)
    return chosen.example


def test_a_phrasing_whose_avoid_condition_holds_is_not_chosen() -> None:
    days = "This usually takes up to ten working days, sorry."
    picker = picker_for([entry("I'm sorry for the trouble."), entry(days, avoid=["urgent"])])
    assert choose(picker, "Your parcel is on its way.", "Where is my parcel?", days) == days
    assert choose(picker, "Your parcel is on its way.", "I need it today!", days) == "I'm sorry for the trouble."


def test_a_phrasing_that_admits_a_mistake_needs_one_stated() -> None:
    fault = "I'm sorry, this was our mistake."
    picker = picker_for([entry("I'm sorry for the trouble."), entry(fault, requires=["company_error"])])
    assert choose(picker, "Your parcel is on its way.", "You sent me the wrong size.", fault) == fault
    assert choose(picker, "Your parcel is on its way.", "Where is my parcel?", fault) == "I'm sorry for the trouble."
    denied = "It is not our fault: the courier was late."
    assert choose(picker, denied, "You sent me the wrong size.", fault) == "I'm sorry for the trouble."


def test_the_shipped_phrasebook_has_a_safe_fallback_and_five_phrasings_in_any_case() -> None:
    """Whatever holds, each cell keeps its condition-free first phrasing; no cell falls below 4 choices for a
    missing part in a usual case, nor below 3 in place of a quoted sentence (a vague time said is replaced only by
    that event's date: a narrow choice on purpose), a past event, or every condition of a case at once."""
    book = load_phrasebook(shipped_knowledge_dir())
    usual = [set(), {"urgent"}, {"draft_refuses"}, {"pending"}]
    narrower = [{"already_happened"}, {"pending", "draft_thanked"}, set(CONDITIONS) - set(ISSUE_KINDS)]
    for criterion, by_language in book.phrasings.items():
        for language, cell in by_language.items():
            assert not cell[0].requires and not cell[0].avoid, f"{criterion}/{language}"
            assert set().union(*(set(p.requires) | set(p.avoid) for p in cell)) <= set(CONDITIONS)
            for kind in ISSUE_KINDS:
                floor = 4 if kind == "missing" else 3
                cases = [(c | {kind}, floor) for c in usual] + [(c | {kind}, 3) for c in narrower]
                for held, least in cases:
                    suiting = sum(p.suits(held) for p in cell)
                    assert suiting >= least, f"{criterion}/{language} with {sorted(held)}"
