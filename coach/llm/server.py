"""The embedded llama.cpp model, so coach gives feedback with no API key and no network.

The weights are joined and verified once by ``coach.llm.model_file``. The
server (``xllamacpp``) runs in a child process, so a crash in llama.cpp cannot take the app
down and stopping it frees the memory for sure.

Run ``python -m coach.llm_server --model FILE`` to serve a model by hand; it prints
``COACH_LLM_LISTENING host:port`` and serves until stdin closes or it gets SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from coach.errors import LLMError, ModelIntegrityError
from coach.llm.model_file import ensure_model_file

logger = logging.getLogger(__name__)

LISTENING_MARKER = "COACH_LLM_LISTENING"

_STDERR_TAIL_LINES = 40


# --- the server, seen from the parent -------------------------------------------------


class EmbeddedLLMServer:
    """llama.cpp serving the embedded model in a child process, with an OpenAI-compatible API."""

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 2,
        ctx: int = 4096,
        startup_timeout_s: float = 120.0,
        stop_grace_s: float = 5.0,
    ) -> None:
        self.model_path = Path(model_path)
        self.threads = threads
        self.ctx = ctx
        self.startup_timeout_s = startup_timeout_s
        self.stop_grace_s = stop_grace_s
        self._process: subprocess.Popen[str] | None = None
        self._address: str | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._addresses: queue.Queue[str] = queue.Queue()
        self._drains: list[threading.Thread] = []

    @classmethod
    def from_cache(cls, cache_dir: Path, **options: Any) -> EmbeddedLLMServer:
        """A server for the embedded model, joining the weights into cache_dir if needed."""
        return cls(ensure_model_file(cache_dir), **options)

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint, e.g. ``http://127.0.0.1:PORT/v1``."""
        if self._address is None or not self.is_running:
            raise LLMError("the embedded LLM server is not running; call start() first")
        return f"http://{self._address}/v1"

    @property
    def pid(self) -> int | None:
        """Process id of the child, for diagnostics; None before start."""
        return self._process.pid if self._process is not None else None

    @property
    def is_running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the child and wait until it answers /health; does nothing if already running."""
        if self.is_running:
            return self
        self.stop()
        if not self.model_path.is_file():
            raise ModelIntegrityError(f"model file not found: {self.model_path}")
        started = time.monotonic()
        self._spawn()
        atexit.register(self.stop)
        try:
            self._address = self._wait_for_address(started + self.startup_timeout_s)
            self._wait_for_health(started + self.startup_timeout_s)
        except BaseException:
            self.stop()
            raise
        logger.info(
            "embedded LLM ready at %s in %.1f s (pid %s, model %s)",
            self.base_url,
            time.monotonic() - started,
            self.pid,
            self.model_path,
        )
        return self

    def stop(self) -> None:
        """Stop the child: close its stdin, SIGTERM, then SIGKILL after the grace period."""
        process, self._process, self._address = self._process, None, None
        atexit.unregister(self.stop)
        if process is None:
            return
        if process.poll() is None:
            _close_quietly(process)
            process.terminate()
            try:
                process.wait(self.stop_grace_s)
            except subprocess.TimeoutExpired:
                logger.warning("embedded LLM (pid %s) ignored SIGTERM; killing it", process.pid)
                process.kill()
                process.wait()
        else:
            _close_quietly(process)
        for thread in self._drains:
            thread.join(timeout=1.0)  # the pipes close once the child is gone
        logger.info("embedded LLM stopped (pid %s, exit code %s)", process.pid, process.returncode)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self) -> None:
        """Launch the child and the threads that drain its output (a full pipe would block it)."""
        command = [
            sys.executable, "-m", "coach.llm.server",
            "--model", str(self.model_path),
            "--threads", str(self.threads),
            "--ctx", str(self.ctx),
        ]  # fmt: skip
        self._output.clear()
        self._addresses = queue.Queue()
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        logger.info("starting embedded LLM (pid %s): %s", self._process.pid, self.model_path)
        assert self._process.stdout is not None and self._process.stderr is not None
        self._drains = [
            threading.Thread(target=self._drain, args=(stream,), name="coach-llm-output", daemon=True)
            for stream in (self._process.stdout, self._process.stderr)
        ]
        for thread in self._drains:
            thread.start()

    def _drain(self, stream: IO[str]) -> None:
        """Keep the child's recent output for error messages and pick out its address line."""
        addresses = self._addresses
        with stream:
            for raw in stream:
                line = raw.rstrip()
                if line.startswith(LISTENING_MARKER):
                    addresses.put(line.removeprefix(LISTENING_MARKER).strip())
                    continue
                self._output.append(line)
                logger.debug("llama.cpp: %s", line)

    def _wait_for_address(self, deadline: float) -> str:
        """The host:port the child announces, or LLMError if it dies or takes too long."""
        while True:
            try:
                return self._addresses.get(timeout=0.1)
            except queue.Empty:
                self._check_alive_before(deadline, "announce its address")

    def _wait_for_health(self, deadline: float) -> None:
        """Poll /health until 200: the model is loaded and the server takes requests."""
        url = f"http://{self._address}/health"
        status: int | None = None
        while True:
            status = _get_status(url)
            if status == 200:
                return
            self._check_alive_before(deadline, f"report healthy (last /health status {status})")
            time.sleep(0.2)

    def _check_alive_before(self, deadline: float, waiting_for: str) -> None:
        """Raise LLMError with the child's output tail if it died or the deadline passed."""
        assert self._process is not None
        code = self._process.poll()
        if code is not None:
            time.sleep(0.2)  # let the drain threads catch the last lines
            reason = f"exited with code {code}"
        elif time.monotonic() > deadline:
            reason = f"did not {waiting_for} within {self.startup_timeout_s:.0f} s"
        else:
            return
        tail = "\n".join(self._output) or "(no output)"
        raise LLMError(f"embedded LLM server {reason}; its last output:\n{tail}", attempts=1)


def _close_quietly(process: subprocess.Popen[str]) -> None:
    """Close the child's stdin, which alone makes it exit; a broken pipe means it is gone."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_status(url: str) -> int | None:
    """HTTP status of a GET to a local URL, bypassing any proxy; None if nothing answers."""
    try:
        with _NO_PROXY.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


# --- the server, inside the child -----------------------------------------------------


def serve(model: Path, *, threads: int, ctx: int) -> object:
    """Start llama.cpp's HTTP server in this process on a free localhost port."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(model)
    params.n_ctx = ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.use_jinja = True
    return xlc.Server(params)


def main(argv: Sequence[str] | None = None) -> int:
    """Child entry point: serve, announce the address, live until stdin closes or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m coach.llm_server", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="GGUF model file")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--ctx", type=int, default=4096, help="context size in tokens")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_now)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which stops us
    try:
        server = serve(args.model, threads=args.threads, ctx=args.ctx)
    except RuntimeError as exc:  # llama.cpp has logged the cause to stderr already
        print(f"coach.llm.server: {exc}", file=sys.stderr, flush=True)
        return 1
    address = str(server.listening_address).removeprefix("http://")  # type: ignore[attr-defined]
    print(f"{LISTENING_MARKER} {address}", flush=True)
    sys.stdin.read()  # returns when the parent closes the pipe or dies
    _exit_now()
    return 0


def _exit_now(*_: object) -> None:
    """Leave at once: llama.cpp's threads need no cleanup and would only delay the exit."""
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
