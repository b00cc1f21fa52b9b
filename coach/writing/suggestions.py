"""One concrete replacement sentence for a critique's top issues, streamed: the critic judges, the LLM writes.

The learned critic puts scores and issues on the page in milliseconds; this then lets the model write the
one sentence an agent can paste, in the draft's language, as short plain text (what a 1.5B model does well).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from coach.facts import unmask
from coach.inputs import check_draft
from coach.language import language_name
from coach.llm.client import LLMProvider, chat_messages
from coach.llm.generation import clean_text, stream_reply
from coach.models import Critique, Issue
from coach.progress import Clock
from coach.prompts import PromptTemplate, load_prompt
from coach.settings import Settings

Mask = Callable[[str, str | None], tuple[str, str | None, dict[str, str]]]

MAX_ISSUES = 2
SUGGESTION_TOKENS = 90  # one sentence, even in Greek (~1.2 characters per token)
NO_CUSTOMER_MESSAGE = "(none)"
_FIRST_SENTENCE = re.compile(r".+?[.!?…](?=\s|$)", re.DOTALL)


def problems_block(issues: Sequence[Issue]) -> str:
    """The top issues as the model reads them: the rubric's localized fix, and the quoted words if any."""
    lines = []
    for issue in issues[:MAX_ISSUES]:
        quoted = f' ("{issue.quote}")' if issue.quote else ""
        lines.append(f"- {issue.suggestion or issue.explanation}{quoted}")
    return "\n".join(lines)


def first_sentence(text: str) -> str:
    """The text up to the end of its first sentence (all of it while the sentence is not finished)."""
    match = _FIRST_SENTENCE.match(text.strip())
    return match.group().strip() if match else text.strip()


def suggest_stream(
    llm: LLMProvider,
    prompt: PromptTemplate,
    draft: str,
    customer: str | None,
    issues: Sequence[Issue],
    language: str,
    *,
    system: PromptTemplate | None = None,
) -> Iterator[str]:
    """Yield the suggested sentence as it grows (each value replaces the last); nothing when there is no issue.

    Generation stops at the end of the first sentence. LLM failures raise ``LLMError`` with a readable message.
    """
    if not issues:
        return
    user = prompt.render(
        problems=problems_block(issues),
        customer_message=customer or NO_CUSTOMER_MESSAGE,
        draft=draft,
        language_name=language_name(language),
    )
    messages = chat_messages((system or load_prompt("writer")).render(), user)
    chat = llm.chat_model(max_tokens=SUGGESTION_TOKENS)
    events = stream_reply(chat, messages, Clock(), [], "writing a suggestion")
    shown = ""
    try:
        while True:
            event = next(events)
            sentence = first_sentence(clean_text(event.partial_text))
            if sentence and sentence != shown:
                shown = sentence
                yield shown
            if sentence != clean_text(event.partial_text).strip():
                return  # the first sentence is finished: stop the model
    except StopIteration as stop:
        final = first_sentence(clean_text(stop.value.text))
        if final and final != shown:
            yield final
    finally:
        events.close()


class Suggester:
    """The suggested sentence for a critique: the draft masked as the critique masked it, restored for the agent."""

    def __init__(self, settings: Settings, llm: Callable[[], LLMProvider], mask: Mask) -> None:
        self.settings = settings
        self._llm = llm
        self._mask = mask
        self._prompts = {name: load_prompt(name, settings.prompts_dir) for name in ("suggest", "writer")}

    def __call__(self, draft: str, critique: Critique, customer_message: str | None = None) -> Iterator[str]:
        """One sentence the agent can paste for the critique's top issues, in the draft's language, as it grows.

        Each value replaces the previous one; nothing when the critique found no issue. LLM failures raise
        ``LLMError`` with a readable message.
        """
        draft, customer = check_draft(draft, customer_message, self.settings.max_input_chars)
        if not critique.issues:
            return
        masked_draft, masked_customer, pii = self._mask(draft, customer)
        for sentence in suggest_stream(
            self._llm(),
            self._prompts["suggest"],
            masked_draft,
            masked_customer,
            critique.issues,
            critique.language,
            system=self._prompts["writer"],
        ):
            yield unmask(sentence, pii)
