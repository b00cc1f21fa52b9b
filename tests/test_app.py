"""The web app: pure rendering of hand-built results, then the running page through gradio_client.

The API tests run the real app, index and embedder against the fake OpenAI server (tests/fake_openai.py),
not the real model: it answers the scorer's Yes/No questions, and fixed JSON / text for rewrite and ask.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from coach import Answer, Change, Citation, Coach, Critique, IndexReport, Issue, Passage, Progress, Rewrite, Score
from coach.batch.agreement import CriterionSummary
from coach.batch.run import BatchSummary
from coach.knowledge.embeddings import Embedder
from coach.knowledge.users import Role
from coach.settings import Settings
from coach.text import split_sentences
from coach.web import render
from coach.web.serve import OPEN_NOTICE, _loopback, serve
from tests.app_server import CUSTOMER, PASSWORD, RUDE_DRAFT, prepared_root, running_app
from tests.fake_openai import Behaviour

DRAFT = "Hello. It is our policy, we cannot refund you. Read the email next time."
POLICY = DRAFT.index("It is our policy, we cannot refund you.")
READ = DRAFT.index("Read the email next time.")
PASSAGE = Passage(
    id="ru-doc#3",
    document="ru-doc",
    title="Как работать с жалобами",
    section="Советы",
    language="ru",
    text="Никогда не ссылайтесь на <политику> компании.",
    score=0.8,
)
OTHER = Passage(id="mn-doc#1", document="mn-doc", title="Зөвлөгөө", language="mn", text="Тайван бай.", score=0.5)


def make_critique() -> Critique:
    """A hand-built critique of DRAFT: one high and one low issue, each citing a passage."""
    policy = "It is our policy, we cannot refund you."
    return Critique(
        language="en",
        scores={
            "no_policy_hiding": Score(criterion="no_policy_hiding", name="Policy hiding", score=2, reason="Hides."),
            "tone": Score(criterion="tone", name="Calm tone", score=4, reason="Mostly calm."),
        },
        overall=2.5,
        issues=[
            Issue(
                criterion="tone",
                name="Calm tone",
                severity="low",
                quote="Read the email next time.",
                start=READ,
                end=READ + 25,
                explanation="Sounds like blame.",
                suggestion="Offer to resend the email.",
                passage_ids=["mn-doc#1"],
            ),
            Issue(
                criterion="no_policy_hiding",
                name="Policy hiding",
                severity="high",
                quote=policy,
                start=POLICY,
                end=POLICY + len(policy),
                explanation="Explain the reason <instead> of citing policy.",
                suggestion="Say what you can do.",
                passage_ids=["ru-doc#3", "unknown#9"],
            ),
        ],
        strengths=["Greets the customer."],
        passages=[PASSAGE, OTHER],
    )


# --------------------------------------------------------------------------- pure rendering


def test_highlight_covers_the_whole_draft_and_labels_each_issue_span() -> None:
    segments, colours = render.highlight_draft(DRAFT, make_critique())
    assert "".join(text for text, _ in segments) == DRAFT
    labelled = {text: label for text, label in segments if label}
    assert labelled == {
        "It is our policy, we cannot refund you.": "Policy hiding",
        "Read the email next time.": "Calm tone",
    }
    assert colours["Policy hiding"] == render.SEVERITY_COLOURS["high"]
    assert colours["Calm tone"] == render.SEVERITY_COLOURS["low"]


def test_overlapping_spans_are_labelled_by_the_worst_issue_and_bad_offsets_are_ignored() -> None:
    critique = make_critique()
    extra = critique.issues[1].model_copy(update={"name": "Refusal", "start": POLICY + 6, "end": POLICY + 16})
    broken = critique.issues[0].model_copy(update={"start": 5, "end": 500})
    critique = critique.model_copy(update={"issues": [*critique.issues, extra, broken]})
    segments, colours = render.highlight_draft(DRAFT, critique)
    assert "".join(text for text, _ in segments) == DRAFT
    assert ("our policy", "Policy hiding +1") in segments
    assert colours["Policy hiding +1"] == render.SEVERITY_COLOURS["high"]


def test_scores_read_weakest_first_under_a_one_line_verdict() -> None:
    assert render.verdict(make_critique()) == "## ●●○○○ 2.5 / 5 · 2 to fix — first: **Policy hiding**"
    text = render.scores_markdown(make_critique())
    assert text.index("Policy hiding") < text.index("Calm tone")
    clean = make_critique().model_copy(update={"issues": [], "overall": 5})
    assert "no problems found" in render.verdict(clean)


def test_issues_quote_explain_suggest_and_cite_passages_in_their_own_language() -> None:
    text = render.issues_markdown(make_critique())
    assert text.index("Policy hiding") < text.index("Calm tone"), "the high-severity issue comes first"
    assert "> It is our policy, we cannot refund you." in text
    assert "**In general:** Say what you can do." in text
    assert "&lt;instead&gt;" in text and "<instead>" not in text, "model text is shown, never interpreted"
    assert 'lang="ru"' in text and "Как работать с жалобами" in text and "Советы" in text
    assert "ru-doc#3" in text and "unknown#9" not in text
    assert "✓" in render.issues_markdown(make_critique().model_copy(update={"issues": []}))
    assert render.strengths_markdown(make_critique()) == "### Strengths\n- Greets the customer."


def test_tips_read_like_the_issues_why_in_the_drafts_language() -> None:
    tip = Issue(
        criterion="apology_ownership",
        name="Извинение и ответственность",
        kind="missing",
        severity="low",
        quote="",
        start=12,
        end=12,
        explanation="В ответе нет извинения: добавьте его после приветствия и возьмите проблему на себя.",
        suggestion="Извинитесь за проблему, признайте ошибку и уберите обвинения и оправдания.",
    )
    critique = make_critique().model_copy(update={"language": "ru", "tips": [tip]})
    text = render.tips_markdown(critique, len(DRAFT))
    assert "**Извинение и ответственность**: В ответе нет извинения: добавьте его после приветствия" in text
    assert "explanation says" not in text and "missing:" not in text
    assert "Could add" not in text, "a tip without an example shows none"
    with_example = critique.model_copy(update={"tips": [tip.model_copy(update={"example": "Прошу прощения."})]})
    assert '*Could add:* <span class="example">Прошу прощения.</span>' in render.tips_markdown(with_example)
    assert "*Missing*" in render.issues_markdown(
        critique.model_copy(update={"issues": [tip.model_copy(update={"severity": "high"})]}), len(DRAFT)
    )


def test_progress_shows_elapsed_time_and_the_share_done() -> None:
    waiting = render.progress_markdown(
        Progress(stage="llm", message="checking the rubric: 50%", elapsed_s=12.4, fraction=0.5)
    )
    assert "12 s" in waiting and "██████████░░░░░░░░░░" in waiting
    assert "ready in 3.2 s" in render.progress_markdown(Progress(stage="done", elapsed_s=3.2))
    assert render.error_markdown("draft is empty") == "✗ **draft is empty**"


def test_diff_rebuilds_both_texts_words_for_edits_sentences_for_rewrites() -> None:
    before = "We cannot refund you. It has only been 9 days!\nBye."
    after = "I'm sorry: we cannot refund you today. Refunds take 14 days and yours arrives on Friday.\nBye."
    segments = render.diff_highlight(before, after)
    assert "".join(t for t, label in segments if label != render.ADDED) == before
    assert "".join(t for t, label in segments if label != render.REMOVED) == after
    assert ("cannot refund ", None) in segments, "a lightly edited sentence is diffed word by word"
    assert ("It has only been 9 days!\n", render.REMOVED) in segments, "a replaced sentence goes out whole"
    assert render.diff_highlight("", "New.") == [("New.", render.ADDED)]


def test_rewrite_warnings_come_first_and_changes_cite_passages() -> None:
    rewrite = Rewrite(
        text="New text.",
        language="en",
        changes=[Change(what="Removed the policy line", why="Explain instead.", passage_ids=["ru-doc#3"])],
        lost_facts=["14 days"],
        warnings=["the rewrite lost facts of the draft: 14 days"],
        draft_overall=2.0,
        rewrite_overall=4.0,
        passages=[PASSAGE],
    )
    warnings = render.rewrite_warnings_markdown(rewrite)
    assert warnings.startswith("### ⚠ Check before sending (overall 2.0 → 4.0)")
    assert "14 days" in warnings
    assert "✓" in render.rewrite_warnings_markdown(rewrite.model_copy(update={"warnings": [], "lost_facts": []}))
    changes = render.changes_markdown(rewrite)
    assert "Removed the policy line" in changes and "ru-doc#3" in changes


def test_answer_keeps_its_markers_and_expands_each_citation() -> None:
    answer = Answer(
        question="q",
        text="Never cite policy [1]. Stay calm [2].",
        language="en",
        citations=[Citation(marker=2, passage=OTHER), Citation(marker=1, passage=PASSAGE)],
        passages=[PASSAGE, OTHER],
    )
    text = render.answer_markdown(answer)
    assert text.startswith("Never cite policy [1]. Stay calm [2].")
    assert text.index("[1] <b>Как работать") < text.index("[2] <b>Зөвлөгөө")


def test_tables_and_upload_report() -> None:
    assert render.search_rows([PASSAGE]) == [["ru-doc#3", PASSAGE.title, "Советы", "ru", 0.8, PASSAGE.text]]
    report = IndexReport(added=["new-doc"], passages_added=3, total_passages=66)
    assert "new-doc" in render.report_markdown("new.md", report) and "+3 passages" in render.report_markdown(
        "new.md", report
    )
    assert "unchanged" in render.report_markdown("new.md", IndexReport(unchanged=["new-doc"]))


def test_batch_table_chart_and_summary() -> None:
    records = [
        {"id": "a", "row": "1", "language": "en", "overall": "3.5", "error": "", "score_tone": "4", "reason_tone": "ok",
         "issues": "tone", "model": "m"},
    ]  # fmt: skip
    headers, rows = render.batch_table(records)
    assert headers == ["id", "language", "overall", "tone", "issues", "error"]
    assert rows == [["a", "en", "3.5", "4", "tone", ""]]
    summary = BatchSummary(rows=2, succeeded=1, failed=1, overall_mean=3.5, errors={"draft is empty": 1},
                           criteria={"tone": CriterionSummary(scored=1, mean=4.0, issue_share=1.0)})  # fmt: skip
    assert render.batch_chart_rows(summary) == [{"criterion": "tone", "mean score": 4.0, "issue share": 1.0}]
    text = render.batch_summary_markdown(summary)
    assert "**1** of 2 replies scored, 1 failed" in text and "draft is empty" in text


def test_only_loopback_is_served_without_a_login(tmp_path: Path) -> None:
    coach = Coach(Settings(knowledge_dir=tmp_path, data_dir=tmp_path), embedder=object())  # type: ignore[arg-type]
    assert _loopback("127.0.0.1") and _loopback("localhost") and _loopback("::1")
    assert not _loopback("0.0.0.0") and not _loopback("192.168.1.5") and not _loopback("example.org")
    with pytest.raises(SystemExit, match="--open"):
        serve("0.0.0.0", 0, coach=coach, block=False)  # refused before anything is loaded or served


# --------------------------------------------------------------------------- the running app (fake LLM)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, indexed_coach: Coach
) -> Iterator[tuple[Client, Coach, Behaviour]]:
    """The app on a free port over a copy of the knowledge base, with the fake OpenAI server as its LLM."""
    root = prepared_root(indexed_coach, tmp_path_factory.mktemp("app-api") / "root")
    with running_app(root, embedder) as (url, coach, behaviour):
        client = Client(url, verbose=False)
        yield client, coach, behaviour
        client.close()


def test_critique_streams_passages_then_highlighted_cited_issues(served) -> None:
    """Uses the fake OpenAI server (for the suggested sentence), not the real model."""
    client, _, _ = served
    job = client.submit(CUSTOMER, RUDE_DRAFT, api_name="/critique")
    events = list(job)
    assert "passages found" in events[0][0] and "<details>" in events[0][1], "passages come before the LLM"
    status, _, verdict, highlight, issues, scores, _, similar, suggestion = job.result()  # layout is not returned
    assert status.startswith("✓")
    assert "/ 5" in verdict
    tokens = highlight["value"]  # an update: the colours change with the labels
    labelled = [item for item in tokens if item["class_or_confidence"]]
    assert labelled and all(item["token"] in RUDE_DRAFT for item in labelled)
    assert "<details>" in issues and "<blockquote lang=" in issues
    assert "| criterion | score | why |" in scores
    assert suggestion.startswith("**Suggested sentence:**"), "the LLM's sentence comes last, after the scores"
    assert "How a good reply to a similar message reads" in similar


def test_errors_reach_the_page_as_one_readable_line(served) -> None:
    """Uses the fake OpenAI server, switched to answer 503."""
    client, _, behaviour = served
    status, *_ = client.predict("", "   ", api_name="/critique")
    assert status == "✗ **draft is empty**"
    status, *_ = client.predict("", "x" * 9000, api_name="/critique")
    assert status.startswith("✗ **draft is 9,000 characters")
    behaviour.status = 503
    try:
        status, *_, suggestion = client.predict("", "We cannot help you with this, sorry.", api_name="/critique")
    finally:
        behaviour.status = 200
    assert not status.startswith("✗"), "the learned critique needs no LLM: it stands when the LLM fails"
    assert suggestion.startswith("✗ **No suggested sentence") and "Traceback" not in suggestion
    assert suggestion.count("\n") == 0, "one line"


def test_a_slow_critique_does_not_hold_up_searches(served) -> None:
    """Uses the fake OpenAI server, slowed to 10 s per request (the suggested sentence after the scores): searches
    run in their own queue, so a search finishes while the critique is still waiting (order, not a clock)."""
    client, _, behaviour = served
    behaviour.delay_s = 10.0
    try:
        critique = client.submit("", "We can't do anything, it's the courier's fault.", api_name="/critique")
        deadline = time.monotonic() + 60
        while not critique.outputs():  # scores shown: the suggested sentence is being written
            assert time.monotonic() < deadline, "no scores within 60 s"
            time.sleep(0.1)
        message, rows = client.predict("refund delayed", 3, api_name="/search")
        assert not critique.done(), "the critique was still running when the search finished"
        while not critique.done():  # let it finish rather than cancel: a cancel is one more request to a busy server
            assert time.monotonic() < deadline + 60, "the critique did not finish within 60 s of its scores"
            time.sleep(0.1)
    finally:
        behaviour.delay_s = 0.0
    assert message == "3 passages", message


def test_rewrite_shows_the_text_its_diff_and_checks(served) -> None:
    """The rewrite is sentence surgery on the draft (the fake LLM may adapt a sentence with a blank)."""
    client, _, _ = served
    status, _, warnings, text, diff, changes = client.predict(CUSTOMER, RUDE_DRAFT, api_name="/rewrite")
    assert status.startswith("✓"), status
    assert text != RUDE_DRAFT and any(sentence in text for sentence in split_sentences(RUDE_DRAFT))
    assert warnings.startswith("### ")
    assert any(item["class_or_confidence"] == "added" for item in diff)
    assert changes.startswith("### What the rewrite fixes"), "the calm rewrite fixes the rude draft's tone"


def test_bad_uploads_change_nothing_and_say_why(served, tmp_path: Path) -> None:
    """Uses the fake OpenAI server (not needed here: upload and index only)."""
    client, coach, _ = served
    before = {d.id for d in coach.load_documents()[0]}
    cases = {"empty.md": b"", "binary.md": bytes(range(256)) * 4, "big.txt": b"word " * 300_000}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        message, *_ = client.predict(handle_file(str(tmp_path / name)), api_name="/upload_file")
        assert message.startswith("✗ **") and "was not added" in message, (name, message)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(AppError, match="Invalid file type"):  # Gradio itself refuses other suffixes
        client.predict(handle_file(str(tmp_path / "notes.pdf")), api_name="/upload_file")
    assert {d.id for d in coach.load_documents()[0]} == before
    assert not any((coach.settings.knowledge_dir / name).exists() for name in cases)


def test_a_bad_batch_file_gets_a_readable_message(served, tmp_path: Path) -> None:
    """Uses the fake OpenAI server (never reached: the file is refused first)."""
    client, _, _ = served
    source = tmp_path / "replies.csv"
    source.write_text("id,text\n1,hello\n", encoding="utf-8")
    status, *_ = client.predict(handle_file(str(source)), api_name="/score_file")
    assert status.startswith("✗ **") and "draft" in status, status
    status, *_ = client.predict(None, api_name="/score_file")
    assert status.startswith("✗ **Choose a CSV or JSONL file")


def test_ask_answers_with_expandable_citations(served) -> None:
    """Uses the fake OpenAI server: a fixed answer citing [1] and [2]."""
    client, _, _ = served
    status, excerpts, answer, passages = client.predict("How do I calm an angry customer?", api_name="/ask")
    assert status.startswith("✓"), status
    assert "[1]" in answer and "<details>" in answer and passages
    assert excerpts.startswith("#### What the guidelines say") and "[1] " in excerpts


def test_users_sign_in_and_only_trainers_change_the_guidelines(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, indexed_coach: Coach, tmp_path: Path
) -> None:
    """Uses the fake OpenAI server (not asked anything: login, search and an upload only)."""
    root = prepared_root(indexed_coach, tmp_path_factory.mktemp("app-auth") / "root")
    users: dict[str, Role] = {"ann": "agent", "tess": "trainer"}
    with running_app(root, embedder, users=users) as (url, coach, _):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}config", timeout=10)
        assert refused.value.code == 401
        with pytest.raises(ValueError):
            Client(url, auth=("ann", "wrong password"), verbose=False)
        source = tmp_path / "en-new-rule.md"
        source.write_text("# New rule\n\nAlways thank the customer for writing to us.\n", encoding="utf-8")
        agent = Client(url, auth=("ann", PASSWORD), verbose=False)
        try:
            assert agent.predict("refund", 2, api_name="/search")[0] == "2 passages"
            message, *_ = agent.predict(handle_file(str(source)), api_name="/upload_file")
            assert "Only trainers" in message
            assert not (coach.settings.knowledge_dir / source.name).exists()
        finally:
            agent.close()
        trainer = Client(url, auth=("tess", PASSWORD), verbose=False)
        try:
            message, *_ = trainer.predict(handle_file(str(source)), api_name="/upload_file")
            assert message.startswith("✓"), message
        finally:
            trainer.close()
        assert (coach.settings.knowledge_dir / source.name).exists()
        assert [e.user for e in coach.audit_log(source.name)] == ["tess"]


def test_an_open_page_says_so_on_top(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, indexed_coach: Coach
) -> None:
    """Uses the fake OpenAI server (not asked anything: only the page's layout is read)."""
    root = prepared_root(indexed_coach, tmp_path_factory.mktemp("app-open") / "root")
    with running_app(root, embedder, open_page=True) as (url, _, _), urllib.request.urlopen(f"{url}config") as page:
        config = json.load(page)
    notices = [c["props"].get("value") for c in config["components"] if c["props"].get("elem_id") == "open-notice"]
    assert notices == [OPEN_NOTICE] and "anyone who can reach it can change the guidelines" in OPEN_NOTICE
