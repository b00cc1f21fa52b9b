"""Batch evaluation benchmark: throughput at concurrency 1 and 8, coach's own overhead per row, and kill/resume.

Usage:  uv run python -m bench.batch [--rows 200 | --limit 3] [--latency 0.2] [--kills 5]

The LLM is a local OpenAI-compatible fake (tests/fake_openai.py) in its own process, answering every
request after a fixed latency with a valid JSON critique, so what is measured is coach: reading the
file, retrieval (embedding each draft on this machine's CPU), the critique pipeline, grounding and the
results file. The result cache is off, so every row costs its LLM call.

Bars (issue 6): throughput at concurrency 8 >= 6x that at concurrency 1; overhead per row (wall time
at concurrency 1 / rows - the fixed LLM latency) <= 50 ms; 5 random SIGKILLs + resume leave every row
exactly once in the results file.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import KNOWLEDGE
from coach import Coach, Settings
from coach.batch.results import read_results
from coach.batch.run import evaluate_file
from coach.prompts import load_rubric

OPENINGS = [
    "Hello, thank you for contacting us about your {topic}.",
    "Hi, I understand how frustrating a problem with your {topic} must be.",
    "Dear customer, we received your message about the {topic}.",
    "Good afternoon, sorry to hear about the trouble with your {topic}.",
]
MIDDLES = [
    "I checked order {n} and it is still being processed by our warehouse team.",
    "Our records show the request {n} was escalated to the billing department yesterday.",
    "Unfortunately this is company policy and we cannot change it for case {n}.",
    "I have asked a colleague to look at ticket {n} and they will call you.",
]
ENDINGS = [
    "You will hear from us within {d} business days.",
    "Please be patient, these things take time.",
    "If anything else comes up, just reply to this email and I will help.",
    "Thank you for your patience and have a nice day.",
]
TOPICS = ["refund", "delivery", "password reset", "invoice", "broken screen", "subscription", "warranty", "login"]


def drafts(n: int) -> list[dict[str, str]]:
    """Distinct English drafts of two or three sentences, like a support team's replies."""
    rows = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        text = " ".join(
            [
                OPENINGS[i % 4].format(topic=topic),
                MIDDLES[(i // 4) % 4].format(n=10_000 + i),
                ENDINGS[(i // 16) % 4].format(d=2 + i % 5),
            ]
        )
        rows.append({"id": f"B-{i}", "draft": text, "customer_message": f"My {topic} is still not sorted out."})
    return rows


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def serve(latency_s: float, urls: multiprocessing.Queue[str]) -> None:
    """The fake LLM server, in its own process so its CPU is not coach's."""
    from tests.fake_openai import Behaviour, critique_answer, fake_openai_server

    criteria = list(load_rubric().ids)
    behaviour = Behaviour(respond=lambda request: critique_answer(request, criteria), delay_s=latency_s)
    with fake_openai_server(behaviour) as (url, _):
        urls.put(url)
        while True:
            time.sleep(3600)


def start_server(latency_s: float) -> tuple[multiprocessing.Process, str]:
    urls: multiprocessing.Queue[str] = multiprocessing.Queue()
    process = multiprocessing.Process(target=serve, args=(latency_s, urls), daemon=True)
    process.start()
    return process, urls.get(timeout=30)


def prepared_settings(work: Path) -> Settings:
    """Settings over a private copy of the knowledge base, indexed once (reusing the project's index if any)."""
    knowledge = shutil.copytree(KNOWLEDGE, work / "knowledge")
    project_index = Settings().resolved_index_dir
    if project_index.exists():
        shutil.copytree(project_index, work / "index")
    settings = Settings(knowledge_dir=knowledge, data_dir=work / "data", index_dir=work / "index")
    Coach(settings).index()
    return settings


def throughput(settings: Settings, url: str, source: Path, rows: int, concurrency: int, work: Path) -> dict[str, Any]:
    """One run of evaluate_file: wall time, rows/s, and the mean stage timings of coach's own work."""
    run = settings.model_copy(update={"llm_base_url": url, "critic": "json", "cache": False, "llm_max_retries": 0})
    coach = Coach(run)
    coach.ensure_index()
    output = work / f"results-c{concurrency}.jsonl"
    started, cpu = time.perf_counter(), time.process_time()
    summary = evaluate_file(coach, source, output, concurrency=concurrency)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert summary.succeeded == rows, summary.text()
    latencies = [r.latency_s for r in read_results(output).values()]
    return {"wall": wall, "rows_per_s": rows / wall, "latency": statistics.mean(latencies), "cpu": cpu / rows}


def stage_timings(settings: Settings, url: str, rows: list[dict[str, str]]) -> dict[str, float]:
    """Mean seconds per stage of single critiques (retrieval, llm, feedback), for the overhead's breakdown."""
    run = settings.model_copy(update={"llm_base_url": url, "critic": "json", "cache": False, "llm_max_retries": 0})
    coach = Coach(run)
    stages: dict[str, list[float]] = {}
    for row in rows:
        critique = coach.critique(row["draft"], row["customer_message"])
        for stage, seconds in critique.timings.items():
            stages.setdefault(stage, []).append(seconds)
    return {stage: statistics.mean(values) for stage, values in stages.items()}


def embedding_cpu(settings: Settings, rows: list[dict[str, str]]) -> float:
    """CPU seconds per draft to embed the drafts for retrieval, as batch evaluation does (chunks of 32)."""
    coach = Coach(settings)
    coach.ensure_index()
    coach.prepare([rows[0]["draft"]])  # load the model first
    drafts = [row["draft"] for row in rows]
    started = time.process_time()
    for start in range(0, len(drafts), 32):
        coach.prepare(drafts[start : start + 32])
    return (time.process_time() - started) / len(drafts)


def kill_and_resume(settings: Settings, url: str, source: Path, rows: int, kills: int, work: Path) -> dict[str, Any]:
    """Run the CLI, SIGKILL it at random points `kills` times, resume; count each id's lines."""
    output = work / "killed.jsonl"
    env = {
        **os.environ,
        "COACH_KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "COACH_INDEX_DIR": str(settings.resolved_index_dir),
        "COACH_DATA_DIR": str(work / "kill-data"),
        "COACH_LLM_BASE_URL": url,
        "COACH_CRITIC": "json",
        "COACH_CACHE": "false",
    }
    command = [sys.executable, "-m", "coach.cli", "evaluate", str(source), "-o", str(output), "--resume"]
    chance = random.Random()
    cut = 0
    for _ in range(kills):
        before = _lines(output)
        target = before + chance.randint(1, max(1, (rows - before) // (kills + 1)))
        process = subprocess.Popen(
            [*command, "--concurrency", "4"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while _lines(output) < target and process.poll() is None:
            time.sleep(0.005)
        time.sleep(chance.uniform(0, 0.25))  # land anywhere: between rows, mid-write, mid-request
        process.send_signal(signal.SIGKILL)
        process.wait()
        cut += output.exists() and not output.read_bytes().endswith(b"\n")
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    ids = [line["id"] for line in lines]
    return {
        "exit": final.returncode,
        "lines": len(lines),
        "distinct": len(set(ids)),
        "missing": rows - len(set(ids)),
        "duplicates": len(ids) - len(set(ids)),
        "partial_lines_cut": cut,
    }


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", "--limit", dest="rows", type=int, default=200, help="rows (CI: --limit 3)")
    parser.add_argument("--latency", type=float, default=0.2, help="fixed LLM latency, seconds")
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    server, url = start_server(args.latency)
    with tempfile.TemporaryDirectory(prefix="coach-bench-batch-") as folder:
        work = Path(folder)
        settings = prepared_settings(work)
        rows = drafts(args.rows)
        source = write_rows(work / "replies.csv", rows)
        print(f"{args.rows} English drafts, fake LLM with {args.latency * 1000:.0f} ms latency, json critic, no cache")
        stages = stage_timings(settings, url, rows[:20])
        print("per critique, mean of 20: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in stages.items()))
        one = throughput(settings, url, source, args.rows, 1, work)
        eight = throughput(settings, url, source, args.rows, 8, work)
        overhead = one["wall"] / args.rows - args.latency
        scaling = eight["rows_per_s"] / one["rows_per_s"]
        for label, run in (("concurrency 1", one), ("concurrency 8", eight)):
            rate, latency = run["rows_per_s"], run["latency"]
            cpu = run["cpu"] * 1000
            print(f"{label}: {run['wall']:.1f} s, {rate:.2f} rows/s, row latency {latency:.3f} s, CPU {cpu:.0f} ms/row")
        print(f"scaling x{scaling:.2f} (bar >= 6)    {'PASS' if scaling >= 6 else 'MISS'}")
        ceiling = (os.cpu_count() or 1) / eight["cpu"]
        print(
            f"CPU ceiling: {os.cpu_count()} cores / {eight['cpu'] * 1000:.0f} ms CPU per row = {ceiling:.1f} rows/s "
            f"(x{ceiling / one['rows_per_s']:.2f} of concurrency 1), whatever the concurrency; of that CPU, "
            f"embedding the draft for retrieval takes {embedding_cpu(settings, rows) * 1000:.0f} ms"
        )
        print(f"overhead per row {overhead * 1000:.0f} ms (bar <= 50 ms)    {'PASS' if overhead <= 0.05 else 'MISS'}")
        if args.kills:
            kills = kill_and_resume(settings, url, source, args.rows, args.kills, work)
            ok = kills["exit"] == 0 and kills["missing"] == 0 and kills["duplicates"] == 0
            print(
                f"{args.kills} random SIGKILLs + resume: {kills['lines']} lines, {kills['distinct']} distinct ids, "
                f"{kills['missing']} missing, {kills['duplicates']} duplicated, "
                f"{kills['partial_lines_cut']} partial last lines cut    {'PASS' if ok else 'FAIL'}"
            )
    print(
        f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine slows coach)"
    )
    server.terminate()


if __name__ == "__main__":
    main()
