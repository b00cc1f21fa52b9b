"""What every benchmark shares: the project's folders and the one reader of the labelled evaluation set."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from coach import Settings
from coach.resources import shipped_knowledge_dir, shipped_prompts_dir

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
KNOWLEDGE = shipped_knowledge_dir()
PROMPTS = shipped_prompts_dir()
TUNING = "queries.jsonl"  # the retrieval notes and the critic's settings were chosen on it
HELDOUT = "heldout.jsonl"  # checking only: nothing is chosen by its figures


def load_eval(queries_file: str = "queries.jsonl") -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    """The labelled queries (eval/queries.jsonl, or the held-out eval/heldout.jsonl) and, per principle,
    the passage ids that state it."""
    principles = yaml.safe_load((EVAL / "principles.yaml").read_text(encoding="utf-8"))["principles"]
    by_name = {p["name"]: set(p["passages"]) for p in principles}
    lines = (EVAL / queries_file).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()], by_name


def heldout_domains() -> dict[str, str]:
    """The service domain of each held-out draft that has one (``eval/raw/heldout-extra.jsonl``), by id."""
    lines = (EVAL / "raw" / "heldout-extra.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row["domain"] for row in map(json.loads, filter(str.strip, lines)) if row.get("domain")}


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """``--queries`` (default: the tuning set), ``--heldout`` (checking only) and ``--limit`` (a smoke run)."""
    parser.add_argument("--queries", default=TUNING, help=f"file under eval/ (default {TUNING}, the tuning set)")
    parser.add_argument("--heldout", action="store_true", help=f"use eval/{HELDOUT}: for checking, never choosing")
    parser.add_argument("--limit", type=int, default=0, help="the first N items only (CI runs every bench with 3)")


def eval_file(args: argparse.Namespace) -> str:
    """The eval file the arguments name."""
    return HELDOUT if args.heldout else str(args.queries)


def limited(items: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` items (all when it is 0)."""
    return items[:limit] if limit else items


@contextlib.contextmanager
def fake_llm_url(enabled: bool) -> Iterator[str | None]:
    """With ``enabled``, the URL of the tests' fake OpenAI server (answers "OK"): benches' code runs without a model."""
    if not enabled:
        yield None
        return
    from tests.fake_openai import Behaviour, fake_openai_server

    with fake_openai_server(Behaviour(content="OK")) as (url, _):
        yield url


def bench_settings(llm_url: str | None = None) -> Settings:
    """The project's settings without the result cache (every figure is computed), on ``llm_url`` when given."""
    return Settings(cache=False, llm_base_url=llm_url) if llm_url else Settings(cache=False)
