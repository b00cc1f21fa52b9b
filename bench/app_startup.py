"""Web app start-up: seconds from `python app.py` until the page answers, and until the LLM is warm.

Usage:  uv run python -m bench.app_startup [--runs 3] [--fake-llm]

Starts `python app.py --port <free port>` as a child process with the project's settings (its index in
the data dir, built at start-up if missing; the embedded LLM unless COACH_LLM_BASE_URL is set), polls
`GET /` until it answers 200, then polls the page's `/llm_status` endpoint until the LLM is ready.
`--fake-llm` points the app at the tests' fake OpenAI server instead of starting the embedded model
(for machines busy with other LLM work). Bar (issue 5): the page opens in <= 15 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # gradio_client phones home otherwise

from bench.common import ROOT

PAGE_BAR_S = 15.0
TIMEOUT_S = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def page_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_for(check: Callable[[], bool], started: float, what: str) -> float:
    while time.perf_counter() - started < TIMEOUT_S:
        if check():
            return time.perf_counter() - started
        time.sleep(0.1)
    raise SystemExit(f"error: {what} did not happen within {TIMEOUT_S:.0f} s")


def llm_ready(url: str) -> bool:
    from gradio_client import Client

    client = Client(url, verbose=False)
    try:
        status = client.predict(api_name="/llm_status")
    finally:
        client.close()
    return "ready" in str(status) or "not answering" in str(status)


def one_run(env: dict[str, str]) -> tuple[float, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = wait_for(lambda: page_answers(url), started, "the page answering")
        llm = wait_for(lambda: llm_ready(url), started, "the LLM warming up")
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
    return page, llm


@contextlib.contextmanager
def llm_environment(fake: bool) -> Iterator[dict[str, str]]:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", ANONYMIZED_TELEMETRY="False")
    if not fake:
        yield env
        return
    from tests.fake_openai import Behaviour, fake_openai_server

    with fake_openai_server(Behaviour(content="OK")) as (url, _):
        yield env | {"COACH_LLM_BASE_URL": url}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fake-llm", action="store_true", help="use the tests' fake OpenAI server as the LLM")
    args = parser.parse_args()
    with llm_environment(args.fake_llm) as env:
        llm_label = "fake OpenAI server" if args.fake_llm else env.get("COACH_LLM_BASE_URL", "embedded llama.cpp")
        results = []
        for run in range(1, args.runs + 1):
            page, llm = one_run(env)
            results.append((page, llm))
            print(f"run {run}: page answers after {page:.1f} s, LLM ready after {llm:.1f} s", flush=True)
    pages = [p for p, _ in results]
    median = statistics.median(pages)
    verdict = "ok" if median <= PAGE_BAR_S else "TOO SLOW"
    print(f"page opens in {median:.1f} s (median of {len(pages)}; bar {PAGE_BAR_S:.0f} s: {verdict}); LLM: {llm_label}")


if __name__ == "__main__":
    main()
