"""Rewrite the eval's bad drafts with the configured LLM and report issue 14's bars, per language.

Usage:  python -m bench.rewrite [--per-language 2] [--languages en,ru] [--heldout] [--limit N] [--fake-llm]

Drafts come from the tuning set eval/queries.jsonl; ``--heldout`` checks on eval/heldout.jsonl (never choose a
setting by those figures). ``--fake-llm`` answers every call with the tests' fake server: it only checks that
the bench runs (CI), its figures mean nothing.

Per language: rewrites that finished with a text (no error), the draft's facts kept (numbers, ids, dates,
amounts, emails), the rewrite in the draft's language, the critic's overall score not lower / higher than
the draft's, flagged criteria fixed, retries; then time from pressing Rewrite to the first streamed text
and to the checked result, split into the critic's share (two verdicts, before and after) and the LLM's.
The critic is the Coach's own critique (the judge); with a critic that takes milliseconds, the result time
is about "press to result" minus "critic".
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from typing import Any

from bench.common import add_eval_arguments, bench_settings, eval_file, fake_llm_url, limited, load_eval
from coach import Coach, CoachError, Rewrite, Settings
from coach.language import detect_language


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=2, help="bad drafts per language")
    parser.add_argument("--languages", default="en,ru,el,kk,mn")
    add_eval_arguments(parser)
    parser.add_argument(
        "--fake-llm", action="store_true", help="the tests' fake LLM: checks the bench runs, no figures"
    )
    args = parser.parse_args()
    queries, _ = load_eval(eval_file(args))
    drafts = limited(pick_drafts(queries, args.languages.split(","), args.per_language), args.limit)
    with fake_llm_url(args.fake_llm) as url:
        rows = run_all(drafts, bench_settings(url))
    report(rows)


def run_all(drafts: list[dict[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    """Rewrite each draft, printing each result as it comes."""
    coach = Coach(settings)
    coach.ensure_index()
    coach.llm.endpoint()  # start the embedded server before timing anything
    rows = []
    try:
        for n, draft in enumerate(drafts, 1):
            row = run_one(coach, draft)
            rows.append(row)
            result = row.get("rewrite")
            if result is None:
                print(f"  {n}/{len(drafts)} {draft['id']}: ERROR {row['error']}", flush=True)
                continue
            print(
                f"  {n}/{len(drafts)} {draft['id']} first text {row['first_text']:.1f} s, result {row['total']:.1f} s "
                f"(critic {critic_time(result):.1f} s), overall {result.draft_overall} → "
                f"{result.rewrite_overall}, fixed {result.fixed}, warnings {result.warnings}",
                flush=True,
            )
            print(f"      {result.text!r}", flush=True)
    finally:
        coach.close()
    return rows


def pick_drafts(queries: list[dict[str, Any]], languages: list[str], per_language: int) -> list[dict[str, Any]]:
    """The first bad drafts of each language, in file order (no choice by content)."""
    picked: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in queries:
        bad = item["kind"] == "draft" and not item["good"] and item["language"] in languages
        if bad and len(picked[item["language"]]) < per_language:
            picked[item["language"]].append(item)
    return [d for language in languages for d in picked[language]]


def run_one(coach: Coach, draft: dict[str, Any]) -> dict[str, Any]:
    """One rewrite as the page runs it: the stream from the press to the checked result."""
    started = time.perf_counter()
    first_text = None
    try:
        for event in coach.rewrite_stream(draft["text"], draft.get("customer_message")):
            if first_text is None and event.stage == "llm" and event.partial_text.strip():
                first_text = time.perf_counter() - started
            if isinstance(event.result, Rewrite):
                total = time.perf_counter() - started
                return {"draft": draft, "rewrite": event.result, "first_text": first_text or total, "total": total}
    except CoachError as exc:
        return {"draft": draft, "error": str(exc)}
    return {"draft": draft, "error": "the stream ended without a result"}


def critic_time(result: Rewrite) -> float:
    """Seconds spent waiting on the critic: its verdicts on the draft and on each new text."""
    return result.timings.get("critic_draft", 0.0) + result.timings.get("critic_rewrite", 0.0)


def report(rows: list[dict[str, Any]]) -> None:
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        draft = row["draft"]
        for key in ("all", draft["language"]):
            s, t = stats[key], times[key]
            s["drafts"] += 1
            result: Rewrite | None = row.get("rewrite")
            if result is None:
                continue
            s["finished"] += bool(result.text.strip())
            s["facts_kept"] += not result.lost_facts
            s["invented"] += bool(result.invented_facts)
            s["language_ok"] += detect_language(result.text) == draft["language"]
            before, after = result.draft_overall or 0, result.rewrite_overall or 0
            s["not_lower"] += after >= before
            s["higher"] += after > before
            s["fixed"] += len(result.fixed)
            s["retried"] += result.usage.repairs > 0
            t["first"].append(row["first_text"])
            t["total"].append(row["total"])
            t["critic"].append(critic_time(result))
            t["first_after_critic"].append(row["first_text"] - result.timings.get("critic_draft", 0.0))
            t["llm"].append(result.timings.get("llm", 0.0))
            t["tokens"].append(result.usage.prompt_tokens)
    print(
        "\nlanguage drafts finished facts-kept invented language-ok not-lower higher fixed/draft retried  "
        "first-text  result  critic  llm   (medians, s)"
    )
    for key in ["all", *sorted(k for k in stats if k != "all")]:
        s, t = stats[key], times[key]
        n = max(s["drafts"], 1)
        medians = [statistics.median(t[name]) if t[name] else float("nan") for name in ("first", "total", "critic")]
        llm = statistics.median(t["llm"]) if t["llm"] else float("nan")
        print(
            f"{key:8s} {int(s['drafts']):6d} {s['finished'] / n:8.0%} {s['facts_kept'] / n:10.0%} "
            f"{int(s['invented']):8d} {s['language_ok'] / n:11.0%} {s['not_lower'] / n:9.0%} {s['higher'] / n:6.0%} "
            f"{s['fixed'] / n:11.1f} {int(s['retried']):7d}  {medians[0]:10.1f} {medians[1]:7.1f} {medians[2]:7.1f} "
            f"{llm:5.1f}"
        )
    every = times["all"]
    if every["total"]:
        without_critic = [total - critic for total, critic in zip(every["total"], every["critic"], strict=True)]
        print(
            f"\npress to checked result: median {statistics.median(every['total']):.1f} s, "
            f"max {max(every['total']):.1f} s; without the critic's share: median "
            f"{statistics.median(without_critic):.1f} s"
        )
        print(
            f"first streamed text: median {statistics.median(every['first']):.1f} s (includes the critic's verdict "
            f"on the draft); after that verdict: median {statistics.median(every['first_after_critic']):.1f} s; "
            "prompt tokens per rewrite: median "
            f"{statistics.median(every['tokens']):.0f}"
        )


if __name__ == "__main__":
    main()
