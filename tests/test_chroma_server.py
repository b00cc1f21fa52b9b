"""Server mode: coach against a real `chroma run` process, as a team that outgrew one machine would run it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach import Coach, IndexStoreError, Settings

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("chroma server did not start")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_index_and_search_through_a_chroma_server(chroma_url: str, knowledge_dir: Path, tmp_path: Path, embedder):
    settings = Settings(knowledge_dir=knowledge_dir, data_dir=tmp_path / "data", chroma_url=chroma_url)
    coach = Coach(settings, embedder=embedder)
    report = coach.index()
    assert len(report.added) == 5
    assert not (tmp_path / "data" / "index").exists()

    second = Coach(settings, embedder=embedder).index()
    assert len(second.unchanged) == 5 and second.passages_added == 0

    hits = coach.search("Sorry for the trouble, I will refund you today.", k=4)
    assert len(hits) == 4 and len({h.id for h in hits}) == 4


def test_unreachable_server_is_a_clear_error(knowledge_dir: Path, tmp_path: Path, embedder):
    settings = Settings(
        knowledge_dir=knowledge_dir, data_dir=tmp_path / "d", chroma_url=f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(IndexStoreError, match="Chroma server"):
        Coach(settings, embedder=embedder).index()
