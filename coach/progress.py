"""Streaming support: per-stage timing, progress while a blocking LLM call runs, the final result."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from coach.errors import CoachError
from coach.models import Passage, Progress

PROGRESS_INTERVAL_S = 0.5

ResultT = TypeVar("ResultT")


@dataclass
class Partial:
    """Text generated so far, shared with a progress reporter; setting ``cancelled`` stops the stream.

    ``updated`` is set whenever the text grows, so the reporter can pass each token on at once.
    """

    text: str = ""
    cancelled: bool = False
    updated: threading.Event = field(default_factory=threading.Event)


class Clock:
    """Elapsed time of one request and seconds spent per stage."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}

    def elapsed(self) -> float:
        """Seconds since the request started."""
        return round(time.perf_counter() - self.started, 3)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the time spent inside the block to the named stage."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - began, 4)


def while_running(
    work: Callable[[], ResultT],
    partial: Partial,
    clock: Clock,
    passages: list[Passage],
    message: str,
    show: Callable[[str], str] = str,
) -> Generator[Progress, None, ResultT]:
    """Run a blocking LLM call in a thread; report each new piece of text at once, else twice a second.

    ``show`` turns the raw text so far into what the listener may see (e.g. personal data restored).
    When the listener stops (a page's cancel button closes the generator), the streaming call is told
    to stop, so the server is not left generating for nobody.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed over to the caller's thread below
            box["error"] = exc
        finally:
            partial.updated.set()

    worker = threading.Thread(target=run, daemon=True, name="coach-llm")
    worker.start()
    try:
        while worker.is_alive():
            partial.updated.wait(PROGRESS_INTERVAL_S)
            partial.updated.clear()
            if worker.is_alive():
                yield Progress(
                    stage="llm",
                    message=f"{message}… {clock.elapsed():.0f} s",
                    elapsed_s=clock.elapsed(),
                    passages=passages,
                    partial_text=show(partial.text),
                )
    finally:
        partial.cancelled = worker.is_alive()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def final_result(events: Iterator[Progress], kind: type[ResultT]) -> ResultT:
    """The result of a streamed call's last event."""
    for event in events:
        if event.stage == "done" and isinstance(event.result, kind):
            return event.result
    raise CoachError("the call ended without a result")  # a bug: every stream ends with `done`


def retrieved_event(passages: list[Passage], clock: Clock, **fields: Any) -> Progress:
    """The first event of every stream: the passages found, within a second."""
    return Progress(
        stage="retrieved",
        passages=passages,
        elapsed_s=clock.elapsed(),
        message=f"{len(passages)} guideline passages found",
        **fields,
    )


def done_event(result: ResultT, model: str, prompt_version: str, usage: Any, clock: Clock) -> Progress:
    """The final event: the result stamped with model, prompt versions, usage and timings."""
    finished = result.model_copy(  # type: ignore[attr-defined]
        update={
            "model": model,
            "prompt_version": prompt_version,
            "usage": usage,
            "timings": clock.timings,
            "latency_s": clock.elapsed(),
        }
    )
    return Progress(stage="done", result=finished, passages=finished.passages, elapsed_s=clock.elapsed(), fraction=1.0)
