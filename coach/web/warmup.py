"""Start the LLM (and embed the rubric) in the background at start-up, so the page opens at once."""

from __future__ import annotations

import contextlib
import threading

from coach import Coach, CoachError


class Warmup:
    """Starts the LLM in the background at start-up, so the page opens at once and the first critique does not wait."""

    def __init__(self, coach: Coach) -> None:
        self.text = "LLM: starting…"
        self.done = False
        self.thread = threading.Thread(target=self._run, args=(coach,), daemon=True, name="coach-warmup")

    def _run(self, coach: Coach) -> None:
        status = coach.llm_status()
        state = "ready" if status.answers else f"not answering: {status.detail}"
        self.text = f"LLM: {status.endpoint.split(' at ')[0]} — {state}"
        self.done = True
        with contextlib.suppress(CoachError):  # the Knowledge tab then says what is wrong
            coach.links.suggestions()  # embeds the rubric's criteria once, before a trainer needs them
        with contextlib.suppress(CoachError):
            # embeds the good replies once (kept on disk) and reads their messages' situation kinds
            coach.similar_replies("Thank you for your message.", "My refund has not arrived.")
        with contextlib.suppress(CoachError):
            coach.prepare_answers()  # the passages' sentences in each language, for ask's first text (kept on disk)
