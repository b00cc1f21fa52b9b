"""The Ray side of batch evaluation: what a worker needs (the knowledge bundle) and the actor that scores rows.

A worker may run on another machine, so it reads nothing of the driver's disk. The driver packs the
knowledge folder, the prompts (rubric, critic model) and a snapshot of the index, taken under the knowledge
lock so no writer is half-way, into one uncompressed tar (a few MB); each actor unpacks it into a temporary
folder of its own and opens its own Chroma copy there. Actors never share a persistent store: Chroma's local
store is not safe for several writing processes, and a private copy costs a few milliseconds to open, where
building one would re-embed every passage (~50 s here). With ``COACH_CHROMA_URL`` set the index is not
shipped: every actor queries that Chroma server.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from coach.batch.io import BatchRow
from coach.batch.rows import Critic, RetryPolicy, critique_row
from coach.errors import CoachError
from coach.settings import Settings

log = logging.getLogger(__name__)

FOLDER_PREFIX = "coach-ray-"  # + the worker's pid: a folder whose worker is gone is swept by the next worker


class PreparedCritic(Critic, Protocol):
    """What a worker needs of a Coach: embed a batch's drafts at once, then critique each row."""

    def prepare(self, texts: list[str]) -> None: ...

    def close(self) -> None: ...


MakeCritic = Callable[[Settings], PreparedCritic]


def pack_bundle(settings: Settings, lock: AbstractContextManager[Any]) -> bytes:
    """The knowledge folder, the prompts and (without a Chroma server) the index, as tar bytes."""
    folders = {"knowledge": settings.knowledge_dir, "prompts": settings.prompts_dir}
    if settings.chroma_url is None:
        folders["index"] = settings.resolved_index_dir
    buffer = io.BytesIO()
    with lock, tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, folder in folders.items():
            if folder.is_dir():
                tar.add(folder, arcname=name)
    return buffer.getvalue()


def unpack_bundle(bundle: bytes, settings: Settings, folder: Path, threads: int) -> Settings:
    """Unpack into ``folder``; the driver's settings pointed at the unpacked copies (and this worker's threads)."""
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r") as tar:
        tar.extractall(folder, filter="data")
    update: dict[str, Any] = {
        "knowledge_dir": folder / "knowledge",
        "prompts_dir": folder / "prompts",
        "data_dir": folder / "data",
        "index_dir": None if settings.chroma_url else folder / "index",
        "embed_threads": threads,
        "cache": False,  # the worker's data folder goes when it ends: a result cache there would only cost writes
        "translate": False,
    }
    return settings.model_copy(update=update)


def sweep_stale_folders(parent: Path) -> list[Path]:
    """Remove the unpacked bundles of workers that are gone (a killed run leaves its workers' folders)."""
    removed = []
    for folder in parent.glob(f"{FOLDER_PREFIX}*"):
        pid = folder.name.removeprefix(FOLDER_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class RowScorer:
    """A Ray Data actor: one Coach per worker (embedder, index and critic loaded once), many batches of rows.

    Each batch's drafts are embedded in one call (``Coach.prepare``), then every row goes through
    ``critique_row``: the same retries, error rows and result lines as the local engine.
    """

    def __init__(
        self, make_critic: MakeCritic, settings: Settings, bundle: bytes, threads: int, retry: RetryPolicy
    ) -> None:
        logging.basicConfig(level=logging.WARNING)
        sweep_stale_folders(Path(tempfile.gettempdir()))
        self.folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        atexit.register(shutil.rmtree, self.folder, True)
        self.retry = retry
        self.coach = make_critic(unpack_bundle(bundle, settings, self.folder, threads))

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        rows = [BatchRow.model_validate_json(str(text)) for text in batch["row"]]
        try:
            self.coach.prepare([row.draft for row in rows if isinstance(row.draft, str)])
        except CoachError as exc:  # only a speed-up: each row still reports its own error
            log.warning("could not pre-embed drafts: %s", exc)
        return {"result": [critique_row(self.coach, row, self.retry).model_dump_json() for row in rows]}

    def __del__(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
