"""Characters per token of the embedded model's tokenizer, per language: the numbers behind ``CHARS_PER_TOKEN``.

Usage:  uv run python -m bench.chars_per_token [--limit N]

Measured on the training corpus (``training/drafts.jsonl``: each draft and its customer message), never on
``eval/``: the held-out set is for checking only. Starts the embedded llama.cpp server (never the one at
``COACH_LLM_BASE_URL``: another model tokenizes otherwise) and asks its ``/tokenize`` for each text. Prints, per
language, the 10th percentile, median and 90th percentile of characters per token;
``coach.llm.generation.CHARS_PER_TOKEN`` takes the 10th percentile (a text rarely needs more tokens than it
budgets). ``--limit N``: the first N texts per language.
"""

from __future__ import annotations

import argparse
import json
import statistics
import urllib.request
from collections import defaultdict

import numpy as np

from bench.common import ROOT, bench_settings
from coach.llm.server import EmbeddedLLMServer


def token_count(base_url: str, text: str) -> int:
    """Tokens of ``text`` by the server's own tokenizer (llama.cpp's ``POST /tokenize``)."""
    request = urllib.request.Request(
        base_url.removesuffix("/v1") + "/tokenize",
        data=json.dumps({"content": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return len(json.loads(response.read())["tokens"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="the first N texts per language")
    args = parser.parse_args()
    texts: dict[str, list[str]] = defaultdict(list)
    for line in (ROOT / "training" / "drafts.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for text in (row["text"], row.get("customer_message")):
            if text and (not args.limit or len(texts[row["language"]]) < args.limit):
                texts[row["language"]].append(text)
    server = EmbeddedLLMServer.from_cache(bench_settings().data_dir, startup_timeout_s=900).start()  # busy machines
    try:
        chosen = {}
        print("language  texts  chars/token p10  median  p90")
        for language, items in sorted(texts.items()):
            ratios = [len(t) / max(token_count(server.base_url, t), 1) for t in items]
            low, high = np.percentile(ratios, [10, 90])
            chosen[language] = round(float(low), 2)
            print(f"{language:8s} {len(items):6d}  {low:15.2f} {statistics.median(ratios):7.2f} {high:5.2f}")
        print(f"CHARS_PER_TOKEN = {chosen}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
