"""``coach critique``, ``coach rewrite`` and ``coach ask``: one result, as text or JSON."""

from __future__ import annotations

import argparse
import sys

from coach.cli.common import Subcommands, open_coach, read_draft
from coach.cli.report import render_text
from coach.models import Answer, Critique, Rewrite


def register(commands: Subcommands) -> None:
    """Add ``critique``, ``rewrite`` and ``ask``."""
    for name, what in (("critique", "scores and quoted, cited issues"), ("rewrite", "an improved, checked reply")):
        command = commands.add_parser(name, help=f"{what} for a draft reply")
        command.add_argument("file", help="file with the draft; '-' reads standard input")
        command.add_argument("--customer", default=None, help="the customer's message (text)")
        command.add_argument("--json", action="store_true", help="print the full result as JSON")
        command.set_defaults(run=run)
    ask = commands.add_parser("ask", help="ask the guidelines a question; the answer cites passages")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the full result as JSON")
    ask.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    coach = open_coach()
    try:
        if args.command == "ask":
            result: Critique | Rewrite | Answer = coach.ask(args.question)
        else:
            draft = sys.stdin.read() if args.file == "-" else read_draft(args.file)
            call = coach.critique if args.command == "critique" else coach.rewrite
            result = call(draft, args.customer)
        if not isinstance(result, Answer):  # an answer's passages are read in its language already
            result = result.model_copy(update={"passages": coach.read_passages(result.passages, result.language)})
    finally:
        coach.close()
    print(result.model_dump_json(indent=2) if args.json else render_text(result))
    return 0
