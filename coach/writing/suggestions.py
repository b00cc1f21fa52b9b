"""One concrete sentence for a critique's top issue: the critic judges, code chooses, the LLM adapts.

The learned critic puts scores, issues and each issue's example (a phrasebook phrasing filled by code) on the
page in milliseconds; the model then adapts the top issue's example to this case in one short sentence, which
is shown only when code's checks pass (``coach.writing.adapting``), else the example stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from coach.facts import unmask
from coach.inputs import check_draft
from coach.language import detect_language, language_name
from coach.llm.client import LLMProvider, chat_messages
from coach.llm.generation import clean_text, stream_reply
from coach.models import Critique, Issue
from coach.progress import Clock
from coach.prompts import PromptTemplate, load_prompt
from coach.settings import Settings
from coach.writing.adapting import text_problems
from coach.writing.surgery import apply_sentence

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
    writer = (system or load_prompt("writer")).render()
    yield from first_sentence_stream(llm, writer, user, "writing a suggestion")


def first_sentence_stream(llm: LLMProvider, system: str, user: str, message: str) -> Iterator[str]:
    """The model's first sentence as it grows (each value replaces the last); generation stops at its end."""
    chat = llm.chat_model(max_tokens=SUGGESTION_TOKENS)
    events = stream_reply(chat, chat_messages(system, user), Clock(), [], message)
    shown = ""
    try:
        while True:
            event = next(events)
            sentence = first_sentence(clean_text(event.partial_text))
            if sentence and sentence != shown:
                shown = sentence
                yield shown
            if sentence != clean_text(event.partial_text).strip():
                return
    except StopIteration as stop:
        final = first_sentence(clean_text(stop.value.text))
        if final and final != shown:
            yield final
    finally:
        events.close()


Judge = Callable[[str, str | None], Critique]
Fits = Callable[[str, str, str | None, str], bool]  # sentence, draft, message, source reply id -> fits this case
ReadsAs = Callable[[str, str], str | None]  # sentence, language -> the criterion it reads as a fix for


@dataclass
class Adapter:
    """The top issue's example adapted to this case by the LLM, and the code's checks of what it wrote."""

    llm: Callable[[], LLMProvider]
    prompts: Mapping[str, PromptTemplate]
    judge: Judge
    fits: Fits
    advice: Callable[[str], list[str]]  # criterion -> the rubric's advice texts (a sentence must not copy them)
    mask: Mask
    detect: Callable[[str], str] = detect_language
    reads_as: ReadsAs | None = None

    def adapted(self, draft: str, customer: str | None, issue: Issue, language: str) -> Iterator[str]:
        """The LLM's sentence as it grows (not yet checked)."""
        user = self.prompts["adapt"].render(
            customer_message=customer or NO_CUSTOMER_MESSAGE,
            example=issue.example or "",
            language_name=language_name(language),
        )
        yield from first_sentence_stream(self.llm(), self.prompts["writer"].render(), user, "adapting the example")

    def problems(self, sentence: str, draft: str, customer: str | None, issue: Issue, language: str) -> list[str]:
        """Why the sentence may not be shown (empty: it may). The cheap checks first, then the critic, then fit."""
        problems = text_problems(
            sentence,
            language=language,
            draft=draft,
            customer=customer,
            advice=self.advice(issue.criterion),
            detect=self.detect,
        )
        if problems:
            return problems
        # Seen on the tuning set: an empathy line written as the fix of a jargon sentence; dropping that sentence
        # made the critic content. A fix must read as one for its own criterion (its nearest phrasing's cell).
        read_as = self.reads_as(sentence, language) if self.reads_as is not None else issue.criterion
        if read_as not in (None, issue.criterion):
            return [f"reads as a fix for {read_as}, not {issue.criterion}"]
        after = self.judge(apply_sentence(draft, issue, sentence), customer)
        if any(other.criterion == issue.criterion for other in after.issues):
            problems.append("the critic still flags the criterion with it")
        elif issue.example_source and not self.fits(sentence, draft, customer, issue.example_source):
            problems.append("closer to the case its phrasing came from than to this one")
        return problems

    def best(self, draft: str, customer: str | None, issue: Issue, language: str) -> tuple[str, list[str]]:
        """The sentence to show for one issue and, when it is the filled phrasing, why the LLM's was refused.

        The LLM sees the texts masked as the critique masked them (COACH_REDACT_PII); its sentence is restored.
        """
        masked_draft, masked_customer, pii = self.mask(draft, customer)
        written = list(self.adapted(masked_draft, masked_customer, issue, language))
        sentence = unmask(written[-1] if written else "", pii)
        problems = self.problems(sentence, draft, customer, issue, language)
        return (issue.example or "", problems) if problems else (sentence, [])


class Suggester:
    """The suggested sentence for a critique: the draft masked as the critique masked it, restored for the agent."""

    def __init__(
        self, settings: Settings, llm: Callable[[], LLMProvider], mask: Mask, adapter: Adapter | None = None
    ) -> None:
        self.settings = settings
        self._llm = llm
        self._mask = mask
        self._prompts = {name: load_prompt(name, settings.prompts_dir) for name in ("suggest", "writer", "adapt")}
        self.adapter = adapter

    def __call__(self, draft: str, critique: Critique, customer_message: str | None = None) -> Iterator[str]:
        """One sentence the agent can paste for the critique's top issue, in the draft's language.

        With a phrasebook example: the LLM's adaptation of it to this case once every check passed, else the
        filled phrasing; nothing the checks have not seen is shown. Without an example: the LLM's sentence for
        the top issues as it grows. Nothing when the critique found no issue. LLM failures raise ``LLMError``.
        """
        draft, customer = check_draft(draft, customer_message, self.settings.max_input_chars)
        if not critique.issues:
            return
        top = next((issue for issue in critique.issues if issue.example), None)
        if top is not None and self.adapter is not None:
            yield self.adapter.best(draft, customer, top, critique.language)[0]
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
