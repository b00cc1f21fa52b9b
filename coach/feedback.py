"""Turn the critic's calibrated margins into what the agent reads: scores, quoted issues, strengths.

Pure functions: every word shown comes from the localized rubric, every quote is a sentence of the
draft (offsets exact by construction) and every citation is a passage retrieved for this draft.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from coach.models import Issue, Passage, Score, Severity
from coach.prompts import Criterion, Rubric

MAX_CITED = 2
MAX_STRENGTHS = 3


def score_for(margin: float) -> int:
    """1–5 from how far a criterion's combined z-score lies above (problem) or below its threshold."""
    if margin >= 1.0:
        return 1
    if margin >= 0.0:
        return 2
    if margin >= -0.5:
        return 3
    if margin >= -1.5:
        return 4
    return 5


def severity_for(margin: float) -> Severity:
    """How sure the critic is that the problem is there."""
    if margin >= 1.0:
        return "high"
    if margin >= 0.4:
        return "medium"
    return "low"


def cited_passages(criterion: Criterion, passages: Sequence[Passage]) -> list[str]:
    """The criterion's linked passages among those retrieved, best-scored first."""
    linked = set(criterion.passages)
    ranked = sorted((p for p in passages if p.id in linked), key=lambda p: -p.score)
    return [p.id for p in ranked[:MAX_CITED]]


def build_feedback(
    draft: str,
    language: str,
    rubric: Rubric,
    margins: Mapping[str, float],
    quote_spans: Mapping[str, tuple[int, int]],
    passages: Sequence[Passage],
) -> tuple[dict[str, Score], list[Issue], list[str]]:
    """Scores for every criterion, an issue per flagged criterion, and the clearest strengths."""
    scores: dict[str, Score] = {}
    issues: list[Issue] = []
    for criterion in rubric.criteria:
        margin = margins[criterion.id]
        score = score_for(margin)
        reason = criterion.fix if score <= 3 else criterion.good
        name = criterion.name.get(language)
        scores[criterion.id] = Score(criterion=criterion.id, name=name, score=score, reason=reason.get(language))
        if margin < 0:
            continue
        start, end = quote_spans[criterion.id]
        issues.append(
            Issue(
                criterion=criterion.id,
                name=name,
                severity=severity_for(margin),
                quote=draft[start:end],
                start=start,
                end=end,
                explanation=criterion.good.get(language),
                suggestion=criterion.fix.get(language),
                passage_ids=cited_passages(criterion, passages),
            )
        )
    issues.sort(key=lambda issue: -margins[issue.criterion])
    clear = sorted((cid for cid in rubric.ids if scores[cid].score == 5), key=lambda cid: margins[cid])
    strengths = [rubric.criterion(cid).good.get(language) for cid in clear[:MAX_STRENGTHS]]
    return scores, issues, strengths


def overall_score(scores: Mapping[str, Score]) -> float:
    """The mean criterion score, one decimal."""
    return round(sum(s.score for s in scores.values()) / len(scores), 1)
