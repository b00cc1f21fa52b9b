"""Good replies to similar messages (``Coach.similar_replies``): is the closest one about the same kind of case?

Usage:  python -m bench.similar_replies [--per-language 40]

The tuning set's drafts carry no domain, so this holds training drafts apart instead: for each sampled draft
of ``training/drafts.jsonl`` (good or bad), the good replies of ``knowledge/replies.jsonl`` in its language,
itself left out, are ranked by situation (customer message + draft), and the top reply's domain is compared
with the draft's (12 domains; aimed for >= 0.8). Also shown: the message alone and the draft alone.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict

from bench.common import ROOT
from coach import Settings
from coach.knowledge.embeddings import VECTORS_FILE, shared_embedder
from coach.knowledge.replies import REPLIES_FILE, ReplyBook, situation
from coach.knowledge.retrieval import text_vectors
from coach.resources import shipped_knowledge_dir

TARGET = 0.8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", "--per-language", dest="per_language", type=int, default=40)  # drafts per language
    args = parser.parse_args()
    rows = [json.loads(line) for line in (ROOT / "training" / "drafts.jsonl").read_text(encoding="utf-8").splitlines()]
    rng = random.Random(22)
    by_language = defaultdict(list)
    for row in rows:
        by_language[row["language"]].append(row)
    sample = [r for group in by_language.values() for r in rng.sample(group, min(args.per_language, len(group)))]
    embedder = shared_embedder(1)
    knowledge = shipped_knowledge_dir()
    book = ReplyBook(knowledge / REPLIES_FILE, embedder, Settings().data_dir, knowledge / VECTORS_FILE)
    domains = {r.id: r.domain for r in book.replies()}
    vectors = text_vectors(embedder, [t for r in sample for t in (r["text"], r["customer_message"])])
    hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for i, row in enumerate(sample):
        draft, message = vectors[2 * i], vectors[2 * i + 1]
        for name, case in (("message+draft", situation(draft, message)), ("message", message), ("draft", draft)):
            [top] = book.similar(row["language"], case, k=1, exclude={row["id"]})
            hits[name][row["language"]].append(domains[top.id] == row["domain"])
    print(f"top reply's domain = the draft's (n={len(sample)}, {len(book.replies())} good replies)")
    for name, per_language in hits.items():
        every = [h for hs in per_language.values() for h in hs]
        cells = ", ".join(f"{lang} {sum(hs) / len(hs):.2f}" for lang, hs in per_language.items())
        print(f"  {name:14} {sum(every) / len(every):.2f}   ({cells})   aimed for >= {TARGET}")


if __name__ == "__main__":
    main()
