"""The ``Coach`` facade: the one public entry point the CLI, the app and scripts call.

Its parts open lazily (``coach.parts``: store, retriever, LLM, cache; here: rubric, critic) and each job goes to
its module: documents and the index to ``coach.knowledge.library``, critique to ``coach.judging.pipeline``, rewrite to
``coach.writing.rewriting``, ask to ``coach.writing.answers``, batch evaluation to ``coach.batch.run``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coach.cache import ResultCache
from coach.errors import InputError
from coach.inputs import check_draft, check_k, check_text
from coach.judging.critic import CriticModel, load_critic_model
from coach.judging.pipeline import CritiquePipeline, LearnedCritic
from coach.knowledge.diff import DocumentChange
from coach.knowledge.embeddings import Embedder, shared_embedder
from coach.knowledge.index import PassageStore
from coach.knowledge.links import LinkBook
from coach.knowledge.passages import Document
from coach.knowledge.phrasebook import Phrasebook
from coach.knowledge.reading import TranslationJob
from coach.knowledge.retrieval import RetrievalConfig, Retriever
from coach.knowledge.versions import AuditEntry, DocumentInfo, DocumentVersion
from coach.language import SUPPORTED_LANGUAGES, detect_language
from coach.llm.client import LLMProvider, LLMStatus
from coach.models import Answer, Critique, IndexReport, Passage, Progress, Rewrite, SimilarReply
from coach.parts import Parts
from coach.progress import final_result
from coach.prompts import Rubric
from coach.settings import Settings
from coach.writing.answers import Answerer
from coach.writing.rewriting import Rewriter
from coach.writing.suggestions import Suggester


class Coach:
    """Knowledge base, retrieval, critique, rewrite and ask; cheap to create, as models and stores open on first use."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        retrieval: RetrievalConfig | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder or shared_embedder(self.settings.embed_threads)
        self._parts = Parts(self.settings, self._embedder, retrieval)
        self.versions = self._parts.versions  # kept versions, the audit log and the knowledge base's lock
        self._library = self._parts.library
        self._critiques = CritiquePipeline(
            self.settings,
            retrieve=self._parts.retrieve,
            llm=lambda: self.llm,
            results=lambda: self.results,
            rubric=lambda: self.rubric,
            critic_model=lambda: self.critic_model,  # read on each use: a test swaps the fitted model
            learned_critic=lambda: self.learned_critic,
            links_fingerprint=lambda: self._parts.links.read().fingerprint(),
        )

    @property
    def store(self) -> PassageStore:
        """The passage store (opened lazily)."""
        return self._parts.store

    @property
    def retriever(self) -> Retriever:
        """The retriever over the store."""
        return self._parts.retriever

    @property
    def llm(self) -> LLMProvider:
        """The LLM connection (the embedded server starts only when first needed)."""
        return self._parts.llm

    @property
    def results(self) -> ResultCache:
        """The on-disk cache of finished results (``<data_dir>/cache.sqlite3``)."""
        return self._parts.results

    @property
    def rubric(self) -> Rubric:
        """The scoring rubric from ``prompts/rubric.yaml``."""
        return self._parts.rubric

    @property
    def links(self) -> LinkBook:
        """The trainers' links from rubric criteria to the passages that state them (``knowledge/links.yaml``)."""
        return self._parts.links

    def phrasebook(self) -> Phrasebook:
        """Phrasings per criterion and language, facts as [slots] (``knowledge/phrasebook.yaml``)."""
        return self._parts.phrasebook()

    @functools.cached_property
    def critic_model(self) -> CriticModel:
        """The fitted critic (``prompts/critic_model.json``, made by ``coach train-critic``)."""
        return load_critic_model(self.settings.prompts_dir)

    @functools.cached_property
    def learned_critic(self) -> LearnedCritic:
        """The learned critic over the fitted model, the rubric and this Coach's embedder."""
        return self._parts.learned_critic(self.critic_model)

    @functools.cached_property
    def rewriter(self) -> Rewriter:
        """The rewrite pipeline, judged by this Coach's own critique."""
        return self._parts.rewriter(self.rubric, self.critique, self._critiques.masked)

    @functools.cached_property
    def suggester(self) -> Suggester:
        """The suggested sentence after a critique, masked as the critique was."""
        return self._parts.suggester(self.rubric, self.critique, self._critiques.masked)

    @functools.cached_property
    def answerer(self) -> Answerer:
        """The ask pipeline."""
        return self._parts.answerer()

    def llm_status(self) -> LLMStatus:
        """Which LLM is in use and whether it answers."""
        return self.llm.status()

    def close(self) -> None:
        """Stop what this Coach started (the embedded LLM server)."""
        self._parts.close()

    def load_documents(self) -> tuple[list[Document], dict[str, str]]:
        """Readable documents of the knowledge folder, and the reason each unreadable one was skipped."""
        return self._library.load()

    def index(self, *, user: str | None = None) -> IndexReport:
        """Bring the index in line with the knowledge folder; unchanged documents cost nothing."""
        return self._library.index(user=user)

    def ensure_index(self) -> None:
        """Build the index on first use if it is empty (e.g. a fresh install or a wiped store)."""
        self._library.ensure_index()

    def preview_document(self, filename: str, content: bytes) -> DocumentChange:
        """What uploading this file would change (passages added, changed, removed); changes nothing."""
        return self._library.preview(filename, content)

    def add_document(
        self,
        filename: str,
        content: bytes,
        *,
        replace: bool = False,
        base_sha256: str | None = None,
        user: str | None = None,
    ) -> IndexReport:
        """Validate a guideline file, save it into the knowledge folder and index it at once.

        Another file of that name is a new version: it needs ``replace=True`` and, after a preview, the
        previewed ``base_sha256`` (else ``NewVersionError``); see ``DocumentLibrary.add``.
        """
        return self._library.add(filename, content, replace=replace, base_sha256=base_sha256, user=user)

    def documents(self) -> list[DocumentInfo]:
        """The documents of the knowledge folder now, with how many earlier versions each has."""
        return self._library.documents()

    def document_history(self, name: str) -> list[DocumentVersion]:
        """The kept earlier versions of a document (its id or file name), oldest first."""
        return self._library.history(name)

    def audit_log(self, name: str | None = None) -> list[AuditEntry]:
        """Every change to the knowledge base (or to one document, by id or file name), oldest first."""
        return self._library.audit_log(name)

    def revert_document(self, name: str, version: int | None = None, *, user: str | None = None) -> IndexReport:
        """Bring back a kept version (default: the newest that differs from the document now); re-index."""
        return self._library.revert(name, version, user=user)

    def remove_document(self, name: str, *, user: str | None = None) -> IndexReport:
        """Take a document out of the knowledge folder and the index; it stays in the history."""
        return self._library.remove(name, user=user)

    def search(self, text: str, k: int = 5, *, reader_first: bool = False) -> list[Passage]:
        """The k guideline passages that matter most for a draft or question, in any language.

        ``reader_first`` lists the passages in the text's own language first (as the page shows them).
        """
        query = check_text(text, "query", self.settings.max_input_chars)
        check_k(k)
        self.ensure_index()
        return self.retriever.search(query, k, language=detect_language(query) if reader_first else None)

    def read_passage(self, passage_id: str, language: str, *, wait: bool = False) -> Passage:
        """A passage in ``language``: the original (same language), a trainer's translation, else a checked machine
        translation; one not made yet, or failing its checks, is the original with a ``note`` (``wait``: make it now).
        """
        return self._parts.read_passage(passage_id, language, wait=wait)

    def read_passages(self, passages: list[Passage], language: str) -> list[Passage]:
        """Passages already found, each in ``language`` as ``read_passage`` reads it, never waiting (for pages)."""
        return self._parts.reader.read_all(passages, language)

    def translate_passage(
        self, passage_id: str, language: str, text: str, *, user: str | None = None, force: bool = False
    ) -> Passage:
        """Keep a trainer's translation of a passage (it replaces the machine's; audit-logged).

        It must pass the machine's checks (language, the original's numbers, meaning by e5 similarity), else
        ``InputError`` says which failed; ``force`` waives the meaning check only (the trainer vouches for it).
        """
        return self._parts.translate(passage_id, language, text, user, force)

    def translated_coverage(self) -> dict[str, dict[str, int]]:
        """Per rubric criterion and language: linked passages readable there only through a checked translation."""
        return self._parts.translated_coverage()

    def translate_in_background(self) -> TranslationJob:
        """Machine-translate every passage into the other languages in a background thread (made ones are kept)."""
        return self._parts.translate_all()

    def prepare(self, texts: list[str]) -> None:
        """Embed many drafts in one batch so their critiques skip that step (used by batch evaluation)."""
        self.ensure_index()
        self.retriever.prime([t.strip() for t in texts if isinstance(t, str)])

    def critique(self, draft: str, customer_message: str | None = None) -> Critique:
        """Scores, quoted issues and strengths for a draft, each issue citing the guideline passages it rests on."""
        return final_result(self._critiques.events(draft, customer_message, live=False), Critique)

    def critique_stream(self, draft: str, customer_message: str | None = None) -> Iterator[Progress]:
        """``critique`` step by step: passages first (within a second), then LLM progress, then the result."""
        return self._critiques.events(draft, customer_message, live=True)

    def suggest_stream(self, draft: str, critique: Critique, customer_message: str | None = None) -> Iterator[str]:
        """One sentence the agent can paste for the critique's top issues, in the draft's language, as it grows.

        Each value replaces the previous one. Comes after the critique (which never waits for it); nothing
        when the critique found no issue. LLM failures raise ``LLMError`` with a readable message.
        """
        return self.suggester(draft, critique, customer_message)

    def similar_replies(self, draft: str, customer_message: str | None = None, k: int = 2) -> list[SimilarReply]:
        """Good replies to similar messages, in the draft's language, their facts masked as [slots]."""
        checked, customer = check_draft(draft, customer_message, self.settings.max_input_chars)
        return self._parts.replies.for_case(checked, customer, k)

    def rewrite(self, draft: str, customer_message: str | None = None) -> Rewrite:
        """An improved reply that keeps the draft's facts, checked before it is called an improvement."""
        return final_result(self.rewrite_stream(draft, customer_message), Rewrite)

    def rewrite_stream(self, draft: str, customer_message: str | None = None) -> Iterator[Progress]:
        """``rewrite`` step by step: passages, the new text as it is written, the checks, the result."""
        checked, customer = check_draft(draft, customer_message, self.settings.max_input_chars)
        yield from self.rewriter.stream(checked, customer)

    def prepare_answers(self) -> int:
        """Embed the sentences of every passage as read in each language (kept in the data dir), so that ask's first
        text does not wait for them; how many were embedded now (0 when all were kept)."""
        self.ensure_index()
        return self.answerer.warm([c.passage for c in self.store.all_passages()], SUPPORTED_LANGUAGES)

    def ask(self, question: str) -> Answer:
        """What the guidelines say about a question, with [n] citations of the passages it rests on."""
        return final_result(self.ask_stream(question), Answer)

    def ask_stream(self, question: str) -> Iterator[Progress]:
        """``ask`` step by step: passages and their best sentences, the answer as it is written, the result."""
        checked = check_text(question, "question", self.settings.max_input_chars)
        yield from self.answerer.stream(checked)

    def evaluate(self, rows: Any, **options: Any) -> Iterator[Any]:
        """Critique many replies with the same rubric; yields one result per row (see `coach.batch.run`)."""
        from coach.batch import run as batch

        return batch.evaluate(self, rows, **options)

    def evaluate_file(
        self, source: str | Path, destination: str | Path, *, engine: str = "local", **options: Any
    ) -> Any:
        """Score a CSV/JSONL/Parquet file of replies into append-only JSONL, resumable; returns the summary.

        ``engine="ray"`` runs the rows on Ray Data (``coach[ray]``; options ``address``, ``workers``), each worker
        with a Coach of its own made from these settings; ``"local"`` runs them in threads of this process.
        """
        if engine == "ray":
            from coach.batch import ray_engine

            return ray_engine.evaluate_file(self, source, destination, make_critic=Coach, **options)
        if engine != "local":
            raise InputError(f"unknown engine {engine!r}: use 'local' or 'ray'", field="engine")
        from coach.batch import run as batch

        return batch.evaluate_file(self, source, destination, **options)
