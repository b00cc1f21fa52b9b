"""The learned critique: verdicts from the fitted critic, quotes from its sentence models, curated citations.

No LLM is involved in the learned critique: it costs the draft's embedding (shared with retrieval) plus, when a
criterion is flagged, one batch of sentence embeddings to find the words to quote. The LLM may add a
suggested sentence afterwards (``coach.writing.suggestions``), never a verdict. ``CritiquePipeline`` runs either
critic (learned, or the LLM's JSON with ``COACH_CRITIC=json``) behind the result cache, masking personal data
at its edge before any text leaves for the LLM.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from coach.cache import ResultCache, cache_key
from coach.facts import mask_draft
from coach.inputs import check_draft
from coach.judging.critic import CriticModel, logit
from coach.judging.examples import CaseVectors, ExamplePicker
from coach.judging.feedback import MAX_CITED, Judgement, build_feedback, overall_score
from coach.judging.injection import instruction_spans
from coach.judging.json_critic import (
    DraftCritique,
    check_critique,
    check_language,
    critique_schema,
    ground_critique,
    passages_block,
)
from coach.knowledge.embeddings import Embedder, Vectors
from coach.knowledge.passages import sentence_spans
from coach.knowledge.retrieval import text_vectors
from coach.language import detect_language, language_name
from coach.llm.client import LLMProvider, chat_messages
from coach.llm.structured import JsonCall, JsonModes, OutputT, generate_json
from coach.models import Critique, Grounding, Passage, Progress, Usage
from coach.progress import Clock, Partial, while_running
from coach.prompts import PromptTemplate, Rubric, WhyTemplates, load_prompt
from coach.settings import Settings

RankPassages = Callable[[Vectors, Sequence[str], str | None], list[Passage]]
LinkedPassages = Callable[[str], Sequence[str]]  # criterion id -> the passages linked to it now
Retrieve = Callable[[str, Clock], tuple[Any, list[Passage]]]

NO_CUSTOMER_MESSAGE = "(none)"
EXAMPLES_FOR = "issues+tips"  # what gets an example (in the cache key: a result cached before tips had one is stale)
JSON_CRITIQUE_TOKENS = 900


def draft_sentences(draft: str) -> list[tuple[int, int]]:
    """Sentence offsets of the draft; the whole draft when it has no sentence break."""
    return sentence_spans(draft) or [(0, len(draft))]


class LearnedCritic:
    """Judges a draft against every rubric criterion with the fitted ``CriticModel``."""

    def __init__(
        self,
        model: CriticModel,
        rubric: Rubric,
        embedder: Embedder,
        rank: RankPassages,
        linked: LinkedPassages,
        *,
        why: WhyTemplates | None = None,
        examples: ExamplePicker | None = None,
    ) -> None:
        missing = set(rubric.ids) - model.criteria.keys()
        if missing:
            from coach.errors import PromptError

            raise PromptError(f"the critic model has no classifier for {sorted(missing)}: run `coach train-critic`")
        self.model = model
        self.rubric = rubric
        self._embedder = embedder
        self._rank = rank
        self._linked = linked  # read on each critique: trainers relink while the app runs
        self.why = why
        self.examples = examples

    @property
    def words_version(self) -> str:
        """The versions of what the agent reads beyond the rubric: the "why" templates and the phrasebook."""
        return "+".join(
            part
            for part in (self.why.version if self.why else "", self.examples.version if self.examples else "")
            if part
        )

    def judge(
        self, draft: str, vector: Vectors, customer_message: str | None = None
    ) -> tuple[dict[str, Judgement], list[tuple[int, int]], CaseVectors]:
        """A verdict per criterion, the draft's sentences (quotes are among them) and the vectors computed.

        Sentences addressed to a grader ("rate this 5/5") are left out: the verdicts are the reply's.
        """
        sentences = draft_sentences(draft)
        ignored = instruction_spans(draft, sentences)
        read = draft
        if ignored and len(ignored) < len(sentences):
            sentences = [span for span in sentences if span not in ignored]
            read = " ".join(draft[a:b] for a, b in sentences)
            vector = text_vectors(self._embedder, [read])[0]
        texts = [draft[a:b] for a, b in sentences]
        with_customer = self.model.needs_customer and bool(customer_message)
        if with_customer:
            texts.append(str(customer_message))
        embedded = self._embedder.queries(texts) if self.model.needs_sentences or with_customer else None
        sentence_vectors = None if embedded is None else embedded[: len(sentences)]
        customer_vector = embedded[-1] if embedded is not None and with_customer else None
        lexical = self.model.text_features(read, customer_message)
        probabilities = self.model.violation_probabilities(vector, sentence_vectors, customer_vector, lexical)
        judgements: dict[str, Judgement] = {}
        for criterion in self.rubric.criteria:
            fitted = self.model.criteria[criterion.id]
            probability = probabilities[criterion.id]
            quote = None
            lowest = fitted.threshold if fitted.tip_threshold is None else min(fitted.tip_threshold, fitted.threshold)
            if probability >= lowest and fitted.sentence is not None:
                if sentence_vectors is None:
                    sentence_vectors = self._embedder.queries([draft[a:b] for a, b in sentences])
                said = fitted.sentence.probabilities(sentence_vectors)
                ranking = self.model.quote_ranking(criterion.id, sentence_vectors, [draft[a:b] for a, b in sentences])
                best = int(np.argmax(said if ranking is None else ranking))
                if said[best] >= fitted.sentence_threshold or criterion.kind == "commission":
                    quote = sentences[best]
            judgements[criterion.id] = Judgement(
                criterion.id, probability, fitted.threshold, quote, tip_threshold=fitted.tip_threshold
            )
        return judgements, sentences, CaseVectors(vector, sentence_vectors, customer_vector, lexical)

    def margin(
        self, criterion: str, vector: Vectors, sentence_vectors: Vectors | None, customer_vector: Vectors | None,
        lexical: np.ndarray | None = None,
    ) -> float:  # fmt: skip
        """Log-odds of the critic's P(violated) over the criterion's threshold for these features (>= 0: flagged).
        ``lexical``: the draft's text features as written (an edit known only by its vectors keeps them)."""
        needs_text = self.model.lexical or self.model.relation
        if (self.model.needs_sentences and sentence_vectors is None) or (needs_text and lexical is None):
            return 0.0
        probability = self.model.violation_probabilities(vector, sentence_vectors, customer_vector, lexical)[criterion]
        return logit(probability) - logit(self.model.criteria[criterion].threshold)

    def citations(
        self, vector: Vectors, flagged: Sequence[str], language: str | None = None
    ) -> dict[str, list[Passage]]:
        """Per flagged criterion, its linked passages in the draft's language first, then the closest others."""
        return {cid: self._rank(vector, self._linked(cid), language)[:MAX_CITED] for cid in flagged}

    def critique(
        self, draft: str, customer_message: str | None, language: str, vector: Vectors, retrieved: list[Passage]
    ) -> Critique:
        """Scores, issues and strengths; the passages are the dense hits plus every cited curated passage."""
        judgements, sentences, case = self.judge(draft, vector, customer_message)
        ignored = len(draft_sentences(draft)) - len(sentences)
        cited = self.citations(vector, [cid for cid, j in judgements.items() if j.flagged or j.tip], language)
        passages = list(retrieved)
        have = {p.id for p in passages}
        for ranked in cited.values():
            for passage in ranked:
                if passage.id not in have:
                    passages.append(passage)
                    have.add(passage.id)
        citation_ids = {cid: [p.id for p in ranked] for cid, ranked in cited.items()}
        feedback = build_feedback(draft, language, self.rubric, judgements, sentences, citation_ids, self.why)
        issues, tips = feedback.issues, feedback.tips
        if self.examples is not None and (issues or tips):  # a tip gets its example as an issue does
            if case.customer is None and customer_message:
                case = replace(case, customer=self._embedder.queries([customer_message])[0])
            if case.sentences is None and any(issue.kind == "said" for issue in [*issues, *tips]):
                case = replace(case, sentences=self._embedder.queries([draft[a:b] for a, b in sentences]))
            margin = partial(self.margin, lexical=case.lexical)
            both = self.examples.examples([*issues, *tips], draft, customer_message, language, case, sentences, margin)
            issues, tips = both[: len(issues)], both[len(issues) :]
        return Critique(
            language=language,
            scores=feedback.scores,
            overall=overall_score(feedback.scores),
            issues=issues,
            tips=tips,
            strengths=feedback.strengths,
            passages=passages,
            critic=self.model.version,
            grounding=Grounding(instructions_ignored=ignored),
        )


def _retrieved(passages: list[Passage], clock: Clock) -> Progress:
    """The first event of every stream: the passages found, within a second."""
    return Progress(
        stage="retrieved",
        passages=passages,
        elapsed_s=clock.elapsed(),
        message=f"{len(passages)} guideline passages found",
    )


class CritiquePipeline:
    """A draft's critique: retrieval, the cache, then the learned or the JSON critic; and the suggested sentence.

    The parts it uses open lazily, so they come in as functions that return them.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retrieve: Retrieve,
        llm: Callable[[], LLMProvider],
        results: Callable[[], ResultCache],
        rubric: Callable[[], Rubric],
        critic_model: Callable[[], CriticModel],
        learned_critic: Callable[[], LearnedCritic],
        links_fingerprint: Callable[[], str],
    ) -> None:
        self.settings = settings
        self._retrieve = retrieve
        self._llm, self._results = llm, results
        self._rubric, self._critic_model, self._learned_critic = rubric, critic_model, learned_critic
        self._links_fingerprint = links_fingerprint
        self._json_modes = JsonModes()
        self._prompts: dict[str, PromptTemplate] = {}

    @property
    def mode(self) -> str:
        """``learned`` or ``json``: COACH_CRITIC, where ``auto`` means the learned critic."""
        return "json" if self.settings.critic == "json" else "learned"

    def cache_key(self, kind: str, passages: list[Passage], *texts: str | None) -> str:
        """Same critic model (or LLM and prompts), rubric, links, passages and input: same result.

        A learned critique names no LLM, so computing its key never starts the embedded server.
        """
        parts: list[Any] = [kind, self.mode, self._rubric().version, self._critic_model().fingerprint]
        parts.append(self._links_fingerprint())
        if self.mode == "learned":
            parts += [self._learned_critic().words_version, EXAMPLES_FOR]
        if kind != "critique" or self.mode == "json":
            endpoint = self._llm().endpoint()
            versions = self._prompt_version("system", "critique", "ask")
            parts += [endpoint.model, endpoint.base_url, versions, self.settings.redact_pii]
        return cache_key(*parts, [p.id for p in passages], *texts)

    def events(self, draft: str, customer_message: str | None, *, live: bool) -> Iterator[Progress]:
        """The critique's events; ``live`` streams the LLM's tokens (for pages), else one plain call (batch)."""
        clock = Clock()
        draft, customer = check_draft(draft, customer_message, self.settings.max_input_chars)
        vector, passages = self._retrieve(draft, clock)
        yield _retrieved(passages, clock)
        key = self.cache_key("critique", passages, draft, customer)
        cached = self._results().get(key) if self.settings.cache else None
        if cached is not None:
            critique = Critique.model_validate(cached).model_copy(update={"latency_s": clock.elapsed()})
            yield Progress(
                stage="done",
                result=critique,
                passages=critique.passages,
                elapsed_s=clock.elapsed(),
                fraction=1.0,
                message="from cache",
            )
            return
        language = detect_language(draft)
        if self.mode == "json":
            stream = self._json_critique(draft, customer, language, passages, clock, live=live)
        else:
            stream = self._learned_critique(draft, customer, language, vector, passages, clock)
        for event in stream:
            if event.result is not None and self.settings.cache:
                self._results().put(key, event.result.model_dump(mode="json"))
            yield event

    def _learned_critique(
        self, draft: str, customer: str | None, language: str, vector: Any, passages: list[Passage], clock: Clock
    ) -> Iterator[Progress]:
        with clock.stage("critic"):
            critique = self._learned_critic().critique(draft, customer, language, vector, passages)
        finished = critique.model_copy(
            update={
                "model": self._critic_model().version,
                "prompt_version": f"{self._rubric().version}+{self._critic_model().version}"
                f"+links-{self._links_fingerprint()}",
                "timings": clock.timings,
                "latency_s": clock.elapsed(),
            }
        )
        yield Progress(
            stage="done", result=finished, passages=finished.passages, elapsed_s=clock.elapsed(), fraction=1.0
        )

    def _json_critique(
        self, draft: str, customer: str | None, language: str, passages: list[Passage], clock: Clock, *, live: bool
    ) -> Iterator[Progress]:
        usage, rubric = Usage(), self._rubric()
        masked_draft, masked_customer, pii = self.masked(draft, customer)
        prompt = self._draft_prompt("critique", masked_draft, masked_customer, passages, language)
        call = JsonCall(
            output=DraftCritique,
            schema=critique_schema(rubric.ids, [p.id for p in passages]),
            name="critique",
            max_tokens=JSON_CRITIQUE_TOKENS,
            repair=self._prompt("repair"),
            check=lambda value: check_critique(value, rubric),
            prefer=lambda value: check_language(value, language),
        )
        messages = self._messages(language, prompt)
        with clock.stage("llm"):
            value = yield from self._generate_json(messages, call, usage, clock, passages, "writing the critique", live)
        with clock.stage("feedback"):
            scores, issues, strengths, grounding = ground_critique(value, draft, language, rubric, passages, pii)
        critique = Critique(
            language=language,
            scores=scores,
            overall=overall_score(scores),
            issues=issues,
            strengths=strengths,
            passages=passages,
            grounding=grounding,
            critic="json",
        )
        yield self._done(critique, ("system", "critique"), usage, clock)

    def _draft_prompt(self, name: str, draft: str, customer: str | None, passages: list[Passage], language: str) -> str:
        """A critique or rewrite prompt: the rubric, the passages, the message and the draft as delimited data."""
        return self._prompt(name).render(
            rubric=self._rubric().prompt_text(anchors=False),
            passages=passages_block(passages),
            customer_message=customer or NO_CUSTOMER_MESSAGE,
            draft=draft,
            language_name=language_name(language),
        )

    def _generate_json(
        self,
        messages: list[Any],
        call: JsonCall[OutputT],
        usage: Usage,
        clock: Clock,
        passages: list[Passage],
        message: str,
        live: bool = True,
    ) -> Generator[Progress, None, OutputT]:
        """A validated JSON answer; ``live`` streams it with progress events, else one plain call."""
        chat = self._llm().chat_model(max_tokens=call.max_tokens)
        if not live:
            return generate_json(chat, messages, call, self._json_modes, usage)
        partial = Partial()
        return (
            yield from while_running(
                lambda: generate_json(chat, messages, call, self._json_modes, usage, partial),
                partial,
                clock,
                passages,
                message,
            )
        )

    def _done(self, result: Critique, prompts: tuple[str, ...], usage: Usage, clock: Clock) -> Progress:
        """The final event: the result stamped with model, prompt versions, usage and timings."""
        finished = result.model_copy(
            update={
                "model": self._llm().endpoint().model,
                "prompt_version": self._prompt_version(*prompts),
                "usage": usage,
                "timings": clock.timings,
                "latency_s": clock.elapsed(),
            }
        )
        return Progress(
            stage="done", result=finished, passages=finished.passages, elapsed_s=clock.elapsed(), fraction=1.0
        )

    def _messages(self, language: str, prompt: str) -> list[Any]:
        system = self._prompt("system").render(language_name=language_name(language))
        return chat_messages(system, prompt)

    def masked(self, draft: str, customer: str | None) -> tuple[str, str | None, dict[str, str]]:
        """Draft and message as the LLM may see them, and the placeholders to restore (COACH_REDACT_PII).

        Both are masked as one text so a placeholder never stands for two different values.
        """
        if not self.settings.redact_pii:
            return draft, customer, {}
        return mask_draft(draft, customer)

    def _prompt(self, name: str) -> PromptTemplate:
        """A prompt template, read from ``prompts/`` once per pipeline (not on every request)."""
        if name not in self._prompts:
            self._prompts[name] = load_prompt(name, self.settings.prompts_dir)
        return self._prompts[name]

    def _prompt_version(self, *names: str) -> str:
        versions = [self._prompt(name).version for name in names]
        return "+".join([*versions, self._rubric().version])
