"""Good replies to similar messages (``Coach.similar_replies``): is the closest one about the same kind of case?

Usage:  python -m bench.similar_replies [--per-language 40] [--heldout]

The tuning set's drafts carry no domain, so this holds training drafts apart instead: for each sampled draft
of ``training/drafts.jsonl`` (good or bad) whose service domain the good replies cover (the replies'
12 domains; names compared in lower case with spaces as underscores), the good replies of
``knowledge/replies.jsonl`` in its language, itself left out, are ranked as ``Coach.similar_replies`` ranks
them (situation = customer message + draft, the likely domain's replies first), and the top reply's domain is
compared with the draft's (aimed for >= 0.8). Also shown: the closest reply alone by situation, by the message,
by the draft. ``--heldout``: the held-out drafts whose domain (``eval/raw/heldout-extra.jsonl``) the replies
cover (checking only).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from typing import Any

import numpy as np

from bench.common import ROOT, heldout_domains, load_eval
from coach import Settings
from coach.knowledge.embeddings import VECTORS_FILE, shared_embedder
from coach.knowledge.replies import REPLIES_FILE, ReplyBook, situation
from coach.knowledge.retrieval import text_vectors
from coach.resources import shipped_knowledge_dir

TARGET = 0.8


def domain_name(name: str) -> str:
    """A domain as compared: lower case, spaces as underscores ("food delivery" = "food_delivery")."""
    return name.lower().replace(" ", "_")


def drafts(heldout: bool, per_language: int, covered: set[str]) -> list[dict[str, Any]]:
    """The drafts to rank replies for: held-out ones with a covered domain, or a sample of training drafts."""
    if heldout:
        domains = heldout_domains()
        rows = [r | {"domain": domains[r["id"]]} for r in load_eval("heldout.jsonl")[0] if r["id"] in domains]
        return [r for r in rows if domain_name(r["domain"]) in covered][: per_language * 5]
    lines = (ROOT / "training" / "drafts.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [r for r in map(json.loads, lines) if domain_name(r["domain"]) in covered]
    rng = random.Random(22)
    by_language = defaultdict(list)
    for row in rows:
        by_language[row["language"]].append(row)
    return [r for group in by_language.values() for r in rng.sample(group, min(per_language, len(group)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", "--per-language", dest="per_language", type=int, default=40)  # drafts per language
    parser.add_argument("--heldout", action="store_true", help="held-out drafts with a domain (checking only)")
    args = parser.parse_args()
    embedder = shared_embedder(1)
    knowledge = shipped_knowledge_dir()
    book = ReplyBook(knowledge / REPLIES_FILE, embedder, Settings().data_dir, knowledge / VECTORS_FILE)
    domains = {r.id: domain_name(r.domain) for r in book.replies()}
    sample = drafts(args.heldout, args.per_language, set(domains.values()))
    vectors = text_vectors(embedder, [t for r in sample for t in (r["text"], r["customer_message"])])
    hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    replies, situations = book.replies(), book.vectors()
    for i, row in enumerate(sample):
        draft, message, truth = vectors[2 * i], vectors[2 * i + 1], domain_name(row["domain"])
        [top] = book.similar(row["language"], situation(draft, message), k=1, exclude={row["id"]})
        hits["similar_replies"][row["language"]].append(domains[top.id] == truth)
        for name, case in (("situation only", situation(draft, message)), ("message", message), ("draft", draft)):
            scores = situations @ case
            ranked = [j for j in np.argsort(-scores) if replies[j].language == row["language"]]
            ranked = [j for j in ranked if replies[j].id != row["id"]]
            hits[name][row["language"]].append(domain_name(replies[ranked[0]].domain) == truth)
    where = "held-out drafts with a covered domain" if args.heldout else "training drafts held apart"
    print(f"top reply's domain = the draft's (n={len(sample)} {where}, {len(replies)} good replies)")
    for name, per_language in hits.items():
        every = [h for hs in per_language.values() for h in hs]
        cells = ", ".join(f"{lang} {sum(hs) / len(hs):.2f}" for lang, hs in per_language.items())
        print(f"  {name:16} {sum(every) / len(every):.2f}   ({cells})   aimed for >= {TARGET}")


if __name__ == "__main__":
    main()
