"""End-to-end: the web app in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Every test runs against the fake OpenAI server of tests/fake_openai.py, not the real model: it answers
fixed text for the suggested sentence, rewrites and answers (the critic is the learned one, no LLM). Playwright never
downloads a browser here: it launches the system chromium by path. Each test saves a full-page
screenshot under `artifacts/browser/` (gitignored) for people to look at.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach import Coach
from coach.knowledge.embeddings import Embedder
from tests.app_server import CUSTOMER, RUDE_DRAFT, prepared_root, running_app
from tests.conftest import ROOT
from tests.fake_openai import Behaviour, last_user_text

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LLM_WAIT_MS = 60_000  # the fake LLM answers at once; the rest is the real embedder on a busy 2-core machine


@pytest.fixture(scope="module")
def served_coach(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, indexed_coach: Coach
) -> Iterator[tuple[str, Behaviour, Coach]]:
    """The app over a copy of the knowledge base, with the fake OpenAI server as its LLM; and the app's Coach."""
    root = prepared_root(indexed_coach, tmp_path_factory.mktemp("app-browser") / "root")
    with running_app(root, embedder) as (url, coach, behaviour):
        yield url, behaviour, coach


@pytest.fixture(scope="module")
def served(served_coach: tuple[str, Behaviour, Coach]) -> tuple[str, Behaviour]:
    return served_coach[0], served_coach[1]


@pytest.fixture(scope="module")
def app_url(served: tuple[str, Behaviour]) -> str:
    return served[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """The system chromium, headless; skipped where it is not installed (`.ci/run` installs it)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh page on the app; its screenshot is saved when the test ends, passed or failed."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(LLM_WAIT_MS)
    opened.goto(app_url)
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_critique_highlights_the_problem_and_cites_guidelines(page) -> None:
    """Fake OpenAI server (rudeness detector). Ctrl+Enter in the draft submits the critique."""
    page.locator("#customer textarea").fill(CUSTOMER)
    draft = page.locator("#draft textarea")
    draft.fill(RUDE_DRAFT)
    draft.press("Control+Enter")
    page.locator("#passages details").first.wait_for(state="attached")  # passages before the LLM result
    page.locator("#status", has_text="critique ready").wait_for()
    assert "/ 5" in page.locator("#verdict").inner_text()
    highlighted = page.locator("#draft-highlight .token.highlighted")
    assert highlighted.count() >= 1
    issues = page.locator("#issues")
    assert issues.locator("details").count() >= 1, "each issue cites a guideline passage"
    issues.locator("details summary").first.click()
    assert issues.locator("details[open] blockquote").first.inner_text().strip()


def test_an_issue_shows_what_to_write_and_a_good_reply_to_a_similar_message(page) -> None:
    """The learned critic's issues carry an example sentence (phrasebook, filled by code); below them, good replies
    to similar messages. No LLM is needed for either."""
    page.locator("#customer textarea").fill(CUSTOMER)
    page.locator("#draft textarea").fill(RUDE_DRAFT)
    page.locator("#critique-button").click()
    page.locator("#status", has_text="critique ready").wait_for()
    example = page.locator("#issues .example").first
    assert example.inner_text().strip(), "an issue shows the sentence to write"
    assert example.inner_text().strip() not in RUDE_DRAFT
    similar = page.locator("#similar")
    similar.locator("blockquote").first.wait_for()
    assert "How a good reply to a similar message reads" in similar.inner_text()
    assert similar.locator("blockquote").first.inner_text().strip()


def test_scores_come_before_any_llm_text(page, served: tuple[str, Behaviour]) -> None:
    """Fake OpenAI server, slowed to 4 s before it answers: the learned critic's scores and issues are on the
    page while the suggested sentence is still being written, and the sentence streams in after them."""
    _, behaviour = served
    behaviour.delay_s = 4.0
    try:
        asked = len(behaviour.requests)
        page.locator("#draft textarea").fill("We can't do anything about your parcel, it's the courier's fault.")
        page.locator("#critique-button").click()
        page.locator("#scores", has_text="criterion").wait_for()
        assert page.locator("#issues").inner_text().strip(), "issues are shown with the scores"
        suggestion = page.locator("#suggestion").inner_text()
        assert "Suggested sentence:" not in suggestion, "no LLM text may come before the scores"
        page.locator("#suggestion", has_text="Suggested sentence:").wait_for()
        assert len(behaviour.requests) > asked, "the sentence came from the LLM, after the scores"
    finally:
        behaviour.delay_s = 0.0


def test_cancel_stops_a_slow_suggestion(page, served: tuple[str, Behaviour]) -> None:
    """Fake OpenAI server, slowed to 3 s: Cancel while the suggested sentence is written keeps the scores."""
    _, behaviour = served
    behaviour.delay_s = 3.0
    try:
        page.locator("#draft textarea").fill("We can't do anything about your parcel, it's the courier's fault.")
        page.locator("#critique-button").click()
        page.locator("#suggestion", has_text="Writing a suggested sentence").wait_for()
        page.locator("#cancel-button").click()
        page.locator("#status", has_text="Cancelled").wait_for()
        page.wait_for_timeout(5000)
        assert "Suggested sentence:" not in page.locator("#suggestion").inner_text()
    finally:
        behaviour.delay_s = 0.0


def test_ask_answers_with_numbered_citations(page) -> None:
    """Fake OpenAI server: a fixed answer citing [1] and [2]."""
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#question textarea").fill("How should I answer an angry customer?")
    page.locator("#ask-button").click()
    answer = page.locator("#answer")
    answer.locator("details").first.wait_for()
    assert "[1]" in answer.inner_text()
    answer.locator("details summary").first.click()
    assert answer.locator("details[open] blockquote").first.inner_text().strip()


def test_an_uploaded_document_is_searchable_at_once(page, tmp_path: Path) -> None:
    """Fake OpenAI server (unused: upload, index and search need no LLM)."""
    document = tmp_path / "en-parcel-lockers.md"
    rule = "When a parcel waits in a locker, send the customer the locker code and its opening hours."
    document.write_text(f"# Parcel lockers\n\n{rule}\n", encoding="utf-8")
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#upload input[type=file]").set_input_files(str(document))
    page.locator("#upload-status", has_text="searchable now").wait_for()
    page.locator("#search-text textarea").fill("What do I send when the parcel is in a locker?")
    page.locator("#search-button").click()
    page.locator("#search-results", has_text="en-parcel-lockers#").wait_for()
    page.locator("#documents").get_by_text("Parcel lockers", exact=True).click()  # browse: open the document
    page.locator("#document-text", has_text="locker code").wait_for()


def test_batch_scores_a_csv_and_offers_the_results(page, tmp_path: Path) -> None:
    """Fake OpenAI server (rudeness detector) behind the batch API."""
    source = tmp_path / "replies.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "draft", "customer_message"])
        writer.writerow(["r1", RUDE_DRAFT, CUSTOMER])
        writer.writerow(["r2", "I'm sorry for the wait. Your refund was sent today; it arrives in 3 days.", ""])
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-file input[type=file]").set_input_files(str(source))
    page.locator("#batch-button").click()
    page.locator("#batch-status", has_text="replies scored").wait_for(timeout=120_000)
    assert "r1" in page.locator("#batch-table").inner_text()
    links = page.locator("#batch-files a")
    assert links.count() == 2
    with page.expect_download() as download:
        links.first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert "r1" in saved.read_text(encoding="utf-8")


MN_EMPATHY = "mn-complaints-7-tips#8"  # cited for acknowledgement_empathy by the rude English draft
MN_EMPATHY_EN = (
    "Take every complaint seriously. What seems trivial to you may seem very big in the customer's mind. "
    "Treat every complaint as a serious opportunity that must not be ignored."
)


def test_an_english_drafts_citation_reads_in_english_marked_as_a_machine_translation(
    page, served_coach: tuple[str, Behaviour, Coach]
) -> None:
    """Fake OpenAI server as the translator: the Mongolian passage is translated (through read_passage, checked
    and cached) before the critique; the page shows it in English, marked, with the Mongolian original one click
    away. Passages not translated yet show their original at once, with a note."""
    _, behaviour, coach = served_coach
    # the shipped curated translations would be read first (tests/test_readers.py): this test is about the machine's
    shutil.rmtree(coach.settings.knowledge_dir / "translations", ignore_errors=True)
    original_respond = behaviour.respond
    behaviour.respond = lambda request: (
        MN_EMPATHY_EN if "English translation:" in last_user_text(request) else original_respond(request)
    )
    try:
        read = coach.read_passage(MN_EMPATHY, "en", wait=True)
    finally:
        behaviour.respond = original_respond
    assert read.machine_translated and read.text == MN_EMPATHY_EN, read.note
    page.locator("#customer textarea").fill(CUSTOMER)
    page.locator("#draft textarea").fill(RUDE_DRAFT)
    page.locator("#critique-button").click()
    page.locator("#status", has_text="critique ready").wait_for()
    cited = page.locator("#issues details", has=page.locator("code", has_text=MN_EMPATHY)).first
    assert "machine translation" in cited.locator("summary").first.inner_text()
    cited.locator("summary").first.click()
    assert "Take every complaint seriously" in cited.locator("blockquote[lang=en]").first.inner_text()
    original = cited.locator("details.original")
    original.locator("summary").click()
    assert "Гомдол бүрийг" in original.locator("blockquote[lang=mn]").inner_text()
    assert page.locator("#issues .translation-note", has_text="not made yet").count() >= 1
