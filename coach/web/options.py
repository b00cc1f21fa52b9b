"""The options of ``coach serve`` and ``python app.py``; no Gradio here, so the CLI builds its parser fast."""

from __future__ import annotations

import argparse


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coach serve` and `python app.py`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument(
        "--open",
        action="store_true",
        help="serve beyond loopback without a login (anyone who can reach the page can change the guidelines)",
    )
