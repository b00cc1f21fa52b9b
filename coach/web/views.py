"""What each button of the page does: call the public `coach` API, hand the result to `coach.web.render`.

Plain functions of a Coach and the inputs, wired to the page by `coach.web.app`; they stream tuples of outputs.
"""

from __future__ import annotations

import contextlib
import csv
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from coach import Answer, Coach, CoachError, Critique, Progress, Rewrite
from coach.batch.run import BatchProgress, BatchSummary
from coach.web import render

BATCH_POLL_S = 0.5


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
                critique = event.result.model_copy(
                    update={"passages": coach.read_passages(event.result.passages, event.result.language)}
                )
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
                yield (*shown, "", "")
                with_similar = (*shown, render.similar_markdown(_similar(coach, draft, customer)))  # after the verdict
                yield (*with_similar, "")
                yield from suggestion_view(coach, draft, customer, critique, with_similar)
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


def _similar(coach: Coach, draft: str, customer: str) -> list[Any]:
    """Good replies to similar messages (none when they cannot be read: the critique stands without them)."""
    try:
        return coach.similar_replies(draft, customer or None)
    except CoachError:
        return []


def _empty_critique() -> tuple[Any, ...]:
    return "", gr.HighlightedText(value=None, visible=False), "", "", "", "", ""


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
                result = result.model_copy(update={"passages": coach.read_passages(result.passages, result.language)})
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
        passages = coach.search(text, k=int(k), reader_first=True)
    except CoachError as exc:
        return render.error_markdown(str(exc)), []
    return f"{len(passages)} passages", render.search_rows(passages)


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
