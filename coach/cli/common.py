"""What every command group shares: the exit code of an error, reading the user's files, the Coach to call."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coach.coach import Coach
from coach.errors import InputError

EXIT_ERROR = 1

Command = Callable[[argparse.Namespace], int]
Subcommands = Any  # argparse's private _SubParsersAction


def read_bytes(path: Path) -> bytes:
    """A file's bytes, or an ``InputError`` naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", field="file") from exc


def read_draft(path: str) -> str:
    """A draft from a UTF-8 file, or an ``InputError`` naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}", field="file") from exc


def open_coach() -> Coach:
    """The Coach a command calls, with settings from the environment."""
    return Coach()
