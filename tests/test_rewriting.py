"""Rewrites: the critic's verdicts before and after, and the plain-text generation helpers the LLM's pieces use.

The rewrite itself is sentence surgery (``tests/test_surgery.py``); here the checks around it.
"""

from __future__ import annotations

import json

from coach.llm.generation import clean_text, complete_sentences
from coach.models import Critique, Issue, Passage, Rewrite, Score
from coach.prompts import load_prompt, load_rubric
from coach.writing.rewriting import Rewriter, fixed_criteria

RUBRIC = load_rubric()
DRAFT = "Your refund of $129.99 for order 55102 takes up to 14 days. It has only been 9. Please wait."
CUSTOMER = "Where is my refund?"
GOOD = "I am sorry for the wait. Your refund of $129.99 for order 55102 takes up to 14 days; it has been 9."
PASSAGE = Passage(id="ru-doc#3", document="ru-doc", title="T", language="ru", text="Извинитесь перед клиентом.")
BLANK = "I am sorry that [what happened] took so long."


def judge(text: str, customer: str | None) -> Critique:
    """Flags the missing apology; every other criterion scores 4."""
    sorry = "sorry" in text.lower()
    scores = {c: Score(criterion=c, score=4) for c in RUBRIC.ids}
    scores["apology_ownership"] = Score(criterion="apology_ownership", score=5 if sorry else 2)
    issues = []
    if not sorry:
        criterion = RUBRIC.criterion("apology_ownership")
        issues.append(
            Issue(
                criterion="apology_ownership",
                name=criterion.name.en,
                kind="missing",
                quote="",
                start=0,
                end=0,
                explanation=criterion.good.en,
                suggestion=criterion.fix.en,
                passage_ids=[PASSAGE.id],
                example=BLANK,
            )
        )
    overall = sum(s.score for s in scores.values()) / len(scores)
    return Critique(language="en", scores=scores, overall=round(overall, 2), issues=issues, passages=[PASSAGE])


def test_only_a_fix_with_a_blank_goes_to_the_llm_and_its_checked_sentence_is_used() -> None:
    asked: list[tuple[str, str]] = []

    def adapt(draft: str, customer: str | None, issue: Issue, language: str) -> tuple[str, list[str]]:
        asked.append((issue.criterion, str(issue.example)))
        return "I am sorry the refund is taking this long.", []

    result = Rewriter(search=lambda _: [PASSAGE], rubric=RUBRIC, judge=judge, adapt=adapt).rewrite(DRAFT, CUSTOMER)
    assert asked == [("apology_ownership", BLANK)]
    assert result.text == "I am sorry the refund is taking this long. " + DRAFT
    assert result.fixed == ["apology_ownership"] and result.improved, result.warnings
    assert result.changes[0].passage_ids == [PASSAGE.id]


def test_without_the_llm_the_blank_stays_and_the_rewrite_says_so() -> None:
    result = Rewriter(search=lambda _: [], rubric=RUBRIC, judge=judge).rewrite(DRAFT, CUSTOMER)
    assert result.text.startswith(BLANK) and result.text.endswith(DRAFT)
    assert any("blanks" in w for w in result.warnings) and not result.improved


def test_a_draft_with_nothing_to_fix_is_kept() -> None:
    result = Rewriter(search=lambda _: [], rubric=RUBRIC, judge=judge).rewrite(GOOD, CUSTOMER)
    assert isinstance(result, Rewrite) and result.text == GOOD and not result.changes


def test_fixed_criteria_come_from_the_verdicts_before_and_after() -> None:
    before, after = judge(DRAFT, None), judge(GOOD, None)
    assert fixed_criteria(before.issues, before, after) == ["apology_ownership"]
    assert fixed_criteria(before.issues, before, before) == []


def test_clean_text_drops_wrappers_small_models_add() -> None:
    assert clean_text('```\n"Sorry for the wait."\n```') == "Sorry for the wait."
    assert clean_text("<<<DRAFT\nSorry.\nDRAFT>>>") == "Sorry."
    assert clean_text("«Извините»") == "Извините"


def test_complete_sentences_cuts_an_unfinished_tail() -> None:
    assert complete_sentences("One. Two! Three and") == "One. Two!"
    assert complete_sentences("no sentence end at all") == "no sentence end at all"


def test_json_is_never_asked_for() -> None:
    bodies = [load_prompt(name).body for name in ("adapt", "writer", "suggest")]
    assert "json" not in json.dumps(bodies).lower()


def test_a_looping_answer_loses_its_repeats() -> None:
    assert clean_text("I am sorry. We will fix it. I am sorry. I am sorry. I am") == "I am sorry. We will fix it. I am"
