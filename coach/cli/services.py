"""``coach serve`` and ``coach llm status``: the web app and the LLM coach uses."""

from __future__ import annotations

import argparse

from coach.cli.common import EXIT_ERROR, Subcommands, open_coach
from coach.web.options import add_serve_arguments


def register(commands: Subcommands) -> None:
    """Add ``serve`` and ``llm status``."""
    serve = commands.add_parser("serve", help="start the web app")
    add_serve_arguments(serve)
    serve.set_defaults(run=run_serve)
    llm = commands.add_parser("llm", help="the LLM coach uses")
    llm.set_defaults(run=run_llm)
    llm_commands = llm.add_subparsers(dest="llm_command", required=True, metavar="ACTION")
    llm_commands.add_parser("status", help="which LLM is in use and whether it answers")


def run_serve(args: argparse.Namespace) -> int:
    from coach.web.serve import serve  # imported here: Gradio loads only for `coach serve`

    serve(host=args.host, port=args.port, open_page=args.open)
    return 0


def run_llm(args: argparse.Namespace) -> int:
    coach = open_coach()
    status = coach.llm_status()
    coach.close()
    print(f"LLM: {status.endpoint}")
    print(f"{'answers' if status.answers else 'DOES NOT ANSWER'}: {status.detail} ({status.latency_s:.1f} s)")
    return 0 if status.answers else EXIT_ERROR
