"""The rewrite pipeline against the fake OpenAI server, judged by a simple injected critic (no index, no model).

The critic here flags "no apology" when the text lacks "sorry", so what the pipeline makes of the critic's
verdicts (the fixes in the prompt, the criteria fixed, the retry, the warnings) is checked without waiting
for a real critique.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from coach import LLMError, Settings
from coach.llm.client import LLMProvider
from coach.llm.generation import clean_text, complete_sentences
from coach.models import Critique, Issue, Passage, Rewrite, Score
from coach.prompts import load_rubric
from coach.writing.rewriting import RewritePrompts, Rewriter, fixed_criteria, token_budget
from tests.fake_openai import Behaviour, fake_openai_server, last_user_text

RUBRIC = load_rubric()
DRAFT = "Your refund of $129.99 for order 55102 takes up to 14 days. It has only been 9. Please wait."
CUSTOMER = "Where is my refund?"
GOOD = "I am sorry for the wait. Your refund of $129.99 for order 55102 takes up to 14 days; it has been 9."
PASSAGE = Passage(id="ru-doc#3", document="ru-doc", title="T", language="ru", text="Извинитесь перед клиентом.")


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
                quote="",
                start=0,
                end=0,
                explanation=criterion.good.en,
                suggestion=criterion.fix.en,
                passage_ids=[PASSAGE.id],
            )
        )
    overall = sum(s.score for s in scores.values()) / len(scores)
    return Critique(language="en", scores=scores, overall=round(overall, 2), issues=issues, passages=[PASSAGE])


@pytest.fixture
def served() -> Iterator[tuple[str, Behaviour]]:
    with fake_openai_server() as served:
        yield served


def rewriter(url: str, tmp_path, judged=judge) -> Rewriter:
    llm = LLMProvider(Settings(data_dir=tmp_path, llm_base_url=url, llm_max_retries=0, llm_timeout_s=5))
    return Rewriter(
        search=lambda text: [PASSAGE],
        chat_model=llm.chat_model,
        model_name=lambda: "fake",
        prompts=RewritePrompts.load(),
        rubric=RUBRIC,
        judge=judged,
    )


def test_the_new_reply_streams_before_the_checked_result(served, tmp_path) -> None:
    url, behaviour = served
    behaviour.content, behaviour.chunk_delay_s = GOOD, 0.05
    events = list(rewriter(url, tmp_path).stream(DRAFT, CUSTOMER))
    assert events[0].stage == "retrieved" and events[0].passages == [PASSAGE]
    texts = [e.partial_text for e in events if e.stage == "llm" and e.partial_text]
    assert len(set(texts)) > 2 and texts[-1] == GOOD, "the text grows piece by piece"
    assert all(GOOD.startswith(t) for t in texts)
    result = events[-1].result
    assert isinstance(result, Rewrite) and events[-1].stage == "done"
    assert result.text == GOOD and result.improved, result.warnings
    assert result.fixed == ["apology_ownership"]
    assert result.changes[0].passage_ids == [PASSAGE.id] and result.changes[0].criterion == "apology_ownership"
    assert result.rewrite_overall > result.draft_overall
    request = behaviour.requests[0]
    prompt = last_user_text(request)
    assert RUBRIC.criterion("apology_ownership").fix.en in prompt and DRAFT in prompt and "Извинитесь" in prompt
    assert request["stream"] is True and "response_format" not in request, "plain text, never JSON"
    assert request["max_completion_tokens"] == token_budget(DRAFT, "en")


def test_a_lost_fact_earns_one_retry_that_names_it(served, tmp_path) -> None:
    url, behaviour = served
    lost = "I am sorry for the wait. Your refund for order 55102 takes up to 14 days; it has been 9."
    behaviour.respond = lambda request: GOOD if len(request["messages"]) > 2 else lost
    result = rewriter(url, tmp_path).rewrite(DRAFT, CUSTOMER)
    assert result.text == GOOD and not result.lost_facts and result.usage.repairs == 1
    retry = last_user_text(behaviour.requests[1])
    assert "129.99" in retry, "the retry names the missing fact"


def test_two_failed_attempts_give_the_better_text_with_the_warning(served, tmp_path) -> None:
    url, behaviour = served
    worse = "Please wait."
    better = "I am sorry. Your refund for order 55102 takes up to 14 days; it has been 9."
    behaviour.respond = lambda request: better if len(request["messages"]) > 2 else worse
    result = rewriter(url, tmp_path).rewrite(DRAFT, CUSTOMER)
    assert result.text == better
    assert result.lost_facts == ["129.99 USD"] and not result.improved
    assert any("129.99" in w for w in result.warnings)


def test_an_answer_cut_at_the_length_limit_still_gives_a_text(served, tmp_path) -> None:
    url, behaviour = served
    behaviour.content = GOOD + " And then we will also"
    behaviour.finish_reason = "length"
    result = rewriter(url, tmp_path).rewrite(DRAFT, CUSTOMER)
    assert result.text == GOOD, "cut back to the last whole sentence"
    assert any("length limit" in w for w in result.warnings)


def test_a_garbage_answer_is_one_readable_line(served, tmp_path) -> None:
    url, behaviour = served
    behaviour.raw_body = "<html>502 Bad Gateway</html>"
    with pytest.raises(LLMError) as caught:
        rewriter(url, tmp_path).rewrite(DRAFT, CUSTOMER)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message and "<html>" not in message
    assert "try again" in message


def test_a_draft_with_nothing_to_fix_costs_no_llm_call(served, tmp_path) -> None:
    url, behaviour = served
    result = rewriter(url, tmp_path).rewrite(GOOD, CUSTOMER)
    assert result.text == GOOD and not behaviour.requests


def test_fixed_criteria_come_from_the_verdicts_before_and_after() -> None:
    before, after = judge(DRAFT, None), judge(GOOD, None)
    assert fixed_criteria(before.issues, before, after) == ["apology_ownership"]
    assert fixed_criteria(before.issues, before, before) == []


def test_the_budget_grows_with_the_draft_and_its_script() -> None:
    short, long = "Wait.", "Please wait for the courier to deliver your parcel. " * 5
    assert token_budget(long, "en") > token_budget(short, "en")
    greek = "Παρακαλώ περιμένετε τον κούριερ να παραδώσει το δέμα σας. " * 5
    assert token_budget(greek, "el") > token_budget(long, "en")


def test_clean_text_drops_wrappers_small_models_add() -> None:
    assert clean_text('```\n"Sorry for the wait."\n```') == "Sorry for the wait."
    assert clean_text("<<<DRAFT\nSorry.\nDRAFT>>>") == "Sorry."
    assert clean_text("«Извините»") == "Извините"


def test_complete_sentences_cuts_an_unfinished_tail() -> None:
    assert complete_sentences("One. Two! Three and") == "One. Two!"
    assert complete_sentences("no sentence end at all") == "no sentence end at all"


def test_json_is_never_asked_for(tmp_path) -> None:
    prompts = RewritePrompts.load()
    assert "json" not in json.dumps([prompts.rewrite.body, prompts.retry.body, prompts.system.body]).lower()


def test_a_looping_answer_loses_its_repeats() -> None:
    assert clean_text("I am sorry. We will fix it. I am sorry. I am sorry. I am") == "I am sorry. We will fix it. I am"
