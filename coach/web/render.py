"""Pure rendering for the web page: coach results in, Markdown / highlight values out.

Kept apart from `coach/web/app.py` so it can be tested on hand-built results without starting Gradio,
and so the app stays a thin wiring of buttons to the `coach` API.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable, Mapping, Sequence

from coach import Answer, Critique, IndexReport, Issue, Passage, Progress, Rewrite, SimilarReply
from coach.batch.run import BatchSummary
from coach.text import sentence_pieces

Highlight = list[tuple[str, str | None]]
"""A `gr.HighlightedText` value: text segments, each with a label or None."""

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
SEVERITY_COLOURS = {"high": "#f87171", "medium": "#fb923c", "low": "#facc15"}
REMOVED, ADDED = "removed", "added"
DIFF_COLOURS = {ADDED: "#86efac", REMOVED: "#fca5a5"}
REFINE_RATIO = 0.6  # sentences at least this similar are diffed word by word
PASSAGE_PREVIEW_CHARS = 600


def escape(text: str) -> str:
    """Text safe inside Markdown/HTML: agents' drafts and guideline text are shown, never interpreted."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]#|~])", r"\\\1", escaped)


# --------------------------------------------------------------------------- critique


def issue_label(issue: Issue) -> str:
    """The criterion's name in the draft's language (the id when the rubric gave none)."""
    return issue.name or issue.criterion


def sorted_issues(critique: Critique) -> list[Issue]:
    """Worst first, then in the order they appear in the draft: what to fix first is read first."""
    return sorted(critique.issues, key=lambda i: (SEVERITY_ORDER.get(i.severity, 1), i.start))


def highlight_draft(draft: str, critique: Critique) -> tuple[Highlight, dict[str, str]]:
    """The draft cut at issue boundaries, each span labelled with its worst issue (``+n`` for more), and colours.

    Colour follows severity, so red reads as 'fix this first'; the issue list below names every criterion.
    """
    issues = [i for i in sorted_issues(critique) if 0 <= i.start < i.end <= len(draft)]
    cuts = sorted({0, len(draft), *(i.start for i in issues), *(i.end for i in issues)})
    segments: Highlight = []
    colours: dict[str, str] = {}
    for start, end in zip(cuts, cuts[1:], strict=False):
        covering = [i for i in issues if i.start <= start and end <= i.end]  # worst first
        names = list(dict.fromkeys(issue_label(i) for i in covering))
        label = None
        if names:
            label = names[0] + (f" +{len(names) - 1}" if len(names) > 1 else "")
            colours[label] = SEVERITY_COLOURS.get(covering[0].severity, SEVERITY_COLOURS["medium"])
        if segments and segments[-1][1] == label:
            segments[-1] = (segments[-1][0] + draft[start:end], label)
        else:
            segments.append((draft[start:end], label))
    return segments, colours


def score_bar(score: float) -> str:
    """Five dots, filled up to the score: readable at a glance, no chart needed."""
    filled = max(0, min(5, round(score)))
    return "●" * filled + "○" * (5 - filled)


def verdict(critique: Critique) -> str:
    """One line an agent reads first: the overall score and how many things to fix."""
    count = len(critique.issues)
    if not count:
        fix = "no problems found"
    else:
        worst = sorted_issues(critique)[0]
        fix = f"{count} to fix — first: **{escape(issue_label(worst))}**"
    return f"## {score_bar(critique.overall)} {critique.overall:.1f} / 5 · {fix}"


def scores_markdown(critique: Critique) -> str:
    """Each criterion's score, weakest first, with the one-line reason."""
    lines = ["| criterion | score | why |", "|---|---|---|"]
    for score in sorted(critique.scores.values(), key=lambda s: (s.score, s.criterion)):
        name = escape(score.name or score.criterion)
        lines.append(f"| {name} | {score_bar(score.score)} {score.score} | {escape(score.reason)} |")
    return "\n".join(lines)


def passage_block(passage: Passage, number: int | str | None = None, *, open_: bool = False) -> str:
    """One guideline passage, expandable: title and section as the summary, its text as read (``read_passage``).

    A translation is marked as one (a machine's, or the trainer's who made it), with the original one click away;
    a passage shown in its own language because no checked translation exists yet says so.
    """
    prefix = f"[{number}] " if number is not None else ""
    section = f" › {escape(passage.section)}" if passage.section else ""
    summary = f"{prefix}<b>{escape(passage.title)}</b>{section} <code>{html.escape(passage.id)}</code>"
    body = f'<blockquote lang="{html.escape(passage.language)}">{_preview(passage.text)}</blockquote>'
    if passage.original_text is not None:
        who = "machine translation" if passage.machine_translated else f"translated by {passage.translated_by}"
        original = html.escape(passage.original_language or "")
        summary += f' <span class="translation-mark">{escape(who)}</span>'
        body += (
            f'<details class="original"><summary>original ({original})</summary>'
            f'<blockquote lang="{original}">{_preview(passage.original_text)}</blockquote></details>'
        )
    elif passage.note:
        body += f'<p class="translation-note"><small>{escape(passage.note)}</small></p>'
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>{body}</details>"


def _preview(text: str) -> str:
    cut = text if len(text) <= PASSAGE_PREVIEW_CHARS else text[:PASSAGE_PREVIEW_CHARS] + "…"
    return escape(cut).replace("\n", "<br>")


def cited_passages(ids: Iterable[str], passages: Sequence[Passage]) -> list[Passage]:
    """The passages behind a list of ids, in the order cited (ids not among the passages are skipped)."""
    by_id = {p.id: p for p in passages}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


def issues_markdown(critique: Critique, draft_length: int | None = None) -> str:
    """Each issue: the quoted span, why it is a problem, what to write instead, and the passages it rests on.

    Tips follow the issues, apart.
    """
    tips = tips_markdown(critique, draft_length)
    if not critique.issues:
        found = "### ✓ No problems found\nNothing in the draft breaks the guidelines coach checks."
        return f"{found}\n\n{tips}" if tips else found
    blocks = []
    for number, issue in enumerate(sorted_issues(critique), 1):
        badge = f'<span class="severity severity-{issue.severity}">{issue.severity}</span>'
        lines = [
            f"### {number}. {escape(issue_label(issue))} {badge}",
            f"> {escape(issue.quote)}" if issue.kind == "said" else "*Missing*",
            "",
            escape(issue.explanation),
        ]
        if issue.example:
            label = "Write instead" if issue.kind == "said" else "Add"
            lines += ["", f'**{label}:** <span class="example">{escape(issue.example)}</span>']
        if issue.suggestion:
            lines += ["", f"**In general:** {escape(issue.suggestion)}"]
        lines += [passage_block(p) for p in cited_passages(issue.passage_ids, critique.passages)]
        blocks.append("\n".join(lines))
    return "\n\n".join([*blocks, tips] if tips else blocks)


def tips_markdown(critique: Critique, draft_length: int | None = None) -> str:
    """Tips, after the issues: criteria the critic leans towards, below an issue's line; not counted as issues.

    Each reads like an issue's why, in the draft's language: the quoted words and what is wrong with them, or
    what is missing and where it belongs; then the sentence the agent could write or add (the rewrite follows it).
    """
    if not critique.tips:
        return ""
    lines = ["### Tips (not issues)"]
    for tip in critique.tips:
        line = f"- **{escape(issue_label(tip))}**: {escape(tip.explanation or tip.suggestion or '')}"
        if tip.example:
            label = "Could write instead" if tip.kind == "said" else "Could add"
            line += f' *{label}:* <span class="example">{escape(tip.example)}</span>'
        lines.append(line)
    return "\n".join(lines)


def similar_markdown(replies: Sequence[SimilarReply]) -> str:
    """Good replies to similar messages: how a reply that meets the rubric reads (facts as [slots])."""
    if not replies:
        return ""
    blocks = ["### How a good reply to a similar message reads"]
    for reply in replies:
        blocks.append(f"*Customer:* {escape(reply.customer_message)}\n\n> {escape(reply.text)}")
    return "\n\n".join(blocks)


def strengths_markdown(critique: Critique) -> str:
    """What the draft already does well (worth keeping in a rewrite)."""
    if not critique.strengths:
        return ""
    return "### Strengths\n" + "\n".join(f"- {escape(s)}" for s in critique.strengths)


def passages_markdown(passages: Sequence[Passage], heading: str = "Guideline passages found") -> str:
    """The retrieved passages, shown while the LLM is still working."""
    if not passages:
        return ""
    return f"### {heading}\n" + "\n".join(passage_block(p) for p in passages)


def progress_markdown(event: Progress, what: str = "critique") -> str:
    """A live status line: elapsed time and, when known, how much of the LLM work is done."""
    if event.stage == "done":
        return f"✓ {what} ready in {event.elapsed_s:.1f} s" + (f" ({event.message})" if event.message else "")
    bar = ""
    if event.fraction is not None:
        filled = round(max(0.0, min(1.0, event.fraction)) * 20)
        bar = f" `{'█' * filled}{'░' * (20 - filled)}`"
    message = event.message or ("passages found" if event.stage == "retrieved" else "waiting for the model")
    return f"… {escape(message)} — {event.elapsed_s:.0f} s{bar}"


def error_markdown(message: str) -> str:
    """A readable error line for the page (never a traceback)."""
    return f"✗ **{escape(message)}**"


# --------------------------------------------------------------------------- rewrite


def diff_highlight(before: str, after: str) -> Highlight:
    """Sentence-level diff of the draft and the rewrite, refined to words only where a sentence was lightly edited.

    Labels: REMOVED, ADDED, None for unchanged text. A reply rewritten from scratch reads as whole sentences
    out and in, not as a confetti of single words.
    """
    segments: Highlight = []

    def add(text: str, label: str | None) -> None:
        if not text:
            return
        if segments and segments[-1][1] == label:
            segments[-1] = (segments[-1][0] + text, label)
        else:
            segments.append((text, label))

    def words(old: str, new: str) -> None:
        a, b = _words(old), _words(new)
        for op, i1, i2, j1, j2 in _opcodes(a, b):
            if op == "equal":
                add("".join(b[j1:j2]), None)
            else:
                add("".join(a[i1:i2]), REMOVED)
                add("".join(b[j1:j2]), ADDED)

    def replaced(old: list[str], new: list[str]) -> None:
        """Pair each old sentence with the most similar later new one; word-diff close pairs, swap the rest whole."""
        start = 0
        for sentence in old:
            ratios = [(_similarity(sentence, new[k]), k) for k in range(start, len(new))]
            best_ratio, best = max(ratios, default=(0.0, -1))
            if best_ratio < REFINE_RATIO:
                add(sentence, REMOVED)
                continue
            add("".join(new[start:best]), ADDED)
            words(sentence, new[best])
            start = best + 1
        add("".join(new[start:]), ADDED)

    old, new = sentence_pieces(before), sentence_pieces(after)
    for op, i1, i2, j1, j2 in _opcodes(old, new):
        if op == "equal":
            add("".join(new[j1:j2]), None)
        else:
            replaced(old[i1:i2], new[j1:j2])
    return segments


def _opcodes(a: list[str], b: list[str]) -> Sequence[tuple[str, int, int, int, int]]:
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio()


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def rewrite_warnings_markdown(rewrite: Rewrite) -> str:
    """Why not to send the rewrite as is, shown above the text; or a short confirmation."""
    scores = ""
    if rewrite.draft_overall is not None and rewrite.rewrite_overall is not None:
        scores = f" (overall {rewrite.draft_overall:.1f} → {rewrite.rewrite_overall:.1f})"
    if rewrite.improved:
        return f"### ✓ Checked: keeps the draft's facts{scores}"
    lines = [f"### ⚠ Check before sending{scores}"]
    return "\n".join([*lines, *(f"- {escape(w)}" for w in rewrite.warnings)])  # the warnings name the facts


def changes_markdown(rewrite: Rewrite) -> str:
    """The flagged criteria the rewrite fixes (judged by the critic), each with the passages behind it."""
    if not rewrite.changes:
        return ""
    blocks = ["### What the rewrite fixes"]
    for number, change in enumerate(rewrite.changes, 1):
        why = f" — {escape(change.why)}" if change.why else ""
        blocks.append(f"**{number}. {escape(change.what)}**{why}")
        blocks += [passage_block(p) for p in cited_passages(change.passage_ids, rewrite.passages)]
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------- knowledge


def excerpts_markdown(passages: Sequence[Passage], excerpts: Mapping[str, str]) -> str:
    """The top passages' sentences closest to the question, numbered as the answer cites them."""
    lines = [
        f'[{n}] <span lang="{html.escape(p.language)}">{escape(excerpts[p.id])}</span> — <i>{escape(p.title)}</i>'
        for n, p in enumerate(passages, 1)
        if excerpts.get(p.id)
    ]
    return "#### What the guidelines say\n\n" + "\n\n".join(lines) if lines else ""


def answer_markdown(answer: Answer) -> str:
    """The answer with its [n] markers, then each citation expandable to the passage it stands for."""
    lines = [escape(answer.text).replace("\\[", "[").replace("\\]", "]")]
    if answer.citations:
        lines += ["", "#### Sources"]
        lines += [passage_block(c.passage, c.marker) for c in sorted(answer.citations, key=lambda c: c.marker)]
    elif answer.passages:
        lines += ["", "_The answer cites no passage; read the passages found below._"]
    return "\n".join(lines)


SEARCH_HEADERS = ["id", "document", "section", "language", "score", "passage"]


def search_rows(passages: Sequence[Passage]) -> list[list[object]]:
    """Rows of the passage-search table, in `SEARCH_HEADERS` order."""
    return [[p.id, p.title, p.section, p.language, round(p.score, 3), p.text] for p in passages]


def report_markdown(filename: str, report: IndexReport) -> str:
    """What uploading one document changed in the index."""
    changed = report.added + report.updated
    if changed:
        verb = "added" if report.added else "updated"
        return (
            f"✓ **{escape(filename)}** {verb} as `{', '.join(changed)}`: +{report.passages_added} passages, "
            f"{report.total_passages} in the index. It is searchable now."
        )
    return f"**{escape(filename)}** is unchanged: the index already has this text."


# --------------------------------------------------------------------------- batch

BATCH_COLUMNS = ("id", "language", "overall", "issues", "error")


def batch_table(records: Sequence[dict[str, str]]) -> tuple[list[str], list[list[str]]]:
    """The results CSV cut to what fits on a page: id, language, overall, per-criterion scores, issues, error."""
    if not records:
        return list(BATCH_COLUMNS), []
    scores = [name for name in records[0] if name.startswith("score_")]
    headers = ["id", "language", "overall", *(s.removeprefix("score_") for s in scores), "issues", "error"]
    keys = ["id", "language", "overall", *scores, "issues", "error"]
    return headers, [[record.get(key, "") for key in keys] for record in records]


def batch_chart_rows(summary: BatchSummary) -> list[dict[str, object]]:
    """Per criterion: mean score and share of replies with an issue, for the summary chart."""
    return [
        {"criterion": cid, "mean score": round(c.mean, 2) if c.mean is not None else 0.0, "issue share": c.issue_share}
        for cid, c in summary.criteria.items()
    ]


def batch_summary_markdown(summary: BatchSummary) -> str:
    """The run in a few lines: rows scored and failed, the mean, the errors that stopped rows."""
    mean = f", overall mean **{summary.overall_mean:.2f}**" if summary.overall_mean is not None else ""
    lines = [f"✓ **{summary.succeeded}** of {summary.rows} replies scored, {summary.failed} failed{mean}."]
    lines += [f"- failed ×{count}: {escape(message)}" for message, count in list(summary.errors.items())[:5]]
    lines += [f"- note: {escape(note)}" for note in summary.notes]
    return "\n".join(lines)


def suggestion_markdown(sentence: str, *, writing: bool) -> str:
    """The LLM's suggested sentence for the top issues; marked as being written until it is done."""
    if not sentence:
        return "*Writing a suggested sentence…*" if writing else ""
    label = "Suggested sentence (being written…)" if writing else "Suggested sentence"
    return f"**{label}:** {escape(sentence)}"
