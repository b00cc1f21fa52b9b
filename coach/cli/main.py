"""The ``coach`` command's entry point: the parser of every group, and errors as one readable line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from coach.cli import batch, critic, docs, feedback, knowledge, links, phrases, services, users
from coach.cli.common import EXIT_ERROR
from coach.errors import CoachError

GROUPS = (knowledge, services, feedback, batch, critic, docs, links, phrases, users)


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options; each group module adds its own."""
    parser = argparse.ArgumentParser(
        prog="coach",
        description="Response coach for customer-service teams: guideline search, critique and QA.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coach`` script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.run(args)
        return code
    except CoachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
