"""The LLM's adaptation of an example is shown only when code's checks pass; else the filled phrasing is."""

from __future__ import annotations

import pytest

from coach import Settings
from coach.language import detect_language
from coach.llm.client import LLMProvider
from coach.models import Critique, Issue, Score
from coach.prompts import load_prompt, load_rubric
from coach.text import is_copy
from coach.writing.adapting import (
    advice_pieces,
    customer_phrases,
    has_preamble,
    in_customer_voice,
    invented,
    text_problems,
)
from coach.writing.rewriting import no_mask
from coach.writing.suggestions import Adapter, ReadsAs, Suggester
from tests.fake_openai import Behaviour, fake_openai_server, last_user_text

RUBRIC = load_rubric()
DRAFT = "Здравствуйте! Ваш заказ №48213 задерживается. Ждите."
CUSTOMER = "Где мой заказ №48213? Я жду уже неделю, это возмутительно."
EXAMPLE = "Приносим извинения за задержку заказа №48213."
ISSUE = Issue(
    criterion="apology_ownership", kind="missing", quote="", start=13, end=13, explanation="", example=EXAMPLE,
    example_source="ru-x-001",
)  # fmt: skip
ADVICE = [RUBRIC.criterion("apology_ownership").fix.ru]


def judge(text: str, customer: str | None) -> Critique:
    """Flags the missing apology until the text says «извин»."""
    sorry = "извин" in text.lower()
    issues = [] if sorry else [ISSUE]
    scores = {c: Score(criterion=c, score=4) for c in RUBRIC.ids}
    return Critique(language="ru", scores=scores, overall=4.0, issues=issues)


def problems(sentence: str) -> list[str]:
    return text_problems(sentence, language="ru", draft=DRAFT, customer=CUSTOMER, advice=ADVICE, detect=detect_language)


def test_pure_checks_name_what_is_wrong() -> None:
    assert problems("Извините, пожалуйста, что ваш заказ №48213 так задержался — мы уже выясняем причину.") == []
    assert any("copy of a draft sentence" in p for p in problems("Ваш заказ №48213 задерживается."))
    assert any("language" in p for p in problems("We are so sorry that your order #48213 is late, truly."))
    assert any("5000" in p for p in problems("Извините за задержку, мы вернём вам 5000 рублей за неудобства."))
    assert any("customer" in p for p in problems("Где мой заказ №48213? Я жду уже неделю, это возмутительно."))
    assert has_preamble("Конечно, вот исправленное предложение: Извините.")
    assert invented("Спасибо, Мария, за терпение.", DRAFT, CUSTOMER) == ["Мария"]
    assert invented("Спасибо, что Вы написали, и простите Вас за ожидание.", DRAFT, CUSTOMER) == [], "polite Вы"
    assert any("advice" in p for p in problems(ADVICE[0]))
    assert is_copy("Понимаю, как это неприятно.", advice_pieces(["Начните так: «Понимаю, как это неприятно»."]))


def test_a_sentence_in_the_customers_voice_is_refused() -> None:
    customer = "My suitcase never arrived in Athens and my medication is in it."
    assert in_customer_voice("I am worried because my medication is in the suitcase.", customer)
    assert not in_customer_voice("I'm sorry your suitcase did not arrive, with your medication in it.", customer)
    assert customer_phrases("Мне не вернули деньги.") == {("мне", "не")}
    assert any("voice" in p for p in problems("Я сильно переживаю, где мой заказ, скажите хоть что-нибудь."))


def suggestions(tmp_path, answer: str, reads_as: ReadsAs | None = None) -> tuple[list[str], list[dict]]:
    settings = Settings(data_dir=tmp_path, llm_base_url="http://unused", llm_max_retries=0, llm_timeout_s=5)
    with fake_openai_server(Behaviour(content=answer)) as (url, state):
        llm = LLMProvider(settings.model_copy(update={"llm_base_url": url}))
        prompts = {name: load_prompt(name) for name in ("adapt", "writer")}
        adapter = Adapter(lambda: llm, prompts, judge, lambda *_: True, lambda _: ADVICE, no_mask, reads_as=reads_as)
        critique = Critique(language="ru", scores={}, overall=3.0, issues=[ISSUE])
        shown = list(Suggester(settings, lambda: llm, no_mask, adapter)(DRAFT, critique, CUSTOMER))
    return shown, state.requests


@pytest.mark.parametrize(
    "answer",
    [
        "Ваш заказ №48213 задерживается.",  # copies the draft
        "We apologise for the delay of your order #48213, truly sorry.",  # changes language
        "Приносим извинения: компенсируем вам 700 рублей за заказ №48213.",  # invents a number
    ],
)
def test_a_bad_adaptation_is_refused_and_the_phrasing_shown(tmp_path, answer: str) -> None:
    shown, requests = suggestions(tmp_path, answer)
    assert shown == [EXAMPLE], "the filled phrasing, and nothing the checks refused"
    assert EXAMPLE in last_user_text(requests[0]) and "Russian" in last_user_text(requests[0])


def test_a_good_adaptation_replaces_the_phrasing(tmp_path) -> None:
    good = "Извините, что ваш заказ №48213 идёт так долго: неделя ожидания — это слишком."
    shown, _ = suggestions(tmp_path, good)
    assert shown == [good], "only checked text is shown"


def test_the_critic_must_stop_flagging_the_criterion(tmp_path) -> None:
    shown, _ = suggestions(tmp_path, "Понимаю, как неприятно ждать заказ №48213 целую неделю.")
    assert shown == [EXAMPLE], "the fake critic still flags the apology: the phrasing stands"


def test_a_sentence_that_reads_as_another_criterions_fix_is_refused(tmp_path) -> None:
    good = "Извините, что ваш заказ №48213 идёт так долго: неделя ожидания — это слишком."
    shown, _ = suggestions(tmp_path, good, reads_as=lambda sentence, language: "acknowledgement_empathy")
    assert shown == [EXAMPLE], "an apology issue's fix must read as an apology, else the phrasing stands"
    shown, _ = suggestions(tmp_path, good, reads_as=lambda sentence, language: "apology_ownership")
    assert shown == [good]


def test_what_a_sentence_reads_as_is_its_nearest_phrasings_criterion() -> None:
    from coach.judging.examples import ExamplePicker
    from coach.knowledge.embeddings import shared_embedder
    from coach.knowledge.phrasebook import load_phrasebook
    from coach.resources import shipped_knowledge_dir

    book = load_phrasebook(shipped_knowledge_dir())
    picker = ExamplePicker(lambda: book, shared_embedder())
    # seen on the tuning set: the LLM's "fix" of a jargon sentence was an empathy line
    empathy = "I'm sorry to hear that you were charged twice for your subscription this month."
    assert picker.criterion_of(empathy, "en", RUBRIC.ids) != "clear_positive_wording"
    thanks = "Спасибо, что написали нам; если будут ещё вопросы, я на связи."
    assert picker.criterion_of(thanks, "ru", RUBRIC.ids) == "followup_thanks"


def test_the_model_declining_the_task_is_refused() -> None:
    english = dict(language="en", draft="We cannot change the fare.", customer="The fare was wrong.", advice=[])
    declined = text_problems("I'm sorry, but I can't help with that.", detect=detect_language, **english)
    assert any("declined" in p for p in declined)
    assert text_problems("I'm sorry the fare was wrong; I'll check it today.", detect=detect_language, **english) == []
