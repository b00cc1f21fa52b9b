"""``coach index`` and ``coach search``: build the knowledge index and search it."""

from __future__ import annotations

import argparse
import json
import sys

from coach.cli.common import Subcommands, open_coach
from coach.models import Passage


def register(commands: Subcommands) -> None:
    """Add ``index`` and ``search``."""
    index = commands.add_parser("index", help="(re)build the knowledge-base index; only changed documents cost time")
    index.add_argument(
        "--translate", action="store_true", help="then machine-translate the passages into the other languages (slow)"
    )
    index.set_defaults(run=run_index)
    search = commands.add_parser("search", help="find the guideline passages that matter for a text")
    search.add_argument("text", help="draft or question; '-' reads standard input")
    search.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    search.add_argument("--json", action="store_true", help="print JSON instead of text")
    search.set_defaults(run=run_search)


def run_index(args: argparse.Namespace) -> int:
    coach = open_coach()
    print(coach.index().summary())
    if args.translate:
        job = coach.translate_in_background()
        try:
            for done in job:
                print(f"\rtranslations: {done}/{job.total} made ({job.failed} refused)", end="", flush=True)
        finally:
            job.stop()
            coach.close()
        print(f"\rtranslations: {job.done}/{job.total} made ({job.failed} refused by their checks)")
    return 0


def run_search(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    print_passages(open_coach().search(text, k=args.k), as_json=args.json)
    return 0


def print_passages(passages: list[Passage], *, as_json: bool) -> None:
    """Passages as JSON for scripts, or ranked and indented for people."""
    if as_json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=2))
        return
    for rank, passage in enumerate(passages, start=1):
        where = f"{passage.title} › {passage.section}" if passage.section else passage.title
        print(f"{rank}. [{passage.id}] ({passage.language}, score {passage.score:.3f}) {where}")
        print(f"   {passage.text.replace(chr(10), chr(10) + '   ')}\n")
