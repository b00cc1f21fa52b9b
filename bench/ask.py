"""Ask the eval's trainer questions with the configured LLM and report issue 14's bars, per language.

Usage:  python -m bench.ask [--languages en,ru] [--heldout] [--limit N] [--fake-llm]

Questions come from the tuning set eval/queries.jsonl; ``--heldout`` checks on eval/heldout.jsonl (never choose
a setting by those figures). ``--fake-llm`` answers every call with the tests' fake server: it only checks that
the bench runs (CI), its figures mean nothing.

Per language: answers whose cited passages include a passage of one of the question's labelled principles
(eval/principles.yaml), and the same for the passages given to the model (the ceiling retrieval sets);
answers in the question's language; then time to the first event (passages and their best sentences, shown
before any LLM text), to the first LLM text and to the result.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from typing import Any

from bench.common import add_eval_arguments, bench_settings, eval_file, fake_llm_url, limited, load_eval
from coach import Answer, Coach, CoachError, Settings
from coach.language import detect_language


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default="en,ru,el,kk,mn")
    add_eval_arguments(parser)
    parser.add_argument(
        "--fake-llm", action="store_true", help="the tests' fake LLM: checks the bench runs, no figures"
    )
    args = parser.parse_args()
    queries, principles = load_eval(eval_file(args))
    questions = [q for q in queries if q["kind"] == "question" and q["language"] in args.languages.split(",")]
    with fake_llm_url(args.fake_llm) as url:
        rows = run_all(limited(questions, args.limit), principles, bench_settings(url))
    report(rows)


def run_all(
    questions: list[dict[str, Any]], principles: dict[str, set[str]], settings: Settings
) -> list[dict[str, Any]]:
    """Ask each question, printing each answer as it comes."""
    coach = Coach(settings)
    coach.ensure_index()
    coach.llm.endpoint()  # start the embedded server before timing anything
    rows = []
    try:
        for n, question in enumerate(questions, 1):
            row = run_one(coach, question)
            rows.append(row)
            answer = row.get("answer")
            if answer is None:
                print(f"  {n}/{len(questions)} {question['id']}: ERROR {row['error']}", flush=True)
                continue
            fitting = set().union(*(principles.get(p, set()) for p in question["principles"]))
            cited = [c.passage.id for c in answer.citations]
            row["cited_ok"] = bool(set(cited) & fitting)
            row["given_ok"] = bool({p.id for p in answer.passages} & fitting)
            print(
                f"  {n}/{len(questions)} {question['id']} first event {row['first_event']:.2f} s, first text "
                f"{row['first_text']:.1f} s, answer {row['total']:.1f} s, cited {cited} (fitting: {row['cited_ok']})",
                flush=True,
            )
            print(f"      {answer.text!r}", flush=True)
    finally:
        coach.close()
    return rows


def run_one(coach: Coach, question: dict[str, Any]) -> dict[str, Any]:
    """One question as the page asks it: the stream from the press to the checked answer."""
    started = time.perf_counter()
    first_event = first_text = None
    try:
        for event in coach.ask_stream(question["text"]):
            elapsed = time.perf_counter() - started
            if first_event is None and event.excerpts:
                first_event = elapsed
            if first_text is None and event.stage == "llm" and event.partial_text.strip():
                first_text = elapsed
            if isinstance(event.result, Answer):
                return {
                    "question": question,
                    "answer": event.result,
                    "first_event": first_event or elapsed,
                    "first_text": first_text or elapsed,
                    "total": elapsed,
                }
    except CoachError as exc:
        return {"question": question, "error": str(exc)}
    return {"question": question, "error": "the stream ended without a result"}


def report(rows: list[dict[str, Any]]) -> None:
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        question = row["question"]
        for key in ("all", question["language"]):
            s, t = stats[key], times[key]
            s["questions"] += 1
            answer: Answer | None = row.get("answer")
            if answer is None:
                continue
            s["cited_ok"] += row["cited_ok"]
            s["given_ok"] += row["given_ok"]
            s["language_ok"] += detect_language(answer.text) == question["language"]
            s["uncited"] += not answer.citations
            for name in ("first_event", "first_text", "total"):
                t[name].append(row[name])
    print(
        "\nlanguage questions cited-fitting given-fitting language-ok uncited  first-event first-text answer (medians)"
    )
    for key in ["all", *sorted(k for k in stats if k != "all")]:
        s, t = stats[key], times[key]
        n = max(s["questions"], 1)
        medians = [statistics.median(t[name]) if t[name] else float("nan") for name in ("first_event", "first_text")]
        total = statistics.median(t["total"]) if t["total"] else float("nan")
        print(
            f"{key:8s} {int(s['questions']):9d} {s['cited_ok'] / n:14.2f} {s['given_ok'] / n:13.2f} "
            f"{s['language_ok'] / n:11.0%} {int(s['uncited']):7d}  {medians[0]:9.2f} s {medians[1]:8.1f} s "
            f"{total:6.1f} s"
        )


if __name__ == "__main__":
    main()
