"""Where coach finds its files, so the same code runs from a checkout and from an installed wheel.

- Prompts (templates, rubric, the critic's model) and the default guidelines ship twice: as the
  top-level ``prompts/`` and ``knowledge/`` folders of the checkout, and inside the wheel under
  ``coach/_bundled/`` (``force-include`` in ``pyproject.toml``). In a checkout the top-level folders win,
  so an edit there takes effect without a rebuild.
- Coach's own data (index, caches, model files) goes to ``data/`` in a checkout, else to the user's data
  folder (``$XDG_DATA_HOME/coach``, default ``~/.local/share/coach``; ``%LOCALAPPDATA%\\coach`` on Windows).
- An installed tool's default knowledge folder is ``<user data folder>/knowledge``: writable (the web page
  saves uploads there) and filled with a copy of the shipped guidelines the first time it is read.

Settings (``COACH_PROMPTS_DIR``, ``COACH_KNOWLEDGE_DIR``, ``COACH_DATA_DIR``) override all of this; the
functions here only give their defaults. Nothing here reads the environment except for the user data folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "_bundled"
APP_NAME = "coach"


def checkout_root() -> Path | None:
    """The project folder when coach runs from a source checkout (``pyproject.toml`` and ``prompts/`` beside it)."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "prompts").is_dir():
        return root
    return None


def _shipped(name: str) -> Path:
    root = checkout_root()
    return root / name if root is not None else BUNDLED_DIR / name


def shipped_prompts_dir() -> Path:
    """The prompt templates, rubric and calibration as shipped: the checkout's ``prompts/``, else the wheel's copy."""
    return _shipped("prompts")


def shipped_knowledge_dir() -> Path:
    """The default guidelines as shipped: the checkout's ``knowledge/``, else the wheel's copy (read-only)."""
    return _shipped("knowledge")


def heldout_file() -> Path | None:
    """The held-out evaluation set (``eval/heldout.jsonl``) of a checkout, which nothing may be fitted on.

    None in an installed package: the evaluation sets do not ship in the wheel.
    """
    root = checkout_root()
    return root / "eval" / "heldout.jsonl" if root is not None else None


def user_data_dir() -> Path:
    """The per-user data folder of an installed tool."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / APP_NAME
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / APP_NAME


def default_data_dir() -> Path:
    """``data/`` in a checkout, else the user data folder."""
    root = checkout_root()
    return root / "data" if root is not None else user_data_dir()


def default_knowledge_dir() -> Path:
    """``knowledge/`` in a checkout, else ``<user data folder>/knowledge`` (seeded on first use)."""
    root = checkout_root()
    return root / "knowledge" if root is not None else user_data_dir() / "knowledge"


def seed_knowledge(folder: Path) -> bool:
    """Copy the shipped guidelines into ``folder`` if it is the default knowledge folder and does not exist yet.

    Returns whether it copied. A folder the user named is never created or filled behind their back.
    """
    source = shipped_knowledge_dir()
    if folder.exists() or folder != default_knowledge_dir() or not source.is_dir():
        return False
    folder.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, folder)
    log.info("copied the shipped guidelines from %s to %s", source, folder)
    return True
