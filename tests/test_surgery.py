"""Rewrites as sentence surgery: unflagged sentences kept byte for byte, flagged ones replaced, missing parts
inserted where they belong, checked by the critic. No LLM, no model: a fake judge."""

from __future__ import annotations

from coach.judging.examples import ExamplePicker
from coach.knowledge.phrasebook import load_phrasebook
from coach.models import Critique, Issue, Rewrite, Score
from coach.prompts import load_rubric
from coach.resources import shipped_knowledge_dir
from coach.writing.rewriting import Rewriter
from coach.writing.surgery import Fix, apply_fixes, insertion, kept_spans

RUBRIC = load_rubric()
DRAFT = (
    "Hi Anna,\nIt is  the courier's fault, not ours.\tYour refund of $129.99 for order #55102 is on its way.\nBest, Tom"
)
BLAME = "It is  the courier's fault, not ours."
SORRY = "I am sorry your parcel went astray, Anna."
THANKS = "Thank you for your patience with order #55102."


def judge(text: str, customer: str | None) -> Critique:
    """Flags blame while it is there (quoting it) and missing thanks until thanked."""
    issues, scores = [], {c: Score(criterion=c, score=4) for c in RUBRIC.ids}
    if BLAME in text:
        start = text.index(BLAME)
        issues.append(Issue(criterion="apology_ownership", name="Apology", quote=BLAME, start=start,
                            end=start + len(BLAME), explanation="", example=SORRY))  # fmt: skip
        scores["apology_ownership"] = Score(criterion="apology_ownership", score=1)
    if "thank" not in text.lower():
        at = text.rfind("\n") + 1
        issues.append(Issue(criterion="followup_thanks", kind="missing", quote="", start=at, end=at,
                            explanation="", example=THANKS))  # fmt: skip
        scores["followup_thanks"] = Score(criterion="followup_thanks", score=2)
    overall = round(sum(s.score for s in scores.values()) / len(scores), 1)
    return Critique(language="en", scores=scores, overall=overall, issues=issues)


def test_the_rewrite_keeps_unflagged_sentences_byte_for_byte() -> None:
    events = list(Rewriter(search=lambda _: [], rubric=RUBRIC, judge=judge).stream(DRAFT, "Where is my refund?"))
    result = events[-1].result
    assert isinstance(result, Rewrite)
    untouched = ["Hi Anna,\n", "\tYour refund of $129.99 for order #55102 is on its way.\n", "Best, Tom"]
    assert all(part in result.text for part in untouched), result.text
    assert SORRY in result.text and THANKS in result.text and BLAME not in result.text
    assert result.text.index(THANKS) < result.text.index("Best, Tom"), "thanks go before the sign-off"
    assert result.fixed == ["apology_ownership", "followup_thanks"] and result.improved, result.warnings
    partial = [e.partial_text for e in events if e.stage == "llm"]
    assert BLAME not in partial[0] and SORRY not in partial[0], "the kept text streams first, then the fixes"
    assert partial[-1] == result.text


def test_a_fix_that_would_lose_a_fact_is_not_made() -> None:
    draft = "It is the courier's fault that order #55102 is late. Regards"
    quote = "It is the courier's fault that order #55102 is late."
    issue = Issue(criterion="apology_ownership", quote=quote, start=0, end=len(quote), explanation="", example=SORRY)

    def once(text: str, customer: str | None) -> Critique:
        scores = {c: Score(criterion=c, score=4) for c in RUBRIC.ids}
        return Critique(language="en", scores=scores, overall=4.0, issues=[issue] if text == draft else [])

    result = Rewriter(search=lambda _: [], rubric=RUBRIC, judge=once).rewrite(draft, None)
    assert result.text == draft and not result.lost_facts


def test_insertions_take_the_spacing_of_their_place() -> None:
    draft = "Hi Anna,\nBody.\nBest, Tom"
    assert insertion(draft, 8, "Sorry.") == "\nSorry."
    assert insertion(draft, 15, "Thanks.") == "Thanks.\n"
    assert insertion("Body.", 5, "Thanks.") == " Thanks."
    fixes = [Fix("a", 9, 14, "New."), Fix("b", 15, 15, "Thanks.\n")]
    assert apply_fixes(draft, fixes) == "Hi Anna,\nNew.\nThanks.\nBest, Tom"
    assert kept_spans(draft, fixes) == [(0, 9), (14, len(draft))]


def test_a_fix_that_costs_another_criterion_is_not_made_and_the_others_are() -> None:
    def harsh(text: str, customer: str | None) -> Critique:
        """``judge``, except that the apology's example reads as grovelling: tone falls below the draft's."""
        critique = judge(text, customer)
        if SORRY in text:
            scores = critique.scores | {"calm_professional_tone": Score(criterion="calm_professional_tone", score=2)}
            return critique.model_copy(update={"scores": scores})
        return critique

    events = list(Rewriter(search=lambda _: [], rubric=RUBRIC, judge=harsh).stream(DRAFT, "Where is my refund?"))
    result = events[-1].result
    assert isinstance(result, Rewrite)
    assert SORRY not in result.text and BLAME in result.text, "the fix that lowers tone is left out"
    assert THANKS in result.text and result.fixed == ["followup_thanks"]
    assert not any("scores lower" in w for w in result.warnings), result.warnings
    assert events[-2].partial_text == result.text


def test_when_an_example_does_not_help_the_next_phrasing_is_tried() -> None:
    plain = "I am sorry for the trouble this caused."

    def only_plain_apology(text: str, customer: str | None) -> Critique:
        """``judge``, except that only the plain apology settles the apology (its example reads as grovelling)."""
        critique = judge(text.replace(SORRY, BLAME), customer)
        if plain in text:
            scores = critique.scores | {"apology_ownership": Score(criterion="apology_ownership", score=4)}
            issues = [i for i in critique.issues if i.criterion != "apology_ownership"]
            return critique.model_copy(update={"scores": scores, "issues": issues})
        return critique

    tried: list[str] = []

    def alternatives(issue: Issue, draft: str, customer: str | None, language: str) -> list[str]:
        tried.append(issue.criterion)
        return [plain] if issue.criterion == "apology_ownership" else []

    rewriter = Rewriter(search=lambda _: [], rubric=RUBRIC, judge=only_plain_apology, alternatives=alternatives)
    result = rewriter.rewrite(DRAFT, None)
    assert plain in result.text and SORRY not in result.text and BLAME not in result.text
    assert result.fixed == ["apology_ownership", "followup_thanks"]
    assert tried == ["apology_ownership"], "an example that helped at once needs no alternative"


def test_the_alternatives_a_rewrite_may_try_are_the_cells_other_suitable_phrasings_filled() -> None:
    book = load_phrasebook(shipped_knowledge_dir())
    picker = ExamplePicker(lambda: book, embedder=None)  # type: ignore[arg-type]  # alternatives embed nothing
    cell = book.phrasings_for("followup_thanks", "en")
    issue = Issue(criterion="followup_thanks", kind="missing", quote="", start=0, end=0, explanation="")
    issue = issue.model_copy(update={"example": cell[0].text})
    others = picker.alternatives(issue, "Your refund is on its way.", "Where is my refund, order #55102?", "en")
    suitable = [p.text.replace("[order number]", "#55102") for p in cell[1:] if "draft_thanked" not in p.requires]
    assert others and cell[0].text not in others and set(others) <= set(suitable)
    assert any("draft_thanked" in p.requires for p in cell), "the cell has a phrasing that needs an earlier thanks"
    assert not any("again" in text.lower() for text in others), "no 'thanks again' when the draft never thanked"


HELP = "If anything else comes up, just reply to this email."


def tip_judge(text: str, customer: str | None) -> Critique:
    """No issue; follow-up is a tip (scores 3) until the reply offers more help (then 5)."""
    scores = {c: Score(criterion=c, score=4) for c in RUBRIC.ids}
    tips = []
    if "reply to this email" not in text:
        at = text.rfind("\n") + 1
        tips.append(Issue(criterion="followup_thanks", kind="missing", severity="low", quote="", start=at, end=at,
                          explanation="", example=HELP))  # fmt: skip
        scores["followup_thanks"] = Score(criterion="followup_thanks", score=3)
    else:
        scores["followup_thanks"] = Score(criterion="followup_thanks", score=5)
    overall = round(sum(s.score for s in scores.values()) / len(scores), 1)
    return Critique(language="en", scores=scores, overall=overall, tips=tips)


TIP_DRAFT = "Hi Anna,\nYour refund of $129.99 for order #55102 is on its way.\nBest, Tom"


def test_a_draft_with_a_tip_and_no_issue_gets_the_tip_followed() -> None:
    events = list(Rewriter(search=lambda _: [], rubric=RUBRIC, judge=tip_judge).stream(TIP_DRAFT, None))
    result = events[-1].result
    assert isinstance(result, Rewrite)
    assert result.text == "Hi Anna,\nYour refund of $129.99 for order #55102 is on its way.\n" + HELP + "\nBest, Tom"
    assert result.fixed == ["followup_thanks"] and [c.tip for c in result.changes] == [True]
    assert result.rewrite_overall is not None and result.draft_overall is not None
    assert result.rewrite_overall > result.draft_overall and result.improved, result.warnings
    messages = [e.message for e in events if e.stage == "llm"]
    assert messages[0] == "kept your sentences nothing flagged" and "a tip" in messages[-1], messages


def test_a_tip_fix_that_lowers_another_criterion_is_not_made() -> None:
    def pushy(text: str, customer: str | None) -> Critique:
        """``tip_judge``, except that the offer of help reads as pushy: tone falls below the draft's."""
        critique = tip_judge(text, customer)
        if HELP in text:
            scores = critique.scores | {"calm_professional_tone": Score(criterion="calm_professional_tone", score=3)}
            overall = round(sum(s.score for s in scores.values()) / len(scores), 1)
            return critique.model_copy(update={"scores": scores, "overall": overall})
        return critique

    tried: list[str] = []

    def alternatives(issue: Issue, draft: str, customer: str | None, language: str) -> list[str]:
        tried.append(issue.criterion)
        return []

    result = Rewriter(search=lambda _: [], rubric=RUBRIC, judge=pushy, alternatives=alternatives).rewrite(
        TIP_DRAFT, None
    )
    assert result.text == TIP_DRAFT and not result.fixed and not result.changes
    assert tried == ["followup_thanks"], "a tip's other phrasings are tried as an issue's are"
    assert any("no better" in w for w in result.warnings), "the rewrite says it is no better"


def test_tips_are_followed_after_the_issues_and_their_words_stay_in_the_kept_text() -> None:
    good_news = "Good news: your refund of $129.99 for order #55102 is on its way."

    def both(text: str, customer: str | None) -> Critique:
        """``judge`` (blame, missing thanks) plus a tip on the refund sentence's wording until it is replaced."""
        critique = judge(text, customer)
        refund = "Your refund of $129.99 for order #55102 is on its way."
        if refund not in text:
            return critique
        start = text.index(refund)
        tip = Issue(criterion="clear_positive_wording", quote=refund, start=start, end=start + len(refund),
                    explanation="", example=good_news)  # fmt: skip
        scores = critique.scores | {"clear_positive_wording": Score(criterion="clear_positive_wording", score=3)}
        return critique.model_copy(update={"scores": scores, "tips": [tip]})

    events = list(Rewriter(search=lambda _: [], rubric=RUBRIC, judge=both).stream(DRAFT, None))
    result = events[-1].result
    assert isinstance(result, Rewrite)
    assert result.fixed == ["apology_ownership", "followup_thanks", "clear_positive_wording"]
    assert [c.tip for c in result.changes] == [False, False, True]
    assert "Good news: your refund" in result.text and result.improved, result.warnings
    kept = [e.partial_text for e in events if e.stage == "llm"][0]
    assert "Your refund of $129.99" in kept and BLAME not in kept


def test_a_tips_sentence_with_a_blank_is_not_put_in_and_a_filled_one_is() -> None:
    blank = "If anything about [what happened] comes up, just reply to this email."

    def blank_first(issue: Issue, draft: str, customer: str | None, language: str) -> list[str]:
        return [HELP]

    def judge_blank(text: str, customer: str | None) -> Critique:
        critique = tip_judge(text, customer)
        return critique.model_copy(update={"tips": [t.model_copy(update={"example": blank}) for t in critique.tips]})

    result = Rewriter(search=lambda _: [], rubric=RUBRIC, judge=judge_blank, alternatives=blank_first).rewrite(
        TIP_DRAFT, None
    )
    assert "[" not in result.text and HELP in result.text and result.improved, result.warnings
