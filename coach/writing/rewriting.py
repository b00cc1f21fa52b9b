"""Rewrites: the model writes only the new reply, streamed as plain text; code judges and explains it.

The critic's verdicts on the draft pick what to fix (its localized "what to write instead" lines go into
the prompt); its verdicts on the new text say which criteria were fixed, with the passages behind each
fix. Facts, language and "no criterion worse" are checked by code; a failed check earns one retry that
names it, and after that the better text is returned with the warning, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.facts import FactChanges, fact_changes, unmask
from coach.language import detect_language, language_matches, language_name
from coach.llm.client import chat_messages
from coach.llm.generation import Reply, clean_text, complete_sentences, estimate_tokens, stream_reply
from coach.models import Change, Critique, Grounding, Issue, Passage, Progress, Rewrite, Usage
from coach.progress import Clock, Partial, done_event, final_result, retrieved_event, while_running
from coach.prompts import PromptTemplate, Rubric, load_prompt

MAX_FIXES = 3  # a 1.5B model follows about three instructions; the critique lists the worst first
MAX_EXCERPTS = 3
EXCERPT_CHARS = 160  # a Greek excerpt of 160 characters is ~140 prompt tokens, ~3 s on 2 cores
NO_CUSTOMER_MESSAGE = "(none)"
FREQUENCY_PENALTY = 0.5  # greedy decoding of a 1.5B model loops on "I am sorry for …" without it

Judge = Callable[[str, str | None], Critique]
Mask = Callable[[str, str | None], tuple[str, str | None, dict[str, str]]]
ChatModels = Callable[..., Any]  # LLMProvider.chat_model: max_tokens=... -> a langchain chat model


def no_mask(draft: str, customer: str | None) -> tuple[str, str | None, dict[str, str]]:
    """Texts go to the LLM as they are (COACH_REDACT_PII off)."""
    return draft, customer, {}


def token_budget(draft: str, language: str) -> int:
    """Room for a reply at most about twice the draft (and never less than a short paragraph)."""
    return max(96, 2 * estimate_tokens(draft, language) + 32)


def word_limit(draft: str) -> int:
    """The length the prompt asks for, in words: about twice the draft."""
    return max(40, 2 * len(draft.split()))


@dataclass(frozen=True)
class RewritePrompts:
    """The templates a rewrite needs, read once."""

    system: PromptTemplate
    rewrite: PromptTemplate
    retry: PromptTemplate

    @classmethod
    def load(cls, folder: Path | None = None) -> RewritePrompts:
        """The templates from ``folder`` (default: the prompts as shipped)."""
        return cls(*(load_prompt(name, folder) for name in ("writer", "rewrite", "rewrite_retry")))

    @property
    def version(self) -> str:
        """The versions of every template used, for the result."""
        return "+".join(t.version for t in (self.system, self.rewrite, self.retry))


@dataclass
class Candidate:
    """One text the model wrote, with the critic's verdict on it and the checks it failed."""

    text: str
    after: Critique
    facts: FactChanges
    language_ok: bool
    cut_off: bool
    unchanged: bool
    worse: list[str] = field(default_factory=list)  # criteria that score lower than in the draft

    @property
    def hard_problems(self) -> int:
        """Failures that make the text unsafe to send: facts, language, no text."""
        return len(self.facts.lost) + len(self.facts.invented) + (not self.language_ok) + (not self.text)

    def rank(self) -> tuple[int, float, int]:
        """Sort key: fewest hard problems, then the best overall score, then fewest criteria worse."""
        return self.hard_problems, -self.after.overall, len(self.worse)


def fixes_block(issues: list[Issue]) -> str:
    """The flagged criteria's localized "what to write instead" lines, worst first."""
    return "\n".join(f"- {issue.suggestion or issue.explanation}" for issue in issues)


def excerpts_block(issues: list[Issue], passages: list[Passage]) -> str:
    """At most three short excerpts: the flagged criteria's cited passages first, then the retrieved ones."""
    by_id = {p.id: p for p in passages}
    ordered = [pid for issue in issues for pid in issue.passage_ids if pid in by_id] + list(by_id)
    chosen = list(dict.fromkeys(ordered))[:MAX_EXCERPTS]
    return "\n".join(f"- {by_id[pid].excerpt(EXCERPT_CHARS)}" for pid in chosen)


def top_issues(critique: Critique) -> list[Issue]:
    """The first issue of each criterion, in the critique's order (worst first), at most ``MAX_FIXES``."""
    seen: dict[str, Issue] = {}
    for issue in critique.issues:
        seen.setdefault(issue.criterion, issue)
    return list(seen.values())[:MAX_FIXES]


def check(text: str, draft: str, language: str, before: Critique, after: Critique, cut_off: bool) -> Candidate:
    """The code's checks of one new text against the draft and the critic's verdicts."""
    worse = [c for c, score in after.scores.items() if c in before.scores and score.score < before.scores[c].score]
    return Candidate(
        text=text,
        after=after,
        facts=fact_changes(draft, text),
        language_ok=bool(text) and language_matches(text, language),
        cut_off=cut_off,
        unchanged=" ".join(text.split()) == " ".join(draft.split()),
        worse=worse,
    )


def warnings_for(candidate: Candidate, before: Critique, language: str, rubric: Rubric) -> list[str]:
    """Why the text should not be sent as is, one readable line each (shown on the page, and to the retry)."""
    warnings = []
    if candidate.facts.lost:
        warnings.append(f"facts of the draft missing from the rewrite: {', '.join(candidate.facts.lost)}")
    if candidate.facts.invented:
        warnings.append(f"facts in the rewrite that the draft does not have: {', '.join(candidate.facts.invented)}")
    if not candidate.language_ok:
        warnings.append(f"the rewrite is not in the draft's language ({language_name(language)})")
    if candidate.cut_off:
        warnings.append("the rewrite was cut off at its length limit: it may end abruptly")
    if candidate.unchanged:
        warnings.append("the rewrite is the draft unchanged")
    if candidate.worse:
        names = ", ".join(rubric.criterion(c).name.get(language) for c in candidate.worse)
        warnings.append(f"the rewrite scores lower than the draft on: {names}")
    if candidate.after.overall <= before.overall:
        warnings.append(
            f"the rewrite scores no better than the draft on the rubric ({before.overall} → {candidate.after.overall})"
        )
    return warnings


def fixed_criteria(flagged: list[Issue], before: Critique, after: Critique) -> list[str]:
    """Flagged criteria the new text fixes: no longer flagged, or scored higher, and never lower."""
    still = {issue.criterion for issue in after.issues}
    fixed = []
    for issue in flagged:
        old, new = before.scores.get(issue.criterion), after.scores.get(issue.criterion)
        if old is None or new is None or new.score < old.score:
            continue
        if issue.criterion not in still or new.score > old.score:
            fixed.append(issue.criterion)
    return fixed


def changes_for(fixed: list[str], flagged: list[Issue], language: str, rubric: Rubric) -> list[Change]:
    """One change per fixed criterion: its name, what the reply now does, the passages behind it."""
    by_criterion = {issue.criterion: issue for issue in flagged}
    return [
        Change(
            what=by_criterion[c].name or rubric.criterion(c).name.get(language),
            why=rubric.criterion(c).good.get(language),
            passage_ids=list(by_criterion[c].passage_ids),
            criterion=c,
        )
        for c in fixed
    ]


@dataclass
class Rewriter:
    """The rewrite pipeline: retrieval, the critic's verdict, the streamed new reply, checks, one retry."""

    search: Callable[[str], list[Passage]]
    chat_model: ChatModels
    model_name: Callable[[], str]
    prompts: RewritePrompts
    rubric: Rubric
    judge: Judge
    mask: Mask = no_mask

    def rewrite(self, draft: str, customer: str | None) -> Rewrite:
        """The checked rewrite (the last event of ``stream``)."""
        return final_result(self.stream(draft, customer), Rewrite)

    def stream(self, draft: str, customer: str | None) -> Iterator[Progress]:
        """``retrieved``, then ``llm`` events whose ``partial_text`` grows, then ``done`` with the ``Rewrite``."""
        clock = Clock()
        with clock.stage("retrieval"):
            passages = self.search(draft)
        yield retrieved_event(passages, clock)
        usage = Usage()
        result = yield from self._rewrite(draft, customer, passages, clock, usage)
        yield done_event(result, self.model_name(), self.prompts.version, usage, clock)

    def _rewrite(
        self, draft: str, customer: str | None, passages: list[Passage], clock: Clock, usage: Usage
    ) -> Generator[Progress, None, Rewrite]:
        language = detect_language(draft)
        with clock.stage("critic_draft"):
            before = yield from self._judged(draft, customer, "", passages, clock, "checking the draft")
        flagged = top_issues(before)
        base = Rewrite(text=draft, language=language, draft_overall=before.overall, passages=passages)
        if not flagged:
            return base.model_copy(update={"rewrite_overall": before.overall})
        masked_draft, masked_customer, pii = self.mask(draft, customer)
        prompt = self.prompts.rewrite.render(
            fixes=fixes_block(flagged),
            passages=excerpts_block(flagged, before.passages or passages),
            customer_message=masked_customer or NO_CUSTOMER_MESSAGE,
            draft=masked_draft,
            language_name=language_name(language),
            max_words=word_limit(draft),
        )
        chat = self.chat_model(max_tokens=token_budget(draft, language), frequency_penalty=FREQUENCY_PENALTY)
        turns = [prompt]
        candidates: list[Candidate] = []
        for attempt in range(2):
            messages = chat_messages(self.prompts.system.render(), *turns)
            reply = yield from self._written(chat, messages, pii, passages, clock, attempt)
            usage.add(reply.usage)
            text = _final_text(reply, pii) or draft  # nothing written: the draft stands, flagged as unchanged
            with clock.stage("critic_rewrite"):
                after = yield from self._judged(text, customer, text, passages, clock, "checking the new reply")
            candidates.append(check(text, draft, language, before, after, reply.cut_off))
            problems = warnings_for(candidates[-1], before, language, self.rubric)
            if not problems or attempt == 1:
                break
            usage.repairs += 1
            problems += [f"still to fix: {issue.suggestion}" for issue in flagged if issue.criterion in _flags(after)]
            retry = self.prompts.retry.render(
                problems="\n".join(f"- {p}" for p in problems),
                language_name=language_name(language),
                max_words=word_limit(draft),
            )
            turns += [reply.text, retry]
        best = min(candidates, key=Candidate.rank)
        return self._result(base, best, before, flagged, language)

    def _written(
        self, chat: Any, messages: list[Any], pii: dict[str, str], passages: list[Passage], clock: Clock, attempt: int
    ) -> Generator[Progress, None, Reply]:
        message = "writing the new reply" if attempt == 0 else "writing it again to fix what the checks found"
        with clock.stage("llm"):
            return (yield from stream_reply(chat, messages, clock, passages, message, show=lambda t: _shown(t, pii)))

    def _judged(
        self, text: str, customer: str | None, shown: str, passages: list[Passage], clock: Clock, message: str
    ) -> Generator[Progress, None, Critique]:
        """The critic's verdict on a text, with progress events while it works."""
        return (
            yield from while_running(
                lambda: self.judge(text, customer), Partial(), clock, passages, message, show=lambda _: shown
            )
        )

    def _result(self, base: Rewrite, best: Candidate, before: Critique, flagged: list[Issue], language: str) -> Rewrite:
        fixed = fixed_criteria(flagged, before, best.after)
        return base.model_copy(
            update={
                "text": best.text,
                "changes": changes_for(fixed, flagged, language, self.rubric),
                "fixed": fixed,
                "lost_facts": best.facts.lost,
                "invented_facts": best.facts.invented,
                "warnings": warnings_for(best, before, language, self.rubric),
                "rewrite_overall": best.after.overall,
                "grounding": Grounding(language_ok=best.language_ok),
            }
        )


def _flags(critique: Critique) -> set[str]:
    return {issue.criterion for issue in critique.issues}


def _shown(raw: str, pii: dict[str, str]) -> str:
    """What the page may show of the text so far: cleaned, personal data restored."""
    return unmask(clean_text(raw), pii)


def _final_text(reply: Reply, pii: dict[str, str]) -> str:
    """The reply's text, cleaned; cut back to its last whole sentence when the budget ran out."""
    text = _shown(reply.text, pii)
    return complete_sentences(text) if reply.cut_off else text
