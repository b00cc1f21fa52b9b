"""The critic's message x reply cues (coach.judging.relation) and where the draft models read them."""

from __future__ import annotations

import numpy as np
import pytest

from coach.judging.critic import CriticModel, LinearModel
from coach.judging.relation import CUES, relation_cues


def cue(values: np.ndarray, name: str) -> float:
    return float(values[CUES.index(name)])


def test_a_reply_that_repeats_the_order_number_and_the_customers_words_scores_higher_than_one_that_does_not() -> None:
    message = "My order 48213 arrived without the charger. Can you send the charger separately?"
    answering = "I have sent the missing charger for order 48213 by courier today."
    elsewhere = "Our store opening hours are listed on the website."
    meets, misses = relation_cues(answering, message), relation_cues(elsewhere, message)
    assert cue(meets, "numbers repeated") == 1.0 and cue(misses, "numbers repeated") == 0.0
    assert cue(meets, "words repeated") > cue(misses, "words repeated")
    assert cue(meets, "message questions") == pytest.approx(np.log(2))
    assert cue(meets, "message sentences") == pytest.approx(np.log(3))


def test_both_ask_only_when_the_message_and_the_reply_each_ask_something() -> None:
    message = "Πότε θα έρθει το δέμα;"  # the Greek question mark is ';'
    assert cue(relation_cues("Ποιος είναι ο αριθμός αποστολής;", message), "both ask") == 1.0
    assert cue(relation_cues("Έρχεται αύριο.", message), "both ask") == 0.0
    assert cue(relation_cues("When exactly?", "The parcel is late."), "both ask") == 0.0


def test_without_a_message_only_the_replys_questions_are_read() -> None:
    for message in (None, "", "   "):
        values = relation_cues("Could you send me the order number?", message)
        assert values.shape == (len(CUES),)
        assert values[:-1].tolist() == [0.0] * (len(CUES) - 1)
        assert cue(values, "reply questions") == pytest.approx(np.log(2))


def test_a_relation_model_reads_the_cues_after_the_vectors() -> None:
    weights = [0.0, 0.0] + [0.0] * len(CUES)
    weights[2 + CUES.index("numbers repeated")] = -3.0  # the draft's two numbers, then the cues
    model = CriticModel.model_validate(
        {
            "embedder": "e",
            "rubric_version": "r",
            "relation": True,
            "criteria": {"a": {"draft": LinearModel(weights=weights, bias=1.0), "threshold": 0.5}},
        }
    )
    message = "Where is parcel 5521?"
    kept = model.text_features("Parcel 5521 is at the depot.", message)
    dropped = model.text_features("It is at the depot.", message)
    assert kept.shape == dropped.shape == (len(CUES),)
    assert model.violation_probabilities([0.0, 0.0], lexical=kept)["a"] == pytest.approx(1 / (1 + np.exp(2.0)))
    assert model.violation_probabilities([0.0, 0.0], lexical=dropped)["a"] == pytest.approx(1 / (1 + np.exp(-1.0)))
    with pytest.raises(ValueError, match="text_features"):
        model.violation_probabilities([0.0, 0.0])
    plain = model.model_copy(update={"relation": False})
    assert plain.text_features("Parcel 5521 is at the depot.", message).size == 0


def test_the_quote_ranker_learns_which_sentence_of_a_flagged_draft_says_it() -> None:
    from dataclasses import dataclass

    from coach.judging.quote_ranker import quote_ranker

    @dataclass
    class Sentences:
        sentence_draft: np.ndarray
        sentence_spans: list[tuple[int, int]]

    fillers = ["We checked the order.", "The parcel left the depot.", "Thanks for writing to us."]
    drafts, owners, spans, said, labels = [], [], [], [], []
    for i in range(12):
        blame = f"You typed the address {i} wrong yourself."
        parts = [fillers[i % 3], blame, fillers[(i + 1) % 3]] if i < 8 else [fillers[i % 3], fillers[(i + 2) % 3]]
        text, start = "", 0
        for part in parts:
            spans.append((start, start + len(part)))
            owners.append(i)
            said.append(int(part == blame))
            text += part + " "
            start += len(part) + 1
        drafts.append(text)
        labels.append("said" if i < 8 else "ok")
    ranker = quote_ranker(drafts, Sentences(np.asarray(owners), spans), labels, np.asarray(said))
    assert ranker is not None
    flat = LinearModel(weights=[0.0, 0.0], bias=0.0)  # a sentence model that cannot tell the sentences apart
    model = CriticModel.model_validate(
        {
            "embedder": "e",
            "rubric_version": "r",
            "quote_lexical_weight": 2.0,
            "criteria": {"a": {"draft": flat, "threshold": 0.5, "sentence": flat, "quote_lexical": ranker}},
        }
    )
    sentences = ["The parcel left the depot.", "You typed the postcode wrong yourself.", "We checked the order."]
    ranking = model.quote_ranking("a", np.zeros((3, 2)), sentences)
    assert ranking is not None and int(np.argmax(ranking)) == 1
    assert np.allclose(
        model.model_copy(update={"quote_lexical_weight": 0.0}).quote_ranking("a", np.zeros((3, 2)), sentences), 0.0
    )
    assert quote_ranker(drafts, Sentences(np.asarray(owners), spans), labels, None) is None
