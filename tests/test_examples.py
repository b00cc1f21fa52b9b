"""The phrasebook file, and each issue's example: a phrasing chosen for this case, its slots filled by code."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest
import yaml

from coach.errors import KnowledgeError
from coach.judging.examples import CaseVectors, ExamplePicker, costly_slots, fill_slots, open_slots
from coach.knowledge.phrasebook import MIN_PHRASINGS, load_phrasebook, parse_phrasebook
from coach.models import Issue
from coach.prompts import load_rubric, load_why
from coach.resources import shipped_knowledge_dir

LANGS = ("en", "ru", "el", "kk", "mn")
SLOTS = {
    "name": {"en": "name", "ru": "имя", "el": "όνομα", "kk": "аты", "mn": "нэр"},
    "order": {"en": "order number", "ru": "номер заказа", "el": "αριθμός", "kk": "нөмірі", "mn": "дугаар"},
    "date": {"en": "date", "ru": "дата", "el": "ημερομηνία", "kk": "күні", "mn": "огноо"},
    "detail": {"en": "what happened", "ru": "что случилось", "el": "τι συνέβη", "kk": "не болғаны", "mn": "юу болсон"},
}


def phrasing(text: str, draft: str = "ru-x-001") -> dict[str, object]:
    return {"text": text, "source": {"draft": draft, "sentence": text}, "method": "ablation-flag", "delta": 1.0}


def book_text(**extra: object) -> str:
    data = {
        "version": "phrasebook-test",
        "method": "written for this test",
        "slots": SLOTS,
        "phrasings": {
            "apology_ownership": {
                "ru": [
                    phrasing("Приносим извинения за задержку заказа [номер заказа].", "ru-a"),
                    phrasing("Мне очень жаль, что с покупкой вышла такая история, [имя].", "ru-b"),
                ]
            }
        },
    }
    data.update(extra)
    return yaml.safe_dump(data, allow_unicode=True)


class WordEmbedder:
    """A stand-in for e5: a bag of hashed word stems, so texts sharing words are close."""

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            row = np.zeros(64, dtype=np.float32)
            for word in text.lower().split():
                row[int(hashlib.md5(word.strip(".,!?«»")[:5].encode()).hexdigest(), 16) % 64] += 1
            rows.append(row / max(float(np.linalg.norm(row)), 1e-9))
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), 64)


def test_the_phrasebook_refuses_unknown_keys_and_unknown_slots() -> None:
    assert parse_phrasebook(book_text()).phrasings_for("apology_ownership", "ru")
    with pytest.raises(KnowledgeError, match="owner: Extra inputs"):
        parse_phrasebook(book_text(owner="me"))
    bad = {"apology_ownership": {"ru": [phrasing("Вернём деньги до [когда-нибудь].")]}}
    with pytest.raises(KnowledgeError, match="unknown slots"):
        parse_phrasebook(book_text(phrasings=bad))


def test_the_shipped_phrasebook_loads_and_reports_its_coverage() -> None:
    book = load_phrasebook(shipped_knowledge_dir())
    rubric = load_rubric()
    coverage = book.coverage(rubric.ids)
    assert set(coverage) == set(rubric.ids) and all(set(row) == set(LANGS) for row in coverage.values())
    assert all(f"{c}/" in gap for c in rubric.ids for gap in book.gaps([c])), "gaps name their cell"
    assert all(n >= 0 for row in coverage.values() for n in row.values()) and MIN_PHRASINGS == 5


def test_a_phrasing_with_slots_is_filled_from_the_customers_message() -> None:
    book = parse_phrasebook(book_text())
    facts = {"order": ["#48213"], "name": ["Анна"]}
    text = "Приносим извинения за задержку заказа [номер заказа], [что случилось]."
    assert fill_slots(text, "ru", book, facts) == "Приносим извинения за задержку заказа #48213, [что случилось]."
    assert open_slots(fill_slots(text, "ru", book, facts)) == 1, "a slot nothing fills stays a slot"


def test_the_example_is_the_phrasing_closest_to_this_case_with_its_facts() -> None:
    book = parse_phrasebook(book_text())
    embedder = WordEmbedder()
    picker = ExamplePicker(lambda: book, embedder)  # type: ignore[arg-type]
    draft = "Ваш заказ в пути."
    customer = "Где мой заказ №48213? Задержка уже неделю!"
    vectors = embedder.queries([draft, customer])
    issue = Issue(criterion="apology_ownership", kind="missing", quote="", start=0, end=0, explanation="")
    [chosen] = picker.examples([issue], draft, customer, "ru", CaseVectors(vectors[0], None, vectors[1]), [(0, 17)])
    assert chosen.example == "Приносим извинения за задержку заказа №48213."
    assert chosen.example_source == "ru-a"


def test_the_why_quotes_the_draft_or_says_where_in_words() -> None:
    why = load_why()
    said = why.said_text("apology_ownership", "ru", "Это вина курьера.")
    assert said is not None and "«Это вина курьера.»" in said
    missing = why.missing_text("followup_thanks", "en", "before_signoff")
    assert missing is not None and "before the sign-off" in missing and not any(ch.isdigit() for ch in missing)


def test_similar_replies_are_the_closest_cases_in_the_drafts_language(tmp_path) -> None:
    import json

    from coach.knowledge.replies import ReplyBook, situation

    replies = [
        {"id": "ru-1", "language": "ru", "domain": "parcels", "customer_message": "Где моя посылка?",
         "text": "Посылка [номер заказа] приедет завтра."},
        {"id": "ru-2", "language": "ru", "domain": "banking", "customer_message": "Карта заблокирована.",
         "text": "Карту разблокируем сегодня."},
        {"id": "en-1", "language": "en", "domain": "parcels", "customer_message": "Where is my parcel?",
         "text": "Your parcel arrives tomorrow."},
    ]  # fmt: skip
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in replies), encoding="utf-8")

    class Texts(WordEmbedder):
        def passages(self, texts: Sequence[str]) -> np.ndarray:
            return self.queries(texts)

    embedder = Texts()
    book = ReplyBook(path, embedder, tmp_path / "data")  # type: ignore[arg-type]
    draft, message = embedder.queries(["Посылка приедет.", "Где моя посылка, заказ 12?"])
    found = book.similar("ru", situation(draft, message), k=2)
    assert [r.id for r in found] == ["ru-1", "ru-2"] and found[0].score > found[1].score
    assert [r.id for r in book.similar("ru", situation(draft, message), k=2, exclude={"ru-1"})] == ["ru-2"]
    assert list((tmp_path / "data").glob("replies-*.npy")), "the situation vectors are kept in the data dir"


def test_every_shipped_phrasing_is_sayable_in_any_complaint() -> None:
    """Curated, at least 5 per cell, none a copy of the rubric's advice, and a slot-free fallback first."""
    from coach.text import is_copy
    from coach.writing.adapting import advice_pieces

    book = load_phrasebook(shipped_knowledge_dir())
    rubric = load_rubric()
    advice = advice_pieces([t.get(lang) for c in rubric.criteria for t in (c.fix, c.good) for lang in LANGS])
    assert not book.gaps(rubric.ids)
    for criterion in rubric.ids:
        for language in LANGS:
            cell = book.phrasings_for(criterion, language)
            assert open_slots(cell[0].text) == 0, f"{criterion}/{language}: the fallback needs no slot"
            for p in cell:
                assert p.method == "curated" and not is_copy(p.text, advice), p.text
                assert not any(ch.isdigit() for ch in p.text), "numbers are the agent's to say, as slots"


def mined_book() -> str:
    generic = {**phrasing("Приносим извинения за неудобства."), "method": "curated"}
    foreign = phrasing("Извините, что вы остались без воды с ребёнком дома.", "ru-water")
    return book_text(phrasings={"apology_ownership": {"ru": [generic, foreign]}})


def test_a_phrasing_with_another_cases_situation_is_not_shown() -> None:
    book = parse_phrasebook(mined_book())
    embedder = WordEmbedder()
    general = {"ru": {"извини", "вы"}}
    picker = ExamplePicker(lambda: book, embedder, general=lambda: general)  # type: ignore[arg-type]
    draft, customer = "Вы остались без ответа, что с возвратом, извините.", "Где мои деньги за возврат?"
    vectors = embedder.queries([draft, customer])
    issue = Issue(criterion="apology_ownership", kind="missing", quote="", start=0, end=0, explanation="")
    case = CaseVectors(vectors[0], None, vectors[1])
    everything = {"ru": {w.lower()[:6] for w in ["извините", "остались", "воды", "ребёнком", "дома"]}}
    ungated = ExamplePicker(lambda: book, embedder, general=lambda: everything)  # type: ignore[arg-type]
    [closest] = ungated.examples([issue], draft, customer, "ru", case, [(0, len(draft))])
    assert "воды" in str(closest.example), "closeness alone prefers the phrasing that shares the draft's words"
    [chosen] = picker.examples([issue], draft, customer, "ru", case, [(0, len(draft))])
    assert chosen.example == "Приносим извинения за неудобства.", "the gate refuses water and a child at home"
    water = "Ваш водопровод починят: вы остались без воды с ребёнком дома, извините."
    assert picker.fits(book.phrasings_for("apology_ownership", "ru")[1], vectors[0], "ru", case, water)


def test_the_phrasing_chosen_is_the_one_the_critic_would_stop_flagging() -> None:
    texts = ["Приносим извинения за неудобства.", "Мне жаль, что так вышло."]
    cell = [{**phrasing(t), "method": "curated"} for t in texts]
    book = parse_phrasebook(book_text(phrasings={"apology_ownership": {"ru": cell}}))
    embedder = WordEmbedder()
    picker = ExamplePicker(lambda: book, embedder)  # type: ignore[arg-type]
    sorry = embedder.queries([texts[1]])[0]
    draft = "Ваш заказ в пути."
    vectors = embedder.queries([draft, "Где заказ?"])
    issue = Issue(criterion="apology_ownership", kind="missing", quote="", start=0, end=0, explanation="")
    seen: list[int] = []

    def margin(criterion: str, vector: np.ndarray, sentences: np.ndarray | None, customer: np.ndarray | None) -> float:
        assert criterion == "apology_ownership" and sentences is not None and len(sentences) == 2
        seen.append(len(sentences))
        return 1.0 - 3.0 * float(sentences[-1] @ sorry)  # the critic likes «Мне жаль»

    case = CaseVectors(vectors[0], embedder.queries([draft]), vectors[1])
    [chosen] = picker.examples([issue], draft, "Где заказ?", "ru", case, [(0, len(draft))], margin=margin)
    assert chosen.example == "Мне жаль, что так вышло." and len(seen) == 2


def test_a_date_is_never_filled_in_a_promise() -> None:
    book = parse_phrasebook(book_text())
    facts = {"date": ["3 марта"], "name": ["Анна"]}
    assert fill_slots("Ответим до [дата], [имя].", "ru", book, facts) == "Ответим до [дата], Анна."


def test_a_date_left_for_the_agent_costs_nothing_in_the_choice_and_other_blanks_do() -> None:
    book = parse_phrasebook(book_text())
    assert costly_slots("Ответим до [дата].", "ru", book) == 0
    assert costly_slots("Ответим про [что случилось] до [дата].", "ru", book) == 1
    texts = ["Мы разберёмся с [что случилось].", "Ответим вам до [дата]."]
    curated = [phrasing(t, "curated") | {"method": "curated"} for t in texts]
    cell = {"apology_ownership": {"ru": curated}}
    book = parse_phrasebook(book_text(phrasings=cell))
    embedder = WordEmbedder()
    picker = ExamplePicker(lambda: book, embedder)  # type: ignore[arg-type]
    draft = "Ваш заказ в пути."
    vectors = embedder.queries([draft, "Где заказ?"])
    issue = Issue(criterion="apology_ownership", kind="missing", quote="", start=0, end=0, explanation="")
    case = CaseVectors(vectors[0], embedder.queries([draft]), vectors[1])
    flat = lambda *_: 0.0  # noqa: E731  (the critic is indifferent: only the blanks decide)
    [chosen] = picker.examples([issue], draft, "Где заказ?", "ru", case, [(0, len(draft))], margin=flat)
    assert chosen.example == "Ответим вам до [дата]."
