"""``coach train-critic``: fit the learned critic on labelled drafts (deterministic)."""

from __future__ import annotations

import argparse
from pathlib import Path

from coach.cli.common import Subcommands


def register(commands: Subcommands) -> None:
    """Add ``train-critic``."""
    train = commands.add_parser("train-critic", help="fit the learned critic on labelled drafts (deterministic)")
    train.add_argument("--data", default="training/drafts.jsonl", help="labelled drafts (JSONL, see training/)")
    train.add_argument("--output", default=None, help="model file to write (default: the prompts folder's)")
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from coach.judging.training import fit_critic_file  # numpy-heavy fitting loads only for this command

    model, path = fit_critic_file(Path(args.data), Path(args.output) if args.output else None)
    figures = model.measured["cross_validated"]["all"]
    print(
        f"{model.version} -> {path}\n"
        f"{figures['drafts']} drafts, 5-fold cross-validated: recall {figures['recall']:.2f}, "
        f"false issues per good draft {figures['false_per_good']:.2f}"
    )
    return 0
