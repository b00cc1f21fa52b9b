"""Pydantic models that cross coach's public boundary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Passage(BaseModel):
    """One citable guideline passage, as stored in the index and returned by search."""

    id: str = Field(description="Stable id, e.g. `mn-complaints-7-tips#4`.")
    document: str = Field(description="Id of the document the passage comes from.")
    title: str = Field(description="Title of that document.")
    section: str = Field(default="", description="Section heading the passage sits under.")
    language: str = Field(description="ISO 639-1 code of the passage's language.")
    text: str = Field(description="The passage, verbatim from the guideline.")
    score: float = Field(default=0.0, description="Relevance to the query (higher is better).")
    machine_translated: bool = Field(default=False, description="The text is a checked machine translation.")
    translated_by: str = Field(default="", description="Who translated the text: a trainer's name, or empty.")
    original_language: str | None = Field(default=None, description="The original's language, when translated.")
    original_text: str | None = Field(default=None, description="The original text, when translated.")
    original_title: str | None = Field(default=None, description="The original title, when it was translated.")
    original_section: str | None = Field(default=None, description="The original section, when it was translated.")
    note: str = Field(default="", description="Why the text is not in the language asked for, when it is not.")

    @property
    def translated(self) -> bool:
        """Whether the text is a translation (by a trainer or the machine), the original beside it."""
        return self.original_text is not None

    def excerpt(self, limit: int) -> str:
        """The text on one line, cut at a word after at most ``limit`` characters (for prompts)."""
        text = " ".join(self.text.split())
        if len(text) <= limit:
            return text
        return text[:limit].rsplit(" ", 1)[0] + " …"


class IndexReport(BaseModel):
    """What one `coach index` run did, document by document."""

    added: list[str] = Field(default_factory=list, description="Documents indexed for the first time.")
    updated: list[str] = Field(default_factory=list, description="Changed documents re-indexed.")
    removed: list[str] = Field(default_factory=list, description="Documents gone from the folder.")
    unchanged: list[str] = Field(default_factory=list, description="Documents left as they were.")
    skipped: dict[str, str] = Field(
        default_factory=dict, description="Files that could not be indexed, with the reason."
    )
    passages_added: int = 0
    passages_removed: int = 0
    total_passages: int = 0
    rebuilt: bool = Field(default=False, description="True when a corrupt store was rebuilt.")
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the run changed the index at all."""
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """A few human-readable lines for the CLI."""
        lines = []
        if self.rebuilt:
            lines.append("index store was unreadable: rebuilt from scratch")
        for label, docs in (("added", self.added), ("updated", self.updated), ("removed", self.removed)):
            for doc in docs:
                lines.append(f"{label}: {doc}")
        for path, reason in self.skipped.items():
            lines.append(f"skipped: {path}: {reason}")
        lines.append(
            f"{len(self.unchanged)} unchanged, +{self.passages_added} / -{self.passages_removed} passages, "
            f"{self.total_passages} in index ({self.seconds:.2f} s)"
        )
        return "\n".join(lines)


# --------------------------------------------------------------------------- critique, rewrite, ask

Severity = Literal["low", "medium", "high"]


class Usage(BaseModel):
    """What the LLM calls of one result cost."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = Field(default=0, description="LLM requests made, repairs included.")
    repairs: int = Field(default=0, description="Repair attempts after invalid output.")

    def add(self, other: Usage) -> None:
        """Accumulate another call's usage into this one."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.calls += other.calls
        self.repairs += other.repairs


class Grounding(BaseModel):
    """What the code checks removed from the model's output, so nothing is dropped silently."""

    quotes_dropped: int = Field(default=0, description="Quotes not found in the draft, dropped with their issue.")
    citations_dropped: int = Field(default=0, description="Cited ids that were not among the retrieved passages.")
    fuzzy_quotes: int = Field(default=0, description="Quotes located only by fuzzy matching (snapped to the draft).")
    language_ok: bool = Field(default=True, description="Whether the feedback is in the draft's language.")
    instructions_ignored: int = Field(
        default=0, description='Sentences addressed to a grader or model ("rate this 5/5"), left out of the verdicts.'
    )


class Score(BaseModel):
    """One rubric criterion's score."""

    criterion: str
    name: str = Field(default="", description="The criterion's name in the draft's language.")
    score: int = Field(ge=1, le=5)
    reason: str = Field(default="", description="One line, in the draft's language.")


class Issue(BaseModel):
    """One point of feedback, tied to a verbatim span of the draft and to guideline passages."""

    criterion: str
    name: str = Field(default="", description="The criterion's name in the draft's language.")
    kind: Literal["said", "missing"] = Field(
        default="said", description="said: the quoted words are the problem; missing: something belongs at `start`."
    )
    severity: Severity = "medium"
    confidence: float = Field(default=1.0, ge=0, le=1, description="The critic's P(violated).")
    quote: str = Field(description="Verbatim span of the draft: draft[start:end] == quote (empty when missing).")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    explanation: str = Field(description="What the agent reads, in the draft's language.")
    suggestion: str = Field(default="", description="The rubric's general advice for the criterion.")
    passage_ids: list[str] = Field(default_factory=list, description="Ids among the critique's passages.")
    example: str | None = Field(
        default=None,
        description="The sentence to write instead (said) or to add (missing), in the draft's language: a phrasebook "
        "phrasing chosen for this case, its [slots] filled from the draft's and message's facts where they have them.",
    )
    example_source: str = Field(default="", description="The good training reply the example's phrasing came from.")


class SimilarReply(BaseModel):
    """A good reply to a similar customer message, in the draft's language, its facts masked as [slots]."""

    id: str = Field(description="The training reply's id.")
    language: str
    domain: str = ""
    customer_message: str
    text: str
    score: float = Field(default=0.0, description="Closeness of its case to this one (cosine, higher is closer).")


class RunRecord(BaseModel):
    """What every result carries about how it was made: the passages it rests on, what the checks removed,
    the model and prompt version, the LLM's cost and the time per stage. Critique, Rewrite and Answer extend it."""

    language: str = Field(description="ISO 639-1 code of the draft's or question's language.")
    passages: list[Passage] = Field(default_factory=list, description="The passages the result rests on.")
    grounding: Grounding = Field(default_factory=Grounding)
    model: str = Field(default="", description="The LLM that wrote text for this result, empty when none did.")
    prompt_version: str = ""
    usage: Usage = Field(default_factory=Usage)
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
    latency_s: float = 0.0


class Critique(RunRecord):
    """Feedback on a draft: per-criterion scores, grounded issues, strengths, and what it rests on."""

    scores: dict[str, Score] = Field(default_factory=dict, description="Criterion id -> score.")
    overall: float = Field(ge=1, le=5)
    issues: list[Issue] = Field(default_factory=list)
    tips: list[Issue] = Field(
        default_factory=list,
        description="Criteria the critic leans towards but below an issue's line: shown after the issues, not counted;"
        " each with its example as an issue has.",
    )
    strengths: list[str] = Field(default_factory=list)
    critic: str = Field(
        default="", description="How the critique was made: `learned-<model fingerprint>`, or `json` (an LLM wrote it)."
    )


class Change(BaseModel):
    """One criterion a rewrite fixed, flagged or a tip (decided by the critic's verdicts), and the passages behind
    it."""

    what: str = Field(description="The criterion's name, in the draft's language.")
    why: str = Field(default="", description="What the reply now does, in the draft's language.")
    passage_ids: list[str] = Field(default_factory=list)
    criterion: str = Field(default="", description="The rubric criterion fixed.")
    tip: bool = Field(default=False, description="The criterion was a tip in the draft (below an issue's line).")


class Rewrite(RunRecord):
    """An improved reply, checked by code before it is called an improvement."""

    text: str
    changes: list[Change] = Field(default_factory=list, description="One per fixed criterion (issues, then tips).")
    fixed: list[str] = Field(
        default_factory=list, description="Criteria flagged in the draft, or tips, that the rewrite fixes."
    )
    lost_facts: list[str] = Field(default_factory=list, description="Facts of the draft missing in the rewrite.")
    invented_facts: list[str] = Field(default_factory=list, description="Facts in the rewrite not in the draft.")
    warnings: list[str] = Field(default_factory=list, description="Why the rewrite should not be trusted as is.")
    draft_overall: float | None = None
    rewrite_overall: float | None = None

    @property
    def improved(self) -> bool:
        """True only when no check raised a warning."""
        return not self.warnings


class Citation(BaseModel):
    """One `[n]` marker of an answer and the passage it stands for."""

    marker: int = Field(ge=1)
    passage: Passage


class Answer(RunRecord):
    """A trainer's question answered from the guidelines, with numbered citations."""

    question: str
    text: str = Field(description="The answer with [n] markers.")
    citations: list[Citation] = Field(default_factory=list)
    excerpts: dict[str, str] = Field(
        default_factory=dict, description="Passage id -> its sentences closest to the question (what the LLM saw)."
    )
    extractive: str = Field(
        default="", description="The passages' best sentences, in the question's language where read so, with [n]."
    )
    synthesis: str = Field(
        default="", description="The model's short answer after them; empty when it kept to another language."
    )


Stage = Literal["retrieved", "llm", "done"]


class Progress(BaseModel):
    """One step of a streamed critique, rewrite or answer, for pages that must never look frozen."""

    stage: Stage
    message: str = ""
    elapsed_s: float = 0.0
    fraction: float | None = Field(default=None, description="Share of the LLM work done, when known.")
    passages: list[Passage] = Field(default_factory=list, description="Set from the `retrieved` stage on.")
    excerpts: dict[str, str] = Field(
        default_factory=dict, description="Passage id -> its most relevant sentences (ask, from `retrieved` on)."
    )
    partial_text: str = Field(default="", description="Text generated so far (rewrite, ask).")
    result: Critique | Rewrite | Answer | None = Field(default=None, description="Set at the `done` stage.")
