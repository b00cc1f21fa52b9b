"""JSON answers from any OpenAI-compatible server, validated, with one repair attempt.

Servers differ: some honour a strict JSON schema, some only ``json_object``, some neither (DESIGN.md). We
try them in that order, remember what the server accepted, parse with pydantic, run the caller's own
checks, and on failure show the model its error once. After that: ``InvalidModelOutput`` with the raw
text, never a crash or an empty success.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from coach.errors import Cancelled, InvalidModelOutput, LLMError
from coach.llm.client import follow_up, invoke_chat, map_llm_exception
from coach.models import Usage
from coach.progress import Partial
from coach.prompts import PromptTemplate

log = logging.getLogger(__name__)

OutputT = TypeVar("OutputT", bound=BaseModel)
Check = Callable[[Any], list[str]]
JSON_MODES = ("json_schema", "json_object", "prompt")
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass
class JsonModes:
    """Which structured-output mode the server accepted last (shared by all calls to one server)."""

    current: int = 0

    @property
    def name(self) -> str:
        """The mode tried first."""
        return JSON_MODES[self.current]

    def downgrade(self) -> bool:
        """Move to the next, weaker mode; False when there is none."""
        if self.current + 1 >= len(JSON_MODES):
            return False
        self.current += 1
        log.info("LLM server refused structured output; falling back to %s", self.name)
        return True


@dataclass
class JsonCall(Generic[OutputT]):
    """One validated JSON request: schema, parser model, extra checks and the repair prompt."""

    output: type[OutputT]
    schema: dict[str, Any]
    name: str
    max_tokens: int
    repair: PromptTemplate
    check: Check = field(default=lambda value: [])  # problems that make the answer unusable
    prefer: Check = field(default=lambda value: [])  # problems worth one repair, tolerated after it


def response_format(mode: str, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The ``response_format`` request field for a mode."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def parse_json(raw: str, output: type[OutputT]) -> OutputT:
    """The model's text as the output model; tolerates code fences and words around one JSON object."""
    text = raw.strip()
    match = _OBJECT.search(text)
    if match is None:
        raise ValueError("the answer contains no JSON object")
    try:
        data = json.loads(match.group())
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON: {exc}") from exc
    return output.model_validate(data)


def _problems(
    raw: str, finish_reason: str | None, call: JsonCall[OutputT]
) -> tuple[OutputT | None, list[str], list[str]]:
    """The parsed answer (if any), its hard problems and its soft ones."""
    if finish_reason == "length":
        return None, [f"the answer was cut off at {call.max_tokens} tokens: write less, keep every string short"], []
    try:
        value = parse_json(raw, call.output)
    except ValidationError as exc:
        return None, [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:8]], []
    except ValueError as exc:
        return None, [str(exc)], []
    return value, call.check(value), call.prefer(value)


def generate_json(
    chat_model: Any,
    messages: list[Any],
    call: JsonCall[OutputT],
    modes: JsonModes,
    usage: Usage,
    partial: Partial | None = None,
) -> OutputT:
    """Ask, validate, repair once; ``InvalidModelOutput`` when no answer is usable.

    Soft problems (``call.prefer``) earn the repair attempt but not an error: after it, the better of
    the two usable answers (fewer soft problems, the first on a tie) is returned.
    """
    raw, finish = _ask(chat_model, messages, call, modes, usage, partial)
    first, hard, soft = _problems(raw, finish, call)
    if not hard and not soft:
        return first  # type: ignore[return-value]
    log.info("invalid %s answer (%s); asking for a repair", call.name, "; ".join(hard + soft))
    usage.repairs += 1
    repair = call.repair.render(error="\n".join(f"- {p}" for p in hard + soft), previous=raw[:4000])
    raw, finish = _ask(chat_model, [*messages, *follow_up(raw, repair)], call, modes, usage, partial)
    second, hard_after, soft_after = _problems(raw, finish, call)
    if not hard_after and (hard or len(soft_after) < len(soft)):
        return second  # type: ignore[return-value]
    if not hard:
        return first  # type: ignore[return-value]
    raise InvalidModelOutput(
        f"the LLM's {call.name} failed validation twice: {'; '.join(hard_after)}", raw=raw, attempts=2
    )


def _ask(
    chat_model: Any,
    messages: list[Any],
    call: JsonCall[OutputT],
    modes: JsonModes,
    usage: Usage,
    partial: Partial | None,
) -> tuple[str, str | None]:
    """One request in the best mode the server accepts; a 400 on a structured mode moves to the next."""
    while True:
        fmt = response_format(modes.name, call.name, call.schema)
        model = chat_model.bind(response_format=fmt) if fmt else chat_model
        try:
            reply = invoke_chat(model, messages) if partial is None else stream_chat(model, messages, partial)
        except LLMError as exc:
            if exc.status in (400, 422, 501) and fmt is not None and modes.downgrade():
                continue
            raise
        usage.add(usage_of(reply))
        return str(reply.content), (reply.response_metadata or {}).get("finish_reason")


def usage_of(reply: Any) -> Usage:
    """Token counts of one langchain reply."""
    tokens = reply.usage_metadata or {}
    return Usage(prompt_tokens=tokens.get("input_tokens", 0), completion_tokens=tokens.get("output_tokens", 0), calls=1)


def stream_chat(chat_model: Any, messages: list[Any], partial: Partial) -> Any:
    """Stream one answer into ``partial.text``; stops early (``Cancelled``) when the listener went away."""
    partial.text = ""
    merged = None
    try:
        for chunk in chat_model.stream(messages, stream_usage=True):
            merged = chunk if merged is None else merged + chunk
            if chunk.content:
                partial.text += str(chunk.content)
                partial.updated.set()
            if partial.cancelled:
                raise Cancelled("cancelled")
    except LLMError:
        raise
    except Exception as exc:  # the boundary: client errors become LLMError
        raise map_llm_exception(exc) from exc
    if merged is None:
        raise LLMError("the LLM server sent an empty stream")
    return merged
