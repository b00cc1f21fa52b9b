"""The coach web page (Gradio): a Coach tab for agents, a Knowledge tab for trainers, a Batch tab for QA leads.

Layout and wiring only: each button runs a function of `coach.web.views` (the trainers' ones:
`coach.web.knowledge_views`), which renders with `coach.web.render`. `coach.web.serve` starts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from coach import Coach
from coach.web import knowledge_views, render, render_knowledge
from coach.web.knowledge_views import Viewer
from coach.web.views import (
    ask_view,
    batch_view,
    critique_view,
    rewrite_view,
    search_view,
)

if TYPE_CHECKING:
    from coach.web.warmup import Warmup

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
.translation-mark { border-radius: 4px; padding: 0 6px; font-size: 0.75rem; background: #e0e7ff; color: #3730a3; }
.translation-note { color: #6b7280; }
"""


# --------------------------------------------------------------------------- the page


def build_app(
    coach: Coach,
    warmup: Warmup | None = None,
    *,
    roles: Callable[[str], str | None] | None = None,
    notice: str = "",
) -> gr.Blocks:
    """The page, wired to one Coach whose models are already loaded.

    ``roles`` gives a signed-in user's role (trainer or agent); ``notice`` is shown on top (an open page says so).
    """
    llm: dict[str, Any] = {"concurrency_id": "llm", "concurrency_limit": LLM_CONCURRENCY}
    quick: dict[str, Any] = {"concurrency_id": "knowledge", "concurrency_limit": SEARCH_CONCURRENCY}

    app = gr.Blocks(title="coach")
    with app:
        with gr.Row():
            gr.Markdown("# coach\nQuoted, cited feedback on a draft reply, from your team's guidelines.")
            llm_status = gr.Markdown(elem_id="llm-status")
        if notice:
            gr.Markdown(notice, elem_id="open-notice")
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
                    similar = gr.Markdown(elem_id="similar")
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
            role_note = gr.Markdown(elem_id="role-note")
            with gr.Column() as trainer_upload:
                upload = gr.File(
                    label="Add a guideline document, or a new version of one (.md or .txt)",
                    file_types=[".md", ".txt"],
                    elem_id="upload",
                )
            upload_status = gr.Markdown(elem_id="upload-status")
            version_preview = gr.Markdown(visible=False, elem_id="version-preview")
            with gr.Row(visible=False) as confirm_row:
                confirm_button = gr.Button("Use the new version", variant="primary", elem_id="confirm-version")
                discard_button = gr.Button("Discard it", elem_id="discard-version")
            pending = gr.State(None)
            documents = gr.Dataframe(
                headers=render_knowledge.DOCUMENT_HEADERS,
                column_widths=["28%", "24%", "30%", "8%", "10%"],
                interactive=False,
                elem_id="documents",
            )
            chosen_document = gr.State(None)
            with gr.Row():
                with gr.Column(scale=3):
                    document = gr.Markdown(elem_id="document-text")
                with gr.Column(scale=2):
                    history = gr.Markdown(elem_id="document-history")
                    with gr.Row() as document_actions:
                        revert_button = gr.Button("Revert to the previous version", elem_id="revert-button")
                        remove_button = gr.Button("Remove", variant="stop", elem_id="remove-button")
            gr.Markdown(
                "### Rubric links\nA flagged criterion cites the passages linked to it. Passages linked to nothing "
                "get suggested criteria: accept (Link) or Reject each; nothing links itself."
            )
            coverage = gr.Dataframe(label="Coverage: passages per criterion and language", elem_id="coverage")
            link_check = gr.Markdown(elem_id="link-check")
            passage_links = gr.Dataframe(
                headers=render_knowledge.PASSAGE_HEADERS,
                column_widths=["18%", "6%", "20%", "18%", "38%"],
                label="Passages and their criteria (click a row)",
                interactive=False,
                wrap=True,
                max_height=420,
                elem_id="passage-links",
            )
            with gr.Row() as link_actions:
                link_passage = gr.Textbox(label="Passage id", elem_id="link-passage", scale=2)
                link_criterion = gr.Dropdown(
                    choices=list(coach.rubric.ids), label="Criterion", elem_id="link-criterion", scale=2
                )
                link_button = gr.Button("Link", variant="primary", elem_id="link-button", scale=1)
                unlink_button = gr.Button("Unlink", elem_id="unlink-button", scale=1)
                reject_button = gr.Button("Reject suggestion", elem_id="reject-button", scale=1)
            link_status = gr.Markdown(elem_id="link-status")
            gr.Markdown("### Change log")
            audit = gr.Dataframe(headers=render_knowledge.AUDIT_HEADERS, interactive=False, elem_id="audit")

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

        def viewer(request: gr.Request | None) -> Viewer:
            """Who this request comes from: on an open page everyone is a trainer (the page says it is open)."""
            name = getattr(request, "username", None) if request is not None else None
            if name is None:
                return Viewer(None, knowledge_views.TRAINER)
            return Viewer(name, (roles(name) if roles else None) or "agent")

        def upload_file(path: str | None, request: gr.Request) -> tuple[Any, ...]:
            return knowledge_views.upload_view(coach, path, viewer(request))

        def confirm(state: Any, request: gr.Request) -> tuple[Any, ...]:
            return knowledge_views.confirm_view(coach, state, viewer(request))

        def discard(state: Any) -> tuple[Any, ...]:
            return knowledge_views.discard_view(coach, state)

        def show_document(event: gr.SelectData) -> tuple[Any, ...]:
            return knowledge_views.select_document(coach, event)

        def revert(name: str | None, request: gr.Request) -> tuple[Any, ...]:
            return knowledge_views.revert_view(coach, name, viewer(request))

        def remove(name: str | None, request: gr.Request) -> tuple[Any, ...]:
            return knowledge_views.remove_view(coach, name, viewer(request))

        def choose_passage(event: gr.SelectData) -> tuple[Any, Any]:
            return knowledge_views.select_passage(coach, event)

        def link_action(action: str) -> Any:
            def run(passage: str, criterion: str | None, request: gr.Request) -> tuple[Any, ...]:
                return knowledge_views.link_view(coach, action, passage, criterion, viewer(request))

            return run

        def on_load(request: gr.Request) -> tuple[Any, ...]:
            """Trainers see the tools that change the guidelines; agents read, search and ask."""
            who = viewer(request)
            note = "" if who.trainer else f"Signed in as **{who.name}** (agent): trainers change the guidelines."
            hidden = [gr.Column(visible=who.trainer), gr.Row(visible=who.trainer), gr.Row(visible=who.trainer)]
            return (note, *hidden, *knowledge_views.panel(coach))

        def score_file(path: str | None, progress: gr.Progress = gr.Progress()) -> Iterator[tuple[Any, ...]]:  # noqa: B008
            yield from batch_view(coach, path, progress)

        critique_outputs = [
            status, passages, passages_box, verdict, highlight, issues, scores, strengths, similar, suggestion
        ]  # fmt: skip
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
        knowledge_panel = [documents, coverage, link_check, passage_links, audit]
        preview_outputs = [upload_status, version_preview, confirm_row, pending, *knowledge_panel]
        upload.upload(upload_file, upload, preview_outputs, **quick)
        confirm_button.click(confirm, pending, preview_outputs, **quick)
        discard_button.click(discard, pending, preview_outputs, **quick)
        documents.select(show_document, None, [chosen_document, document, history], **quick)
        document_outputs = [upload_status, history, *knowledge_panel]
        revert_button.click(revert, chosen_document, document_outputs, **quick)
        remove_button.click(remove, chosen_document, document_outputs, **quick)
        passage_links.select(choose_passage, None, [link_passage, link_criterion], **quick)
        for button, action in ((link_button, "link"), (unlink_button, "unlink"), (reject_button, "reject")):
            button.click(link_action(action), [link_passage, link_criterion], [link_status, *knowledge_panel], **quick)
        batch_outputs = [batch_status, batch_table, batch_chart, batch_files]
        batch_button.click(score_file, batch_file, batch_outputs, concurrency_id="batch", concurrency_limit=1)
        trainer_only = [trainer_upload, document_actions, link_actions]
        app.load(on_load, None, [role_note, *trainer_only, *knowledge_panel], **quick)
        app.load(lambda: warmup.text if warmup else "", None, llm_status, api_name="llm_status", **quick)
        poll = gr.Timer(2.0, active=warmup is not None and not warmup.done)

        def llm_state() -> tuple[str, gr.Timer]:
            """The warm-up's status line; polling stops once the LLM answered or failed."""
            if warmup is None:
                return "", gr.Timer(active=False)
            return warmup.text, gr.Timer(active=not warmup.done)

        poll.tick(llm_state, None, [llm_status, poll], **quick)
    return app
