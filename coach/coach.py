"""The ``Coach`` facade: the one public entry point the CLI, the app and scripts call."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from coach.answers import Answerer, AskPrompts, SentencePicker
from coach.cache import ResultCache, cache_key
from coach.critic import CriticModel, load_critic_model
from coach.critique import LearnedCritic
from coach.embeddings import Embedder, shared_embedder
from coach.errors import InputError, KnowledgeError, NewVersionError
from coach.facts import mask_pii, unmask
from coach.feedback import overall_score
from coach.index import PassageStore
from coach.json_critic import (
    DraftCritique,
    check_critique,
    check_language,
    critique_schema,
    ground_critique,
    passages_block,
)
from coach.knowledge import (
    DOCUMENT_SUFFIXES,
    NOTES_FOLDER,
    Document,
    decode_document,
    find_document_files,
    parse_document,
    read_document,
)
from coach.language import detect_language, language_name
from coach.llm import LLMProvider, LLMStatus, chat_messages
from coach.models import Answer, Critique, IndexReport, Passage, Progress, Rewrite, Usage
from coach.progress import Clock, final_result, while_running
from coach.prompts import PromptTemplate, Rubric, load_prompt, load_rubric
from coach.resources import seed_knowledge
from coach.retrieval import RetrievalConfig, Retriever
from coach.rewriting import RewritePrompts, Rewriter
from coach.settings import Settings
from coach.structured import JsonCall, JsonModes, OutputT, Partial, generate_json
from coach.versions import (
    Action,
    AuditEntry,
    DocumentChange,
    DocumentInfo,
    DocumentVersion,
    VersionStore,
    atomic_write,
    check_name,
    default_user,
    describe_change,
    sha256_of,
)

log = logging.getLogger(__name__)

MAX_K = 50
CRITIQUE_K = 5
NO_CUSTOMER_MESSAGE = "(none)"
_SEPARATOR = "\n\u0000\n"  # joins draft and message for masking; no PII pattern spans it
JSON_CRITIQUE_TOKENS = 900


ResultT = TypeVar("ResultT", Critique, Rewrite, Answer)


def _with_bytes(documents: list[Document], skipped: dict[str, str]) -> tuple[list[Document], dict[str, bytes]]:
    """The documents still readable, and their bytes by file name (one that vanished since is skipped)."""
    readable, current = [], {}
    for doc in documents:
        assert doc.path is not None  # read from the folder
        try:
            current[doc.path.name] = doc.path.read_bytes()
        except OSError as exc:
            skipped[doc.path.name] = f"cannot be read ({exc.strerror})"
            continue
        readable.append(doc)
    return readable, current


def _retrieved(passages: list[Passage], clock: Clock) -> Progress:
    """The first event of every stream: the passages found, within a second."""
    return Progress(
        stage="retrieved",
        passages=passages,
        elapsed_s=clock.elapsed(),
        message=f"{len(passages)} guideline passages found",
    )


class Coach:
    """Knowledge base, retrieval and (in later layers) critique, rewrite and ask.

    Creating a Coach is cheap: models and stores open on first use.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        retrieval: RetrievalConfig | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder or shared_embedder(self.settings.embed_threads)
        self._retrieval_config = retrieval
        self._store: PassageStore | None = None
        self._retriever: Retriever | None = None
        self._open_lock = threading.RLock()  # lazily opened parts are shared by the app's and batch's threads
        # Kept versions, the audit log and the knowledge base's lock; made here (no I/O) so every thread shares it.
        self.versions = VersionStore(self.settings.data_dir)
        self._index_checked = False
        self._llm: LLMProvider | None = None
        self._json_modes = JsonModes()
        self._results: ResultCache | None = None
        self._prompts: dict[str, PromptTemplate] = {}

    @property
    def store(self) -> PassageStore:
        """The passage store (opened lazily)."""
        with self._open_lock:
            if self._store is None:
                self._store = PassageStore(
                    self._embedder,
                    path=None if self.settings.chroma_url else self.settings.resolved_index_dir,
                    url=self.settings.chroma_url,
                    collection=self.settings.collection,
                )
            return self._store

    @property
    def retriever(self) -> Retriever:
        """The retriever over the store."""
        with self._open_lock:
            if self._retriever is None:
                self._retriever = Retriever(self.store, self._embedder, self._retrieval_config)
            return self._retriever

    @property
    def llm(self) -> LLMProvider:
        """The LLM connection (the embedded server starts only when first needed)."""
        with self._open_lock:
            if self._llm is None:
                self._llm = LLMProvider(self.settings)
            return self._llm

    def llm_status(self) -> LLMStatus:
        """Which LLM is in use and whether it answers."""
        return self.llm.status()

    def close(self) -> None:
        """Stop what this Coach started (the embedded LLM server)."""
        if self._llm is not None:
            self._llm.close()
        if self._results is not None:
            self._results.close()
            self._results = None

    def load_documents(self) -> tuple[list[Document], dict[str, str]]:
        """Readable documents of the knowledge folder, and the reason each unreadable one was skipped."""
        documents: list[Document] = []
        skipped: dict[str, str] = {}
        seen: dict[str, str] = {}
        seed_knowledge(self.settings.knowledge_dir)  # an installed tool's default folder starts as a copy
        for path in find_document_files(self.settings.knowledge_dir):
            try:
                doc = read_document(path, self.settings.max_document_bytes, self.settings.knowledge_dir / NOTES_FOLDER)
            except KnowledgeError as exc:
                skipped[path.name] = str(exc).removeprefix(f"{path.name}: ")
                continue
            if doc.id in seen:
                skipped[path.name] = f"document id {doc.id!r} is already used by {seen[doc.id]}"
                continue
            seen[doc.id] = path.name
            documents.append(doc)
        return documents, skipped

    def index(self, *, user: str | None = None) -> IndexReport:
        """Bring the index in line with the knowledge folder; unchanged documents cost nothing.

        A document edited or deleted by hand since the last run has its indexed version kept in the history.
        """
        with self.versions.lock:
            documents, skipped = self.load_documents()
            documents, current = _with_bytes(documents, skipped)
            self.versions.keep_folder_changes(current, user or default_user())
            report = self.store.sync(documents, skipped)
            self.versions.set_indexed(current)
            self._index_checked = True
        for path, reason in skipped.items():
            log.warning("skipped %s: %s", path, reason)
        return report

    def ensure_index(self) -> None:
        """Build the index on first use if it is empty (e.g. a fresh install or a wiped store)."""
        if self._index_checked:
            return
        with self.versions.lock, self._open_lock:  # the order every change takes them in
            if self._index_checked:
                return
            if self.store.count() == 0:
                log.info("index is empty: building it from %s", self.settings.knowledge_dir)
                self.index()
            self._index_checked = True

    def search(self, text: str, k: int = 5) -> list[Passage]:
        """The k guideline passages that matter most for a draft or question, in any language."""
        query = self.check_text(text, "query")
        if not 1 <= k <= MAX_K:
            raise InputError(f"k must be between 1 and {MAX_K}, got {k}", field="k", limit=MAX_K)
        self.ensure_index()
        return self.retriever.search(query, k)

    def prepare(self, texts: list[str]) -> None:
        """Embed many drafts in one batch so their critiques skip that step (used by batch evaluation)."""
        self.ensure_index()
        self.retriever.prime([t.strip() for t in texts if isinstance(t, str)])

    def check_text(self, text: str, field: str) -> str:
        """The text, stripped, or an ``InputError`` when it is empty or too long."""
        if not isinstance(text, str):
            raise InputError(f"{field} must be text", field=field)
        stripped = text.strip()
        if not stripped:
            raise InputError(f"{field} is empty", field=field)
        limit = self.settings.max_input_chars
        if len(stripped) > limit:
            raise InputError(
                f"{field} is {len(stripped):,} characters; the limit is {limit:,} (COACH_MAX_INPUT_CHARS)",
                field=field,
                limit=limit,
            )
        return stripped

    def _upload(self, filename: str, content: bytes) -> tuple[str, bytes]:
        """A checked upload: its file name and its text as it will be written (UTF-8, ``\\n`` line ends)."""
        name = Path(filename).name
        if Path(name).suffix.lower() not in DOCUMENT_SUFFIXES:
            raise InputError(f"{name}: only {' and '.join(DOCUMENT_SUFFIXES)} files are accepted", field="file")
        try:
            text = decode_document(content, name, self.settings.max_document_bytes)
            parse_document(text, name)
        except KnowledgeError as exc:
            raise InputError(str(exc), field="file", limit=self.settings.max_document_bytes) from exc
        return name, text.encode("utf-8")

    def preview_document(self, filename: str, content: bytes) -> DocumentChange:
        """What uploading this file would change (passages added, changed, removed); changes nothing."""
        name, data = self._upload(filename, content)
        target = self.settings.knowledge_dir / name
        return describe_change(name, target.read_bytes() if target.is_file() else None, data)

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

        A file whose name exists with other content is a new version: without ``replace=True`` nothing
        changes and ``NewVersionError`` carries the change (see ``preview_document``); with it, the old
        version goes into the history first. A page that previewed the change passes the previewed
        ``change.before_sha256`` as ``base_sha256``: if the document changed since, it is asked again.
        """
        name, data = self._upload(filename, content)
        target = self.settings.knowledge_dir / name
        with self.versions.lock:
            old = target.read_bytes() if target.is_file() else None
            if old == data:
                return self.index(user=user)
            kept = None
            if old is not None:
                if not replace or (base_sha256 is not None and base_sha256 != sha256_of(old)):
                    change = describe_change(name, old, data)
                    raise NewVersionError(
                        f"{name} exists: this upload is a new version ({change.summary()}); "
                        "confirm it to keep the old version in the history and use this one",
                        change=change,
                    )
                kept = self.versions.keep(name, old).version
            atomic_write(target, data)
            self._audit(user, "replaced" if old is not None else "added", name, old, data, kept)
            return self.index(user=user)

    def documents(self) -> list[DocumentInfo]:
        """The documents of the knowledge folder now, with how many earlier versions each has."""
        documents, skipped = self.load_documents()
        by_name = {doc.path.name: doc for doc in documents if doc.path is not None}
        infos = []
        for path in find_document_files(self.settings.knowledge_dir):
            doc, stat, data = by_name.get(path.name), path.stat(), path.read_bytes()
            infos.append(
                DocumentInfo(
                    name=path.name,
                    id=doc.id if doc else None,
                    title=doc.title if doc else None,
                    language=doc.language if doc else None,
                    sha256=sha256_of(data),
                    size=len(data),
                    modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                    versions=len(self.versions.history(path.name)),
                    problem=skipped.get(path.name),
                )
            )
        return infos

    def document_history(self, name: str) -> list[DocumentVersion]:
        """The kept earlier versions of a document, oldest first."""
        return self.versions.history(check_name(name))

    def audit_log(self, name: str | None = None) -> list[AuditEntry]:
        """Every change to the knowledge base (or to one document), oldest first."""
        return self.versions.audit(check_name(name) if name is not None else None)

    def revert_document(self, name: str, version: int | None = None, *, user: str | None = None) -> IndexReport:
        """Bring back a kept version (default: the newest that differs from the document now); re-index."""
        target = self.settings.knowledge_dir / check_name(name)
        with self.versions.lock:
            current = target.read_bytes() if target.is_file() else None
            if version is not None:
                chosen = self.versions.version(name, version)
            else:
                now = sha256_of(current) if current is not None else None
                older = [v for v in self.versions.history(name) if v.sha256 != now]
                if not older:
                    raise InputError(f"{name} has no earlier version to revert to", field="version")
                chosen = older[-1]
            data = chosen.path.read_bytes()
            kept = self.versions.keep(name, current).version if current is not None and current != data else None
            atomic_write(target, data)
            self._audit(user, "reverted", name, current, data, kept, f"to version {chosen.version}")
            return self.index(user=user)

    def remove_document(self, name: str, *, user: str | None = None) -> IndexReport:
        """Take a document out of the knowledge folder and the index; it stays in the history."""
        target = self.settings.knowledge_dir / check_name(name)
        with self.versions.lock:
            if not target.is_file():
                raise InputError(f"there is no document {name} in {self.settings.knowledge_dir}", field="name")
            current = target.read_bytes()
            kept = self.versions.keep(name, current).version
            target.unlink()
            self._audit(user, "removed", name, current, None, kept)
            return self.index(user=user)

    def _audit(
        self,
        user: str | None,
        action: Action,
        name: str,
        before: bytes | None,
        after: bytes | None,
        version: int | None,
        detail: str = "",
    ) -> None:
        self.versions.record(
            AuditEntry(
                at=datetime.now(UTC),
                user=user or default_user(),
                action=action,
                document=name,
                before_sha256=sha256_of(before) if before is not None else None,
                after_sha256=sha256_of(after) if after is not None else None,
                version=version,
                detail=detail,
            )
        )

    # ------------------------------------------------------------------ critique

    @functools.cached_property
    def rubric(self) -> Rubric:
        """The scoring rubric from ``prompts/rubric.yaml``."""
        return load_rubric(self.settings.prompts_dir)

    @functools.cached_property
    def critic_model(self) -> CriticModel:
        """The fitted critic (``prompts/critic_model.json``, made by ``coach train-critic``)."""
        return load_critic_model(self.settings.prompts_dir)

    @functools.cached_property
    def learned_critic(self) -> LearnedCritic:
        """The learned critic over the fitted model, the rubric and this Coach's embedder."""
        return LearnedCritic(self.critic_model, self.rubric, self._embedder, self.retriever.rank)

    @property
    def critic_mode(self) -> str:
        """``learned`` or ``json``: COACH_CRITIC, where ``auto`` means the learned critic."""
        return "json" if self.settings.critic == "json" else "learned"

    def critique(self, draft: str, customer_message: str | None = None) -> Critique:
        """Scores, quoted issues and strengths for a draft, each issue citing the guideline passages it rests on."""
        return final_result(self._critique_events(draft, customer_message, live=False), Critique)

    @property
    def results(self) -> ResultCache:
        """The on-disk cache of finished results (``<data_dir>/cache.sqlite3``)."""
        with self._open_lock:
            if self._results is None:
                self._results = ResultCache.in_data_dir(self.settings.data_dir)
            return self._results

    def _cache_key(self, kind: str, passages: list[Passage], *texts: str | None) -> str:
        """Same critic model (or LLM and prompts), rubric, passages and input: same result.

        A learned critique names no LLM, so computing its key never starts the embedded server.
        """
        parts: list[Any] = [kind, self.critic_mode, self.rubric.version, self.critic_model.fingerprint]
        if kind != "critique" or self.critic_mode == "json":
            endpoint = self.llm.endpoint()
            versions = self._prompt_version("system", "critique", "rewrite", "ask")
            parts += [endpoint.model, endpoint.base_url, versions, self.settings.redact_pii]
        return cache_key(*parts, [p.id for p in passages], *texts)

    def critique_stream(self, draft: str, customer_message: str | None = None) -> Iterator[Progress]:
        """``critique`` step by step: passages first (within a second), then LLM progress, then the result."""
        return self._critique_events(draft, customer_message, live=True)

    def _critique_events(self, draft: str, customer_message: str | None, *, live: bool) -> Iterator[Progress]:
        """The critique's events; ``live`` streams the LLM's tokens (for pages), else one plain call (batch)."""
        clock = Clock()
        draft, customer = self._check_inputs(draft, customer_message)
        vector, passages = self._retrieve(draft, clock)
        yield _retrieved(passages, clock)
        key = self._cache_key("critique", passages, draft, customer)
        cached = self.results.get(key) if self.settings.cache else None
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
        if self.critic_mode == "json":
            stream = self._json_critique(draft, customer, language, passages, clock, live=live)
        else:
            stream = self._learned_critique(draft, customer, language, vector, passages, clock)
        for event in stream:
            if event.result is not None and self.settings.cache:
                self.results.put(key, event.result.model_dump(mode="json"))
            yield event

    def _check_inputs(self, draft: str, customer_message: str | None) -> tuple[str, str | None]:
        checked = self.check_text(draft, "draft")
        if customer_message is None or not str(customer_message).strip():
            return checked, None
        return checked, self.check_text(customer_message, "customer_message")

    def _retrieve(self, text: str, clock: Clock) -> tuple[Any, list[Passage]]:
        self.ensure_index()
        with clock.stage("retrieval"):
            vector = self.retriever.text_vector(text)
            passages = self.retriever.search(text, CRITIQUE_K, vector=vector)
        return vector, passages

    def _learned_critique(
        self, draft: str, customer: str | None, language: str, vector: Any, passages: list[Passage], clock: Clock
    ) -> Iterator[Progress]:
        with clock.stage("critic"):
            critique = self.learned_critic.critique(draft, customer, language, vector, passages)
        finished = critique.model_copy(
            update={
                "model": self.critic_model.version,
                "prompt_version": f"{self.rubric.version}+{self.critic_model.version}",
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
        usage = Usage()
        masked_draft, masked_customer, pii = self._masked(draft, customer)
        prompt = self._draft_prompt("critique", masked_draft, masked_customer, passages, language)
        call = JsonCall(
            output=DraftCritique,
            schema=critique_schema(self.rubric.ids, [p.id for p in passages]),
            name="critique",
            max_tokens=JSON_CRITIQUE_TOKENS,
            repair=self._prompt("repair"),
            check=lambda value: check_critique(value, self.rubric),
            prefer=lambda value: check_language(value, language),
        )
        messages = self._messages(language, prompt)
        with clock.stage("llm"):
            value = yield from self._generate_json(messages, call, usage, clock, passages, "writing the critique", live)
        with clock.stage("feedback"):
            scores, issues, strengths, grounding = ground_critique(value, draft, language, self.rubric, passages, pii)
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
            rubric=self.rubric.prompt_text(anchors=False),
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
        chat = self.llm.chat_model(max_tokens=call.max_tokens)
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

    def _done(self, result: ResultT, prompts: tuple[str, ...], usage: Usage, clock: Clock) -> Progress:
        """The final event: the result stamped with model, prompt versions, usage and timings."""
        finished = result.model_copy(
            update={
                "model": self.llm.endpoint().model,
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

    def _masked(self, draft: str, customer: str | None) -> tuple[str, str | None, dict[str, str]]:
        """Draft and message as the LLM may see them, and the placeholders to restore (COACH_REDACT_PII).

        Both are masked as one text so a placeholder never stands for two different values.
        """
        if not self.settings.redact_pii:
            return draft, customer, {}
        if customer is None:
            masked_draft, pii = mask_pii(draft)
            return masked_draft, None, pii
        joined, pii = mask_pii(f"{draft}{_SEPARATOR}{customer}")
        masked_draft, masked_customer = joined.split(_SEPARATOR, 1)
        return masked_draft, masked_customer, pii

    def _prompt(self, name: str) -> PromptTemplate:
        """A prompt template, read from ``prompts/`` once per Coach (not on every request)."""
        if name not in self._prompts:
            self._prompts[name] = load_prompt(name, self.settings.prompts_dir)
        return self._prompts[name]

    def _prompt_version(self, *names: str) -> str:
        versions = [self._prompt(name).version for name in names]
        return "+".join([*versions, self.rubric.version])

    def suggest_stream(self, draft: str, critique: Critique, customer_message: str | None = None) -> Iterator[str]:
        """One sentence the agent can paste for the critique's top issues, in the draft's language, as it grows.

        Each value replaces the previous one. Comes after the critique (which never waits for it); nothing
        when the critique found no issue. LLM failures raise ``LLMError`` with a readable message.
        """
        from coach.suggestions import suggest_stream

        draft, customer = self._check_inputs(draft, customer_message)
        if not critique.issues:
            return
        masked_draft, masked_customer, pii = self._masked(draft, customer)
        for sentence in suggest_stream(
            self.llm,
            self._prompt("suggest"),
            masked_draft,
            masked_customer,
            critique.issues,
            critique.language,
            system=self._prompt("writer"),
        ):
            yield unmask(sentence, pii)

    # ------------------------------------------------------------------ rewrite (coach/rewriting.py)

    def rewrite(self, draft: str, customer_message: str | None = None) -> Rewrite:
        """An improved reply that keeps the draft's facts, checked before it is called an improvement."""
        return final_result(self.rewrite_stream(draft, customer_message), Rewrite)

    def rewrite_stream(self, draft: str, customer_message: str | None = None) -> Iterator[Progress]:
        """``rewrite`` step by step: passages, the new text as it is written, the checks, the result."""
        checked, customer = self._check_inputs(draft, customer_message)
        yield from self.rewriter.stream(checked, customer)

    @functools.cached_property
    def rewriter(self) -> Rewriter:
        """The rewrite pipeline, judged by this Coach's own critique."""
        return Rewriter(
            search=self._search_draft,
            chat_model=lambda **options: self.llm.chat_model(**options),
            model_name=lambda: self.llm.endpoint().model,
            prompts=RewritePrompts.load(self.settings.prompts_dir),
            rubric=self.rubric,
            judge=self.critique,
            mask=self._masked,
        )

    def _search_draft(self, text: str) -> list[Passage]:
        self.ensure_index()
        return self.retriever.search(text, CRITIQUE_K)

    # ------------------------------------------------------------------ ask (coach/answers.py)

    def ask(self, question: str) -> Answer:
        """What the guidelines say about a question, with [n] citations of the passages it rests on."""
        return final_result(self.ask_stream(question), Answer)

    def ask_stream(self, question: str) -> Iterator[Progress]:
        """``ask`` step by step: passages and their best sentences, the answer as it is written, the result."""
        checked = self.check_text(question, "question")
        yield from self.answerer.stream(checked)

    @functools.cached_property
    def answerer(self) -> Answerer:
        """The ask pipeline."""
        return Answerer(
            vector=self._question_vector,
            search=lambda text, vector: self.retriever.search(text, CRITIQUE_K, vector=vector),
            picker=SentencePicker(self._embedder),
            chat_model=lambda **options: self.llm.chat_model(**options),
            model_name=lambda: self.llm.endpoint().model,
            prompts=AskPrompts.load(self.settings.prompts_dir),
        )

    def _question_vector(self, text: str) -> Any:
        self.ensure_index()
        return self.retriever.text_vector(text)

    # ------------------------------------------------------------------ batch evaluation (coach/batch.py)

    def evaluate(self, rows: Any, **options: Any) -> Iterator[Any]:
        """Critique many replies with the same rubric; yields one result per row (see `coach.batch`)."""
        from coach import batch

        return batch.evaluate(self, rows, **options)

    def evaluate_file(self, source: str | Path, destination: str | Path, **options: Any) -> Any:
        """Score a CSV/JSONL file of replies into append-only JSONL, resumable; returns the summary."""
        from coach import batch

        return batch.evaluate_file(self, source, destination, **options)
