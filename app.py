"""The coach web page (Gradio). Thin: it only calls the public `coach` API.

Today it offers guideline search; the coach, knowledge and batch tabs grow on the same API.
Run: `python app.py [--host H] [--port P]` or `coach serve`.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from coach import Coach, CoachError  # noqa: E402


def build_app(coach: Coach) -> gr.Blocks:
    """The page, wired to one Coach whose models are already loaded."""

    def search(text: str, k: float) -> tuple[str, list[list[object]]]:
        try:
            passages = coach.search(text, k=int(k))
        except CoachError as exc:
            return f"**Error:** {exc}", []
        rows = [[p.id, p.title, p.section, p.language, round(p.score, 3), p.text] for p in passages]
        return f"{len(passages)} passages", rows

    with gr.Blocks(title="coach") as app:
        gr.Markdown("# coach\nPaste a draft reply or a question: the guideline passages that matter, in any language.")
        with gr.Tab("Knowledge"):
            query = gr.Textbox(label="Draft or question", lines=5, elem_id="search-text")
            k = gr.Slider(1, 10, value=5, step=1, label="Passages")
            button = gr.Button("Search", variant="primary", elem_id="search-button")
            status = gr.Markdown()
            table = gr.Dataframe(
                headers=["id", "document", "section", "language", "score", "passage"],
                wrap=True,
                elem_id="search-results",
            )
            button.click(search, [query, k], [status, table])
            query.submit(search, [query, k], [status, table])
    return app


def serve(host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load models and the index once, then serve the page."""
    coach = Coach()
    coach.index()  # incremental: only changed documents cost time
    coach.search("warm-up", k=1)  # loads the embedding model before the first user waits on it
    build_app(coach).queue(default_concurrency_limit=4).launch(server_name=host, server_port=port)


def main() -> None:
    parser = argparse.ArgumentParser(description="Start the coach web app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
