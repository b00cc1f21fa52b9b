"""Plain-text renderings of results for the terminal (the CLI's only formatting code)."""

from __future__ import annotations

from coach.models import Answer, Critique, Passage, Rewrite


def _cited(ids: list[str], passages: list[Passage]) -> str:
    by_id = {p.id: p for p in passages}
    return "; ".join(f"{pid} ({by_id[pid].title})" if pid in by_id else pid for pid in ids)


def passage_line(passage: Passage, limit: int = 300) -> str:
    """A passage on one line as read (``read_passage``): a translation marked as one, or why it is the original."""
    if passage.original_text is not None:
        who = "machine translation" if passage.machine_translated else f"translated by {passage.translated_by}"
        mark = f" [{who} from {passage.original_language}]"
    else:
        mark = f" [{passage.note}]" if passage.note else ""
    return f"{passage.id} ({passage.title}, {passage.language}){mark}: {' '.join(passage.text.split())[:limit]}"


def critique_text(critique: Critique) -> str:
    """Scores at a glance, then each issue with its quote, advice and citations."""
    judged_by = critique.critic if critique.model == critique.critic else f"{critique.critic} · {critique.model}"
    lines = [f"overall {critique.overall}/5 · language {critique.language} · {judged_by} · {critique.latency_s:.1f} s"]
    lines += [f"  {score.score}  {score.name or cid}: {score.reason}" for cid, score in critique.scores.items()]
    lines.append(f"\n{len(critique.issues)} issue(s):" if critique.issues else "\nno issues found")
    for n, issue in enumerate(critique.issues, 1):
        lines.append(
            f'{n}. [{issue.severity}] {issue.name or issue.criterion}: "{issue.quote}" ({issue.start}-{issue.end})'
            if issue.kind == "said"
            else f"{n}. [{issue.severity}] {issue.name or issue.criterion}: missing"
        )
        lines.append(f"   {issue.explanation}")
        if issue.example:
            lines.append(f"   {'write instead' if issue.kind == 'said' else 'add'}: {issue.example}")
        if issue.suggestion:
            lines.append(f"   → {issue.suggestion}")
        if issue.passage_ids:
            lines.append(f"   cites: {_cited(issue.passage_ids, critique.passages)}")
            by_id = {p.id: p for p in critique.passages}
            lines += [f"     - {passage_line(by_id[pid], 200)}" for pid in issue.passage_ids if pid in by_id]
    if critique.tips:
        lines.append("\ntips (not issues):")
        for tip in critique.tips:
            lines.append(f"  ~ {tip.name or tip.criterion}: {tip.explanation or tip.suggestion}")
            if tip.example:
                lines.append(f"    {'could write instead' if tip.kind == 'said' else 'could add'}: {tip.example}")
    if critique.strengths:
        lines.append("\nstrengths:")
        lines += [f"  + {strength}" for strength in critique.strengths]
    return "\n".join(lines)


def rewrite_text(rewrite: Rewrite) -> str:
    """The new reply, its changes, and any warning first."""
    lines = [f"WARNING: {warning}" for warning in rewrite.warnings]
    lines += [rewrite.text, ""]
    for change in rewrite.changes:
        cited = f" [{_cited(change.passage_ids, rewrite.passages)}]" if change.passage_ids else ""
        lines.append(f"- {change.what} {change.why}".rstrip() + cited)
    lines.append(f"(score {rewrite.draft_overall} → {rewrite.rewrite_overall}, {rewrite.latency_s:.1f} s)")
    return "\n".join(lines)


def answer_text(answer: Answer) -> str:
    """The answer, then what each [n] stands for."""
    lines = [answer.text, ""]
    for citation in answer.citations:
        passage = citation.passage
        lines.append(f"[{citation.marker}] {passage_line(passage)}")
    return "\n".join(lines)


def render_text(result: Critique | Rewrite | Answer) -> str:
    """The terminal rendering of any result."""
    if isinstance(result, Critique):
        return critique_text(result)
    if isinstance(result, Rewrite):
        return rewrite_text(result)
    return answer_text(result)
