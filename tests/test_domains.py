"""The service-domain classifier of similar replies: deterministic fit, files that round-trip, and real cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from coach import Coach
from coach.knowledge.domains import MODEL_JSON, MODEL_WEIGHTS, DomainModel, case_text, domain_name, ngram_counts
from coach.knowledge.replies import ReplyBook, situation
from tests.conftest import ROOT


def toy_model() -> tuple[DomainModel, list[str], np.ndarray]:
    texts = [
        "My parcel never arrived, courier lost it",
        "The parcel tracking says delivered",
        "My card was blocked",
        "The bank charged my card twice",
        "Посылка не пришла, курьер потерял",
        "Банк заблокировал карту",
    ]
    labels = ["parcels", "parcels", "banking", "banking", "parcels", "banking"]
    rng = np.random.default_rng(0)
    cases = rng.normal(size=(len(texts), 384)).astype(np.float32)
    cases /= np.linalg.norm(cases, axis=1, keepdims=True)
    return DomainModel.fit(texts, cases, labels), texts, cases


def test_a_fit_saves_the_same_bytes_twice_and_loads_back(tmp_path: Path) -> None:
    first, texts, cases = toy_model()
    second, _, _ = toy_model()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first.save(tmp_path / "a")
    second.save(tmp_path / "b")
    for name in (MODEL_JSON, MODEL_WEIGHTS):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    loaded = DomainModel.load(tmp_path / "a")
    assert loaded.domains == ("banking", "parcels")
    assert [loaded.predict(t, c) for t, c in zip(texts, cases, strict=True)] == [
        first.predict(t, c) for t, c in zip(texts, cases, strict=True)
    ]
    assert loaded.predict("курьер потерял мою посылку", np.zeros(384, dtype=np.float32)) == "parcels"


def test_ngrams_ignore_case_digits_and_spacing() -> None:
    assert ngram_counts("Order  4417 LOST") == ngram_counts("order 9999 lost")
    assert case_text("draft", None) == "draft" and case_text("draft", "message") == "message draft"
    assert domain_name("Food delivery") == "food_delivery"


def test_a_model_file_that_does_not_match_its_weights_is_refused(tmp_path: Path) -> None:
    from coach.errors import KnowledgeError

    model, _, _ = toy_model()
    model.save(tmp_path)
    meta = json.loads((tmp_path / MODEL_JSON).read_text())
    (tmp_path / MODEL_JSON).write_text(json.dumps(meta | {"domains": ["banking"]}))
    with pytest.raises(KnowledgeError):
        DomainModel.load(tmp_path)


def test_the_predicted_domain_and_shared_situation_kinds_raise_a_reply(tmp_path: Path, embedder) -> None:
    replies = [
        {"id": "ru-1", "language": "ru", "domain": "parcels", "customer_message": "Где моя посылка?",
         "text": "Посылка приедет завтра."},
        {"id": "ru-2", "language": "ru", "domain": "banking", "customer_message": "Карта заблокирована.",
         "text": "Карту разблокируем сегодня."},
        {"id": "en-1", "language": "en", "domain": "telecom", "customer_message": "No internet.",
         "text": "An engineer comes tomorrow."},
    ]  # fmt: skip
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in replies), encoding="utf-8")

    def kinds(message: str, language: str) -> frozenset[str]:
        return frozenset({"late"}) if "посылка" in message else frozenset()

    book = ReplyBook(path, embedder, tmp_path / "data", kinds=kinds)
    draft, message = embedder.queries(["Посылка приедет.", "Где моя посылка, заказ 12?"])
    case = situation(draft, message)
    assert [r.id for r in book.similar("ru", case, k=2)] == ["ru-1", "ru-2"]
    assert [r.id for r in book.similar("ru", case, k=2, domain="banking")] == ["ru-1", "ru-2"]  # far: a bonus only
    assert [r.id for r in book.similar("ru", case, k=2, domain="telecom")] == ["ru-1", "ru-2"]  # none in ru
    vectors = book.vectors()
    between = situation(vectors[0], vectors[1])  # as close to either
    assert book.similar("ru", between, k=1, domain="banking")[0].id == "ru-2"
    assert book.similar("ru", between, k=1, domain="parcels")[0].id == "ru-1"
    assert book.similar("ru", between, k=1, domain="telecom", kinds=frozenset({"late"}))[0].id == "ru-1"
    assert book.similar("ru", between, k=1, domain="banking", kinds=frozenset({"late", "wants_refund"}))[0].id == "ru-2"


@pytest.mark.parametrize(
    ("draft", "message", "domain"),
    [
        ("Sorry your parcel shows as delivered but never reached you; I opened a trace with the courier.",
         "My parcel 4417 says delivered but nothing arrived.", "parcels"),
        ("Здравствуйте! Сожалеем, что карта заблокирована. Мы разблокируем её сегодня до 18:00.",
         "Мою банковскую карту заблокировали, я не могу оплатить покупки.", "banking"),
        ("Сәлеметсіз бе! Интернеттің үзілгені үшін кешірім сұраймыз. Шебер ертең 10:00-де келеді.",
         "Үйдегі интернет үш күннен бері жоқ, роутер жыпылықтап тұр.", "telecom"),
        ("Сайн байна уу. Таны захиалсан хоол хоцорсонд уучлаарай. Мөнгийг тань буцаана.",
         "Захиалсан хоол маань 2 цаг хоцорч ирээд хүйтэн байсан.", "food_delivery"),
        ("Λυπούμαστε για τον θόρυβο στο δωμάτιό σας. Σας μεταφέρουμε σε ήσυχο δωμάτιο απόψε.",
         "Το δωμάτιο του ξενοδοχείου είχε θόρυβο όλη τη νύχτα και δεν κοιμήθηκα.", "hotel"),
    ],
)  # fmt: skip
def test_similar_replies_are_good_replies_of_the_cases_domain_in_its_language(
    coach: Coach, draft: str, message: str, domain: str
) -> None:
    found = coach.similar_replies(draft, message, k=2)
    language = {"parcels": "en", "banking": "ru", "telecom": "kk", "food_delivery": "mn", "hotel": "el"}[domain]
    assert [(r.language, r.domain) for r in found] == [(language, domain)] * 2


@pytest.mark.parametrize(
    ("draft", "message", "kind"),
    [
        ("Сәлеметсіз бе! Кешіріңіз, қайтарымды тексеріп жатырмыз.",
         "Сақтандыру шартын бұздым, 30 000 теңгені қайтарамыз дедіңіздер, екі апта өтті, ақша әлі түскен жоқ.",
         "money_not_received"),
        ("Καλησπέρα, λυπούμαστε, ελέγχουμε την επιστροφή.",
         "Είπατε ότι θα επιστρέψετε τα 35 € της διπλής χρέωσης, αλλά δεν έχω λάβει τίποτα ακόμα στην κάρτα μου.",
         "money_not_received"),
        ("Здравствуйте! Подписку отключили, деньги вернём в течение 3 дней.",
         "С моего счёта второй месяц списывают 199 ₽ за подписку «Музыка», которую я не оформлял. Верните деньги!",
         "unwanted_subscription"),
        pytest.param(
            "Hello, sorry about that, I have cancelled the plan and refunded you.",
            "You took £9.99 for a Pro subscription I never signed up for. I want it cancelled and my money back.",
            "unwanted_subscription",
            marks=pytest.mark.xfail(
                strict=True,
                reason="the domain classifier says telecom; the one English reply of that kind is saas (en-wa-045), "
                "and a domain bonus below the kinds' loses the domain bar",
            ),
        ),
    ],
)  # fmt: skip
def test_the_top_similar_reply_is_of_the_cases_situation(coach: Coach, draft: str, message: str, kind: str) -> None:
    """A refund still awaited and a charge for a subscription never ordered get a good reply to the same situation
    (the kinds of ``eval/situations.jsonl``, labelled by reading the replies' messages)."""
    lines = (ROOT / "eval" / "situations.jsonl").read_text(encoding="utf-8").splitlines()
    kinds = {row["id"]: row["kind"] for row in map(json.loads, lines) if row["set"] == "replies"}
    top, _ = coach.similar_replies(draft, message, k=2)
    assert kinds[top.id] == kind
