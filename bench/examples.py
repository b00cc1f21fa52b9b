"""Each issue's example (issue #22) and the rewrite by sentence surgery, measured on the labelled drafts.

Usage:  python -m bench.examples [--limit N | --per-language N] [--heldout]
        python -m bench.examples --heldout --rating FILE --rating-only [--adapted FILE]
        python -m bench.examples --limit N --examples-out FILE [--compare EARLIER]

Per issue of each draft's critique: an example present; in the draft's language; not a copy of a draft
sentence; no number or name the draft and the customer's message lack; and, with the example applied (put
instead of the quoted words, or inserted where the missing part belongs), the critic no longer flags the
criterion (aimed for: >= 0.85); per criterion, the share of examples that still carry a blank for content the agent
must write (a slot other than a fact's: [what we will do], [what happened]). Critique time p50 (examples included;
a fresh result cache: no timing is a hit).
Per bad draft, the rewrite (sentence surgery with the examples as filled by code; no LLM): strictly better
overall, never worse on a criterion, the draft's facts kept, in its language, no rubric advice pasted, time p50.
With ``--rating``, 10 examples per language of bad drafts, one issue per draft, criteria in turn (n, language,
draft, customer message, what the example is for in plain English, example; nothing else) for a blind rater;
``--rating-only --adapted FILE`` also writes the sentence the page shows after the LLM adapts each.
``--examples-out FILE`` writes every issue's example (draft id, criterion, kind, example, fixed) as JSON lines;
``--compare EARLIER`` prints the share of issues whose example differs from an earlier such file (e.g. before a
change to the cues that choose phrasings).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import load_eval
from coach import Coach, Settings
from coach.judging.plain_words import CRITERION as PLAIN_CRITERION
from coach.judging.plain_words import SOURCE as PLAIN_SOURCE
from coach.knowledge.embeddings import Embedder, Vectors
from coach.knowledge.phrasebook import SLOT
from coach.language import detect_language, language_matches
from coach.text import is_copy, split_sentences
from coach.writing.adapting import advice_pieces, invented
from coach.writing.surgery import apply_sentence

TARGET_FIXED = 0.85
FACT_SLOTS = ("date", "time", "number", "amount", "order", "name", "contact")


def issue_checks(coach: Coach, row: dict[str, Any], critique: Any) -> list[dict[str, Any]]:
    """One record per issue: which checks its example passes."""
    draft, customer = row["text"], row.get("customer_message")
    records = []
    for issue in critique.issues:
        record: dict[str, Any] = {
            "id": row.get("id"),
            "criterion": issue.criterion,
            "kind": issue.kind,
            "present": bool(issue.example),
        }
        record["source"] = issue.example_source
        if issue.example:
            example = issue.example
            after = coach.critique(apply_sentence(draft, issue, example), customer)
            record |= {
                "example": example,
                "language": language_matches(example, critique.language),
                "no_copy": not is_copy(example, split_sentences(draft)),
                "no_foreign_fact": not invented(example, draft, customer),
                "fixed": all(other.criterion != issue.criterion for other in after.issues),
                "blank": content_blanks(coach, example, critique.language) > 0,
            }
        records.append(record)
    return records


def content_blanks(coach: Coach, example: str, language: str) -> int:
    """How many slots an example leaves for content the agent must write ([what we will do], [what happened]): any
    slot but a fact's (a date, a time, a number, an amount, an order number, a name, a contact)."""
    book = coach.phrasebook()
    return sum(book.slot_kind(label, language) not in FACT_SLOTS for label in SLOT.findall(example))


def rewrite_checks(coach: Coach, row: dict[str, Any]) -> dict[str, Any]:
    """The surgery rewrite of one draft and what code says about it."""
    started = time.perf_counter()
    result = coach.rewrite(row["text"], row.get("customer_message"))
    seconds = time.perf_counter() - started
    advice = advice_pieces([t.get(lang) for c in coach.rubric.criteria for t in (c.fix, c.good) for lang in LANGS])
    before, after = result.draft_overall or 0, result.rewrite_overall or 0
    return {
        "better": after > before,
        "never_worse": not any("scores lower" in w for w in result.warnings),
        "facts_kept": not result.lost_facts and not result.invented_facts,
        "language": detect_language(result.text) == detect_language(row["text"]),
        "no_advice": not any(is_copy(s, advice) for s in split_sentences(result.text)),
        "seconds": seconds,
        "changed": result.text != row["text"],
    }


LANGS = ("en", "ru", "el", "kk", "mn")


def share(records: list[dict[str, Any]], key: str) -> str:
    values = [bool(r[key]) for r in records if key in r]
    return f"{sum(values) / len(values):.2f} ({sum(values)}/{len(values)})" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="at most this many drafts (0: all)")
    parser.add_argument("--per-language", type=int, default=0, help="at most N bad drafts and 1 good per language")
    parser.add_argument("--heldout", action="store_true", help="eval/heldout.jsonl (final figures only)")
    parser.add_argument("--rating", type=Path, default=None, help="write 10 examples per language here")
    parser.add_argument("--rating-only", action="store_true", help="only critique the drafts and write --rating")
    parser.add_argument("--adapted", type=Path, default=None, help="with --rating-only: the LLM's sentences here")
    parser.add_argument("--adapt-budget-s", type=float, default=600.0, help="time for --adapted, seconds")
    parser.add_argument("--examples-out", type=Path, default=None, help="write every issue's example here")
    parser.add_argument("--compare", type=Path, default=None, help="an earlier --examples-out: share changed")
    parser.add_argument(
        "--rating-exclude", type=Path, action="append", default=[], help="a rating file whose issues to leave out"
    )
    args = parser.parse_args()
    rows, _ = load_eval("heldout.jsonl" if args.heldout else "queries.jsonl")
    rows = [r for r in rows if r.get("kind", "draft") == "draft"]
    if args.per_language:  # languages in turn, so partial figures cover all five
        picked = {
            language: [r for r in rows if r["language"] == language and not r.get("good")][: args.per_language]
            + [r for r in rows if r["language"] == language and r.get("good")][:1]
            for language in LANGS
        }
        rows = [r for group in zip(*picked.values(), strict=False) for r in group]
    if args.limit:
        rows = rows[: args.limit]
    with tempfile.TemporaryDirectory() as scratch:  # a fresh result cache: timings are never cache hits
        settings = Settings()
        scratch_settings = Settings(  # rewrites: surgery with the examples as filled by code, no LLM
            data_dir=Path(scratch), index_dir=settings.resolved_index_dir, rewrite_adapt=False
        )
        rated_before = {
            (line["draft"], line["criterion_plain"])
            for path in args.rating_exclude
            for line in map(json.loads, open_lines(path))
        }
        if args.rating_only and args.rating:
            coach = Coach(scratch_settings, embedder=RememberingEmbedder())
            bad = [r for r in rows if not r.get("good")]
            found = [(r, coach.critique(r["text"], r.get("customer_message"))) for r in bad]
            issues = [(r, i) for r, c in found for i in c.issues]
            sample = rating_sample([(r, i) for r, i in issues if (r["text"], PLAIN[i.criterion]) not in rated_before])
            write_rating(args.rating, sample)
            if args.adapted:
                shown = adapted_sentences(coach, sample, args.adapt_budget_s)
                write_rating(args.adapted, sample[: len(shown)], shown)
            return
        every = run(scratch_settings, rows, args.rating, rated_before)
    if args.examples_out:
        keys = ("id", "criterion", "kind", "example", "fixed")
        lines = [json.dumps({k: r.get(k) for k in keys}, ensure_ascii=False) for r in every]
        args.examples_out.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    if args.compare:
        compare(args.compare, every)


def compare(earlier: Path, every: list[dict[str, Any]]) -> None:
    """How many issues' examples differ from an earlier run's (issues matched by draft, criterion and kind)."""
    before = {(r["id"], r["criterion"], r["kind"]): r for r in map(json.loads, open_lines(earlier))}
    now = {(r["id"], r["criterion"], r["kind"]): r for r in every}
    both = [key for key in now if key in before]
    changed = [key for key in both if now[key].get("example") != before[key].get("example")]
    fixed = [now[key].get("fixed") for key in changed]
    fixed_before = [before[key].get("fixed") for key in changed]
    print(
        f"\nexamples changed since {earlier.name}: {len(changed)}/{len(both)} issues in both runs "
        f"({len(now) - len(both)} new issues, {len(before) - len(both)} gone); among the changed, critic fixed "
        f"{sum(map(bool, fixed_before))} before, {sum(map(bool, fixed))} now"
    )


class RememberingEmbedder(Embedder):
    """The embedder with a memory of the texts it has seen: checking an example re-judges the draft with one
    sentence changed, so only that sentence and the whole draft are new (on one thread: faster on a busy machine)."""

    def __init__(self) -> None:
        super().__init__(threads=1)
        self._seen: dict[str, Any] = {}

    def queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return super().queries(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if missing:
            self._seen |= dict(zip(missing, super().queries(missing), strict=True))
        return np.asarray([self._seen[t] for t in texts], dtype=np.float32).reshape(len(texts), -1)


def run(
    settings: Settings, rows: list[dict[str, Any]], rating: Path | None, rated_before: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Critique, check and rewrite every row, then print the figures (critique times: first sight of each draft);
    the records of every issue."""
    coach = Coach(settings, embedder=RememberingEmbedder())
    coach.ensure_index()
    coach.critique("Warm-up draft: thank you for your message.")  # the models load outside the timings
    issues: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rewrites: dict[str, list[dict[str, Any]]] = defaultdict(list)
    times, rated = [], []
    for n, row in enumerate(rows, 1):
        started = time.perf_counter()
        critique = coach.critique(row["text"], row.get("customer_message"))
        times.append(time.perf_counter() - started)
        found = issue_checks(coach, row, critique)
        issues[row["language"]] += found
        rated += [(row, issue) for issue in critique.issues if issue.example and not row.get("good")]
        if not row.get("good"):
            rewrites[row["language"]].append(rewrite_checks(coach, row))
        print(f"  {n}/{len(rows)} {row['id']}: {len(found)} issues", flush=True)
        if n % 5 == 0 and n < len(rows):
            report(issues, rewrites, times)  # partial figures, in case the run is stopped
    print(f"\nfinal figures, {len(rows)} drafts")
    report(issues, rewrites, times)
    if rating:
        write_rating(
            rating, rating_sample([(r, i) for r, i in rated if (r["text"], PLAIN[i.criterion]) not in rated_before])
        )
    return [r for rs in issues.values() for r in rs]


def report(
    issues: dict[str, list[dict[str, Any]]], rewrites: dict[str, list[dict[str, Any]]], times: list[float]
) -> None:
    every = [r for rs in issues.values() for r in rs]
    print("\nexamples per issue       present        language       no copy        no foreign fact  critic: fixed")
    for language in [*LANGS, "all"]:
        rs = every if language == "all" else issues.get(language, [])
        cells = [share(rs, k) for k in ("present", "language", "no_copy", "no_foreign_fact", "fixed")]
        print(f"  {language:5} {len(rs):4} " + "  ".join(f"{c:14}" for c in cells))
    fixed = [bool(r["fixed"]) for r in every if "fixed" in r]
    if fixed:
        rate = sum(fixed) / len(fixed)
        print(f"critic stops flagging with the example applied: {rate:.2f} (aimed for >= {TARGET_FIXED})")
    by_kind = defaultdict(list)
    for r in every:
        by_kind[r["kind"]].append(r)
    print("  by kind: " + ", ".join(f"{k} {share(rs, 'fixed')}" for k, rs in by_kind.items()))
    by_criterion = defaultdict(list)
    for r in every:
        by_criterion[r["criterion"]].append(r)
    for criterion, rs in sorted(by_criterion.items()):
        print(f"    {criterion:26} fixed {share(rs, 'fixed'):14} blank for the agent's content {share(rs, 'blank')}")
    wording = [r for r in every if r["criterion"] == PLAIN_CRITERION and r["kind"] == "said" and "fixed" in r]
    plain = [r for r in wording if r["source"] == PLAIN_SOURCE]
    phrased = [r for r in wording if r["source"] != PLAIN_SOURCE]
    print(
        f"  wording said: {len(plain)} of {len(wording)} the quote put plainly (fixed {share(plain, 'fixed')}), "
        f"{len(phrased)} a phrasing (fixed {share(phrased, 'fixed')})"
    )
    print(f"critique p50 {statistics.median(times) * 1000:.0f} ms (n={len(times)}, examples included, cache off)")
    every_rw = [r for rs in rewrites.values() for r in rs]
    if every_rw:
        print("\nrewrites (surgery, no LLM)  better         never worse    facts kept     language       no advice")
        for language in [*LANGS, "all"]:
            rs = every_rw if language == "all" else rewrites.get(language, [])
            cells = [share(rs, k) for k in ("better", "never_worse", "facts_kept", "language", "no_advice")]
            print(f"  {language:5} {len(rs):4} " + "  ".join(f"{c:14}" for c in cells))
        print(f"rewrite p50 {statistics.median(r['seconds'] for r in every_rw):.2f} s")


PLAIN = {  # what each criterion's example is for, in plain English (the rater sees this, never the rubric)
    "acknowledgement_empathy": "acknowledge how the customer feels",
    "apology_ownership": "apologise and take ownership",
    "listening_clarifying": "show you understood, or ask a clarifying question",
    "solution_alternatives": "offer a concrete solution or options",
    "expectations_timeframe": "say what happens next and when",
    "clear_positive_wording": "say it clearly and positively",
    "followup_thanks": "thank the customer and offer further help",
    "calm_professional_tone": "keep a calm, professional tone",
}
PER_LANGUAGE = 10


def rating_sample(rated: list[tuple[dict[str, Any], Any]]) -> list[tuple[dict[str, Any], Any]]:
    """10 (row, issue) pairs per language, one issue per draft, criteria taken in turn so they spread."""
    chosen: list[tuple[dict[str, Any], Any]] = []
    for language in LANGS:
        pool = [(row, issue) for row, issue in rated if row["language"] == language and issue.example]
        by_criterion: dict[str, list[tuple[dict[str, Any], Any]]] = defaultdict(list)
        for row, issue in pool:
            by_criterion[issue.criterion].append((row, issue))
        used: set[str] = set()
        picked: list[tuple[dict[str, Any], Any]] = []
        while len(picked) < PER_LANGUAGE and any(by_criterion.values()):
            for criterion in sorted(by_criterion, key=lambda c: len([p for p in picked if p[1].criterion == c])):
                queue = by_criterion[criterion]
                while queue and queue[0][0]["id"] in used:
                    queue.pop(0)
                if queue and len(picked) < PER_LANGUAGE:
                    row, issue = queue.pop(0)
                    used.add(row["id"])
                    picked.append((row, issue))
                    break
            else:
                break
        chosen += picked
    return chosen


def open_lines(path: Path) -> list[str]:
    """The non-empty lines of a JSONL file."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_rating(path: Path, sample: list[tuple[dict[str, Any], Any]], sentences: list[str] | None = None) -> None:
    """The rater's file: draft, message, what the example is for and the example; nothing else. Beside it,
    ``<name>.key.jsonl`` says which draft and criterion each line is (for the lead, never for the rater)."""
    lines = [
        {
            "n": n,
            "language": row["language"],
            "customer_message": row.get("customer_message") or "",
            "draft": row["text"],
            "criterion_plain": PLAIN.get(issue.criterion, issue.criterion),
            "example": sentences[n - 1] if sentences is not None else issue.example,
        }
        for n, (row, issue) in enumerate(sample, 1)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    keys = [{"n": n, "id": row["id"], "criterion": issue.criterion, "kind": issue.kind} for n, (row, issue) in
            enumerate(sample, 1)]  # fmt: skip
    path.with_suffix(".key.jsonl").write_text("".join(json.dumps(k) + "\n" for k in keys), encoding="utf-8")
    print(f"wrote {len(lines)} examples to {path}")


def adapted_sentences(coach: Coach, sample: list[tuple[dict[str, Any], Any]], budget_s: float) -> list[str]:
    """Per sampled issue, the sentence the page shows after the LLM adapts it (``suggest_stream``), until the
    time budget is spent; prints how many were the LLM's own (the rest: the phrasing, its checks failed)."""
    shown: list[str] = []
    started, own = time.perf_counter(), 0
    for row, issue in sample:
        if time.perf_counter() - started > budget_s:
            break
        critique = coach.critique(row["text"], row.get("customer_message"))
        single = critique.model_copy(update={"issues": [issue]})
        sentence = list(coach.suggest_stream(row["text"], single, row.get("customer_message")))[-1]
        own += sentence != issue.example
        shown.append(sentence)
        whose = "LLM" if sentence != issue.example else "phrasing"
        print(f"  adapted {len(shown)}/{len(sample)} ({whose})", flush=True)
    print(f"adapted: {own} of {len(shown)} shown as the LLM wrote them, the rest the phrasing")
    return shown


if __name__ == "__main__":
    main()
