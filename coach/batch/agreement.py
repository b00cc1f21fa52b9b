"""Batch summaries for trainers and agreement with human graders: pure functions on results, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from coach.batch.io import BatchResult

SCALE = (1, 2, 3, 4, 5)
MOST_CITED = 10


class CriterionSummary(BaseModel):
    """How one criterion went over the batch, and how far the judge agrees with people on it."""

    scored: int = Field(default=0, description="Replies with a score for this criterion.")
    mean: float | None = None
    distribution: dict[int, int] = Field(default_factory=dict, description="Score 1-5 -> number of replies.")
    issue_share: float = Field(default=0.0, description="Share of scored replies with an issue of this criterion.")
    human_pairs: int = Field(default=0, description="Replies scored by both coach and a person.")
    kappa: float | None = Field(default=None, description="Cohen's quadratic-weighted kappa, coach vs people.")
    exact_match: float | None = Field(default=None, description="Share of those replies where the scores are equal.")


class CitedPassage(BaseModel):
    """A guideline passage and how many replies' issues cite it."""

    passage_id: str
    replies: int


class BatchSummary(BaseModel):
    """Aggregates of a results file (latest line per id) and what this run did."""

    rows: int = Field(default=0, description="Distinct ids in the results file.")
    succeeded: int = 0
    failed: int = 0
    overall_mean: float | None = None
    criteria: dict[str, CriterionSummary] = Field(default_factory=dict)
    most_cited: list[CitedPassage] = Field(default_factory=list, description="Passages most cited by issues.")
    errors: dict[str, int] = Field(default_factory=dict, description="Error message -> failed rows.")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    run_rows: int = Field(default=0, description="Rows critiqued by this run.")
    run_failed: int = Field(default=0, description="Rows of this run that ended as errors.")
    run_skipped: int = Field(default=0, description="Rows skipped because the results file already had them.")
    run_seconds: float = 0.0
    notes: list[str] = Field(default_factory=list, description="What was noticed reading the input.")
    output: str = Field(default="", description="The results file (JSONL).")
    summary_file: str = Field(default="", description="Where this summary was saved (JSON).")
    csv: str | None = Field(default=None, description="The CSV export, when one was asked for.")
    parquet: str | None = Field(default=None, description="The Parquet export, when one was asked for.")
    engine: str = Field(default="local", description="What ran the rows: `local` (threads) or `ray` (Ray Data).")
    workers: int | None = Field(default=None, description="Ray workers (one CPU each), when the engine is `ray`.")

    def text(self) -> str:
        """A few readable lines for the CLI."""
        lines = [
            f"{self.rows} rows: {self.succeeded} scored, {self.failed} failed"
            + (f"; overall mean {self.overall_mean:.2f}" if self.overall_mean is not None else ""),
            f"this run: {self.run_rows} rows ({self.run_failed} failed), {self.run_skipped} already done, "
            f"{self.run_seconds:.1f} s" + (f" on Ray ({self.workers} workers)" if self.engine == "ray" else ""),
        ]
        for cid, c in self.criteria.items():
            mean = f"{c.mean:.2f}" if c.mean is not None else "-"
            line = f"  {cid:<26} mean {mean}  issues {c.issue_share:.0%}"
            if c.human_pairs:
                kappa = f"{c.kappa:.2f}" if c.kappa is not None else "n/a"
                line += f"  vs people: kappa {kappa}, exact {c.exact_match:.0%} (n={c.human_pairs})"
            lines.append(line)
        if self.most_cited:
            lines.append("most cited: " + ", ".join(f"{p.passage_id} ({p.replies})" for p in self.most_cited[:5]))
        for message, count in list(self.errors.items())[:5]:
            lines.append(f"  failed x{count}: {message}")
        lines += [f"note: {note}" for note in self.notes]
        files = [("results", self.output), ("summary", self.summary_file), ("csv", self.csv), ("parquet", self.parquet)]
        lines.append("  ".join(f"{label}: {path}" for label, path in files if path))
        return "\n".join(lines)


def weighted_kappa(a: Sequence[int], b: Sequence[int], categories: Sequence[int] = SCALE) -> float | None:
    """Cohen's kappa with quadratic weights; None when it is undefined (no pairs, or no expected disagreement)."""
    if len(a) != len(b):
        raise ValueError("both raters must score the same items")
    if not a:
        return None
    index = {c: i for i, c in enumerate(categories)}
    k, n = len(categories), len(a)
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[index[x]][index[y]] += 1
    rows = [sum(line) for line in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    disagreement = expected = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            disagreement += weight * observed[i][j]
            expected += weight * rows[i] * cols[j] / n
    if expected == 0:
        return None
    return 1.0 - disagreement / expected


def exact_match(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Share of items both raters scored the same; None without items."""
    if not a:
        return None
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def summarize(results: Iterable[BatchResult], criteria: Sequence[str]) -> BatchSummary:
    """Mean, distribution and issue share per criterion, most-cited passages, failures, agreement with people."""
    results = list(results)
    scored = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    citations: Counter[str] = Counter()
    for r in scored:
        citations.update({pid for issue in r.issues for pid in issue.passage_ids})
    overall = [r.overall for r in scored if r.overall is not None]
    return BatchSummary(
        rows=len(results),
        succeeded=len(scored),
        failed=len(failed),
        overall_mean=round(sum(overall) / len(overall), 3) if overall else None,
        criteria={cid: criterion_summary(scored, cid) for cid in _criteria(criteria, scored)},
        most_cited=[CitedPassage(passage_id=p, replies=n) for p, n in citations.most_common(MOST_CITED)],
        errors=dict(Counter(r.error or "" for r in failed).most_common()),
        prompt_tokens=sum(r.tokens.prompt_tokens for r in results),
        completion_tokens=sum(r.tokens.completion_tokens for r in results),
    )


def criterion_summary(scored: Sequence[BatchResult], criterion: str) -> CriterionSummary:
    """One criterion over the scored results."""
    values = [r.scores[criterion].score for r in scored if criterion in r.scores]
    flagged = sum(any(i.criterion == criterion for i in r.issues) for r in scored if criterion in r.scores)
    pairs = [
        (r.scores[criterion].score, human)
        for r in scored
        if criterion in r.scores and (human := r.human.get(criterion)) is not None
    ]
    judge, people = [p[0] for p in pairs], [p[1] for p in pairs]
    kappa = weighted_kappa(judge, people)
    agree = exact_match(judge, people)
    return CriterionSummary(
        scored=len(values),
        mean=round(sum(values) / len(values), 3) if values else None,
        distribution={s: values.count(s) for s in SCALE},
        issue_share=round(flagged / len(values), 4) if values else 0.0,
        human_pairs=len(pairs),
        kappa=round(kappa, 4) if kappa is not None else None,
        exact_match=round(agree, 4) if agree is not None else None,
    )


def _criteria(rubric: Sequence[str], scored: Sequence[BatchResult]) -> list[str]:
    """The rubric's criteria, then any other criterion the results carry (an older rubric's)."""
    extra = sorted({cid for r in scored for cid in r.scores} - set(rubric))
    return [*rubric, *extra]
