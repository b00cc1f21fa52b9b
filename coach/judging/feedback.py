"""Turn the critic's verdicts into what the agent reads: scores, issues (quoted or missing), strengths.

Pure functions: every word shown comes from the localized rubric, every quote is a sentence of the
draft (offsets exact by construction), a missing part points at the place it belongs, and every
citation is one of the flagged criterion's curated passages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from coach.judging.critic import logit
from coach.models import Issue, Score, Severity
from coach.prompts import Place, Rubric, WhyTemplates

# Chosen on eval/queries.jsonl: issue citations cover 0.56 of labelled principles with 2, 0.65 with 3, 0.67 with 4.
MAX_CITED = 3
MAX_STRENGTHS = 3
SEVERITY_RANK: dict[str, int] = {"high": 0, "medium": 1, "low": 2}
SHORT_LINE_CHARS = 40  # a first/last line this short is a greeting or a sign-off
SHORT_SENTENCE_CHARS = 25  # a first/last sentence this short is one too ("Hi Anna,", "Best regards, Tom")


@dataclass(frozen=True)
class Judgement:
    """The critic's verdict on one criterion of one draft."""

    criterion: str
    probability: float  # P(violated)
    threshold: float  # flagged at or above
    quote: tuple[int, int] | None = None  # the sentence that says the violating thing, if any
    tip_threshold: float | None = None  # a tip at or above this, below the threshold

    @property
    def tip(self) -> bool:
        """Below the issue's line but above the tip's: worth a look, not a problem."""
        return self.tip_threshold is not None and self.tip_threshold <= self.probability < self.threshold

    @property
    def margin(self) -> float:
        """Log-odds above the threshold: >= 0 means flagged."""
        return logit(self.probability) - logit(self.threshold)

    @property
    def flagged(self) -> bool:
        return self.probability >= self.threshold


def score_for(margin: float) -> int:
    """1–5 from how far the log-odds of a violation lie above (problem) or below the threshold."""
    if margin >= 1.5:
        return 1
    if margin >= 0.0:
        return 2
    if margin >= -1.0:
        return 3
    if margin >= -2.5:
        return 4
    return 5


def insertion_point(draft: str, sentences: Sequence[tuple[int, int]], where: str) -> int:
    """Where a missing part belongs: after a short greeting at the start, or before a short sign-off at the end."""
    return insertion_place(draft, sentences, where)[0]


def insertion_place(draft: str, sentences: Sequence[tuple[int, int]], where: str) -> tuple[int, Place]:
    """Where a missing part belongs, as an offset and in words: after a short greeting or at the start, before a
    short sign-off or at the end.

    A greeting or sign-off is a first/last line of at most 40 characters, or a first/last sentence of at most 25.
    """
    body = draft.strip()
    if where == "start":
        line_end = draft.find("\n")
        if 0 < line_end <= SHORT_LINE_CHARS and draft[line_end:].strip():
            return len(draft[:line_end].rstrip()), "after_greeting"
        if len(sentences) > 1 and sentences[0][1] - sentences[0][0] <= SHORT_SENTENCE_CHARS:
            return sentences[0][1], "after_greeting"
        return (sentences[0][0] if sentences else 0), "start"
    line_start = draft.rstrip().rfind("\n")
    if line_start > 0 and len(draft.rstrip()) - line_start - 1 <= SHORT_LINE_CHARS and draft[:line_start].strip():
        return line_start + 1, "before_signoff"
    if len(sentences) > 1 and sentences[-1][1] - sentences[-1][0] <= SHORT_SENTENCE_CHARS:
        return sentences[-1][0], "before_signoff"
    return (sentences[-1][1] if sentences and body else len(draft)), "end"


@dataclass(frozen=True)
class Feedback:
    """What the agent reads of one critique: scores, issues worst first, tips after them, strengths."""

    scores: dict[str, Score]
    issues: list[Issue]
    tips: list[Issue]
    strengths: list[str]


def build_feedback(
    draft: str,
    language: str,
    rubric: Rubric,
    judgements: Mapping[str, Judgement],
    sentences: Sequence[tuple[int, int]],
    citations: Mapping[str, list[str]],
    why: WhyTemplates | None = None,
) -> Feedback:
    """Scores for every criterion, an issue per flagged criterion (worst first), tips, and the clearest strengths.

    A tip (the critic below the issue's line, above the tip's) is shown apart and scores 3 or better: the
    thresholds were chosen for precision, so what lies under them is a suggestion, not a problem. With ``why``
    templates an explanation is about this draft: it quotes the words (said) or names in words where the
    missing part belongs; without them (or a template) it is the rubric's description of good.
    """
    scores: dict[str, Score] = {}
    issues: list[Issue] = []
    tips: list[Issue] = []
    for criterion in rubric.criteria:
        judgement = judgements[criterion.id]
        score = score_for(judgement.margin)
        reason = criterion.fix if score <= 3 else criterion.good
        name = criterion.name.get(language)
        scores[criterion.id] = Score(criterion=criterion.id, name=name, score=score, reason=reason.get(language))
        if not (judgement.flagged or judgement.tip):
            continue
        if judgement.quote is not None:
            start, end = judgement.quote
            kind: Literal["said", "missing"] = "said"
            explanation = why.said_text(criterion.id, language, draft[start:end]) if why else None
        else:
            start, place = insertion_place(draft, sentences, criterion.missing_at)
            end = start
            kind = "missing"
            explanation = why.missing_text(criterion.id, language, place) if why else None
        (issues if judgement.flagged else tips).append(
            Issue(
                criterion=criterion.id,
                name=name,
                kind=kind,
                severity=severity(criterion.severity, judgement.margin),
                confidence=round(judgement.probability, 3),
                quote=draft[start:end],
                start=start,
                end=end,
                explanation=explanation or criterion.good.get(language),
                suggestion=criterion.fix.get(language),
                passage_ids=citations.get(criterion.id, [])[:MAX_CITED],
            )
        )
    issues.sort(key=lambda issue: (SEVERITY_RANK[issue.severity], -judgements[issue.criterion].margin))
    tips.sort(key=lambda tip: -judgements[tip.criterion].margin)
    clear = sorted((cid for cid in rubric.ids if scores[cid].score == 5), key=lambda cid: judgements[cid].margin)
    strengths = [rubric.criterion(cid).good.get(language) for cid in clear[:MAX_STRENGTHS]]
    return Feedback(scores, issues, tips, strengths)


def severity(base: Severity, margin: float) -> Severity:
    """The criterion's own severity, one step lower when the critic is barely over its threshold (tips: low)."""
    if margin < 0:
        return "low"
    if margin >= 0.5 or base == "low":
        return base
    return "medium" if base == "high" else "low"


def overall_score(scores: Mapping[str, Score]) -> float:
    """The mean criterion score, one decimal."""
    return round(sum(s.score for s in scores.values()) / len(scores), 1)
