"""Good replies to similar messages (``Coach.similar_replies``): is the closest one about the same kind of case?

Usage:  python -m bench.similar_replies [--per-language 40] [--heldout]

The tuning set's drafts carry no domain, so this holds training drafts apart instead: for each sampled draft
of ``training/drafts.jsonl`` (good or bad) whose service domain the good replies cover (the replies'
12 domains; names compared in lower case with spaces as underscores), the good replies of
``knowledge/replies.jsonl`` in its language, itself left out, are ranked as ``Coach.similar_replies`` ranks
them (situation = customer message + draft, the predicted domain's replies first), and the top reply's domain is
compared with the draft's (aimed for >= 0.8). The domain classifier is trained as ``training/domains.py`` trains
it, but 5-fold: each sampled draft's domain is predicted by a model fitted on the other folds' drafts, so it never
saw the draft. Also shown: the classifier's accuracy, the closest replies' vote for the domain (what ranked
before the classifier), and the closest reply alone by situation, by the message, by the draft. ``--limit N``:
N drafts per language, the classifier fitted on at most 25 N drafts per language (a smoke run). ``--heldout``: the
held-out drafts whose domain (``eval/raw/heldout-extra.jsonl``) the replies cover, ranked with the shipped
classifier (checking only). Training drafts' vectors are kept in the data dir (bench-vectors.npz).

Situation: ``eval/situations.jsonl`` labels, by reading each customer message, the situation kind (what went wrong
or what is asked, one of a fixed vocabulary) of the 275 replies' messages and of 105 messages none of them is: the
tuning set's 65 with a customer message and 40 training drafts of later writers (the labeller saw no ranking before
labelling; ``more_replies``: 17 good replies of later writers, labelled when a probe of the larger pool ranked
them). For each of the 105, the top reply's kind = the message's (top-1) and the share of the top 2 that are
(what the Coach tab shows), as ``Coach.similar_replies`` ranks them (with the shipped domain classifier), and as
it ranked before (the domain's replies first, message and draft weighing the same, no situation kinds).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import defaultdict
from typing import Any

import numpy as np

from bench.common import ROOT, heldout_domains, load_eval
from bench.critic_fit import VectorCache
from coach import Settings
from coach.judging.conditions import situation_kinds
from coach.knowledge.domains import DomainModel, case_text, domain_name
from coach.knowledge.embeddings import VECTORS_FILE
from coach.knowledge.replies import MESSAGE_WEIGHT, REPLIES_FILE, ReplyBook, situation
from coach.resources import shipped_knowledge_dir, shipped_prompts_dir

TARGET = 0.8
FOLDS = 5


def training_rows(covered: set[str] | None) -> list[dict[str, Any]]:
    """The training drafts whose domain the replies cover (all with None), the domain's name normalised."""
    lines = (ROOT / "training" / "drafts.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    rows = [r | {"domain": domain_name(r["domain"])} for r in rows]
    return [r for r in rows if covered is None or r["domain"] in covered]


def sampled(rows: list[dict[str, Any]], per_language: int, seed: int) -> list[dict[str, Any]]:
    """Up to ``per_language`` rows of each language, drawn with ``seed``."""
    rng = random.Random(seed)
    by_language = defaultdict(list)
    for row in rows:
        by_language[row["language"]].append(row)
    return [r for group in by_language.values() for r in rng.sample(group, min(per_language, len(group)))]


def drafts(heldout: bool, per_language: int, covered: set[str]) -> list[dict[str, Any]]:
    """The drafts to rank replies for: held-out ones with a covered domain, or a sample of training drafts."""
    if heldout:
        domains = heldout_domains()
        rows = [r | {"domain": domains[r["id"]]} for r in load_eval("heldout.jsonl")[0] if r["id"] in domains]
        return [r for r in rows if domain_name(r["domain"]) in covered][: per_language * 5]
    return sampled(training_rows(covered), per_language, 22)


def predictions(sample: list[dict[str, Any]], covered: set[str], per_language: int, cache: VectorCache) -> list[str]:
    """Each sampled training draft's domain, by a classifier fitted on the folds it is not in."""
    pool = training_rows(covered)
    if per_language < 40:  # a smoke run: fewer drafts to embed
        ids = {r["id"] for r in sample}
        pool = [r for r in pool if r["id"] in ids] + sampled(
            [r for r in pool if r["id"] not in ids], 25 * per_language, 5
        )
    order = sorted(r["id"] for r in pool)
    random.Random(5).shuffle(order)
    fold = {draft_id: i % FOLDS for i, draft_id in enumerate(order)}
    vectors = cache.texts([t for r in pool for t in (r["text"], r["customer_message"])])
    situations = np.stack([situation(vectors[2 * i], vectors[2 * i + 1]) for i in range(len(pool))])
    by_id = {r["id"]: i for i, r in enumerate(pool)}
    found = {}
    for f in range(FOLDS):
        train = [i for i, r in enumerate(pool) if fold[r["id"]] != f]
        model = DomainModel.fit(
            [case_text(pool[i]["text"], pool[i]["customer_message"]) for i in train],
            situations[train],
            [pool[i]["domain"] for i in train],
        )
        for row in sample:
            if fold[row["id"]] == f:
                i = by_id[row["id"]]
                found[row["id"]] = model.predict(case_text(row["text"], row["customer_message"]), situations[i])
    return [found[r["id"]] for r in sample]


def situation_match(book: ReplyBook, cache: VectorCache, shipped: DomainModel, limit: int) -> None:
    """Print how often the top similar replies are of the labelled message's situation kind."""
    labels = [json.loads(line) for line in (ROOT / "eval" / "situations.jsonl").read_text("utf-8").splitlines()]
    kind = {r["id"]: r["kind"] for r in labels}
    rows = {r["id"]: r for r in load_eval()[0]} | {r["id"]: r for r in training_rows(None)}
    cases = [rows[r["id"]] for r in labels if r["set"] in ("queries", "training")][: limit * 5]
    vectors = cache.texts([t for r in cases for t in (r["text"], r["customer_message"])])
    replies, situations = book.replies(), book.vectors()
    found: dict[str, list[tuple[bool, float]]] = defaultdict(list)
    for i, row in enumerate(cases):
        draft, message, language = vectors[2 * i], vectors[2 * i + 1], row["language"]
        case = situation(draft, message)
        domain = shipped.predict(case_text(row["text"], row["customer_message"]), case)
        weighted = situation(draft, message, MESSAGE_WEIGHT)
        kinds = situation_kinds(row["customer_message"], language)
        order = [j for j in np.argsort(-(situations @ case)) if replies[j].language == language]
        before = sorted(order, key=lambda j: domain_name(replies[j].domain) != domain)[:2]
        for name, top in (
            ("before: domain first", [replies[j].id for j in before]),
            ("similar_replies", [r.id for r in book.similar(language, weighted, 2, domain=domain, kinds=kinds)]),
            ("  without kinds", [r.id for r in book.similar(language, weighted, 2, domain=domain)]),
            ("  message 1x", [r.id for r in book.similar(language, case, 2, domain=domain, kinds=kinds)]),
        ):
            same = [kind[reply_id] == kind[row["id"]] for reply_id in top]
            found[name].append((same[0], sum(same) / len(same)))
    print(f"top replies' situation kind = the message's (n={len(cases)} labelled messages, eval/situations.jsonl)")
    for name, hits in found.items():
        top1, top2 = (statistics.mean(h[n] for h in hits) for n in (0, 1))
        print(f"  {name:22} top-1 {top1:.2f}   top-2 {top2:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", "--per-language", dest="per_language", type=int, default=40)  # drafts per language
    parser.add_argument("--heldout", action="store_true", help="held-out drafts with a domain (checking only)")
    args = parser.parse_args()
    cache = VectorCache(Settings().data_dir / "bench-vectors.npz")
    knowledge = shipped_knowledge_dir()
    book = ReplyBook(
        knowledge / REPLIES_FILE, cache.embedder, Settings().data_dir, knowledge / VECTORS_FILE, kinds=situation_kinds
    )
    domains = {r.id: domain_name(r.domain) for r in book.replies()}
    sample = drafts(args.heldout, args.per_language, set(domains.values()))
    vectors = cache.texts([t for r in sample for t in (r["text"], r["customer_message"])])
    cases = [situation(vectors[2 * i], vectors[2 * i + 1]) for i in range(len(sample))]
    shipped = DomainModel.load(shipped_prompts_dir())
    situation_match(book, cache, shipped, args.per_language)
    if args.heldout:
        predicted = [
            shipped.predict(case_text(r["text"], r["customer_message"]), c) for r, c in zip(sample, cases, strict=True)
        ]
    else:
        predicted = predictions(sample, set(domains.values()), args.per_language, cache)
    hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    replies, situations = book.replies(), book.vectors()
    for i, row in enumerate(sample):
        draft, message, truth, case = vectors[2 * i], vectors[2 * i + 1], domain_name(row["domain"]), cases[i]
        lang = row["language"]
        weighted, kinds = situation(draft, message, MESSAGE_WEIGHT), situation_kinds(row["customer_message"], lang)
        [top] = book.similar(lang, weighted, k=1, exclude={row["id"]}, domain=predicted[i], kinds=kinds)
        hits["similar_replies"][row["language"]].append(domains[top.id] == truth)
        hits["classifier"][row["language"]].append(predicted[i] == truth)
        [voted] = book.similar(row["language"], case, k=1, exclude={row["id"]})
        hits["closest vote"][row["language"]].append(domains[voted.id] == truth)
        for name, query in (("situation only", case), ("message", message), ("draft", draft)):
            scores = situations @ query
            ranked = [j for j in np.argsort(-scores) if replies[j].language == row["language"]]
            ranked = [j for j in ranked if replies[j].id != row["id"]]
            hits[name][row["language"]].append(domain_name(replies[ranked[0]].domain) == truth)
    where = "held-out drafts with a covered domain" if args.heldout else "training drafts held apart, 5-fold"
    print(f"top reply's domain = the draft's (n={len(sample)} {where}, {len(replies)} good replies)")
    for name, per_language in hits.items():
        every = [h for hs in per_language.values() for h in hs]
        cells = ", ".join(f"{lang} {sum(hs) / len(hs):.2f}" for lang, hs in per_language.items())
        print(f"  {name:16} {sum(every) / len(every):.2f}   ({cells})   aimed for >= {TARGET}")
    times = []
    for i, (row, case) in enumerate(zip(sample, cases, strict=True)):
        start = time.perf_counter()
        domain = shipped.predict(case_text(row["text"], row["customer_message"]), case)
        kinds = situation_kinds(row["customer_message"], row["language"])
        weighted = situation(vectors[2 * i], vectors[2 * i + 1], MESSAGE_WEIGHT)
        book.similar(row["language"], weighted, k=2, domain=domain, kinds=kinds)
        times.append((time.perf_counter() - start) * 1000)
    print(f"domain prediction + ranking per call: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")


if __name__ == "__main__":
    main()
