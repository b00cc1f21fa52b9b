"""Retrieval benchmark: recall@5, MRR and per-language recall on eval/, coach beside BM25; latencies.

Usage:  uv run python -m bench.retrieval [--k 5] [--variants] [--no-latency] [--queries heldout.jsonl]

Recall@k: for each query, the share of its labelled principles with at least one passage among
the top k (a principle is stated by passages in several documents; any of them counts), averaged
over queries. Hit@k (lenient): the share of queries with a passage of any labelled principle in the
top k. MRR: reciprocal rank of the first passage of any labelled principle.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import KNOWLEDGE, add_eval_arguments, eval_file, limited, load_eval
from coach import Coach, Settings
from coach.knowledge.retrieval import RetrievalConfig

Search = Callable[[str, int], list[str]]


def evaluate(search: Search, queries: list[dict[str, Any]], principles: dict[str, set[str]], k: int) -> dict[str, Any]:
    """Recall@k, MRR and per-language / per-kind recall for one search function."""
    recalls: list[float] = []
    hits: list[float] = []
    reciprocal_ranks: list[float] = []
    by_language: dict[str, list[float]] = defaultdict(list)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for query in queries:
        ranked = search(query["text"], k)
        targets = [principles[name] for name in query["principles"]]
        recall = sum(1 for target in targets if target & set(ranked[:k])) / len(targets)
        relevant = set().union(*targets)
        rank = next((i for i, pid in enumerate(ranked, start=1) if pid in relevant), None)
        recalls.append(recall)
        hits.append(1.0 if relevant & set(ranked[:k]) else 0.0)
        reciprocal_ranks.append(1.0 / rank if rank else 0.0)
        by_language[query["language"]].append(recall)
        by_kind[query["kind"]].append(recall)
    return {
        "recall": statistics.mean(recalls),
        "mrr": statistics.mean(reciprocal_ranks),
        "hit": statistics.mean(hits),
        "languages": {lang: statistics.mean(v) for lang, v in sorted(by_language.items())},
        "kinds": {kind: statistics.mean(v) for kind, v in sorted(by_kind.items())},
    }


def bm25_search(coach: Coach) -> Search:
    """A BM25 baseline over the same passages (lexical: it cannot cross languages)."""
    from rank_bm25 import BM25Okapi

    passages = coach.store.all_passages()
    ids = [c.passage.id for c in passages]

    def tokenize(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    bm25 = BM25Okapi([tokenize(c.passage.text) for c in passages])

    def search(text: str, k: int) -> list[str]:
        scores = bm25.get_scores(tokenize(text))
        return [ids[i] for i in sorted(range(len(ids)), key=lambda i: -scores[i])[:k]]

    return search


def coach_search(coach: Coach) -> Search:
    return lambda text, k: [p.id for p in coach.search(text, k=k)]


def print_row(name: str, result: dict[str, Any]) -> None:
    langs = "  ".join(f"{lang} {value:.2f}" for lang, value in result["languages"].items())
    kinds = "  ".join(f"{kind} {value:.2f}" for kind, value in result["kinds"].items())
    scores = f"recall@k {result['recall']:.3f}  hit@k {result['hit']:.3f}  MRR {result['mrr']:.3f}"
    print(f"{name:34s} {scores} | {langs} | {kinds}")


def latency(coach: Coach, texts: list[str], repeat: int = 3) -> list[float]:
    """Warm per-query search latencies in milliseconds: model loaded, but every query embedded afresh."""
    coach.search(texts[0], k=5)
    timings = []
    for _ in range(repeat):
        for text in texts:
            coach.retriever.forget_vectors()
            started = time.perf_counter()
            coach.search(text, k=5)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--variants", action="store_true", help="also score alternative retrieval settings")
    parser.add_argument("--no-latency", action="store_true")
    add_eval_arguments(parser)
    args = parser.parse_args()

    queries, principles = load_eval(eval_file(args))
    queries = limited(queries, args.limit)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for q in queries:
        counts[(q["language"], q["kind"])] += 1
    print(
        f"eval set: {len(queries)} queries; "
        + ", ".join(f"{lang}/{kind} {n}" for (lang, kind), n in sorted(counts.items()))
    )

    work = Path(tempfile.mkdtemp(prefix="coach-bench-"))
    try:
        shutil.copytree(KNOWLEDGE, work / "knowledge")
        settings = Settings(knowledge_dir=work / "knowledge", data_dir=work / "data")
        started = time.perf_counter()
        coach = Coach(settings)
        report = coach.index()
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        Coach(settings).index()
        reindex_s = time.perf_counter() - started

        print(f"\nretrieval, k={args.k}")
        print_row("coach (default)", evaluate(coach_search(coach), queries, principles, args.k))
        print_row("BM25 baseline", evaluate(bm25_search(coach), queries, principles, args.k))
        if args.variants:
            variants = {
                "MMR 0.9": RetrievalConfig(mmr_lambda=0.9),
                "MMR 0.7": RetrievalConfig(mmr_lambda=0.7),
                "cap 2 passages per document": RetrievalConfig(per_document_cap=2),
                "per sentence + whole (0.5/0.5)": RetrievalConfig(per_sentence=True),
                "per sentence + whole (0.3/0.7)": RetrievalConfig(per_sentence=True, whole_weight=0.7),
                "per sentence + whole, MMR 0.7": RetrievalConfig(per_sentence=True, mmr_lambda=0.7),
                "no retrieval notes": RetrievalConfig(use_notes=False),
                "no retrieval notes, per sentence, MMR 0.7": RetrievalConfig(
                    use_notes=False, per_sentence=True, mmr_lambda=0.7
                ),
            }
            for name, config in variants.items():
                variant = Coach(settings, retrieval=config)
                print_row(name, evaluate(coach_search(variant), queries, principles, args.k))

        built = f"5 documents, {report.total_passages} passages + their notes, model load included"
        print(f"\nindex build ({built}): {build_s:.2f} s")
        print(f"reindex with nothing changed (fresh process state, store reopened): {reindex_s:.2f} s")
        if not args.no_latency:
            short = [q["text"] for q in queries if len(q["text"]) < 300]
            long_text = " ".join(q["text"] for q in queries)[:2000]
            if short:
                short_ms = latency(coach, short)
                print(
                    f"warm search latency (embedding included), {len(short)} queries < 300 chars: p50 "
                    f"{statistics.median(short_ms):.1f} ms, p90 {sorted(short_ms)[int(len(short_ms) * 0.9)]:.1f} ms"
                )
            long_ms = latency(coach, [long_text], repeat=10)
            long_p50 = statistics.median(long_ms)
            print(f"warm search latency (embedding included), 2,000-char draft: p50 {long_p50:.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
