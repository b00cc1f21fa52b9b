"""``coach phrases``: the phrasebook (trainers' data): coverage per criterion and language, and the phrasings."""

from __future__ import annotations

import argparse

from coach.cli.common import EXIT_ERROR, Subcommands, open_coach


def register(commands: Subcommands) -> None:
    """Add ``phrases list|check``."""
    phrases = commands.add_parser("phrases", help="phrasings per rubric criterion and language, facts as [slots]")
    phrases.set_defaults(run=run)
    actions = phrases.add_subparsers(dest="phrases_command", required=True, metavar="ACTION")
    actions.add_parser("check", help="phrasings per criterion and language; cells with fewer than 5 are gaps")
    listing = actions.add_parser("list", help="each phrasing with its source draft and method")
    listing.add_argument("--criterion", default=None, help="only this rubric criterion")
    listing.add_argument("--language", default=None, help="only this language (en, ru, el, kk, mn)")


def run(args: argparse.Namespace) -> int:
    """The phrasebook read and validated through ``Coach.phrasebook``."""
    coach = open_coach()
    book, criteria = coach.phrasebook(), coach.rubric.ids
    if args.phrases_command == "list":
        for criterion in criteria:
            if args.criterion not in (None, criterion):
                continue
            for language, count in book.coverage([criterion])[criterion].items():
                if args.language not in (None, language):
                    continue
                print(f"{criterion} / {language} ({count})")
                for phrasing in book.phrasings_for(criterion, language):
                    print(f"  {phrasing.text}    [{phrasing.source.draft}, {phrasing.method}]")
        return 0
    coverage = book.coverage(criteria)
    languages = list(next(iter(coverage.values())))
    print(f"{book.version}  {'criterion':26} " + " ".join(f"{lang:>3}" for lang in languages))
    for criterion, row in coverage.items():
        print(f"{'':{len(book.version)}}  {criterion:26} " + " ".join(f"{n:>3}" for n in row.values()))
    gaps = book.gaps(criteria)
    print(f"gaps (fewer than 5): {', '.join(gaps)}" if gaps else "no gaps: at least 5 phrasings in every cell")
    return EXIT_ERROR if gaps else 0
