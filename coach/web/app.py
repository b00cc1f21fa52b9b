"""The coach web page (Gradio): a Coach tab for agents, a Knowledge tab for trainers, a Batch tab for QA leads.

Thin: every button calls the public `coach` API and hands the result to the pure functions of `coach.web.render`.
Run: `python app.py [--host H] [--port P]` (root script) or `coach serve`; `COACH_AUTH=user:password` asks for a login.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from coach import Answer, Coach, CoachError, Critique, Progress, Rewrite  # noqa: E402
from coach.batch import BatchProgress, BatchSummary  # noqa: E402
from coach.web import render  # noqa: E402

LLM_CONCURRENCY = 2  # critiques, rewrites and answers at once; more only queue inside the LLM server
SEARCH_CONCURRENCY = 4  # searches and uploads never wait behind a long critique
BATCH_POLL_S = 0.5

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


# --------------------------------------------------------------------------- coach tab


@contextlib.contextmanager
def listening(stream: Iterator[Progress]) -> Iterator[Iterator[Progress]]:
    """Close a coach stream when the page stops listening (Cancel), so its LLM call stops instead of running on."""
    try:
        yield stream
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def critique_view(coach: Coach, customer: str, draft: str) -> Iterator[tuple[Any, ...]]:
    """Passages first, then live progress, then the highlighted draft, scores and cited issues."""
    try:
        with listening(coach.critique_stream(draft, customer or None)) as stream:
            for event in stream:
                passages = gr.Accordion(label=f"Guideline passages ({len(event.passages)})", open=event.stage != "done")
                if not isinstance(event.result, Critique):
                    yield (render.progress_markdown(event), render.passages_markdown(event.passages), passages,
                           *_empty_critique())  # fmt: skip
                    continue
                critique = event.result
                segments, colours = render.highlight_draft(draft, critique)
                shown = (
                    render.progress_markdown(event),
                    render.passages_markdown(critique.passages),
                    passages,
                    render.verdict(critique),
                    gr.HighlightedText(value=[*segments], color_map=colours, visible=True),
                    render.issues_markdown(critique, len(draft)),
                    render.scores_markdown(critique),
                    render.strengths_markdown(critique),
                )
                yield (*shown, "")
                yield from suggestion_view(coach, draft, customer, critique, shown)
    except CoachError as exc:
        yield (render.error_markdown(str(exc)), "", gr.Accordion(), *_empty_critique())


def suggestion_view(
    coach: Coach, draft: str, customer: str, critique: Critique, shown: tuple[Any, ...]
) -> Iterator[tuple[Any, ...]]:
    """After the scores are on the page: the LLM's suggested sentence for the top issues, as it is written."""
    if not critique.issues:
        return
    yield (*shown, render.suggestion_markdown("", writing=True))
    try:
        sentence = ""
        for sentence in coach.suggest_stream(draft, critique, customer or None):
            yield (*shown, render.suggestion_markdown(sentence, writing=True))
        yield (*shown, render.suggestion_markdown(sentence, writing=False))
    except CoachError as exc:
        yield (*shown, render.error_markdown(f"No suggested sentence: {exc}"))


def _empty_critique() -> tuple[Any, ...]:
    return "", gr.HighlightedText(value=None, visible=False), "", "", "", ""


def rewrite_view(coach: Coach, customer: str, draft: str) -> Iterator[tuple[Any, ...]]:
    """Passages, then the new reply as it is written, then warnings, the diff and the criteria it fixes."""
    try:
        with listening(coach.rewrite_stream(draft, customer or None)) as stream:
            for event in stream:
                result = event.result
                if not isinstance(result, Rewrite):  # the new reply as the model writes it, token by token
                    yield (render.progress_markdown(event, "rewrite"), render.passages_markdown(event.passages),
                           gr.Column(visible=True), "", event.partial_text, None, "")  # fmt: skip
                    continue
                yield (
                    render.progress_markdown(event, "rewrite"),
                    render.passages_markdown(result.passages),
                    gr.Column(visible=True),
                    render.rewrite_warnings_markdown(result),
                    result.text,
                    render.diff_highlight(draft, result.text),
                    render.changes_markdown(result),
                )
    except CoachError as exc:
        yield render.error_markdown(str(exc)), "", gr.Column(visible=False), "", "", None, ""


# --------------------------------------------------------------------------- knowledge tab


def ask_view(coach: Coach, question: str) -> Iterator[tuple[str, str, str, str]]:
    """The passages' most relevant sentences at once, then the answer as it is written, then its citations."""
    try:
        with listening(coach.ask_stream(question)) as stream:
            for event in stream:
                if isinstance(event.result, Answer):
                    answer = render.answer_markdown(event.result)
                else:
                    answer = render.escape(event.partial_text)
                status = render.progress_markdown(event, "answer")
                found = event.result.excerpts if isinstance(event.result, Answer) else event.excerpts
                excerpts = render.excerpts_markdown(event.passages, found)
                yield status, excerpts, answer, render.passages_markdown(event.passages, "Passages the answer may cite")
    except CoachError as exc:
        yield render.error_markdown(str(exc)), "", "", ""


def search_view(coach: Coach, text: str, k: float) -> tuple[str, list[list[object]]]:
    """Passages for a draft or question, with ids, documents and scores."""
    try:
        passages = coach.search(text, k=int(k))
    except CoachError as exc:
        return render.error_markdown(str(exc)), []
    return f"{len(passages)} passages", render.search_rows(passages)


def documents_view(coach: Coach) -> list[list[str]]:
    """The documents of the knowledge folder."""
    documents, _ = coach.load_documents()
    return render.document_rows(documents)


def document_text(coach: Coach, event: gr.SelectData) -> str:
    """The chosen document's text, as written."""
    documents, _ = coach.load_documents()
    row = event.index[0] if isinstance(event.index, list | tuple) else event.index
    return documents[row].body if 0 <= row < len(documents) else ""


def upload_view(coach: Coach, path: str | None) -> tuple[str, list[list[str]]]:
    """Index an uploaded guideline file at once; a bad file gets a clear message and changes nothing."""
    if not path:
        return "", documents_view(coach)
    name = Path(path).name
    try:
        report = coach.add_document(name, Path(path).read_bytes(), replace=True)  # old version kept in history
    except CoachError as exc:
        return render.error_markdown(f"{name} was not added: {exc}"), documents_view(coach)
    return render.report_markdown(name, report), documents_view(coach)


# --------------------------------------------------------------------------- batch tab


def batch_view(coach: Coach, path: str | None, progress: gr.Progress | None = None) -> Iterator[tuple[Any, ...]]:
    """Score an uploaded CSV/JSONL; progress while it runs, then a table, a chart and both result files."""
    if not path:
        yield render.error_markdown("Choose a CSV or JSONL file of replies first."), None, None, None
        return
    source = Path(path)
    folder = coach.settings.data_dir / "batch" / f"{time.strftime('%Y%m%d-%H%M%S')}-{source.stem}"
    folder.mkdir(parents=True, exist_ok=True)
    jsonl, table = folder / f"{source.stem}.results.jsonl", folder / f"{source.stem}.results.csv"
    state: dict[str, Any] = {}

    def run() -> None:
        try:
            state["summary"] = coach.evaluate_file(
                source, jsonl, csv_path=table, progress=lambda p: state.update(progress=p)
            )
        except CoachError as exc:
            state["error"] = str(exc)

    worker = threading.Thread(target=run, daemon=True, name="coach-batch")
    worker.start()
    while worker.is_alive():
        worker.join(BATCH_POLL_S)
        current: BatchProgress | None = state.get("progress")
        if current is not None:
            if progress is not None and current.total:
                progress((current.done, current.total), desc="replies", unit="replies")
            yield f"… {current.text()}", None, None, None
    if "error" in state:
        yield render.error_markdown(state["error"]), None, None, None
        return
    summary: BatchSummary = state["summary"]
    with table.open(encoding="utf-8", newline="") as handle:
        headers, rows = render.batch_table(list(csv.DictReader(handle)))
    chart = pd.DataFrame(render.batch_chart_rows(summary))
    yield (
        render.batch_summary_markdown(summary),
        pd.DataFrame(rows, columns=headers),
        chart,
        [str(table), str(jsonl)],
    )


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
