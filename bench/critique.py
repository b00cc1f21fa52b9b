"""Critique the labelled eval drafts with the configured critic (the learned one by default) and report the bars.

Usage:  uv run python -m bench.critique [--heldout] [--limit N] [--languages en,ru] [--no-speed]

The product's figures: every draft goes through the public API (``Coach.critique_stream(draft,
customer_message)``, the Coach tab's path) with the shipped critic model, so grader-directed sentences are left
out and the customer's message is always read, as for an agent. Choosing the critic's settings is
``bench/critic_fit.py``'s job, on the tuning set; ``--heldout`` is for checking.

Per language: problem recall (labelled problems flagged, and flagged citing a passage of a labelled
principle), false issues per good draft, the share of each draft's labelled principles that the critique's
citations cover, feedback in the draft's language, quotes at their offsets, citations among the passages;
per criterion recall and precision; then speed, warm, with each draft's embedding included: p50/p95 per
critique, a 2,000-character draft, and ``coach evaluate`` rows/s. ``--heldout`` scores drafts that no part of coach
was trained or tuned on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import add_eval_arguments, bench_settings, eval_file, limited, load_eval
from coach import Coach, CoachError, Critique
from coach.language import language_matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_eval_arguments(parser)
    parser.add_argument("--languages", default="")
    parser.add_argument("--no-speed", action="store_true", help="skip the 2,000-character and batch timings")
    parser.add_argument("--batch-rows", type=int, default=300, help="rows for the batch throughput timing")
    args = parser.parse_args()
    queries, principles = load_eval(eval_file(args))
    drafts = [item for item in queries if item["kind"] == "draft"]
    if args.languages:
        drafts = [d for d in drafts if d["language"] in args.languages.split(",")]
    drafts = limited(drafts, args.limit)
    coach = Coach(bench_settings())
    coach.ensure_index()
    if coach.settings.critic == "json":
        coach.llm.endpoint()  # start the embedded server before timing anything
    coach.critique("Warm-up: thank you for your patience.")  # load the models before timing
    rows: list[dict[str, Any]] = []
    try:
        for n, draft in enumerate(drafts, 1):
            started = time.perf_counter()
            first_event = None
            critique = None
            coach.retriever.forget_vectors()  # time the draft's embedding too, not a cache hit
            try:
                for event in coach.critique_stream(draft["text"], draft.get("customer_message")):
                    first_event = first_event or time.perf_counter() - started
                    if isinstance(event.result, Critique):
                        critique = event.result
            except CoachError as exc:
                print(f"  {draft['id']}: ERROR {exc}")
                rows.append({"draft": draft, "error": str(exc)})
                continue
            assert critique is not None
            rows.append({"draft": draft, "critique": critique, "first_event": first_event})
            flagged = sorted(i.criterion for i in critique.issues)
            print(
                f"  {n}/{len(drafts)} {draft['id']} {critique.latency_s:.1f} s flagged {flagged} "
                f"labelled {sorted(draft['problems'])}",
                flush=True,
            )
        report(rows, principles)
        if not args.no_speed:
            long_draft_speed(coach, drafts)
            batch_speed(coach, drafts, args.batch_rows)
    finally:
        coach.close()


def long_draft_speed(coach: Coach, drafts: list[dict[str, Any]], runs: int = 10) -> None:
    """Critique time of a 2,000-character draft, its embedding included (the issue's upper bound)."""
    text = " ".join(d["text"] for d in drafts if d["language"] == "en")[:2000]
    times = []
    for _ in range(runs):
        coach.retriever.forget_vectors()
        started = time.perf_counter()
        coach.critique(text)
        times.append(time.perf_counter() - started)
    print(f"2,000-character draft: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")


def batch_speed(coach: Coach, drafts: list[dict[str, Any]], rows: int) -> None:
    """`coach evaluate` throughput with the learned critic: distinct rows, so no vector is reused."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "rows.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for n in range(rows):
                d = drafts[n % len(drafts)]
                row = {"id": f"r{n}", "draft": f"{d['text']} (ref {n})", "customer_message": d.get("customer_message")}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        started = time.perf_counter()
        coach.evaluate_file(source, Path(folder) / "out.jsonl", concurrency=2)
        seconds = time.perf_counter() - started
    print(f"coach evaluate, {rows} rows, concurrency 2: {rows / seconds:.1f} rows/s ({seconds:.1f} s)")


def quote_overlaps(rows: list[dict[str, Any]]) -> dict[str, list[bool]]:
    """Per criterion, for each labelled `said` problem the critic flagged: does its quote overlap the labelled span
    by at least half of the shorter of the two? (Drafts whose labels carry spans: the blind-written held-out rows.)"""
    overlaps: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        verdicts = row["draft"].get("verdicts")
        if "critique" not in row or not verdicts:
            continue
        issues = {i.criterion: i for i in row["critique"].issues}
        for cid, verdict in verdicts.items():
            if verdict["label"] != "said" or cid not in issues:
                continue
            issue = issues[cid]
            shared = min(issue.end, verdict["end"]) - max(issue.start, verdict["start"])
            shorter = min(issue.end - issue.start, verdict["end"] - verdict["start"])
            overlaps[cid].append(issue.kind == "said" and shorter > 0 and 2 * shared >= shorter)
    return overlaps


def report(rows: list[dict[str, Any]], principles: dict[str, set[str]]) -> None:
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        draft = row["draft"]
        for key in ("all", draft["language"]):
            s = stats[key]
            s["drafts"] += 1
            if "error" in row:
                s["errors"] += 1
                continue
            critique: Critique = row["critique"]
            text = draft["text"]
            flagged = {i.criterion: i for i in critique.issues}
            tipped = {t.criterion for t in critique.tips}
            s["tips"] += len(tipped)
            cited = {pid for i in critique.issues for pid in i.passage_ids}
            for principle in draft.get("principles", []):
                if principles.get(principle):
                    s["principles"] += 1
                    s["principles_cited"] += bool(principles[principle] & cited)
                    s["principles_shown"] += bool(principles[principle] & {p.id for p in critique.passages})
            if draft["good"]:
                s["good"] += 1
                s["false"] += len(flagged)
                s["false_tips"] += len(tipped)
            else:
                s["bad"] += 1
                s["issues_bad"] += len(flagged)
                fitting = set().union(*(principles.get(p, set()) for p in draft["principles"]))
                for problem in draft["problems"]:
                    s["labelled"] += 1
                    s["found_or_tip"] += problem in flagged or problem in tipped
                    if problem in flagged:
                        s["found"] += 1
                        s["found_fitting"] += bool(set(flagged[problem].passage_ids) & fitting)
            prose = " ".join([i.explanation for i in critique.issues] + [sc.reason for sc in critique.scores.values()])
            s["language_ok"] += language_matches(prose, draft["language"]) and critique.grounding.language_ok
            s["quotes"] += len(critique.issues)
            s["quotes_ok"] += sum(text[i.start : i.end] == i.quote for i in critique.issues)
            ids = {p.id for p in critique.passages}
            s["citations"] += sum(len(i.passage_ids) for i in critique.issues)
            s["citations_ok"] += sum(len(set(i.passage_ids) & ids) for i in critique.issues)
            s["repaired"] += critique.usage.repairs > 0
            s["dropped"] += critique.grounding.quotes_dropped + critique.grounding.citations_dropped > 0
    print(
        "\nlanguage drafts  recall  recall+passage  false/good  principles-cited  +dense  language-ok  quotes-ok  "
        "citations-ok  errors"
    )
    for key in ["all", *sorted(k for k in stats if k != "all")]:
        s = stats[key]
        ok = s["drafts"] - s["errors"]
        print(
            f"{key:8s} {int(s['drafts']):6d}  {s['found'] / max(s['labelled'], 1):6.2f}  "
            f"{s['found_fitting'] / max(s['labelled'], 1):14.2f}  {s['false'] / max(s['good'], 1):10.2f}  "
            f"{s['principles_cited'] / max(s['principles'], 1):16.2f}  "
            f"{s['principles_shown'] / max(s['principles'], 1):6.2f}  "
            f"{s['language_ok'] / max(ok, 1):11.0%}  {s['quotes_ok']:.0f}/{s['quotes']:.0f}  "
            f"{s['citations_ok']:.0f}/{s['citations']:.0f}  {int(s['errors']):6d}"
        )
    print("\nlanguage  recall(issues+tips)  tips/good  tips/draft  issues/bad  labelled-problems/bad")
    for key in ["all", *sorted(k for k in stats if k != "all")]:
        s = stats[key]
        print(
            f"{key:8s}  {s['found_or_tip'] / max(s['labelled'], 1):19.2f}  {s['false_tips'] / max(s['good'], 1):9.2f}  "
            f"{s['tips'] / max(s['drafts'] - s['errors'], 1):10.2f}  {s['issues_bad'] / max(s['bad'], 1):10.2f}  "
            f"{s['labelled'] / max(s['bad'], 1):21.2f}"
        )
    overlaps = quote_overlaps(rows)
    if overlaps:
        print("\nquotes of labelled `said` problems that the critic flagged: the quoted sentence overlaps the label")
        for cid, hits in sorted(overlaps.items()):
            print(f"  {cid:26} {sum(hits) / len(hits):5.2f} ({sum(hits)}/{len(hits)})")
        every = [h for hits in overlaps.values() for h in hits]
        print(f"  {'all':26} {sum(every) / len(every):5.2f} ({sum(every)}/{len(every)})")
    done = [r for r in rows if "critique" in r]
    if not done:
        return
    print(f"\n{'criterion':26} recall precision support")
    for cid in sorted({c for r in done for c in r["critique"].scores}):
        truth = [cid in r["draft"]["problems"] for r in done]
        flags = [any(i.criterion == cid for i in r["critique"].issues) for r in done]
        tp = sum(t and f for t, f in zip(truth, flags, strict=True))
        print(f"{cid:26} {tp / max(sum(truth), 1):6.2f} {tp / max(sum(flags), 1):9.2f} {sum(truth):7d}")
    latency = [r["critique"].latency_s for r in done]
    llm = [r["critique"].timings.get("llm", 0.0) for r in done]
    overhead = [lat - t for lat, t in zip(latency, llm, strict=True)]
    first = [r["first_event"] for r in done]
    tokens = [r["critique"].usage.prompt_tokens for r in done]
    stages = defaultdict(list)
    for r in done:
        for stage, seconds in r["critique"].timings.items():
            stages[stage].append(seconds)
    p95 = sorted(latency)[min(int(0.95 * len(latency)), len(latency) - 1)]
    print(
        f"\ncritique time (embedding included): p50 {statistics.median(latency) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    print(
        f"first streamed event (retrieval done): median {statistics.median(first) * 1000:.0f} ms, "
        f"max {max(first) * 1000:.0f} ms"
    )
    print(
        f"coach's own overhead (all but waiting on the LLM): median {statistics.median(overhead) * 1000:.0f} ms, "
        f"max {max(overhead) * 1000:.0f} ms"
    )
    print("per stage (median s): " + ", ".join(f"{k} {statistics.median(v):.3f}" for k, v in stages.items()))
    print(
        f"prompt tokens per critique: median {statistics.median(tokens):.0f} "
        f"(LLM calls per critique {statistics.median([r['critique'].usage.calls for r in done]):.0f}; "
        "the server's prompt cache reuses the draft prefix)"
    )


if __name__ == "__main__":
    main()
