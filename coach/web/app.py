"""The coach web page (Gradio): a Coach tab for agents, a Knowledge tab for trainers, a Batch tab for QA leads.

Layout and wiring only: each button runs a function of `coach.web.views`, which renders with `coach.web.render`.
Run: `python app.py [--host H] [--port P]` (root script) or `coach serve`; `COACH_AUTH=user:password` asks for a login.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from coach import Coach  # noqa: E402
from coach.web import render  # noqa: E402
from coach.web.views import (  # noqa: E402
    ask_view,
    batch_view,
    critique_view,
    document_text,
    documents_view,
    rewrite_view,
    search_view,
    upload_view,
)

LLM_CONCURRENCY = 2  # critiques, rewrites and answers at once; more only queue inside the LLM server
SEARCH_CONCURRENCY = 4  # searches and uploads never wait behind a long critique

# Ctrl+Enter (Cmd+Enter on a Mac) submits the box the cursor is in.
HEAD = """<script>
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  const targets = {draft: "critique-button", customer: "critique-button", question: "ask-button"};
  const box = event.target.closest && event.target.closest("#draft, #customer, #question");
  if (!box) return;
  event.preventDefault();
  document.getElementById(targets[box.id])?.click();
});
</script>"""
CSS = """
#draft-highlight .textfield { font-size: 1.05rem; line-height: 1.9; }
#verdict h2 { margin: 0; }
#scores td:nth-child(2) { white-space: nowrap; }
.severity { border-radius: 4px; padding: 0 6px; font-size: 0.8rem; font-weight: 600; vertical-align: middle; }
.severity-high { background: #f87171; } .severity-medium { background: #fb923c; } .severity-low { background: #facc15; }
"""


class Warmup:
    """Starts the LLM in the background at start-up, so the page opens at once and the first critique does not wait."""

    def __init__(self, coach: Coach) -> None:
        self.text = "LLM: starting…"
        self.done = False
        self.thread = threading.Thread(target=self._run, args=(coach,), daemon=True, name="coach-warmup")

    def _run(self, coach: Coach) -> None:
        status = coach.llm_status()
        state = "ready" if status.answers else f"not answering: {status.detail}"
        self.text = f"LLM: {status.endpoint.split(' at ')[0]} — {state}"
        self.done = True


# --------------------------------------------------------------------------- the page


def build_app(coach: Coach, warmup: Warmup | None = None) -> gr.Blocks:
    """The page, wired to one Coach whose models are already loaded."""
    llm: dict[str, Any] = {"concurrency_id": "llm", "concurrency_limit": LLM_CONCURRENCY}
    quick: dict[str, Any] = {"concurrency_id": "knowledge", "concurrency_limit": SEARCH_CONCURRENCY}

    app = gr.Blocks(title="coach")
    with app:
        with gr.Row():
            gr.Markdown("# coach\nQuoted, cited feedback on a draft reply, from your team's guidelines.")
            llm_status = gr.Markdown(elem_id="llm-status")
        with gr.Tab("Coach", id="coach"):
            with gr.Row():
                customer = gr.Textbox(
                    label="Customer's message (optional)", lines=4, max_lines=14, elem_id="customer", scale=2
                )
                draft = gr.Textbox(
                    label="Your draft reply", lines=4, max_lines=14, elem_id="draft", scale=3,
                    placeholder="Paste the draft, then Critique (Ctrl+Enter).",
                )  # fmt: skip
            with gr.Row():
                critique_button = gr.Button(
                    "Critique (Ctrl+Enter)", variant="primary", elem_id="critique-button", scale=3
                )
                rewrite_button = gr.Button("Rewrite", elem_id="rewrite-button", scale=2)
                cancel_button = gr.Button("Cancel", variant="stop", elem_id="cancel-button", scale=1)
            status = gr.Markdown(elem_id="status")
            verdict = gr.Markdown(elem_id="verdict")
            highlight = gr.HighlightedText(
                label="Your draft, problems highlighted", elem_id="draft-highlight", visible=False
            )
            suggestion = gr.Markdown(elem_id="suggestion")
            with gr.Row():
                with gr.Column(scale=3):
                    issues = gr.Markdown(elem_id="issues")
                with gr.Column(scale=2):
                    scores = gr.Markdown(elem_id="scores")
                    strengths = gr.Markdown(elem_id="strengths")
            with gr.Column(visible=False) as rewrite_box:
                rewrite_warnings = gr.Markdown(elem_id="rewrite-warnings")
                rewrite_text = gr.Textbox(
                    label="Rewritten reply", lines=6, buttons=["copy"], interactive=True, elem_id="rewrite-text"
                )
                diff = gr.HighlightedText(
                    label="Changes against your draft",
                    color_map=render.DIFF_COLOURS,
                    show_legend=True,
                    show_inline_category=False,
                    elem_id="rewrite-diff",
                )
                changes = gr.Markdown(elem_id="rewrite-changes")
            with gr.Accordion("Guideline passages", open=False) as passages_box:
                passages = gr.Markdown(elem_id="passages")

        with gr.Tab("Knowledge", id="knowledge"):
            gr.Markdown("### Ask the guidelines")
            with gr.Row():
                question = gr.Textbox(label="Question", lines=2, elem_id="question", scale=4)
                ask_button = gr.Button("Ask (Ctrl+Enter)", variant="primary", elem_id="ask-button", scale=1)
            ask_status = gr.Markdown()
            ask_excerpts = gr.Markdown(elem_id="ask-excerpts")
            answer = gr.Markdown(elem_id="answer")
            with gr.Accordion("Passages found", open=False):
                ask_passages = gr.Markdown()
            gr.Markdown("### Search passages")
            with gr.Row():
                query = gr.Textbox(label="Draft or question", lines=2, elem_id="search-text", scale=4)
                k = gr.Slider(1, 20, value=5, step=1, label="Passages", scale=1)
            search_button = gr.Button("Search", elem_id="search-button")
            search_status = gr.Markdown()
            results = gr.Dataframe(
                headers=render.SEARCH_HEADERS,
                column_widths=["15%", "15%", "12%", "7%", "7%", "44%"],
                wrap=True,
                elem_id="search-results",
            )
            gr.Markdown("### Documents")
            upload = gr.File(
                label="Add a guideline document (.md or .txt)", file_types=[".md", ".txt"], elem_id="upload"
            )
            upload_status = gr.Markdown(elem_id="upload-status")
            documents = gr.Dataframe(headers=render.DOCUMENT_HEADERS, interactive=False, elem_id="documents")
            document = gr.Markdown(elem_id="document-text")

        with gr.Tab("Batch", id="batch"):
            gr.Markdown(
                "Score a file of past replies with the same rubric: CSV or JSONL with a `draft` column "
                "(optional `id`, `customer_message`, `language`, `human_<criterion>` scores)."
            )
            batch_file = gr.File(label="Replies (.csv or .jsonl)", file_types=[".csv", ".jsonl"], elem_id="batch-file")
            batch_button = gr.Button("Score the file", variant="primary", elem_id="batch-button")
            batch_status = gr.Markdown(elem_id="batch-status")
            batch_chart = gr.BarPlot(
                x="criterion", y="mean score", y_lim=[0, 5], label="Mean score per criterion", elem_id="batch-chart"
            )
            batch_table = gr.Dataframe(label="Results", wrap=False, max_height=400, elem_id="batch-table")
            batch_files = gr.File(label="Download results", file_count="multiple", elem_id="batch-files")

        def critique(customer: str, draft: str) -> Iterator[tuple[Any, ...]]:
            yield from critique_view(coach, customer, draft)

        def rewrite(customer: str, draft: str) -> Iterator[tuple[Any, ...]]:
            yield from rewrite_view(coach, customer, draft)

        def ask(question: str) -> Iterator[tuple[str, str, str, str]]:
            yield from ask_view(coach, question)

        def search(text: str, k: float) -> tuple[str, list[list[object]]]:
            return search_view(coach, text, k)

        def upload_file(path: str | None) -> tuple[str, list[list[str]]]:
            return upload_view(coach, path)

        def show_document(event: gr.SelectData) -> str:
            return document_text(coach, event)

        def score_file(path: str | None, progress: gr.Progress = gr.Progress()) -> Iterator[tuple[Any, ...]]:  # noqa: B008
            yield from batch_view(coach, path, progress)

        critique_outputs = [status, passages, passages_box, verdict, highlight, issues, scores, strengths, suggestion]
        critiquing = critique_button.click(critique, [customer, draft], critique_outputs, **llm)
        rewrite_outputs = [status, passages, rewrite_box, rewrite_warnings, rewrite_text, diff, changes]
        rewriting = rewrite_button.click(rewrite, [customer, draft], rewrite_outputs, **llm)
        # The cancel handler also writes every output of the cancelled events: Gradio would otherwise leave
        # them marked "Error" (gradio-app/gradio#12493).
        cancelled = list(dict.fromkeys([*critique_outputs, *rewrite_outputs]))
        cancel_button.click(
            lambda: ["Cancelled.", *(gr.skip() for _ in cancelled[1:])],
            None,
            cancelled,
            cancels=[critiquing, rewriting],
            queue=False,
        )

        ask_button.click(ask, question, [ask_status, ask_excerpts, answer, ask_passages], **llm)
        search_button.click(search, [query, k], [search_status, results], **quick)
        query.submit(search, [query, k], [search_status, results], **quick)
        upload.upload(upload_file, upload, [upload_status, documents], **quick)
        documents.select(show_document, None, document, **quick)
        batch_outputs = [batch_status, batch_table, batch_chart, batch_files]
        batch_button.click(score_file, batch_file, batch_outputs, concurrency_id="batch", concurrency_limit=1)
        app.load(lambda: documents_view(coach), None, documents, **quick)
        app.load(lambda: warmup.text if warmup else "", None, llm_status, api_name="llm_status", **quick)
        poll = gr.Timer(2.0, active=warmup is not None and not warmup.done)

        def llm_state() -> tuple[str, gr.Timer]:
            """The warm-up's status line; polling stops once the LLM answered or failed."""
            if warmup is None:
                return "", gr.Timer(active=False)
            return warmup.text, gr.Timer(active=not warmup.done)

        poll.tick(llm_state, None, [llm_status, poll], **quick)
    return app


def _auth(coach: Coach) -> tuple[str, str] | None:
    """`COACH_AUTH=user:password` as Gradio's (user, password), or None for an open page."""
    if coach.settings.auth is None:
        return None
    user, sep, password = coach.settings.auth.get_secret_value().partition(":")
    if not sep or not user or not password:
        raise SystemExit("error: COACH_AUTH must be user:password")
    return user, password


def serve(host: str = "127.0.0.1", port: int = 7860, *, coach: Coach | None = None, block: bool = True) -> gr.Blocks:
    """Load the index and the embedding model, start the LLM in the background, then serve the page.

    With ``block=False`` (tests) it returns the running app; call ``.close()`` on it.
    """
    coach = coach or Coach()
    coach.index()  # incremental: only changed documents cost time
    coach.search("warm-up", k=1)  # loads the embedding model before the first user waits on it
    warmup = Warmup(coach)
    warmup.thread.start()
    app = build_app(coach, warmup)
    app.queue(default_concurrency_limit=SEARCH_CONCURRENCY)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            auth=_auth(coach),
            allowed_paths=[str(coach.settings.data_dir / "batch")],
            head=HEAD,
            css=CSS,
            prevent_thread_lock=not block,
            quiet=not block,
        )
    finally:
        if block:
            coach.close()
    return app


def main(argv: list[str] | None = None) -> None:
    """`python app.py [--host H] [--port P]`: serve the page until interrupted."""
    parser = argparse.ArgumentParser(description="Start the coach web app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
