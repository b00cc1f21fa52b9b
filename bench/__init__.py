"""Benchmarks on the evaluation set in `eval/`; run from the project folder as `uv run python -m bench.<name>`."""
