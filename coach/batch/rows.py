"""One batch row's critique: bounded retries of transient LLM errors, then its result or an error row.

A row that still fails after its retries is an error row, never a score.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Protocol

from pydantic import BaseModel

from coach.batch.io import BatchIssue, BatchResult, BatchRow, CriterionResult
from coach.errors import CoachError, LLMError
from coach.models import Critique

log = logging.getLogger(__name__)


class Critic(Protocol):
    """What batch evaluation needs of a Coach."""

    def critique(self, draft: str, customer_message: str | None = None) -> Critique: ...


class RetryPolicy(BaseModel):
    """How transient LLM errors of one row are retried: exponential backoff with jitter, honouring Retry-After."""

    attempts: int = 5
    base_s: float = 1.0
    max_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: full jitter, never less than Retry-After."""
        backoff = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        if retry_after is not None:
            return min(self.max_s, retry_after) + random.uniform(0, backoff / 4)
        return random.uniform(backoff / 2, backoff)


def critique_row(coach: Critic, row: BatchRow, retry: RetryPolicy, stop: threading.Event | None = None) -> BatchResult:
    """One row's result: its critique, or an error row after bounded retries of transient LLM errors."""
    if row.error is not None:
        return _error(row, row.error, "InputError", attempts=0)
    started = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        try:
            critique = coach.critique(row.draft, row.customer_message)
        except LLMError as exc:
            if not exc.transient or attempt >= retry.attempts or (stop is not None and stop.is_set()):
                return _error(row, _message(exc, attempt), type(exc).__name__, attempt, started)
            wait = retry.delay(attempt, exc.retry_after)
            log.info("row %s: %s; retry %d in %.1f s", row.id, exc, attempt, wait)
            if (stop or threading.Event()).wait(wait):  # a stopped run does not sit out the backoff
                return _error(row, _message(exc, attempt), type(exc).__name__, attempt, started)
        except CoachError as exc:
            return _error(row, str(exc), type(exc).__name__, attempt, started)
        else:
            return _success(row, critique, attempt)


def _message(exc: LLMError, attempts: int) -> str:
    return f"{exc} (after {attempts} attempts)" if attempts > 1 else str(exc)


def _error(row: BatchRow, message: str, kind: str, attempts: int, started: float | None = None) -> BatchResult:
    return BatchResult(
        id=row.id,
        row=row.row,
        language=row.language,
        human=row.human,
        attempts=attempts,
        latency_s=round(time.perf_counter() - started, 3) if started is not None else 0.0,
        error=message,
        error_type=kind,
    )


def _success(row: BatchRow, critique: Critique, attempts: int) -> BatchResult:
    return BatchResult(
        id=row.id,
        row=row.row,
        language=critique.language,
        scores={cid: CriterionResult(score=s.score, reason=s.reason) for cid, s in critique.scores.items()},
        overall=critique.overall,
        issues=[
            BatchIssue(
                criterion=i.criterion,
                severity=i.severity,
                quote=i.quote,
                start=i.start,
                end=i.end,
                passage_ids=i.passage_ids,
            )
            for i in critique.issues
        ],
        model=critique.model,
        prompt_version=critique.prompt_version,
        critic=critique.critic,
        tokens=critique.usage,
        latency_s=critique.latency_s,
        attempts=attempts,
        human=row.human,
    )
