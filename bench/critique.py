"""Critique the labelled eval drafts with the configured LLM and report the issue's bars.

Usage:  uv run python -m bench.critique [--limit N] [--languages en,ru] [--queries heldout.jsonl]

Per language: issue recall (labelled problems flagged, and flagged with a passage of a labelled
principle), false alarms per good draft, feedback in the draft's language, quotes located, citations
among the retrieved passages, repairs and dropped points; then speed: time to the first streamed event
(retrieval), median critique time, LLM time, coach's own overhead (everything but waiting on the LLM) and
prompt tokens. The calibration is fitted on the drafts of eval/queries.jsonl: bench/calibrate_critic.py
reports cross-validated figures, and ``--queries heldout.jsonl`` scores drafts it never saw.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

from bench.common import load_eval
from coach import Coach, CoachError, Critique, Settings
from coach.language import language_matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--languages", default="")
    parser.add_argument("--queries", default="queries.jsonl", help="file under eval/ (heldout.jsonl: held-out set)")
    args = parser.parse_args()
    queries, principles = load_eval(args.queries)
    drafts = [item for item in queries if item["kind"] == "draft"]
    if args.languages:
        drafts = [d for d in drafts if d["language"] in args.languages.split(",")]
    if args.limit:
        drafts = drafts[: args.limit]
    coach = Coach(Settings(cache=False))
    coach.ensure_index()
    coach.llm.endpoint()  # start the embedded server before timing anything
    rows = []
    try:
        for n, draft in enumerate(drafts, 1):
            started = time.perf_counter()
            first_event = None
            critique = None
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
    finally:
        coach.close()
    report(rows, principles)


def report(rows: list[dict], principles: dict[str, set[str]]) -> None:
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
            if draft["good"]:
                s["good"] += 1
                s["false"] += len(flagged)
            else:
                fitting = set().union(*(principles.get(p, set()) for p in draft["principles"]))
                for problem in draft["problems"]:
                    s["labelled"] += 1
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
        "\nlanguage drafts  recall  recall+passage  false/good  language-ok  quotes-ok  citations-ok  repaired  "
        "dropped  errors"
    )
    for key in ["all", *sorted(k for k in stats if k != "all")]:
        s = stats[key]
        ok = s["drafts"] - s["errors"]
        print(
            f"{key:8s} {int(s['drafts']):6d}  {s['found'] / max(s['labelled'], 1):6.2f}  "
            f"{s['found_fitting'] / max(s['labelled'], 1):14.2f}  {s['false'] / max(s['good'], 1):10.2f}  "
            f"{s['language_ok'] / max(ok, 1):11.0%}  {s['quotes_ok']:.0f}/{s['quotes']:.0f}  "
            f"{s['citations_ok']:.0f}/{s['citations']:.0f}  {int(s['repaired']):8d}  {int(s['dropped']):7d}  "
            f"{int(s['errors']):6d}"
        )
    done = [r for r in rows if "critique" in r]
    if not done:
        return
    latency = [r["critique"].latency_s for r in done]
    llm = [r["critique"].timings.get("llm", 0.0) for r in done]
    overhead = [lat - t for lat, t in zip(latency, llm, strict=True)]
    first = [r["first_event"] for r in done]
    tokens = [r["critique"].usage.prompt_tokens for r in done]
    stages = defaultdict(list)
    for r in done:
        for stage, seconds in r["critique"].timings.items():
            stages[stage].append(seconds)
    p90 = sorted(latency)[int(0.9 * len(latency))]
    print(f"\ncritique time: median {statistics.median(latency):.1f} s, p90 {p90:.1f} s")
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
