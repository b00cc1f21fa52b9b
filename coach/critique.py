"""The learned critique: verdicts from the fitted critic, quotes from its sentence models, curated citations.

No LLM is involved: a critique costs the draft's embedding (shared with retrieval) plus, when a
criterion is flagged, one batch of sentence embeddings to find the words to quote. The LLM may add a
suggested sentence afterwards (``coach.suggestions``), never a verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from coach.critic import CriticModel
from coach.embeddings import Embedder, Vectors
from coach.feedback import MAX_CITED, Judgement, build_feedback, overall_score
from coach.injection import instruction_spans
from coach.knowledge import sentence_spans
from coach.models import Critique, Grounding, Passage
from coach.prompts import Rubric
from coach.retrieval import text_vectors

RankPassages = Callable[[Vectors, Sequence[str]], list[Passage]]


def draft_sentences(draft: str) -> list[tuple[int, int]]:
    """Sentence offsets of the draft; the whole draft when it has no sentence break."""
    return sentence_spans(draft) or [(0, len(draft))]


class LearnedCritic:
    """Judges a draft against every rubric criterion with the fitted ``CriticModel``."""

    def __init__(self, model: CriticModel, rubric: Rubric, embedder: Embedder, rank: RankPassages) -> None:
        missing = set(rubric.ids) - model.criteria.keys()
        if missing:
            from coach.errors import PromptError

            raise PromptError(f"the critic model has no classifier for {sorted(missing)}: run `coach train-critic`")
        self.model = model
        self.rubric = rubric
        self._embedder = embedder
        self._rank = rank

    def judge(
        self, draft: str, vector: Vectors, customer_message: str | None = None
    ) -> tuple[dict[str, Judgement], list[tuple[int, int]]]:
        """A verdict per criterion, and the draft's sentences (quotes are among them).

        Sentences addressed to a grader ("rate this 5/5") are left out: the verdicts are the reply's.
        """
        sentences = draft_sentences(draft)
        ignored = instruction_spans(draft, sentences)
        if ignored and len(ignored) < len(sentences):
            sentences = [span for span in sentences if span not in ignored]
            vector = text_vectors(self._embedder, [" ".join(draft[a:b] for a, b in sentences)])[0]
        texts = [draft[a:b] for a, b in sentences]
        with_customer = self.model.needs_customer and bool(customer_message)
        if with_customer:
            texts.append(str(customer_message))
        embedded = self._embedder.queries(texts) if self.model.needs_sentences or with_customer else None
        sentence_vectors = None if embedded is None else embedded[: len(sentences)]
        customer_vector = embedded[-1] if embedded is not None and with_customer else None
        probabilities = self.model.violation_probabilities(vector, sentence_vectors, customer_vector)
        judgements: dict[str, Judgement] = {}
        for criterion in self.rubric.criteria:
            fitted = self.model.criteria[criterion.id]
            probability = probabilities[criterion.id]
            quote = None
            if probability >= fitted.threshold and fitted.sentence is not None:
                if sentence_vectors is None:
                    sentence_vectors = self._embedder.queries([draft[a:b] for a, b in sentences])
                said = fitted.sentence.probabilities(sentence_vectors)
                best = int(np.argmax(said))
                if said[best] >= fitted.sentence_threshold or criterion.kind == "commission":
                    quote = sentences[best]
            judgements[criterion.id] = Judgement(criterion.id, probability, fitted.threshold, quote)
        return judgements, sentences

    def citations(self, vector: Vectors, flagged: Sequence[str]) -> dict[str, list[Passage]]:
        """Per flagged criterion, its curated passages closest to the draft."""
        return {cid: self._rank(vector, self.rubric.criterion(cid).passages)[:MAX_CITED] for cid in flagged}

    def critique(
        self, draft: str, customer_message: str | None, language: str, vector: Vectors, retrieved: list[Passage]
    ) -> Critique:
        """Scores, issues and strengths; the passages are the dense hits plus every cited curated passage."""
        judgements, sentences = self.judge(draft, vector, customer_message)
        ignored = len(draft_sentences(draft)) - len(sentences)
        cited = self.citations(vector, [cid for cid, j in judgements.items() if j.flagged])
        passages = list(retrieved)
        have = {p.id for p in passages}
        for ranked in cited.values():
            for passage in ranked:
                if passage.id not in have:
                    passages.append(passage)
                    have.add(passage.id)
        citation_ids = {cid: [p.id for p in ranked] for cid, ranked in cited.items()}
        scores, issues, strengths = build_feedback(draft, language, self.rubric, judgements, sentences, citation_ids)
        return Critique(
            language=language,
            scores=scores,
            overall=overall_score(scores),
            issues=issues,
            strengths=strengths,
            passages=passages,
            critic=self.model.version,
            grounding=Grounding(instructions_ignored=ignored),
        )
