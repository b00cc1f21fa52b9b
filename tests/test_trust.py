"""Trust in the learned critic (issue 21): good replies are left alone, bad ones get their real problems.

Through the public API with the shipped model, the real embedder and a real index; no LLM is called.
"""

from __future__ import annotations

import json
from pathlib import Path

from coach import Coach, Settings
from coach.knowledge.embeddings import Embedder

ROOT = Path(__file__).resolve().parents[1]
DEAD_LLM = "http://127.0.0.1:9/v1"  # a learned critique must not need the LLM


def learned(indexed_coach: Coach, embedder: Embedder) -> Coach:
    base = indexed_coach.settings
    settings = Settings(
        knowledge_dir=base.knowledge_dir, data_dir=base.data_dir, llm_base_url=DEAD_LLM, cache=False, critic="learned"
    )
    return Coach(settings, embedder=embedder)


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_held_out_set_never_reaches_training() -> None:
    """No held-out id or text is in the training corpus the shipped critic was fitted on."""
    heldout = read_jsonl(ROOT / "eval" / "heldout.jsonl")
    training = read_jsonl(ROOT / "training" / "drafts.jsonl")
    assert len(heldout) >= 130 and len(training) > 1000
    assert {r["id"] for r in heldout}.isdisjoint({r["id"] for r in training})
    assert {str(r["text"]).strip() for r in heldout}.isdisjoint({str(r["text"]).strip() for r in training})


def test_a_draft_that_blames_the_customer_quotes_the_blaming_sentence(indexed_coach: Coach, embedder: Embedder) -> None:
    blame = "You probably signed up twice, so that is on your side."
    draft = f"Hello. We're very busy this week. {blame} Check your email for both confirmations."
    customer = "I was charged twice for the same yoga class pass. Please fix this."
    critique = learned(indexed_coach, embedder).critique(draft, customer)
    quoted = {issue.criterion: issue.quote for issue in critique.issues if issue.kind == "said"}
    assert blame in quoted.values(), critique.issues
    blamed_for = {c for c, q in quoted.items() if q == blame}
    assert blamed_for & {"apology_ownership", "calm_professional_tone"}, blamed_for


def test_a_reply_that_resolves_on_the_spot_is_not_asked_for_a_time_frame(
    indexed_coach: Coach, embedder: Embedder
) -> None:
    customer = "My card was blocked after I entered the wrong PIN three times. I need to pay for groceries now!"
    draft = (
        "Hi Marta, I understand how stressful that is at the checkout. I've just unblocked your card, so you "
        "can pay right away with your usual PIN. Thank you for your patience, and write to me if anything else "
        "comes up."
    )
    critique = learned(indexed_coach, embedder).critique(draft, customer)
    assert "expectations_timeframe" not in {issue.criterion for issue in critique.issues}


def test_tips_come_apart_from_issues_and_do_not_count(indexed_coach: Coach, embedder: Embedder) -> None:
    """Whatever the drafts, a criterion is an issue or a tip, never both, and a tip never scores below 3."""
    coach = learned(indexed_coach, embedder)
    drafts = [
        ("Your refund was sent today.", "Where is my refund for order 5512?"),
        ("We got your message. Someone will look at it.", "The app crashes when I open my bookings."),
        ("Δεν φταίμε εμείς για την καθυστέρηση.", "Η παραγγελία μου αργεί δύο εβδομάδες."),
    ]
    seen_tip = False
    for draft, customer in drafts:
        critique = coach.critique(draft, customer)
        issues = {i.criterion for i in critique.issues}
        tips = {t.criterion for t in critique.tips}
        assert not issues & tips
        assert all(critique.scores[c].score >= 3 for c in tips)
        seen_tip = seen_tip or bool(tips)
    assert seen_tip, "the shipped model's tip lines should catch at least one of these borderline drafts"
