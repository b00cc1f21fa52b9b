"""The ``coach`` command: a thin shell over the public ``Coach`` API."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from coach.coach import Coach
from coach.errors import CoachError
from coach.models import Passage

EXIT_ERROR = 1


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = argparse.ArgumentParser(
        prog="coach",
        description="Response coach for customer-service teams: guideline search, critique and QA.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("index", help="(re)build the knowledge-base index; only changed documents cost time")

    search = commands.add_parser("search", help="find the guideline passages that matter for a text")
    search.add_argument("text", help="draft or question; '-' reads standard input")
    search.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    search.add_argument("--json", action="store_true", help="print JSON instead of text")

    llm = commands.add_parser("llm", help="the LLM coach uses")
    llm_commands = llm.add_subparsers(dest="llm_command", required=True, metavar="ACTION")
    llm_commands.add_parser("status", help="which LLM is in use and whether it answers")

    serve = commands.add_parser("serve", help="start the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coach`` script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return _run(args)
    except CoachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from app import serve  # the app module lives at the project root, beside this package

        serve(host=args.host, port=args.port)
        return 0
    coach = Coach()
    if args.command == "index":
        print(coach.index().summary())
        return 0
    if args.command == "search":
        text = sys.stdin.read() if args.text == "-" else args.text
        _print_passages(coach.search(text, k=args.k), as_json=args.json)
        return 0
    if args.command == "llm":
        status = coach.llm_status()
        coach.close()
        print(f"LLM: {status.endpoint}")
        print(f"{'answers' if status.answers else 'DOES NOT ANSWER'}: {status.detail} ({status.latency_s:.1f} s)")
        return 0 if status.answers else EXIT_ERROR
    raise AssertionError(f"unhandled command {args.command}")


def _print_passages(passages: list[Passage], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=2))
        return
    for rank, passage in enumerate(passages, start=1):
        where = f"{passage.title} › {passage.section}" if passage.section else passage.title
        print(f"{rank}. [{passage.id}] ({passage.language}, score {passage.score:.3f}) {where}")
        print(f"   {passage.text.replace(chr(10), chr(10) + '   ')}\n")


if __name__ == "__main__":
    sys.exit(main())
