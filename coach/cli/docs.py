"""``coach docs``: the guideline documents, their kept versions and the audit log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from coach.cli.common import EXIT_ERROR, Subcommands, open_coach, read_bytes
from coach.coach import Coach
from coach.errors import InputError
from coach.knowledge.diff import NewVersionError

NAME_HELP = "the document's id (as search and citations show it, e.g. en-refunds) or its file name (en-refunds.md)"


def register(commands: Subcommands) -> None:
    """Add ``docs list|history|add|revert|remove|translate``."""
    docs = commands.add_parser("docs", help="guideline documents: list, history, add, revert, remove, translate")
    docs.set_defaults(run=run)
    actions = docs.add_subparsers(dest="docs_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="the documents now, with their number of kept versions")
    history = actions.add_parser("history", help="the kept versions of a document and its audit log")
    history.add_argument("name", help=NAME_HELP)
    add = actions.add_parser("add", help="add a document; an existing name shows the change unless --replace")
    add.add_argument("file")
    add.add_argument("--replace", action="store_true", help="confirm a new version (the old one is kept)")
    revert = actions.add_parser("revert", help="bring back a kept version (default: the previous one)")
    revert.add_argument("name", help=NAME_HELP)
    revert.add_argument("version", nargs="?", type=int, default=None)
    remove = actions.add_parser("remove", help="remove a document (it stays in the history)")
    remove.add_argument("name", help=NAME_HELP)
    translate = actions.add_parser(
        "translate", help="keep your translation of a passage (checked: language, numbers, meaning)"
    )
    translate.add_argument("passage", nargs="?", help="the passage id, e.g. ru-handle-complaints-quickly#3")
    translate.add_argument("language", nargs="?", help="the language of your translation: en, ru, kk, mn or el")
    translate.add_argument("text", nargs="?", help="the translation; '-' reads standard input")
    translate.add_argument("--import", dest="import_file", default=None, help="JSONL of id, language, text lines")
    translate.add_argument("--force", action="store_true", help="keep it even if the meaning check refuses it")
    for action in (add, revert, remove, translate):
        action.add_argument("--user", default=None, help="who makes the change, for the audit log (default: OS user)")


def run(args: argparse.Namespace) -> int:
    """Thin calls to the Coach's document methods."""
    coach = open_coach()
    if args.docs_command == "list":
        for doc in coach.documents():
            what = doc.problem or f"{doc.id} ({doc.language}) {doc.title}"
            print(f"{doc.name}  {doc.sha256[:12]}  {doc.size:>7} B  {doc.versions} kept  {what}")
        return 0
    if args.docs_command == "history":
        _history(coach, args.name)
        return 0
    if args.docs_command == "translate":
        return _translate(coach, args)
    if args.docs_command == "add":
        path = Path(args.file)
        try:
            report = coach.add_document(path.name, read_bytes(path), replace=args.replace, user=args.user)
        except NewVersionError as exc:
            print(f"{exc}\n(rerun with --replace to confirm)", file=sys.stderr)
            for change in exc.change.passages:
                print(f"  {change.kind}: {change.passage_id}", file=sys.stderr)
            return EXIT_ERROR
    elif args.docs_command == "revert":
        report = coach.revert_document(args.name, args.version, user=args.user)
    else:
        report = coach.remove_document(args.name, user=args.user)
    print(report.summary())
    return 0


def _history(coach: Coach, name: str) -> None:
    for kept in coach.document_history(name):
        print(f"version {kept.version}  {kept.saved_at:%Y-%m-%d %H:%M:%S}Z  {kept.sha256[:12]}  {kept.size} B")
    for entry in coach.audit_log(name):
        hashes = f"{(entry.before_sha256 or '-')[:12]} -> {(entry.after_sha256 or '-')[:12]}"
        print(f"{entry.at:%Y-%m-%d %H:%M:%S}Z  {entry.user}  {entry.action}  {hashes}  {entry.detail}".rstrip())


def _translate(coach: Coach, args: argparse.Namespace) -> int:
    """One translation from the arguments, or every line of ``--import`` (each checked; a refused one is named)."""
    if args.import_file:
        entries = _import_lines(read_bytes(Path(args.import_file)).decode("utf-8", errors="replace"))
    elif args.passage and args.language and args.text:
        text = sys.stdin.read() if args.text == "-" else args.text
        entries = [{"id": args.passage, "language": args.language, "text": text}]
    else:
        print("give PASSAGE LANGUAGE TEXT, or --import FILE.jsonl", file=sys.stderr)
        return EXIT_ERROR
    refused = 0
    for entry in entries:
        try:
            if isinstance(entry, str):
                raise InputError(entry, field="file")
            coach.translate_passage(entry["id"], entry["language"], entry["text"], user=args.user, force=args.force)
        except InputError as exc:
            refused += 1
            print(exc, file=sys.stderr)
    print(f"{len(entries) - refused} translations kept, {refused} refused")
    return EXIT_ERROR if refused else 0


def _import_lines(text: str) -> list[dict[str, str] | str]:
    """Each JSONL line as {id, language, text}, or a message saying why that line cannot be used."""
    entries: list[dict[str, str] | str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            entries.append(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("id", "language", "text")):
            entries.append(f"line {number}: needs the strings id, language and text")
            continue
        entries.append({k: entry[k] for k in ("id", "language", "text")})
    return entries
