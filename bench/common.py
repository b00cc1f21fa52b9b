"""What every benchmark shares: the project's folders and the one reader of the labelled evaluation set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from coach.resources import shipped_knowledge_dir, shipped_prompts_dir

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
KNOWLEDGE = shipped_knowledge_dir()
PROMPTS = shipped_prompts_dir()


def load_eval(queries_file: str = "queries.jsonl") -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    """The labelled queries (eval/queries.jsonl, or the held-out eval/heldout.jsonl) and, per principle,
    the passage ids that state it."""
    principles = yaml.safe_load((EVAL / "principles.yaml").read_text(encoding="utf-8"))["principles"]
    by_name = {p["name"]: set(p["passages"]) for p in principles}
    lines = (EVAL / queries_file).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()], by_name
