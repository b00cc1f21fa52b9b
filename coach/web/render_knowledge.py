"""Pure rendering for the trainers' part of the Knowledge tab: new versions, history, rubric links, coverage, audit.

Like `coach.web.render`: results of the `coach` API in, Markdown and table rows out, testable without Gradio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from coach import AuditEntry, DocumentChange, DocumentInfo, DocumentVersion
from coach.knowledge.links import LinkReport, Links, Suggestion
from coach.knowledge.passages import PassageRecord
from coach.web.render import escape

GAP = "— none"
PASSAGE_EXCERPT_CHARS = 160
CHANGE_EXCERPT_CHARS = 220

DOCUMENT_HEADERS = ["file", "id", "title", "language", "kept versions"]
AUDIT_HEADERS = ["when (UTC)", "who", "what", "document", "sha256 before → after", "detail"]
PASSAGE_HEADERS = ["passage", "language", "criteria", "suggested", "text"]


def document_rows(documents: Sequence[DocumentInfo]) -> list[list[object]]:
    """Rows of the documents table, in `DOCUMENT_HEADERS` order."""
    return [
        [d.name, d.id or "", d.title or f"(cannot be indexed: {d.problem})", d.language or "", d.versions]
        for d in documents
    ]


def _excerpt(text: str | None, limit: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def change_markdown(change: DocumentChange) -> str:
    """What a new version would change, for the trainer to confirm or discard."""
    lines = [
        f"**{escape(change.document)}** already exists: this upload is a **new version**. "
        f"{escape(change.summary())}. Confirm to use it; the current version is kept in the history.",
        "",
    ]
    for passage in change.passages:
        if passage.kind == "removed":
            text = f"~~{escape(_excerpt(passage.before, CHANGE_EXCERPT_CHARS))}~~"
        else:
            text = escape(_excerpt(passage.after, CHANGE_EXCERPT_CHARS))
        lines.append(f"- **{passage.kind}** `{passage.passage_id}` {text}")
    lines.append("")
    lines.append(f"Rubric links that follow their passages: {change.links_kept}.")
    for passage_id, criteria in change.links_orphaned.items():
        lines.append(f"- ⚠️ `{passage_id}` is linked to {', '.join(criteria)}: that link is orphaned (reported below).")
    return "\n".join(lines)


def history_markdown(name: str, versions: Sequence[DocumentVersion]) -> str:
    """The kept versions of one document."""
    if not versions:
        return f"**{escape(name)}**: no earlier version kept."
    rows = [f"**{escape(name)}**, kept versions (newest last):", ""]
    rows += [
        f"- version {v.version}: {v.saved_at:%Y-%m-%d %H:%M} UTC, {v.size} bytes, `{v.sha256[:12]}`" for v in versions
    ]
    return "\n".join(rows)


def audit_rows(entries: Sequence[AuditEntry], limit: int = 50) -> list[list[str]]:
    """The newest changes first, in `AUDIT_HEADERS` order."""
    return [
        [
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.user,
            e.action,
            e.document,
            f"{(e.before_sha256 or '-')[:12]} → {(e.after_sha256 or '-')[:12]}",
            e.detail,
        ]
        for e in reversed(entries[-limit:])
    ]


def coverage_rows(
    report: LinkReport, names: Mapping[str, str], translated: Mapping[str, Mapping[str, int]] | None = None
) -> tuple[list[str], list[list[str]]]:
    """Criteria × languages: how many passages state each criterion in each language; gaps marked.

    With ``translated`` (criterion -> language -> linked passages readable there through a translation), a cell
    also says how many translations it has, and languages with translations only (English) get a column: a gap in
    the originals stays marked as one.
    """
    translated = translated or {}
    extra = sorted({lang for row in translated.values() for lang, n in row.items() if n} - set(report.languages))
    languages = [*report.languages, *extra]
    headers = ["criterion", *languages]
    rows = []
    for criterion, counts in report.coverage.items():
        cells = []
        for lang in languages:
            cell = str(counts[lang]) if counts.get(lang) else GAP
            if translated.get(criterion, {}).get(lang):
                cell += f" (+{translated[criterion][lang]} translated)"
            cells.append(cell)
        rows.append([f"{names.get(criterion, criterion)} ({criterion})", *cells])
    return headers, rows


def link_check_markdown(report: LinkReport) -> str:
    """Gaps, orphaned and broken links, in a few lines."""
    lines = []
    if report.criteria_without_passages:
        lines.append(f"⚠️ **No passage at all:** {', '.join(report.criteria_without_passages)}")
    if report.gaps:
        lines.append(f"Gaps (criterion without a passage in a language): {len(report.gaps)} criteria, marked {GAP}.")
    for orphan in report.orphaned:
        lines.append(
            f"- ⚠️ orphaned: `{orphan.passage_id}` → {orphan.criterion} (its passage was removed "
            f"{orphan.since:%Y-%m-%d}): “{escape(_excerpt(orphan.text, PASSAGE_EXCERPT_CHARS))}”"
        )
    for criterion, ids in report.unknown.items():
        lines.append(f"- ⚠️ {criterion} links passages that do not exist: {', '.join(ids)}")
    lines.append(f"{len(report.unlinked_passages)} passages are linked to no criterion.")
    return "\n".join(lines)


def passage_rows(
    passages: Sequence[PassageRecord], links: Links, suggestions: Mapping[str, Sequence[Suggestion]]
) -> list[list[str]]:
    """Each passage with its criteria and, when it has none, the suggested ones; in `PASSAGE_HEADERS` order.

    The passages linked to nothing come first: they are the ones waiting for a trainer.
    """
    rows = []
    for passage in sorted(passages, key=lambda p: bool(links.criteria_of(p.id))):
        suggested = ", ".join(f"{s.criterion} ({s.score:.2f})" for s in suggestions.get(passage.id, ()))
        rows.append(
            [
                passage.id,
                passage.language,
                ", ".join(links.criteria_of(passage.id)) or "—",
                suggested,
                _excerpt(passage.text, PASSAGE_EXCERPT_CHARS),
            ]
        )
    return rows
