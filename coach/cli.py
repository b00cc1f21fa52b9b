"""The ``coach`` command: a thin shell over the public ``Coach`` API."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coach.coach import Coach
from coach.errors import CoachError, InputError, NewVersionError
from coach.models import Answer, Critique, Passage, Rewrite
from coach.settings import Settings
from coach.text_report import render_text
from coach.users import ROLES, UserBook

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

    for name, what in (("critique", "scores and quoted, cited issues"), ("rewrite", "an improved, checked reply")):
        command = commands.add_parser(name, help=f"{what} for a draft reply")
        command.add_argument("file", help="file with the draft; '-' reads standard input")
        command.add_argument("--customer", default=None, help="the customer's message (text)")
        command.add_argument("--json", action="store_true", help="print the full result as JSON")

    ask = commands.add_parser("ask", help="ask the guidelines a question; the answer cites passages")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the full result as JSON")

    evaluate = commands.add_parser("evaluate", help="score a CSV/JSONL file of replies (QA), resumable")
    evaluate.add_argument("source", help="CSV or JSONL with id, draft, optional customer_message and human_<criterion>")
    evaluate.add_argument("-o", "--output", required=True, help="results file (JSONL, appended to)")
    evaluate.add_argument("--resume", action="store_true", help="skip ids the results file already has")
    evaluate.add_argument("--retry-failed", action="store_true", help="rerun the ids whose latest line is an error")
    evaluate.add_argument("--concurrency", type=int, default=4, help="rows critiqued at once (default 4)")
    evaluate.add_argument("--limit", type=int, default=None, help="critique at most N rows this run")
    evaluate.add_argument("--columns", default=None, help="map your columns: id=ticket,draft=reply,customer=message")
    evaluate.add_argument("--csv", default=None, help="also export the results as CSV to this file")

    train = commands.add_parser("train-critic", help="fit the learned critic on labelled drafts (deterministic)")
    train.add_argument("--data", default="training/drafts.jsonl", help="labelled drafts (JSONL, see training/)")
    train.add_argument("--output", default=None, help="model file to write (default: the prompts folder's)")
    _add_docs_parser(commands)
    _add_links_parser(commands)
    _add_users_parser(commands)

    serve = commands.add_parser("serve", help="start the web app")
    add_serve_arguments(serve)
    return parser


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coach serve` and `python app.py`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument(
        "--open",
        action="store_true",
        help="serve beyond loopback without a login (anyone who can reach the page can change the guidelines)",
    )


def _add_users_parser(commands: Any) -> None:
    users = commands.add_parser("users", help="who may sign in to the web page: agents and trainers")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="the users and their roles")
    add = actions.add_parser("add", help="add a user, or set an existing user's password and role")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="agent", help="trainers also change the guidelines")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (for scripts)")
    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("name")


def _add_docs_parser(commands: Any) -> None:
    docs = commands.add_parser("docs", help="guideline documents: list, history, add, revert, remove")
    actions = docs.add_subparsers(dest="docs_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="the documents now, with their number of kept versions")
    history = actions.add_parser("history", help="the kept versions of a document and its audit log")
    history.add_argument("name", help="file name in the knowledge folder, e.g. en-refunds.md")
    add = actions.add_parser("add", help="add a document; an existing name shows the change unless --replace")
    add.add_argument("file")
    add.add_argument("--replace", action="store_true", help="confirm a new version (the old one is kept)")
    revert = actions.add_parser("revert", help="bring back a kept version (default: the previous one)")
    revert.add_argument("name")
    revert.add_argument("version", nargs="?", type=int, default=None)
    remove = actions.add_parser("remove", help="remove a document (it stays in the history)")
    remove.add_argument("name")
    for action in (add, revert, remove):
        action.add_argument("--user", default=None, help="who makes the change, for the audit log (default: OS user)")


def _add_links_parser(commands: Any) -> None:
    links = commands.add_parser("links", help="which guideline passages state each rubric criterion (trainers' data)")
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
        from coach.web.serve import serve  # imported here: Gradio loads only for `coach serve`

        serve(host=args.host, port=args.port, open_page=args.open)
        return 0
    if args.command == "users":
        return _users(UserBook(Settings().resolved_users_file), args)
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
    if args.command in ("critique", "rewrite", "ask"):
        try:
            return _feedback(coach, args)
        finally:
            coach.close()
    if args.command == "evaluate":
        return _evaluate(coach, args)
    if args.command == "train-critic":
        return _train_critic(args)
    if args.command == "docs":
        return _docs(coach, args)
    if args.command == "links":
        return _links(coach, args)
    raise AssertionError(f"unhandled command {args.command}")


def _feedback(coach: Coach, args: argparse.Namespace) -> int:
    if args.command == "ask":
        result: Critique | Rewrite | Answer = coach.ask(args.question)
    else:
        draft = sys.stdin.read() if args.file == "-" else _read_draft(args.file)
        call = coach.critique if args.command == "critique" else coach.rewrite
        result = call(draft, args.customer)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(render_text(result))
    return 0


def _train_critic(args: argparse.Namespace) -> int:
    from coach.training import fit_critic_file

    model, path = fit_critic_file(Path(args.data), Path(args.output) if args.output else None)
    figures = model.measured["cross_validated"]["all"]
    print(
        f"{model.version} -> {path}\n"
        f"{figures['drafts']} drafts, 5-fold cross-validated: recall {figures['recall']:.2f}, "
        f"false issues per good draft {figures['false_per_good']:.2f}"
    )
    return 0


def _docs(coach: Coach, args: argparse.Namespace) -> int:
    """``coach docs ...``: thin calls to the Coach's document methods."""
    if args.docs_command == "list":
        for doc in coach.documents():
            what = doc.problem or f"{doc.id} ({doc.language}) {doc.title}"
            print(f"{doc.name}  {doc.sha256[:12]}  {doc.size:>7} B  {doc.versions} kept  {what}")
        return 0
    if args.docs_command == "history":
        for kept in coach.document_history(args.name):
            print(f"version {kept.version}  {kept.saved_at:%Y-%m-%d %H:%M:%S}Z  {kept.sha256[:12]}  {kept.size} B")
        for entry in coach.audit_log(args.name):
            hashes = f"{(entry.before_sha256 or '-')[:12]} -> {(entry.after_sha256 or '-')[:12]}"
            print(f"{entry.at:%Y-%m-%d %H:%M:%S}Z  {entry.user}  {entry.action}  {hashes}  {entry.detail}".rstrip())
        return 0
    if args.docs_command == "add":
        path = Path(args.file)
        content = _read_bytes(path)
        try:
            report = coach.add_document(path.name, content, replace=args.replace, user=args.user)
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


def _links(coach: Coach, args: argparse.Namespace) -> int:
    """``coach links ...``: the rubric links, checked and edited through ``Coach.links``."""
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


def _users(book: UserBook, args: argparse.Namespace) -> int:
    """``coach users ...``: the users file; passwords are asked for, never given on the command line."""
    if args.users_command == "list":
        for name, role in book.list():
            print(f"{name}  {role}")
        return 0
    if args.users_command == "remove":
        book.remove(args.name)
        print(f"removed {args.name}")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise InputError("the two passwords differ", field="password")
    book.add(args.name, password, args.role)
    print(f"{args.name} can sign in as {args.role} ({book.path})")
    return 0


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", field="file") from exc


def _read_draft(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}", field="file") from exc


def _evaluate(coach: Coach, args: argparse.Namespace) -> int:
    """Run a batch with a progress line on stderr; the summary goes to stdout."""
    import time

    from coach.batch import BatchProgress
    from coach.batch_io import parse_columns

    tty, shown = sys.stderr.isatty(), [0.0]

    def show(progress: BatchProgress) -> None:
        if progress.done < progress.total and time.monotonic() - shown[0] < (0.5 if tty else 10):
            return
        shown[0] = time.monotonic()
        print(("\r" if tty else "") + progress.text(), end="" if tty else "\n", file=sys.stderr, flush=True)

    options = {"resume": args.resume, "retry_failed": args.retry_failed, "concurrency": args.concurrency}
    columns = parse_columns(args.columns) if args.columns else None
    try:
        summary = coach.evaluate_file(
            args.source, args.output, limit=args.limit, columns=columns, csv_path=args.csv, progress=show, **options
        )
    except KeyboardInterrupt:
        print(f"\nfinished rows are kept in {args.output}; rerun with --resume to go on", file=sys.stderr)
        raise
    finally:
        coach.close()
    if tty:
        print(file=sys.stderr)
    print(summary.text())
    return 0


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
