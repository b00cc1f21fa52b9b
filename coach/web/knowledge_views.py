"""What the trainers' buttons of the Knowledge tab do: documents and their versions, rubric links, the audit log.

Every change goes through the public `coach` API and is refused here unless the signed-in user is a trainer
(the page also hides the buttons from agents, but the check that counts is this one). After each change the
whole panel (documents, coverage, links, audit) is rendered again, so what the page shows is what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from coach import Coach, CoachError, NewVersionError
from coach.web import render, render_knowledge

TRAINER = "trainer"
NOT_A_TRAINER = "Only trainers can change the guidelines; you are signed in as an agent."


@dataclass(frozen=True)
class Viewer:
    """Who is using the page: their name (None on an open page) and role."""

    name: str | None
    role: str

    @property
    def trainer(self) -> bool:
        return self.role == TRAINER


@dataclass(frozen=True)
class PendingVersion:
    """An uploaded new version waiting for the trainer's confirmation, and the version it was compared with."""

    path: str
    name: str
    base_sha256: str | None


def panel(coach: Coach) -> tuple[Any, ...]:
    """Documents, coverage, link check, passages with their criteria, audit log: the trainers' whole view."""
    report = coach.links.check()
    names = {c.id: c.name.get("en") for c in coach.rubric.criteria}
    headers, coverage = render_knowledge.coverage_rows(report, names, coach.translated_coverage())
    passages = render_knowledge.passage_rows(coach.links.passages(), coach.links.read(), coach.links.suggestions())
    return (
        pd.DataFrame(render_knowledge.document_rows(coach.documents()), columns=render_knowledge.DOCUMENT_HEADERS),
        pd.DataFrame(coverage, columns=headers),
        render_knowledge.link_check_markdown(report),
        pd.DataFrame(passages, columns=render_knowledge.PASSAGE_HEADERS),
        pd.DataFrame(render_knowledge.audit_rows(coach.audit_log()), columns=render_knowledge.AUDIT_HEADERS),
    )


def _refused(viewer: Viewer) -> str | None:
    return None if viewer.trainer else render.error_markdown(NOT_A_TRAINER)


def _hidden_preview() -> tuple[Any, ...]:
    return gr.Markdown(value="", visible=False), gr.Row(visible=False), None


def upload_view(coach: Coach, path: str | None, viewer: Viewer) -> tuple[Any, ...]:
    """A new document is added at once; a new version of one is only previewed, for the trainer to confirm."""
    if not path:
        return "", *_hidden_preview(), *panel(coach)
    if refused := _refused(viewer):
        return refused, *_hidden_preview(), *panel(coach)
    name = Path(path).name
    try:
        report = coach.add_document(name, Path(path).read_bytes(), user=viewer.name)
    except NewVersionError as exc:  # the name exists with other content: show the change, change nothing
        pending = PendingVersion(path, name, exc.change.before_sha256)
        preview = gr.Markdown(value=render_knowledge.change_markdown(exc.change), visible=True)
        return "", preview, gr.Row(visible=True), pending, *panel(coach)
    except (CoachError, OSError) as exc:
        return render.error_markdown(f"{name} was not added: {exc}"), *_hidden_preview(), *panel(coach)
    return render.report_markdown(name, report), *_hidden_preview(), *panel(coach)


def confirm_view(coach: Coach, pending: PendingVersion | None, viewer: Viewer) -> tuple[Any, ...]:
    """Use the previewed new version; the old one goes into the history. Changed since the preview: ask again."""
    if pending is None:
        return "", *_hidden_preview(), *panel(coach)
    if refused := _refused(viewer):
        return refused, *_hidden_preview(), *panel(coach)
    try:
        content = Path(pending.path).read_bytes()
        report = coach.add_document(
            pending.name, content, replace=True, base_sha256=pending.base_sha256, user=viewer.name
        )
    except NewVersionError as exc:  # someone changed the document since the preview
        again = PendingVersion(pending.path, pending.name, exc.change.before_sha256)
        preview = gr.Markdown(value=render_knowledge.change_markdown(exc.change), visible=True)
        message = render.error_markdown(f"{pending.name} changed since your preview: check the new comparison.")
        return message, preview, gr.Row(visible=True), again, *panel(coach)
    except (CoachError, OSError) as exc:
        return render.error_markdown(f"{pending.name} was not replaced: {exc}"), *_hidden_preview(), *panel(coach)
    kept = len(coach.document_history(pending.name))
    status = render.report_markdown(pending.name, report) + f" The previous version is kept (version {kept})."
    return status, *_hidden_preview(), *panel(coach)


def discard_view(coach: Coach, pending: PendingVersion | None) -> tuple[Any, ...]:
    """Drop a previewed new version: nothing changes."""
    message = f"The new version of {pending.name} was discarded; nothing changed." if pending else ""
    return message, *_hidden_preview(), *panel(coach)


def _clicked_row(event: gr.SelectData) -> str | None:
    """The first cell of the clicked row (a document's file name, a passage's id): the table's order may change."""
    row = event.row_value
    return str(row[0]) if isinstance(row, list | tuple) and row else None


def select_document(coach: Coach, event: gr.SelectData) -> tuple[str | None, str, str]:
    """The chosen document: its name (for revert and remove), its text, and its kept versions."""
    chosen = next((d for d in coach.documents() if d.name == _clicked_row(event)), None)
    if chosen is None:
        return None, "", ""
    path = coach.settings.knowledge_dir / chosen.name
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return chosen.name, text, render_knowledge.history_markdown(chosen.name, coach.document_history(chosen.name))


def revert_view(coach: Coach, name: str | None, viewer: Viewer) -> tuple[Any, ...]:
    """Bring back the chosen document's previous version (the current one is kept)."""
    return _document_change(coach, name, viewer, "reverted", coach.revert_document)


def remove_view(coach: Coach, name: str | None, viewer: Viewer) -> tuple[Any, ...]:
    """Take the chosen document out (it stays in the history, and can be reverted)."""
    return _document_change(coach, name, viewer, "removed", coach.remove_document)


def _document_change(coach: Coach, name: str | None, viewer: Viewer, verb: str, change: Any) -> tuple[Any, ...]:
    if not name:
        return render.error_markdown("Choose a document in the table first."), "", *panel(coach)
    if refused := _refused(viewer):
        return refused, "", *panel(coach)
    try:
        report = change(name, user=viewer.name)
    except CoachError as exc:
        return render.error_markdown(f"{name} was not {verb}: {exc}"), "", *panel(coach)
    history = render_knowledge.history_markdown(name, coach.document_history(name))
    return (
        f"✓ **{render.escape(name)}** {verb}. {render.escape(report.summary().splitlines()[-1])}",
        history,
        *panel(coach),
    )


def select_passage(coach: Coach, event: gr.SelectData) -> tuple[Any, Any]:
    """A row of the passages table fills the link controls: its id, and its first suggested criterion."""
    passage_id = _clicked_row(event)
    if passage_id is None or passage_id not in {p.id for p in coach.links.passages()}:
        return gr.skip(), gr.skip()
    suggested = coach.links.suggestions().get(passage_id) or []
    linked = coach.links.read().criteria_of(passage_id)
    criterion = suggested[0].criterion if suggested else (linked[0] if linked else gr.skip())
    return passage_id, criterion


def link_view(coach: Coach, action: str, passage: str | None, criterion: str | None, viewer: Viewer) -> tuple[Any, ...]:
    """Link, unlink, or reject a suggested criterion for a passage."""
    if not passage or not criterion:
        return render.error_markdown("Choose a passage and a criterion first."), *panel(coach)
    if refused := _refused(viewer):
        return refused, *panel(coach)
    change = {"link": coach.links.link, "unlink": coach.links.unlink, "reject": coach.links.reject}[action]
    try:
        change(passage, criterion, user=viewer.name)
    except CoachError as exc:
        return render.error_markdown(str(exc)), *panel(coach)
    done = {"link": "linked to", "unlink": "no longer linked to", "reject": "will not be suggested for"}[action]
    return f"✓ `{passage}` {done} {criterion}.", *panel(coach)
