"""Trainers' answers, in the question's language: the passages' best sentences at once, then a short synthesis.

A 1.5B model given five 500-character passages took 55 s and opened with "[4] The passage provides a
clear guideline…" instead of answering (issue 14). So the answer starts extractive: the passages are read in the
question's language (``read_passage``: the original, a trainer's or a checked machine translation), and their best
2–3 sentences, each with its ``[n]``, are the answer's first text, before any LLM call. The model then writes a
short synthesis from those sentences; it must be in the question's language: retried once, then dropped (issue 20),
leaving the extractive answer. ``[n]`` markers are checked against the passages given.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coach.knowledge.embeddings import MODEL_NAME, Embedder, Vectors
from coach.knowledge.passages import split_sentences
from coach.knowledge.versions import atomic_write
from coach.language import detect_language, language_matches, language_name
from coach.llm.client import chat_messages
from coach.llm.generation import Reply, clean_text, complete_sentences, stream_reply
from coach.models import Answer, Citation, Grounding, Passage, Progress, Usage
from coach.progress import Clock, done_event, retrieved_event
from coach.prompts import PromptTemplate, load_prompt

_MARKER = re.compile(r"\[(\d{1,3})\]")
PROMPT_PASSAGES = 4
EXCERPT_CHARS = 240  # the best one or two sentences of a passage
ANSWER_TOKENS = 220  # about five short sentences in Russian; Greek is cut back to its last whole sentence
EXTRACTIVE_SENTENCES = 3  # the best sentence of each of the (at most) three closest passages
_SENTENCE_CACHE = 8192  # the shipped passages in five languages have about 1,000 sentences
SENTENCE_VECTORS_FILE = "sentence-vectors.npz"  # in the data dir

ChatModels = Callable[..., Any]


@dataclass(frozen=True)
class AskPrompts:
    """The templates an answer needs, read once."""

    system: PromptTemplate
    ask: PromptTemplate
    language: PromptTemplate

    @classmethod
    def load(cls, folder: Path | None = None) -> AskPrompts:
        """The templates from ``folder`` (default: the prompts as shipped)."""
        return cls(*(load_prompt(name, folder) for name in ("writer", "ask", "repair_language")))

    @property
    def version(self) -> str:
        """The versions of every template used, for the result."""
        return "+".join(t.version for t in (self.system, self.ask, self.language))


@dataclass
class SentencePicker:
    """The sentences of a passage closest in meaning to a question.

    Their vectors are kept for reuse, and on disk when ``store`` is given: embedding the sentences of the passages
    a question finds took most of ask's first text (0.6 of 1.1 s), and the knowledge base's sentences repeat.
    """

    embedder: Embedder
    store: Path | None = None
    _vectors: dict[str, Vectors] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loaded: bool = False

    def excerpts(self, question: Vectors, passages: Sequence[Passage], limit: int = EXCERPT_CHARS) -> dict[str, str]:
        """Per passage id, its best sentence and the next best if both fit in ``limit``, in reading order."""
        sentences = {p.id: split_sentences(p.text) or [p.text] for p in passages}
        vectors = self._sentence_vectors([s for group in sentences.values() for s in group])
        excerpts = {}
        for passage in passages:
            group = sentences[passage.id]
            scores = np.array([float(vectors[s].reshape(-1) @ question.reshape(-1)) for s in group])
            chosen = [int(i) for i in np.argsort(-scores)[:2]]
            if len(" ".join(group[i] for i in chosen)) > limit:
                chosen = chosen[:1]
            excerpt = " ".join(" ".join(group[i].split()) for i in sorted(chosen))
            excerpts[passage.id] = excerpt if len(excerpt) <= limit else _cut(excerpt, limit)
        return excerpts

    def best_sentences(
        self, question: Vectors, passages: Sequence[Passage], language: str, count: int = EXTRACTIVE_SENTENCES
    ) -> list[tuple[int, str]]:
        """The ``count`` passages whose best sentence is closest to the question, those read in ``language`` first:
        (their [n], that sentence), in [n] order."""
        sentences = {p.id: split_sentences(p.text) or [p.text] for p in passages}
        vectors = self._sentence_vectors([s for group in sentences.values() for s in group])
        best = []
        for number, passage in enumerate(passages, 1):
            group = sentences[passage.id]
            scores = [float(vectors[s].reshape(-1) @ question.reshape(-1)) for s in group]
            top = int(np.argmax(scores))
            best.append((passage.language == language, scores[top], number, " ".join(group[top].split())))
        chosen = sorted(best, reverse=True)[:count]
        return sorted((number, _cut(text, EXCERPT_CHARS)) for _, _, number, text in chosen)

    def warm(self, passages: Sequence[Passage]) -> int:
        """Embed every sentence of these passages not embedded yet (one call); how many were embedded."""
        sentences = [s for p in passages for s in split_sentences(p.text) or [p.text]]
        with self._lock:
            self._load()
            before = len(self._vectors)
        self._sentence_vectors(sentences)
        return len(self._vectors) - before

    def _sentence_vectors(self, sentences: list[str]) -> dict[str, Vectors]:
        with self._lock:
            self._load()
            todo = list(dict.fromkeys(s for s in sentences if s not in self._vectors))
        if todo:
            computed = self.embedder.passages(todo)
            with self._lock:
                self._vectors.update(zip(todo, computed, strict=True))
                while len(self._vectors) > _SENTENCE_CACHE:
                    self._vectors.pop(next(iter(self._vectors)))
                self._save()
        with self._lock:
            return {s: self._vectors[s] for s in sentences}

    def _load(self) -> None:
        """The kept vectors, once (caller holds the lock); a missing, unreadable or other model's file is none."""
        if self._loaded or self.store is None:
            return
        self._loaded = True
        try:
            with np.load(self.store) as kept:
                if str(kept["model"]) != MODEL_NAME:
                    return
                texts, vectors = kept["texts"].tolist(), np.asarray(kept["vectors"], dtype=np.float32)
        except (OSError, KeyError, ValueError):
            return
        for text, vector in zip(texts, vectors, strict=True):
            self._vectors.setdefault(text, vector)

    def _save(self) -> None:
        """Keep the vectors on disk (caller holds the lock), whole-file atomic: readers see old or new, never a part."""
        if self.store is None:
            return
        buffer = io.BytesIO()
        vectors = np.stack(list(self._vectors.values()))
        np.savez(buffer, model=np.array(MODEL_NAME), texts=np.array(list(self._vectors)), vectors=vectors)
        atomic_write(self.store, buffer.getvalue())


def _cut(text: str, limit: int) -> str:
    return text[:limit].rsplit(" ", 1)[0] + " …"


def numbered_excerpts(passages: Sequence[Passage], excerpts: dict[str, str]) -> str:
    """The excerpts as ``[1] text`` lines, in their own language."""
    return "\n".join(f"[{n}] {excerpts.get(p.id) or p.excerpt(EXCERPT_CHARS)}" for n, p in enumerate(passages, 1))


def extractive_text(sentences: Sequence[tuple[int, str]]) -> str:
    """The best sentences as the answer's first text, each followed by its passage's [n]."""
    return " ".join(f"{sentence} [{number}]" for number, sentence in sentences)


def joined(extractive: str, synthesis: str) -> str:
    """The extractive sentences, then the synthesis as its own paragraph."""
    return f"{extractive}\n\n{synthesis}".strip()


def build_answer(
    question: str,
    text: str,
    language: str,
    passages: Sequence[Passage],
    excerpts: dict[str, str] | None = None,
    extractive: str = "",
) -> Answer:
    """The answer (extractive sentences, then the synthesis ``text``) with markers that point nowhere removed (and
    counted), and one citation per marker used; a synthesis in another language than the question's is dropped."""
    grounding = Grounding(language_ok=language_matches(text, language))
    if not grounding.language_ok and extractive:
        text = ""
    used: list[int] = []

    def keep(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if 1 <= number <= len(passages):
            if number not in used:
                used.append(number)
            return match.group()
        grounding.citations_dropped += 1
        return ""

    synthesis = _MARKER.sub(keep, text).strip()
    cleaned = _MARKER.sub(keep, joined(extractive, synthesis))
    citations = [Citation(marker=n, passage=passages[n - 1]) for n in sorted(used)]
    return Answer(
        question=question,
        text=cleaned,
        extractive=extractive,
        synthesis=synthesis,
        language=language,
        citations=citations,
        passages=list(passages),
        excerpts=dict(excerpts or {}),
        grounding=grounding,
    )


@dataclass
class Answerer:
    """The ask pipeline: retrieval and the best sentences at once, then the streamed answer, then checks."""

    vector: Callable[[str], Vectors]
    search: Callable[[str, Vectors, str], list[Passage]]  # the question's language first
    read: Callable[[list[Passage], str], list[Passage]]  # passages in a language, never waiting (read_passage)
    picker: SentencePicker
    chat_model: ChatModels
    model_name: Callable[[], str]
    prompts: AskPrompts

    def warm(self, passages: Sequence[Passage], languages: Sequence[str]) -> int:
        """Embed the sentences of these passages as read in each language, so a question's first text need not."""
        return sum(self.picker.warm(self.read(list(passages), language)) for language in languages)

    def stream(self, question: str) -> Iterator[Progress]:
        """``retrieved`` (passages as read, their best sentences and the extractive answer), ``llm`` events as the
        synthesis grows, ``done``."""
        clock = Clock()
        language = detect_language(question)
        with clock.stage("retrieval"):
            vector = self.vector(question)
            passages = self.read(self.search(question, vector, language)[:PROMPT_PASSAGES], language)
            excerpts = self.picker.excerpts(vector, passages)
            extractive = extractive_text(self.picker.best_sentences(vector, passages, language))
        yield retrieved_event(passages, clock, excerpts=excerpts, partial_text=extractive)
        usage = Usage()
        prompt = self.prompts.ask.render(
            passages=numbered_excerpts(passages, excerpts), question=question, language_name=language_name(language)
        )
        turns = [prompt]
        chat = self.chat_model(max_tokens=ANSWER_TOKENS)
        text = ""
        for attempt in range(2):
            messages = chat_messages(self.prompts.system.render(), *turns)
            reply = yield from self._written(chat, messages, passages, clock, attempt, extractive)
            usage.add(reply.usage)
            text = _answer_text(reply)
            if language_matches(text, language) or attempt == 1:
                break
            usage.repairs += 1
            turns += [reply.text, self.prompts.language.render(language_name=language_name(language))]
        answer = build_answer(question, text, language, passages, excerpts, extractive)
        yield done_event(answer, self.model_name(), self.prompts.version, usage, clock)

    def _written(
        self, chat: Any, messages: list[Any], passages: list[Passage], clock: Clock, attempt: int, extractive: str
    ) -> Generator[Progress, None, Reply]:
        message = "writing the answer" if attempt == 0 else "writing it again in the question's language"
        with clock.stage("llm"):
            show = (lambda text: joined(extractive, clean_text(text))) if attempt == 0 else (lambda _: extractive)
            return (yield from stream_reply(chat, messages, clock, passages, message, show=show))


def _answer_text(reply: Reply) -> str:
    text = clean_text(reply.text)
    return complete_sentences(text) if reply.cut_off else text
