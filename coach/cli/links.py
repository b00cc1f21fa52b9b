"""``coach links``: which guideline passages state each rubric criterion (trainers' data)."""

from __future__ import annotations

import argparse

from coach.cli.common import EXIT_ERROR, Subcommands, open_coach


def register(commands: Subcommands) -> None:
    """Add ``links check|list|suggest|add|remove|reject``."""
    links = commands.add_parser("links", help="which guideline passages state each rubric criterion (trainers' data)")
    links.set_defaults(run=run)
    actions = links.add_subparsers(dest="links_command", required=True, metavar="ACTION")
    actions.add_parser("check", help="criteria without a passage in a language, unlinked passages, broken links")
    actions.add_parser("list", help="each criterion and its linked passages")
    actions.add_parser("suggest", help="suggested criteria for the passages linked to nothing (link or reject each)")
    for name, what in (
        ("add", "link a passage to a criterion (accept a suggestion)"),
        ("remove", "take a link (or an orphaned one) away"),
        ("reject", "do not suggest this criterion for this passage again"),
    ):
        action = actions.add_parser(name, help=what)
        action.add_argument("passage", help="passage id, e.g. ru-handle-complaints-quickly#4")
        action.add_argument("criterion", help="rubric criterion id, e.g. apology_ownership")
        action.add_argument("--user", default=None, help="who makes the change, for the audit log (default: OS user)")


def run(args: argparse.Namespace) -> int:
    """The rubric links, checked and edited through ``Coach.links``."""
    coach = open_coach()
    if args.links_command == "add":
        coach.links.link(args.passage, args.criterion, user=args.user)
    elif args.links_command == "remove":
        coach.links.unlink(args.passage, args.criterion, user=args.user)
    elif args.links_command == "reject":
        coach.links.reject(args.passage, args.criterion, user=args.user)
    if args.links_command == "suggest":
        for passage_id, suggested in coach.links.suggestions().items():
            print(f"{passage_id}: {', '.join(f'{s.criterion} ({s.score:.2f})' for s in suggested) or '-'}")
        return 0
    report = coach.links.check()
    if args.links_command == "list":
        links = coach.links.read()
        for criterion in coach.rubric.ids:
            counts = ", ".join(f"{lang} {n}" for lang, n in report.coverage[criterion].items())
            print(f"{criterion} ({counts}): {' '.join(links.passages_of(criterion)) or '-'}")
        return 0
    print(report.summary())
    return 0 if report.ok or args.links_command != "check" else EXIT_ERROR
