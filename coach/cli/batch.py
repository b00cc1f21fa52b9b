"""``coach evaluate``: score a file of replies, with a progress line on stderr and the summary on stdout."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from coach.batch.io import parse_columns
from coach.batch.run import BatchProgress
from coach.cli.common import Subcommands, open_coach


def register(commands: Subcommands) -> None:
    """Add ``evaluate``."""
    evaluate = commands.add_parser("evaluate", help="score a CSV/JSONL/Parquet file of replies (QA), resumable")
    evaluate.add_argument("source", help="CSV or JSONL with id, draft, optional customer_message and human_<criterion>")
    evaluate.add_argument("-o", "--output", required=True, help="results file (JSONL, appended to)")
    evaluate.add_argument("--resume", action="store_true", help="skip ids the results file already has")
    evaluate.add_argument("--retry-failed", action="store_true", help="rerun the ids whose latest line is an error")
    evaluate.add_argument("--concurrency", type=int, default=4, help="local: rows critiqued at once (default 4)")
    evaluate.add_argument("--limit", type=int, default=None, help="critique at most N rows this run")
    evaluate.add_argument("--columns", default=None, help="map your columns: id=ticket,draft=reply,customer=message")
    evaluate.add_argument("--csv", default=None, help="also export the results as CSV to this file")
    evaluate.add_argument("--parquet", default=None, help="also export the results as Parquet (needs coach[ray])")
    evaluate.add_argument("--engine", choices=("local", "ray"), default="local", help="threads here, or Ray Data")
    evaluate.add_argument("--address", default=None, help="ray: join this cluster (host:port); default: a local Ray")
    evaluate.add_argument("--workers", type=int, default=None, help="ray: workers, one CPU each (default: all CPUs)")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    tty, shown = sys.stderr.isatty(), [0.0]

    def show(progress: BatchProgress) -> None:
        if progress.done < progress.total and time.monotonic() - shown[0] < (0.5 if tty else 10):
            return
        shown[0] = time.monotonic()
        print(("\r" if tty else "") + progress.text(), end="" if tty else "\n", file=sys.stderr, flush=True)

    options: dict[str, Any] = {"resume": args.resume, "retry_failed": args.retry_failed, "parquet_path": args.parquet}
    if args.engine == "ray":
        options |= {"engine": "ray", "address": args.address, "workers": args.workers}
    else:
        options["concurrency"] = args.concurrency
    columns = parse_columns(args.columns) if args.columns else None
    coach = open_coach()
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
