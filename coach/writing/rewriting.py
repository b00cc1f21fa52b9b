"""Rewrites as sentence surgery: the sentences nothing flagged stay verbatim; each flagged sentence is replaced
and each missing part inserted where it belongs, by the issue's example; then each tip (a criterion the critic
leans towards, below an issue's line) is followed by its example the same way; code then judges the result.

Measured (DESIGN.md, "Generation on the embedded model"): the embedded model rewriting a whole reply was judged
no better for 6 of 6 unseen drafts, pasted the rubric's advice in kk and mn and was cut off 3 times in 6. So the
LLM never rewrites a sentence: the fixes are the critique's examples (phrasebook phrasings filled by code), and
only an example with a blank left may go to the LLM to be adapted (``Adapter``: kept only when code's checks
pass). The kept text streams first, then each fix as the critic accepts it: a fix is kept only when, with it in,
its criterion scores higher or is no longer flagged, no criterion scores below the draft and the overall score does
not drop (measured on the held-out bad drafts: with every fix made at once, 0.32 of rewrites scored lower on some
criterion). A tip is tried after every issue, under the same acceptance: a draft with tips and no issue can
only score better overall when a tip is followed (a tip scores 3 or 4; with its criterion no longer leaning
towards a problem it scores more); a tip's sentence with a blank left is not put in (a blank for the agent to fill
is a cost a suggestion does not justify). Facts and language are checked by code.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from coach.facts import FactChanges, extract_facts
from coach.judging.examples import open_slots
from coach.language import detect_language, language_matches, language_name
from coach.models import Change, Critique, Grounding, Issue, Passage, Progress, Rewrite
from coach.progress import Clock, done_event, final_result, retrieved_event
from coach.prompts import Rubric
from coach.writing.surgery import Fix, apply_fixes, fix_for

MAX_FIXES = 8  # one per flagged criterion (issue or tip): surgery has no instruction budget to respect
TRIES_PER_ISSUE = 3  # the example, then the cell's other phrasings while the critic says none helps
MAX_VERDICTS = 16  # the critic's verdicts one rewrite may ask for (each ~0.1-0.3 s)
VERSION = "surgery-1"

Judge = Callable[[str, str | None], Critique]
Mask = Callable[[str, str | None], tuple[str, str | None, dict[str, str]]]
Adapt = Callable[[str, str | None, Issue, str], tuple[str, list[str]]]  # draft, message, issue, language
Alternatives = Callable[[Issue, str, str | None, str], list[str]]  # issue, draft, message, language


def no_mask(draft: str, customer: str | None) -> tuple[str, str | None, dict[str, str]]:
    """Texts go to the LLM as they are (COACH_REDACT_PII off)."""
    return draft, customer, {}


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


def top_issues(critique: Critique) -> list[Issue]:
    """The first issue of each criterion, in the critique's order (worst first), then the first tip of each other
    criterion (closest to an issue first), at most ``MAX_FIXES``."""
    seen: dict[str, Issue] = {}
    for issue in [*critique.issues, *critique.tips]:
        seen.setdefault(issue.criterion, issue)
    return list(seen.values())[:MAX_FIXES]


def leaning(critique: Critique) -> set[str]:
    """The criteria the critic flags or leans towards (issues and tips)."""
    return {issue.criterion for issue in [*critique.issues, *critique.tips]}


def scored_lower(before: Critique, after: Critique) -> list[str]:
    """The criteria that score lower in ``after`` than in ``before``."""
    return [c for c, score in after.scores.items() if c in before.scores and score.score < before.scores[c].score]


def check(
    text: str, draft: str, language: str, before: Critique, after: Critique, cut_off: bool, customer: str | None = None
) -> Candidate:
    """The code's checks of one new text against the draft (and the message, whose facts an example may use)."""
    worse = scored_lower(before, after)
    had, has = extract_facts(draft), extract_facts(text)
    known = had | extract_facts(customer or "")
    return Candidate(
        text=text,
        after=after,
        facts=FactChanges(lost=sorted(had - has), invented=sorted(has - known)),
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
    if open_slots(candidate.text):
        warnings.append("fill in the blanks in [brackets] before sending")
    if candidate.after.overall <= before.overall:
        warnings.append(
            f"the rewrite scores no better than the draft on the rubric ({before.overall} → {candidate.after.overall})"
        )
    return warnings


def helps(criterion: str, before: Critique, current: Critique, judged: Critique) -> bool:
    """Whether a fix is worth keeping, by the critic: its criterion scores higher than now or is neither flagged
    nor a tip any more, no criterion falls below the draft's score, and the overall score does not drop. (An issue
    that becomes a tip scores higher: a flagged criterion scores 1-2, a tip 3-4.)"""
    old, new = current.scores.get(criterion), judged.scores.get(criterion)
    if old is None or new is None or new.score < old.score:
        return False
    flagged_still = criterion in leaning(judged)
    if flagged_still and new.score == old.score:
        return False
    return not scored_lower(before, judged) and judged.overall >= current.overall


def fixed_criteria(flagged: list[Issue], before: Critique, after: Critique) -> list[str]:
    """Criteria flagged (or tips) that the new text fixes: neither flagged nor a tip any more, or scored higher,
    and never lower."""
    still = leaning(after)
    fixed = []
    for issue in flagged:
        old, new = before.scores.get(issue.criterion), after.scores.get(issue.criterion)
        if old is None or new is None or new.score < old.score:
            continue
        if issue.criterion not in still or new.score > old.score:
            fixed.append(issue.criterion)
    return fixed


def changes_for(
    fixed: list[str], flagged: list[Issue], language: str, rubric: Rubric, tips: Collection[str] = ()
) -> list[Change]:
    """One change per fixed criterion: its name, what the reply now does, the passages behind it; ``tips``: the
    criteria that were tips in the draft, not issues."""
    by_criterion = {issue.criterion: issue for issue in flagged}
    return [
        Change(
            what=by_criterion[c].name or rubric.criterion(c).name.get(language),
            why=rubric.criterion(c).good.get(language),
            passage_ids=list(by_criterion[c].passage_ids),
            criterion=c,
            tip=c in tips,
        )
        for c in fixed
    ]


@dataclass
class Rewriter:
    """The rewrite pipeline: retrieval, the critic's verdict, the examples put in by surgery, the checks."""

    search: Callable[[str], list[Passage]]
    rubric: Rubric
    judge: Judge
    adapt: Adapt | None = None  # an example with a blank may be adapted by the LLM (checked by code)
    alternatives: Alternatives | None = None  # other sentences to try when an example does not help
    model_name: Callable[[], str] = field(default=lambda: "")

    def rewrite(self, draft: str, customer: str | None) -> Rewrite:
        """The checked rewrite (the last event of ``stream``)."""
        return final_result(self.stream(draft, customer), Rewrite)

    def stream(self, draft: str, customer: str | None) -> Iterator[Progress]:
        """``retrieved``; ``llm`` events whose ``partial_text`` is the kept text, then each fix; ``done``."""
        clock = Clock()
        with clock.stage("retrieval"):
            passages = self.search(draft)
        yield retrieved_event(passages, clock)
        language = detect_language(draft)
        with clock.stage("critic_draft"):
            before = self.judge(draft, customer)
        flagged = [issue for issue in top_issues(before) if issue.example]
        base = Rewrite(text=draft, language=language, draft_overall=before.overall, passages=passages)
        if not flagged:
            result = base.model_copy(update={"rewrite_overall": before.overall})
            yield done_event(result, "", VERSION, result.usage, clock)
            return
        tips = {tip.criterion for tip in before.tips} - {issue.criterion for issue in before.issues}
        removed = [  # a tip's words are not a problem: they stay until its fix is made
            Fix(i.criterion, i.start, i.end, "")
            for i in flagged
            if i.kind == "said" and i.end > i.start and i.criterion not in tips
        ]
        yield Progress(stage="llm", partial_text=apply_fixes(draft, removed), elapsed_s=clock.elapsed(),
                       passages=passages, message="kept your sentences nothing flagged")  # fmt: skip
        fixes: list[Fix] = []
        after, verdicts, adapted = before, 0, [False]
        for issue in flagged:
            for sentence in self._sentences(draft, customer, issue, language, adapted):
                if verdicts >= MAX_VERDICTS:
                    break
                if issue.criterion in tips and open_slots(sentence):
                    continue  # a blank for the agent to fill is a cost a tip (not a problem) does not justify
                fix = fix_for(draft, issue, sentence)
                if not _keeps_facts(draft, customer, fix):
                    continue
                with clock.stage("critic_rewrite"):
                    judged = self.judge(apply_fixes(draft, [*fixes, fix]), customer)
                verdicts += 1
                if helps(issue.criterion, before, after, judged):
                    fixes.append(fix)
                    after = judged
                    doing = "following a tip" if issue.criterion in tips else "fixing"
                    yield Progress(stage="llm", partial_text=apply_fixes(draft, fixes), elapsed_s=clock.elapsed(),
                                   passages=passages, message=f"{doing}: {issue.name or issue.criterion}")  # fmt: skip
                    break  # else: the critic says this sentence does no good here, or costs another criterion
        text = apply_fixes(draft, fixes)
        candidate = check(text, draft, language, before, after, False, customer)
        result = self._result(base, candidate, before, flagged, language, tips)
        model = self.model_name() if adapted[0] else ""  # surgery alone never starts the LLM
        yield done_event(result, model, VERSION, result.usage, clock)

    def _sentences(
        self, draft: str, customer: str | None, issue: Issue, language: str, adapted: list[bool]
    ) -> Iterator[str]:
        """The sentences to try for an issue, best first: its example (one with a blank left goes to the LLM to
        adapt when one is wired in), then the other phrasings of its criterion, at most ``TRIES_PER_ISSUE``."""
        example = str(issue.example)
        if self.adapt is not None and open_slots(example):
            adapted[0] = True
            yield self.adapt(draft, customer, issue, language)[0]
        else:
            yield example
        others = self.alternatives(issue, draft, customer, language) if self.alternatives else []
        yield from others[: TRIES_PER_ISSUE - 1]

    def _result(
        self, base: Rewrite, best: Candidate, before: Critique, flagged: list[Issue], language: str, tips: set[str]
    ) -> Rewrite:
        fixed = fixed_criteria(flagged, before, best.after)
        return base.model_copy(
            update={
                "text": best.text,
                "changes": changes_for(fixed, flagged, language, self.rubric, tips),
                "fixed": fixed,
                "lost_facts": best.facts.lost,
                "invented_facts": best.facts.invented,
                "warnings": warnings_for(best, before, language, self.rubric),
                "rewrite_overall": best.after.overall,
                "grounding": Grounding(language_ok=best.language_ok),
            }
        )


def _keeps_facts(draft: str, customer: str | None, fix: Fix) -> bool:
    """Whether a fix keeps every fact of the words it replaces and adds none the draft and message lack."""
    replaced = extract_facts(draft[fix.start : fix.end])
    rest = extract_facts(draft[: fix.start] + "\n" + draft[fix.end :])
    added = extract_facts(fix.text) - extract_facts(draft) - extract_facts(customer or "")
    return replaced <= rest | extract_facts(fix.text) and not added
