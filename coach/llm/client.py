"""The LLM connection: an OpenAI-compatible chat model through langchain, or the embedded one.

With ``COACH_LLM_BASE_URL`` unset, the embedded llama.cpp server is started once, on demand, and
stopped on exit. The only module that imports ``openai`` / ``langchain_openai``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from coach.errors import LLMError
from coach.llm.server import EmbeddedLLMServer
from coach.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m (embedded)"


@dataclass(frozen=True)
class Endpoint:
    """Where the LLM answers: base URL, model name, key, and whether it is the embedded server."""

    base_url: str
    model: str
    api_key: SecretStr
    embedded: bool

    @property
    def label(self) -> str:
        """A one-line description for logs and `coach llm status`."""
        where = "embedded llama.cpp server" if self.embedded else "OpenAI-compatible server"
        return f"{self.model} via {where} at {self.base_url}"


@dataclass(frozen=True)
class LLMStatus:
    """Which LLM is configured and whether it answered a tiny request."""

    endpoint: str
    answers: bool
    detail: str
    latency_s: float


class LLMProvider:
    """Resolves the endpoint once per process and hands out chat models bound to it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._endpoint: Endpoint | None = None
        self._server: EmbeddedLLMServer | None = None
        self._models: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def endpoint(self) -> Endpoint:
        """The configured server, or the embedded one (started now if it is not running)."""
        with self._lock:
            if self._endpoint is None:
                self._endpoint = self._resolve()
                log.info("LLM: %s", self._endpoint.label)
            return self._endpoint

    def _resolve(self) -> Endpoint:
        settings = self._settings
        if settings.llm_base_url:
            key = settings.llm_api_key or _env_secret("OPENAI_API_KEY") or SecretStr("not-needed")
            return Endpoint(settings.llm_base_url.rstrip("/"), settings.llm_model, key, embedded=False)
        self._server = EmbeddedLLMServer.from_cache(settings.data_dir).start()
        return Endpoint(self._server.base_url, EMBEDDED_MODEL_NAME, SecretStr("local"), embedded=True)

    def chat_model(self, *, max_tokens: int, temperature: float = 0.0, **options: Any) -> Any:
        """A langchain ``ChatOpenAI`` bound to the endpoint, with bounded retries and a timeout.

        Made once per set of options and reused (thread-safe): each one holds its own HTTP client,
        which costs more CPU to build than a whole request to a fast server.
        """
        key = (max_tokens, temperature, tuple(sorted(options.items())))
        with self._lock:
            model = self._models.get(key)
        if model is None:
            model = self._new_chat_model(max_tokens, temperature, options)
            with self._lock:
                model = self._models.setdefault(key, model)
        return model

    def _new_chat_model(self, max_tokens: int, temperature: float, options: dict[str, Any]) -> Any:
        from langchain_openai import ChatOpenAI

        endpoint = self.endpoint()
        return ChatOpenAI(
            model=endpoint.model,
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            temperature=temperature,
            max_completion_tokens=max_tokens,
            timeout=self._settings.llm_timeout_s,
            max_retries=self._settings.llm_max_retries,
            seed=0,
            **options,
        )

    def status(self) -> LLMStatus:
        """Ask the LLM for one word; never raises for an LLM that is down."""
        from langchain_core.messages import HumanMessage, SystemMessage

        started = time.perf_counter()
        try:
            endpoint = self.endpoint()
            reply = self.chat_model(max_tokens=5).invoke(
                [SystemMessage("You answer with one word."), HumanMessage("Say OK.")]
            )
        except LLMError as exc:
            return LLMStatus(self._describe(), False, str(exc), time.perf_counter() - started)
        except Exception as exc:  # the status check reports any failure instead of crashing
            error = map_llm_exception(exc)
            return LLMStatus(self._describe(), False, str(error), time.perf_counter() - started)
        return LLMStatus(
            endpoint.label, True, f"answered {str(reply.content).strip()!r}", time.perf_counter() - started
        )

    def _describe(self) -> str:
        if self._endpoint is not None:
            return self._endpoint.label
        if self._settings.llm_base_url:
            return f"{self._settings.llm_model} at {self._settings.llm_base_url}"
        return "embedded llama.cpp server"

    def close(self) -> None:
        """Stop the embedded server if this provider started it."""
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None
            self._endpoint = None
            self._models.clear()


def chat_messages(system: str, *turns: str) -> list[Any]:
    """A system message, then the turns alternating user / assistant (the user speaks first)."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = (HumanMessage, AIMessage)
    return [SystemMessage(system), *(kinds[n % 2](turn) for n, turn in enumerate(turns))]


def follow_up(answer: str, request: str) -> list[Any]:
    """The model's previous answer and the user's next request, to append to a conversation."""
    from langchain_core.messages import AIMessage, HumanMessage

    return [AIMessage(answer), HumanMessage(request)]


def invoke_chat(chat_model: Any, messages: list[Any]) -> Any:
    """One chat call; any failure of the client becomes an ``LLMError`` naming what went wrong."""
    try:
        return chat_model.invoke(messages)
    except Exception as exc:  # the boundary: openai/httpx errors become LLMError here, and only here
        raise map_llm_exception(exc) from exc


def _env_secret(name: str) -> SecretStr | None:
    value = os.environ.get(name)
    return SecretStr(value) if value else None


def map_llm_exception(exc: Exception) -> LLMError:
    """An ``LLMError`` whose message is one readable sentence saying what went wrong and what to do.

    Never the client's own text: it can hold a Python repr or a usage dump (issue 14).
    """
    import openai

    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, openai.LengthFinishReasonError):
        return LLMError("the LLM's answer was cut off at its length limit: shorten the draft and try again")
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("the LLM did not answer in time: try again, or shorten the text (COACH_LLM_TIMEOUT_S)")
    if isinstance(exc, openai.RateLimitError):
        return LLMError(
            "the LLM server is rate-limiting requests (HTTP 429): try again in a minute",
            status=429,
            retry_after=_retry_after(exc.response.headers.get("retry-after")),
        )
    if isinstance(exc, openai.APIStatusError):
        return LLMError(
            f"the LLM server answered HTTP {exc.status_code}: {_short(exc.message)}; try again or check the LLM server",
            status=exc.status_code,
            retry_after=_retry_after(exc.response.headers.get("retry-after")),
        )
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("cannot reach the LLM server: check that it runs (COACH_LLM_BASE_URL) and try again")
    log.warning("unreadable LLM answer: %r", exc)
    return LLMError("the LLM server sent an answer coach cannot read: try again, or check the LLM server")


def _short(message: str, limit: int = 120) -> str:
    """The server's own error message on one line, cut short (it may be a whole JSON body)."""
    line = " ".join(str(message).split())
    return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + " …"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are rare from LLM servers: ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
