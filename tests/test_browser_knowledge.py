"""End-to-end, in headless Chromium: trainers own the knowledge base (versions, revert, rubric links), agents do not.

The page runs with a users file (a trainer and an agent) and signs in through Gradio's login form. The LLM is
the fake OpenAI server, never asked here. Screenshots go to `artifacts/browser/`, like tests/test_browser.py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from coach import Coach
from coach.knowledge.embeddings import Embedder
from coach.web.render_knowledge import GAP
from tests.app_server import PASSWORD, prepared_root, running_app
from tests.test_browser import ARTIFACTS, LLM_WAIT_MS, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.browser

RU = "ru-handle-complaints-quickly"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, indexed_coach: Coach
) -> Iterator[tuple[str, Coach]]:
    """The app over a copy of the knowledge base, with a login for trainer `tess` and agent `ann`."""
    root = prepared_root(indexed_coach, tmp_path_factory.mktemp("app-knowledge") / "root")
    with running_app(root, embedder, users={"tess": "trainer", "ann": "agent"}) as (url, coach, _):
        yield url, coach


def signed_in(browser, url: str, name: str, request: pytest.FixtureRequest) -> Iterator[object]:  # noqa: F811
    """A page signed in as `name`, on the Knowledge tab; its screenshot is saved at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(LLM_WAIT_MS)
    page.goto(url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#documents", has_text=RU).wait_for()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def trainer(browser, served: tuple[str, Coach], request: pytest.FixtureRequest) -> Iterator[object]:  # noqa: F811
    yield from signed_in(browser, served[0], "tess", request)


@pytest.fixture
def agent(browser, served: tuple[str, Coach], request: pytest.FixtureRequest) -> Iterator[object]:  # noqa: F811
    yield from signed_in(browser, served[0], "ann", request)


def search(page, text: str) -> str:
    """Search the guidelines from the Knowledge tab; the results table's text once it changed."""
    results = page.locator("#search-results")
    before = results.inner_text()
    page.locator("#search-text textarea").fill(text)
    page.locator("#search-button").click()
    for _ in range(120):
        page.wait_for_timeout(500)
        after = str(results.inner_text())
        if after != before and "#" in after:
            return after
    raise AssertionError(f"no new search results for {text!r}")


def test_a_new_version_is_confirmed_kept_and_reverted(trainer, served: tuple[str, Coach], tmp_path: Path) -> None:
    """An upload with an existing name shows the change; the old version is kept; revert brings it back."""
    _, coach = served
    apology = next(p for p in coach.links.passages() if p.id == f"{RU}#4")
    upload = tmp_path / f"{RU}.md"
    upload.write_text("# Жалобы\n\nВсегда отвечайте клиенту одним словом: нет.\n", encoding="utf-8")
    trainer.locator("#upload input[type=file]").set_input_files(str(upload))
    preview = trainer.locator("#version-preview")
    preview.locator("text=new version").wait_for()
    assert "apology_ownership" in preview.inner_text()  # the links the new version would orphan
    assert (coach.settings.knowledge_dir / upload.name).read_text(encoding="utf-8") != upload.read_text("utf-8")
    trainer.locator("#confirm-version").click()
    trainer.locator("#upload-status", has_text="✓").wait_for()
    assert f"{RU}#4" not in search(trainer, apology.text)

    trainer.locator("#documents span", has_text=f"{RU}.md").first.click()
    trainer.locator("#document-history", has_text="version 1").wait_for()
    trainer.locator("#revert-button").click()
    trainer.locator("#upload-status", has_text="reverted").wait_for()
    assert f"{RU}#4" in search(trainer, apology.text)
    assert f"{RU}#4" in coach.links.read().passages_of("apology_ownership")  # the orphaned link came back
    assert "reverted" in trainer.locator("#audit").inner_text()


def test_an_agent_sees_no_tools_that_change_the_guidelines(agent) -> None:
    agent.locator("#role-note", has_text="agent").wait_for()
    for control in ("#upload", "#revert-button", "#remove-button", "#link-button"):
        assert not agent.locator(control).is_visible(), control
    assert "#" in search(agent, "refund delayed")  # agents still search (passage ids are doc#n)


def test_coverage_lists_a_criterion_left_without_passages(trainer, served: tuple[str, Coach]) -> None:
    _, coach = served
    criterion = "clear_positive_wording"
    linked = coach.links.read().passages_of(criterion)
    assert linked, "the test needs a criterion with links"
    for passage_id in linked:
        trainer.locator("#link-passage textarea, #link-passage input").first.fill(passage_id)
        trainer.locator("#link-criterion input").fill(criterion)
        trainer.locator("#link-criterion input").press("Enter")
        trainer.locator("#unlink-button").click()
        trainer.locator("#link-status", has_text=f"{passage_id}").wait_for()
    trainer.locator("#link-check", has_text=f"No passage at all: {criterion}").wait_for()
    rows = trainer.evaluate(  # Gradio's table: a grid of div rows, not <tr>
        "() => [...document.querySelectorAll('#coverage .virtual-row')]"
        ".map(r => [...r.querySelectorAll('[role=gridcell]')].map(c => c.textContent.trim()))"
    )
    row = next((cells for cells in rows if cells and criterion in cells[0]), rows)
    # a gap in every language column: the originals' languages, plus English, which only translations reach
    assert len(row[1:]) >= len(coach.links.check().languages) and set(row[1:]) == {GAP}, row
    assert coach.links.read().passages_of(criterion) == ()


def test_a_suggested_criterion_is_rejected_from_the_passages_table(trainer, served: tuple[str, Coach]) -> None:
    _, coach = served
    first = trainer.locator("#passage-links .virtual-row [role=gridcell]").first
    passage_id = first.inner_text().strip()
    suggested = coach.links.suggestions()[passage_id][0].criterion  # unlinked passages come first
    first.click()
    expect(trainer.locator("#link-criterion input")).to_have_value(suggested)
    expect(trainer.locator("#link-passage textarea, #link-passage input").first).to_have_value(passage_id)
    trainer.locator("#reject-button").click()
    trainer.locator("#link-status", has_text="will not be suggested").wait_for()
    assert suggested in coach.links.read().rejected[passage_id]
    assert suggested not in [s.criterion for s in coach.links.suggestions()[passage_id]]
