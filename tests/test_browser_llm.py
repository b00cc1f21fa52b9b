"""End-to-end on the real embedded model: a rewrite in headless Chromium, its text streamed before the result.

The one browser test that does not use the fake server (issue 14): it starts the embedded llama.cpp model,
so it is slow (a minute or more on 2 cores) and, like every `llm` test, must run alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coach import Coach, Settings
from coach.knowledge.embeddings import Embedder
from coach.web.serve import serve
from tests.app_server import free_port, prepared_root
from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, browser  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.llm, pytest.mark.browser, pytest.mark.slow]

CUSTOMER = "My order #4471 still hasn't arrived and nobody answers my emails."
DRAFT = "Your order 4471 is delayed. Wait."
REWRITE_WAIT_MS = 600_000  # critique, writing and checking on a shared 2-core CPU


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, indexed_coach: Coach) -> Iterator[str]:
    """The app over a copy of the knowledge base, with the embedded LLM (started on first use)."""
    root = prepared_root(indexed_coach, tmp_path_factory.mktemp("app-llm") / "root")
    settings = Settings(knowledge_dir=root / "knowledge", data_dir=root / "data", cache=False)
    coach = Coach(settings, embedder=embedder)
    app = serve("127.0.0.1", free_port(), coach=coach, block=False)
    try:
        yield app.local_url or ""
    finally:
        app.close()
        coach.close()
        for model in (root / "data" / "models").glob("*.gguf"):
            model.unlink()  # 1.1 GB: do not leave it in pytest's temp folders


def test_a_real_rewrite_streams_its_text_before_the_checked_result(browser, app_url: str) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(REWRITE_WAIT_MS)
    try:
        page.goto(app_url)
        page.locator("#customer textarea").fill(CUSTOMER)
        page.locator("#draft textarea").fill(DRAFT)
        page.locator("#rewrite-button").click()
        page.wait_for_function("() => document.querySelector('#rewrite-text textarea')?.value.trim().length > 0")
        streamed = page.locator("#rewrite-text textarea").input_value()
        assert "ready" not in page.locator("#status").inner_text(), "text appears while the model still writes"
        page.locator("#status", has_text="rewrite ready").wait_for()
        final = page.locator("#rewrite-text textarea").input_value()
        assert final.strip() and "{" not in final, "plain text, never JSON"
        assert len(final) >= len(streamed.strip()) or final.strip() != streamed.strip()
        assert "4471" in final or "4471" in page.locator("#rewrite-warnings").inner_text()
        assert page.locator("#rewrite-warnings").inner_text().lstrip()[:1] in {"✓", "⚠"}
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "test_a_real_rewrite_streams.png"), full_page=True)
        context.close()
