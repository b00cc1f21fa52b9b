"""A tiny local OpenAI-compatible HTTP server for tests: it can answer, fail, throttle, stall or stream.

It speaks just enough of ``POST /v1/chat/completions`` for coach: plain answers, ``logprobs`` with
``top_logprobs`` (the Yes/No scorer), and ``stream: true`` as server-sent events.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    """What the server does with each request; tests change it between calls."""

    content: str = "OK"
    respond: Callable[[dict], str] | None = None  # content chosen per request (overrides `content`)
    yes_probability: float | Callable[[dict], float] = 0.5  # for logprobs requests answered "Yes"/"No"
    status: int = 200
    status_for: Callable[[dict], int] | None = None  # status chosen per request (overrides `status`)
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0  # pause between streamed pieces (a model writing token by token)
    retry_after: str | None = None
    raw_body: str | None = None  # sent as-is instead of a completion (malformed answers)
    finish_reason: str = "stop"
    die_after: int | None = None  # drop every request after the first N without answering (a server killed mid-run)
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def content_for(self, request: dict) -> str:
        """The answer text for this request."""
        return self.respond(request) if self.respond is not None else self.content


def last_user_text(request: dict) -> str:
    """The text of the last user message of a chat request (handy inside `respond` functions)."""
    for message in reversed(request.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def _logprobs(request: dict, state: Behaviour) -> tuple[str, dict]:
    chance = state.yes_probability
    p_yes = chance(request) if callable(chance) else chance
    p_yes = min(max(p_yes, 1e-6), 1 - 1e-6)
    token = "Yes" if p_yes >= 0.5 else "No"
    top = [
        {"token": "Yes", "logprob": math.log(p_yes), "bytes": None},
        {"token": "No", "logprob": math.log(1 - p_yes), "bytes": None},
    ]
    entry = {"token": token, "logprob": math.log(max(p_yes, 1 - p_yes)), "bytes": None, "top_logprobs": top}
    return token, {"content": [entry]}


def _completion(request: dict, state: Behaviour) -> dict:
    choice: dict = {"index": 0, "finish_reason": state.finish_reason}
    if request.get("logprobs"):
        content, choice["logprobs"] = _logprobs(request, state)
    else:
        content = state.content_for(request)
    choice["message"] = {"role": "assistant", "content": content}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake"),
        "choices": [choice],
        "usage": {"prompt_tokens": 10, "completion_tokens": max(1, len(content) // 4), "total_tokens": 11},
    }


def _stream_events(request: dict, state: Behaviour) -> Iterator[str]:
    content = state.content_for(request)
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.get("model", "fake"),
    }
    pieces = [content[i : i + 8] for i in range(0, len(content), 8)] or [""]
    for piece in pieces:
        delta = {"role": "assistant", "content": piece}
        chunk = base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        yield f"data: {json.dumps(chunk)}\n\n"
    last = base | {
        "choices": [{"index": 0, "delta": {}, "finish_reason": state.finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(pieces), "total_tokens": 10 + len(pieces)},
    }
    yield f"data: {json.dumps(last)}\n\n"
    yield "data: [DONE]\n\n"


@contextmanager
def fake_openai_server(behaviour: Behaviour | None = None) -> Iterator[tuple[str, Behaviour]]:
    """Serve on a free loopback port; yields (base_url, behaviour)."""
    state = behaviour or Behaviour()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                state.requests.append(request)
                dead = state.die_after is not None and len(state.requests) > state.die_after
            if dead:
                self.close_connection = True  # no status line, no body: the client sees the connection drop
                return
            if state.delay_s:
                time.sleep(state.delay_s)
            status = state.status_for(request) if state.status_for is not None else state.status
            if status == 200 and state.raw_body is None and request.get("stream"):
                self._send_stream(request)
                return
            if status != 200:
                body = json.dumps({"error": {"message": f"fake error {status}", "type": "fake"}})
            elif state.raw_body is not None:
                body = state.raw_body
            else:
                body = json.dumps(_completion(request, state))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if state.retry_after is not None:
                self.send_header("Retry-After", state.retry_after)
            encoded = body.encode()
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(encoded)

        def _send_stream(self, request: dict) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                for event in _stream_events(request, state):
                    self.wfile.write(event.encode())
                    self.wfile.flush()
                    time.sleep(state.chunk_delay_s)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()


def quoted_section(text: str, name: str) -> str:
    """The text between ``<<<NAME`` and ``NAME>>>`` of a prompt (the draft, the customer message)."""
    start, end = text.find(f"<<<{name}\n"), text.find(f"\n{name}>>>")
    return text[start + len(name) + 4 : end] if 0 <= start < end else ""


def critique_answer(request: dict, criteria: list[str], score: int = 3) -> str:
    """A valid English answer of the JSON critic for this request: every criterion scored, one quoted issue."""
    prompt = last_user_text(request)
    draft = quoted_section(prompt, "DRAFT")
    passage_ids = [line[1:].split("]", 1)[0] for line in prompt.splitlines() if line.startswith("[") and "]" in line]
    answer = {
        "scores": [
            {"criterion": c, "score": score, "reason": "The reply handles this part well enough."} for c in criteria
        ],
        "issues": [
            {
                "criterion": criteria[0],
                "severity": "medium",
                "quote": " ".join(draft.split()[:3]),
                "explanation": "The opening does not acknowledge how the customer feels.",
                "suggestion": "Start by saying you understand the frustration.",
                "passage_ids": passage_ids[:1],
            }
        ],
        "strengths": ["The reply gives a clear next step."],
    }
    return json.dumps(answer)
