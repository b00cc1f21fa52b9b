"""The parts every pipeline shares (store, retriever, LLM, result cache, documents), each opened once, on first use.

Creating them costs nothing: a Coach is made in a blink and the page's and batch's threads share what opens.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from coach.cache import ResultCache
from coach.errors import InputError
from coach.judging.conditions import situation_kinds
from coach.judging.critic import CriticModel
from coach.judging.examples import ExamplePicker
from coach.judging.pipeline import LearnedCritic
from coach.knowledge.domains import MODEL_JSON, DomainModel
from coach.knowledge.embeddings import VECTORS_FILE, Embedder, read_vectors
from coach.knowledge.index import PassageStore
from coach.knowledge.library import DocumentLibrary
from coach.knowledge.link_suggestions import CriterionSuggester
from coach.knowledge.links import LINKS_FILE, LinkBook, Links, Suggestion
from coach.knowledge.passages import PassageRecord
from coach.knowledge.phrasebook import Phrasebook, load_phrasebook
from coach.knowledge.plain_words import PlainWords, load_plain_words
from coach.knowledge.reading import PassageReader, TranslationJob
from coach.knowledge.replies import REPLIES_FILE, ReplyBook
from coach.knowledge.retrieval import RetrievalConfig, Retriever
from coach.knowledge.translations import (
    MEANING_DRIFTED,
    TRANSLATIONS_FOLDER,
    TrainerTranslations,
    TranslationCache,
    Translator,
    translation_problems,
)
from coach.knowledge.versions import AuditEntry, VersionStore, default_user
from coach.language import SUPPORTED_LANGUAGES
from coach.llm.client import LLMProvider
from coach.models import Passage
from coach.progress import Clock
from coach.prompts import Rubric, load_prompt, load_rubric, load_why
from coach.resources import shipped_knowledge_dir, shipped_prompts_dir
from coach.settings import Settings
from coach.writing.answers import SENTENCE_VECTORS_FILE, Answerer, AskPrompts, SentencePicker
from coach.writing.rewriting import Judge, Mask, Rewriter
from coach.writing.suggestions import Adapter, Suggester

CRITIQUE_K = 5


class Parts:
    """The lazily opened parts of one Coach, and the searches its pipelines run on them."""

    def __init__(self, settings: Settings, embedder: Embedder, retrieval: RetrievalConfig | None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._retrieval_config = retrieval
        self._store: PassageStore | None = None
        self._retriever: Retriever | None = None
        self._llm: LLMProvider | None = None
        self._results: ResultCache | None = None
        self._examples: ExamplePicker | None = None
        self.lock = threading.RLock()  # lazily opened parts are shared by the app's and batch's threads
        # Kept versions, the audit log and the knowledge base's lock; made here (no I/O) so every thread shares it.
        self.versions = VersionStore(settings.data_dir)
        self._rubric: Rubric | None = None
        self.links = LinkBook(
            settings.knowledge_dir / LINKS_FILE,
            self.versions.lock,
            self.versions.record,
            passages=lambda: self.library.passages(),
            criteria=lambda: self.rubric.ids,
            document_hashes=lambda: {d.name: d.sha256 for d in self.library.documents()},
        )
        self.library = DocumentLibrary(settings, self.versions, self.links, lambda: self.store, self.lock)
        self._suggester: CriterionSuggester | None = None
        self._replies: ReplyBook | None = None
        self._adapter: Adapter | None = None
        self._known_vectors: dict[str, Any] | None = None
        self.links.suggester = self._suggest
        self.reader = PassageReader(
            lookup=lambda ids: self.store.get(ids),
            cache=TranslationCache(settings.data_dir / TRANSLATIONS_FOLDER),
            trainers=TrainerTranslations(settings.knowledge_dir / TRANSLATIONS_FOLDER),
            translator=self._translator,
        )
        self._translator_made: Translator | None = None

    def _translator(self) -> Translator:
        """The machine translator (its LLM starts on the first translation)."""
        with self.lock:
            if self._translator_made is None:
                self._translator_made = Translator.load(
                    lambda **options: self.llm.chat_model(**options),
                    lambda: self.llm.endpoint().model,
                    self.embedder,
                    self.settings.prompts_dir,
                )
            return self._translator_made

    def read_passage(self, passage_id: str, language: str, *, wait: bool = False) -> Passage:
        """A passage by id in ``language`` (see ``PassageReader.read``)."""
        self.library.ensure_index()
        return self.reader.read(self.reader.passage(passage_id), language, wait=wait)

    def translate(self, passage_id: str, language: str, text: str, user: str | None, force: bool = False) -> Passage:
        """Keep a trainer's translation of a passage (audit-logged); returns the passage as now read."""
        self.library.ensure_index()
        passage = self.reader.passage(passage_id)
        self._check_translation(passage, language, text, force)
        entry_user = user or default_user()
        with self.versions.lock:
            before, after = self.reader.trainers.put(passage, language, text, entry_user)
            name = f"{TRANSLATIONS_FOLDER}/{passage.document}.yaml"
            detail = f"{passage_id} -> {language}"
            self.versions.record(AuditEntry.now(entry_user, "translated", name, before, after, detail=detail))
        return self.reader.read(passage, language)

    def _check_translation(self, passage: Passage, language: str, text: str, force: bool) -> None:
        """A trainer's translation passes the machine's checks (language, numbers, meaning) or is refused.

        ``force`` keeps one the meaning check refuses (measured: 15 of 252 faithful curated translations of the
        shipped passages scored 0.83-0.85); language and numbers are never waived.
        """
        if language not in SUPPORTED_LANGUAGES or language == passage.language:
            raise InputError(
                f"{language!r}: translate {passage.id} into another language ({', '.join(SUPPORTED_LANGUAGES)})",
                field="language",
            )
        vectors = self.embedder.passages([passage.text, text.strip() or passage.text])
        similarity = float(vectors[0] @ vectors[1])
        problems = translation_problems(passage.text, text, language, similarity)
        if force:
            problems = [p for p in problems if not p.startswith(MEANING_DRIFTED)]
        if problems:
            raise InputError(
                f"translation of {passage.id} into {language} refused: {'; '.join(problems)}", field="text"
            )

    def translated_coverage(self) -> dict[str, dict[str, int]]:
        """Per criterion and language, the linked passages readable there through a translation."""
        self.library.ensure_index()
        links = self.links.read()
        linked = {cid: links.passages_of(cid) for cid in self.rubric.ids}
        return self.reader.translated_coverage([c.passage for c in self.store.all_passages()], linked)

    def translate_all(self) -> TranslationJob:
        """Start the background translation of the whole knowledge base (a ``TranslationJob``)."""
        self.library.ensure_index()
        return self.reader.start(lambda: [c.passage for c in self.store.all_passages()])

    @property
    def rubric(self) -> Rubric:
        """The scoring rubric from ``prompts/rubric.yaml`` (read once)."""
        with self.lock:
            if self._rubric is None:
                self._rubric = load_rubric(self.settings.prompts_dir)
            return self._rubric

    def _suggest(
        self, links: Links, passages: list[PassageRecord], targets: list[PassageRecord]
    ) -> Mapping[str, Sequence[Suggestion]]:
        """Suggested criteria for unlinked passages (the suggester embeds the rubric once, on first use)."""
        with self.lock:
            if self._suggester is None:
                self._suggester = CriterionSuggester(self.embedder, self.rubric)
        return self._suggester(links, passages, targets)

    def phrasebook(self) -> Phrasebook:
        """The phrasebook of the knowledge folder, else the shipped one (re-read when the file changes)."""
        return load_phrasebook(self.settings.knowledge_dir, shipped_knowledge_dir())

    def plain_words(self) -> PlainWords:
        """The plain-words glossary of the knowledge folder, else the shipped one (re-read when the file changes)."""
        return load_plain_words(self.settings.knowledge_dir, shipped_knowledge_dir())

    def known_vectors(self) -> dict[str, Any]:
        """The vectors computed when the phrasebook and the replies were mined (read once; empty when absent)."""
        with self.lock:
            if self._known_vectors is None:
                path = self.settings.knowledge_dir / VECTORS_FILE
                self._known_vectors = read_vectors(path if path.is_file() else shipped_knowledge_dir() / VECTORS_FILE)
            return self._known_vectors

    @property
    def replies(self) -> ReplyBook:
        """The good replies to similar messages (``replies.jsonl`` of the knowledge folder, else the shipped one)."""
        with self.lock:
            if self._replies is None:
                path = self.settings.knowledge_dir / REPLIES_FILE
                if not path.is_file():
                    path = shipped_knowledge_dir() / REPLIES_FILE
                folders = [f for f in (self.settings.prompts_dir, shipped_prompts_dir()) if (f / MODEL_JSON).is_file()]
                domains = DomainModel.load(folders[0]) if folders else None  # none: the closest replies vote
                self._replies = ReplyBook(
                    path, self.embedder, self.settings.data_dir, path.parent / VECTORS_FILE, domains, situation_kinds
                )
            return self._replies

    def linked(self, criterion: str) -> tuple[str, ...]:
        """The passages linked to a criterion now (the links file is re-read when a trainer changes it)."""
        return self.links.read().passages_of(criterion)

    @property
    def store(self) -> PassageStore:
        """The passage store (opened lazily)."""
        with self.lock:
            if self._store is None:
                self._store = PassageStore(
                    self.embedder,
                    path=None if self.settings.chroma_url else self.settings.resolved_index_dir,
                    url=self.settings.chroma_url,
                    collection=self.settings.collection,
                )
            return self._store

    @property
    def retriever(self) -> Retriever:
        """The retriever over the store."""
        with self.lock:
            if self._retriever is None:
                self._retriever = Retriever(self.store, self.embedder, self._retrieval_config)
            return self._retriever

    @property
    def llm(self) -> LLMProvider:
        """The LLM connection (the embedded server starts only when first needed)."""
        with self.lock:
            if self._llm is None:
                self._llm = LLMProvider(self.settings)
            return self._llm

    @property
    def results(self) -> ResultCache:
        """The on-disk cache of finished results (``<data_dir>/cache.sqlite3``)."""
        with self.lock:
            if self._results is None:
                self._results = ResultCache.in_data_dir(self.settings.data_dir)
            return self._results

    def close(self) -> None:
        """Stop what was started (the embedded LLM server) and close the cache."""
        if self._llm is not None:
            self._llm.close()
        if self._results is not None:
            self._results.close()
            self._results = None

    def retrieve(self, text: str, clock: Clock) -> tuple[Any, list[Passage]]:
        """A draft's vector and the passages a critique rests on, timed as the ``retrieval`` stage."""
        self.library.ensure_index()
        with clock.stage("retrieval"):
            vector = self.retriever.text_vector(text)
            passages = self.retriever.search(text, CRITIQUE_K, vector=vector)
        return vector, passages

    def search_draft(self, text: str) -> list[Passage]:
        """The passages a rewrite rests on."""
        self.library.ensure_index()
        return self.retriever.search(text, CRITIQUE_K)

    def question_vector(self, text: str) -> Any:
        """A question's vector, once the index is there."""
        self.library.ensure_index()
        return self.retriever.text_vector(text)

    def learned_critic(self, model: CriticModel) -> LearnedCritic:
        """The learned critic over a fitted model, the rubric, the "why" templates and the phrasebook."""
        return LearnedCritic(
            model,
            self.rubric,
            self.embedder,
            self.retriever.rank,
            self.linked,
            why=load_why(self.settings.prompts_dir),
            examples=self.examples,
        )

    @property
    def examples(self) -> ExamplePicker:
        """Chooses each issue's example from the phrasebook (shared by the critic and the rewrite)."""
        with self.lock:
            if self._examples is None:
                self._examples = ExamplePicker(
                    self.phrasebook,
                    self.embedder,
                    self.known_vectors,
                    general=lambda: self.replies.vocabulary(),
                    source_case=lambda reply_id: self.replies.situation_of(reply_id),
                    plain_words=self.plain_words,
                )
            return self._examples

    def adapter(self, rubric: Rubric, judge: Judge, mask: Mask) -> Adapter:
        """The LLM adapting an issue's example to the case, checked by code (the critic's verdict is ``judge``);
        made once, shared by the suggested sentence and the rewrite."""
        with self.lock:
            if self._adapter is None:
                self._adapter = self._new_adapter(rubric, judge, mask)
            return self._adapter

    def _new_adapter(self, rubric: Rubric, judge: Judge, mask: Mask) -> Adapter:
        prompts = {name: load_prompt(name, self.settings.prompts_dir) for name in ("adapt", "writer")}

        def advice(criterion: str) -> list[str]:
            texts = (rubric.criterion(criterion).fix, rubric.criterion(criterion).good)
            return [t.get(lang) for t in texts for lang in SUPPORTED_LANGUAGES]

        def reads_as(sentence: str, language: str) -> str | None:
            return self.examples.criterion_of(sentence, language, rubric.ids)

        return Adapter(lambda: self.llm, prompts, judge, self.replies.fits, advice, mask, reads_as=reads_as)

    def rewriter(self, rubric: Rubric, judge: Judge, mask: Mask) -> Rewriter:
        """The rewrite pipeline over these parts: sentence surgery with the critique's examples."""
        adapter = self.adapter(rubric, judge, mask)
        return Rewriter(
            search=self.search_draft,
            rubric=rubric,
            judge=adapter.judge,
            adapt=adapter.best if self.settings.rewrite_adapt else None,
            alternatives=self.examples.alternatives,
            model_name=lambda: self.llm.endpoint().model,
        )

    def suggester(self, rubric: Rubric, judge: Judge, mask: Mask) -> Suggester:
        """The suggested sentence: the top issue's example, adapted by the LLM when code's checks pass."""
        return Suggester(self.settings, lambda: self.llm, mask, self.adapter(rubric, judge, mask))

    def answerer(self) -> Answerer:
        """The ask pipeline over these parts."""
        return Answerer(
            vector=self.question_vector,
            search=lambda text, vector, language: self.retriever.search(
                text, CRITIQUE_K, vector=vector, language=language
            ),
            read=self.reader.read_all,
            picker=SentencePicker(self.embedder, self.settings.data_dir / SENTENCE_VECTORS_FILE),
            chat_model=lambda **options: self.llm.chat_model(**options),
            model_name=lambda: self.llm.endpoint().model,
            prompts=AskPrompts.load(self.settings.prompts_dir),
        )
