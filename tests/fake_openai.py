"""A tiny local OpenAI-compatible HTTP server for fault tests: it can answer, fail, throttle or stall."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    """What the server does with each request; tests change it between calls."""

    content: str = "OK"
    status: int = 200
    delay_s: float = 0.0
    retry_after: str | None = None
    raw_body: str | None = None  # sent as-is instead of a completion (malformed answers)
    requests: list[dict] = field(default_factory=list)


def _completion(content: str, model: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
    }


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
            state.requests.append(request)
            if state.delay_s:
                time.sleep(state.delay_s)
            if state.status != 200:
                body = json.dumps({"error": {"message": f"fake error {state.status}", "type": "fake"}})
            elif state.raw_body is not None:
                body = state.raw_body
            else:
                body = json.dumps(_completion(state.content, request.get("model", "fake")))
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            if state.retry_after is not None:
                self.send_header("Retry-After", state.retry_after)
            encoded = body.encode()
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(encoded)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
