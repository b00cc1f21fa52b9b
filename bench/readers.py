"""Issue 20's bars: citations, translations and answers in the reader's language.

Usage:
  python -m bench.readers citations [--heldout] [--limit N]   # (a) first citation in the draft's language
  python -m bench.readers translate [--limit N] [--rating FILE] # (b) the shipped passages into the 5 languages
  python -m bench.readers ask [--limit N] [--questions FILE]    # (c) trainer questions answered in their language
  python -m bench.readers read [--limit N]                      # (d) every shipped passage as each reader reads it

(a) For each draft of eval/queries.jsonl (``--heldout``: eval/heldout.jsonl, for checking only, never tuning),
each issue whose criterion knowledge/links.yaml links to a passage in the draft's language: is its first citation
in that language. (b) Each shipped passage into each other supported language with the configured LLM (made ones
are cached under the data dir, so a rerun resumes): time, language right, numbers kept, similarity to the original
(its distribution, and that of unrelated passage pairs, set ``SIMILARITY_THRESHOLD``). (c) Per question of
eval/trainer_questions.jsonl: a passage of one of its principles cited, the answer's language, first-text time.
(d) Each shipped passage in each other language through ``Coach.read_passage``, as a reader gets it: where the
text comes from (a trainer's translation, a machine's, or the original with a note), its language, the original's
numbers kept, and the similarity check's pass rate.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.common import EVAL, load_eval
from coach import Answer, Coach, Settings
from coach.knowledge.translations import SIMILARITY_THRESHOLD, numbers_of, translation_problems
from coach.language import SUPPORTED_LANGUAGES, detect_language

RESULTS = Path(__file__).resolve().parent / "results"


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "0/0"


# ------------------------------------------------------------------ (a) citations


def citations(coach: Coach, queries_file: str, limit: int | None) -> None:
    """Per language: issues whose criterion links a passage in the draft's language, and how often the first
    citation is in it; beside it the same for the closeness-only order (before issue 20)."""
    queries, _ = load_eval(queries_file)
    drafts = [q for q in queries if q["kind"] == "draft"][:limit]
    coach.ensure_index()
    links = coach.links.read()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # eligible, first in language, before
    for draft in drafts:
        language = draft["language"]
        critique = coach.critique(draft["text"], draft.get("customer_message"))
        vector = coach.retriever.text_vector(draft["text"])
        by_id = {p.id: p for p in critique.passages}
        for issue in critique.issues:
            linked = links.passages_of(issue.criterion)
            ranked = coach.retriever.rank(vector, linked)
            if not any(p.language == language for p in ranked) or not issue.passage_ids:
                continue
            counts[language][0] += 1
            counts[language][1] += by_id[issue.passage_ids[0]].language == language
            counts[language][2] += ranked[0].language == language
    print(f"\n(a) first citation in the draft's language ({queries_file}, {len(drafts)} drafts)")
    print("language  issues with a linked passage in it  first citation in it  closeness only (before)")
    total = [0, 0, 0]
    for language in SUPPORTED_LANGUAGES:
        eligible, first, before = counts[language]
        total = [total[0] + eligible, total[1] + first, total[2] + before]
        print(f"{language:8}  {eligible:>33}  {_percent(first, eligible):>20}  {_percent(before, eligible)}")
    print(f"{'all':8}  {total[0]:>33}  {_percent(total[1], total[0]):>20}  {_percent(total[2], total[0])}")


# ------------------------------------------------------------------ (c) ask


def ask(coach: Coach, questions_file: Path, limit: int | None, with_llm: bool) -> None:
    """Per question: a passage of one of its principles cited, the answer's language, first-text and total time.

    Without ``with_llm`` only the extractive answer (the first text, made before any LLM call) is measured.
    """
    principles = {
        p["name"]: set(p["passages"]) for p in yaml.safe_load((EVAL / "principles.yaml").read_text())["principles"]
    }
    if questions_file.is_file():
        lines = questions_file.read_text(encoding="utf-8").splitlines()
        questions = [json.loads(line) for line in lines if line.strip()]
    else:
        print(f"{questions_file} is missing: using the questions of eval/queries.jsonl")
        questions = [q for q in load_eval()[0] if q["kind"] == "question"]
    questions = questions[:limit]
    coach.ensure_index()
    coach.prepare_answers()  # as the app's start-up does: the passages' sentences, kept in the data dir
    next(coach.ask_stream("warm-up question"))  # loads what every first call loads once (untimed)
    rows = []
    for question in questions:
        started = time.perf_counter()
        stream = coach.ask_stream(question["text"])
        first = next(stream)
        first_s = time.perf_counter() - started
        answer: Answer | None = None
        if with_llm:
            for event in stream:
                answer = event.result if isinstance(event.result, Answer) else answer
        elif isinstance(stream, Generator):
            stream.close()
        total_s = time.perf_counter() - started
        wanted = set().union(*(principles.get(name, set()) for name in question.get("principles", [])))
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text if answer else first.partial_text)}
        cited = {first.passages[n - 1].id for n in markers if 1 <= n <= len(first.passages)}
        text = answer.text if answer else first.partial_text
        prose = re.sub(r"\[\d+\]", "", text)
        rows.append(
            {
                "id": question.get("id"),
                "language": question["language"],
                "principle_cited": bool(cited & wanted),
                "language_right": detect_language(prose) == question["language"],
                "first_s": first_s,
                "total_s": total_s,
                "synthesis_kept": bool(answer and answer.synthesis),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n(c) ask ({len(rows)} questions{'' if with_llm else ', extractive answer only'})")
    print("language  n   principle cited  language right  first text s (median)  total s (median)")
    for language in [*SUPPORTED_LANGUAGES, None]:
        group = [r for r in rows if language is None or r["language"] == language]
        if not group:
            continue
        cited_share = _percent(sum(r["principle_cited"] for r in group), len(group))
        right = _percent(sum(r["language_right"] for r in group), len(group))
        first = statistics.median(r["first_s"] for r in group)
        total = statistics.median(r["total_s"] for r in group)
        print(f"{language or 'all':8}  {len(group):<3} {cited_share:>15}  {right:>14}  {first:>21.2f}  {total:>16.2f}")


# ------------------------------------------------------------------ (b) translations


def translate(coach: Coach, limit: int | None, rating: Path | None) -> None:
    """Translate the shipped passages (cached ones are reused), then report per target language."""
    coach.ensure_index()
    passages = [c.passage for c in coach.store.all_passages()]
    passages.sort(key=lambda p: p.id)
    reader = coach._parts.reader  # noqa: SLF001 - the benchmark measures the reader itself
    todo = interleaved(passages)
    todo = todo[:limit] if limit else todo
    out = RESULTS / "readers_translations.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with out.open("w", encoding="utf-8") as file:
        for n, (passage, language) in enumerate(todo, 1):
            made = reader.make(passage, language)
            row = {
                "passage_id": passage.id,
                "source": passage.language,
                "target": language,
                "original": passage.text,
                "translation": made.text,
                "seconds": made.seconds,
                "similarity": made.similarity,
                "detected": detect_language(made.text) if made.text else "",
                "numbers_lost": sorted(numbers_of(passage.text) - numbers_of(made.text)),
                "error": made.error,
            }
            rows.append(row)
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
            file.flush()
            print(
                f"{n}/{len(todo)} {passage.id} -> {language} {made.seconds:.1f}s sim {made.similarity:.3f}", flush=True
            )
    report_translations(rows, passages, coach)
    if rating is not None:
        write_rating_file(rows, rating)


def interleaved(passages: list[Any]) -> list[tuple[Any, str]]:
    """Every (passage, other language) pair, in rounds of one per target language, shortest passages first, so that
    a run cut short (``--limit``, or the deadline) has as many translations into each language."""
    rng = random.Random(20)
    per_target = {}
    for language in SUPPORTED_LANGUAGES:
        group = [p for p in passages if p.language != language]
        rng.shuffle(group)
        group.sort(key=lambda p: len(p.text))  # shortest first: on a loaded 2-core machine a long one takes minutes
        per_target[language] = group
    rounds = max(len(group) for group in per_target.values())
    return [
        (per_target[language][n], language)
        for n in range(rounds)
        for language in SUPPORTED_LANGUAGES
        if n < len(per_target[language])
    ]


def report_translations(rows: list[dict[str, Any]], passages: list[Any], coach: Coach) -> None:
    """Per target language: time, language right, numbers kept, similarity pass; and the similarity distributions."""
    by_target: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_target[row["target"]].append(row)
    print("\ntarget  n   median s  language right  numbers kept  similarity >= threshold  all checks")
    for language in SUPPORTED_LANGUAGES:
        group = [r for r in by_target.get(language, []) if not r["error"]]
        if not group:
            continue
        seconds = statistics.median(r["seconds"] for r in group)
        right = sum(r["detected"] == language for r in group)
        kept = sum(not r["numbers_lost"] for r in group)
        similar = sum(r["similarity"] >= SIMILARITY_THRESHOLD for r in group)
        passed = sum(
            not translation_problems(r["original"], r["translation"], language, r["similarity"]) for r in group
        )
        print(
            f"{language:6}  {len(group):<3} {seconds:8.1f}  {_percent(right, len(group)):>14}  "
            f"{_percent(kept, len(group)):>12}  {_percent(similar, len(group)):>23}  {_percent(passed, len(group))}"
        )
    sims = [r["similarity"] for r in rows if not r["error"] and r["detected"] == r["target"]]
    if sims:
        print(f"\nsimilarity, translation vs its original (language right, n={len(sims)}): {_quantiles(sims)}")
    unrelated = unrelated_similarities(rows, coach)
    if unrelated:
        print(f"similarity, translation vs another passage of the same source language: {_quantiles(unrelated)}")


def unrelated_similarities(rows: list[dict[str, Any]], coach: Coach) -> list[float]:
    """Each translation against a random other original of the same source language: what a wrong text scores."""
    good = [r for r in rows if not r["error"] and r["translation"]]
    rng = random.Random(20)
    pairs = []
    for row in good:
        others = [r for r in good if r["source"] == row["source"] and r["passage_id"] != row["passage_id"]]
        if others:
            pairs.append((rng.choice(others)["original"], row["translation"]))
    if not pairs:
        return []
    embedder = coach._embedder  # noqa: SLF001 - the same model the check uses
    a = embedder.passages([p[0] for p in pairs])
    b = embedder.passages([p[1] for p in pairs])
    return [float(x) for x in np.sum(a * b, axis=1)]


def _quantiles(values: list[float]) -> str:
    q = np.quantile(values, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
    return "min {:.3f}  p5 {:.3f}  p25 {:.3f}  median {:.3f}  p75 {:.3f}  p95 {:.3f}  max {:.3f}".format(*q)


def write_rating_file(rows: list[dict[str, Any]], path: Path, per_language: int = 5) -> None:
    """Five translations per target language, original and translation only (for a blind rater)."""
    rng = random.Random(7)
    chosen = []
    for language in SUPPORTED_LANGUAGES:
        group = [r for r in rows if r["target"] == language and r["translation"]]
        chosen += rng.sample(group, min(per_language, len(group)))
    with path.open("w", encoding="utf-8") as file:
        for row in chosen:
            file.write(json.dumps({"original": row["original"], "translation": row["translation"]}, ensure_ascii=False))
            file.write("\n")
    print(f"\n{len(chosen)} translations for rating written to {path}")


# ------------------------------------------------------------------ (d) what readers read


def read(coach: Coach, limit: int | None) -> None:
    """Every (passage, other language) through ``read_passage``: its source and the checks, per target language."""
    coach.ensure_index()
    passages = sorted((c.passage for c in coach.store.all_passages()), key=lambda p: p.id)
    pairs = interleaved(passages)[:limit] if limit else interleaved(passages)
    read_as = [coach.read_passage(p.id, language) for p, language in pairs]
    translated = [(p, r) for (p, _), r in zip(pairs, read_as, strict=True) if r.translated]
    # the similarity check's own model: the cross-lingual e5 cosine between the original and what is read
    embedder = coach._embedder  # noqa: SLF001
    originals = embedder.passages([p.text for p, _ in translated]) if translated else np.zeros((0, 1))
    readings = embedder.passages([r.text for _, r in translated]) if translated else np.zeros((0, 1))
    similarity = {r.id + r.language: float(a @ b) for (_, r), a, b in zip(translated, originals, readings, strict=True)}
    print("target  n    trainer  machine  original+note  language right  numbers kept  similarity >= threshold")
    for language in SUPPORTED_LANGUAGES:
        group = [(p, r) for (p, lang), r in zip(pairs, read_as, strict=True) if lang == language]
        if not group:
            continue
        done = [(p, r) for p, r in group if r.translated]
        trainer = sum(not r.machine_translated for _, r in done)
        right = sum(detect_language(r.text) == language for _, r in done)
        kept = sum(not numbers_of(p.text) - numbers_of(r.text) for p, r in done)
        similar = sum(similarity[r.id + r.language] >= SIMILARITY_THRESHOLD for _, r in done)
        print(
            f"{language:6}  {len(group):<4} {trainer:7}  {len(done) - trainer:7}  {len(group) - len(done):13}  "
            f"{_percent(right, len(done)):>14}  {_percent(kept, len(done)):>12}  {_percent(similar, len(done)):>23}"
        )
    if similarity:
        spread = _quantiles(list(similarity.values()))
        print(f"\nsimilarity, translation vs its original (n={len(similarity)}): {spread}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["citations", "translate", "ask", "report", "read"])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--heldout", action="store_true", help="(a) on eval/heldout.jsonl: checking only")
    parser.add_argument("--rating", type=Path, default=None, help="(b) write 25 translations for a blind rater")
    parser.add_argument("--questions", type=Path, default=EVAL / "trainer_questions.jsonl")
    parser.add_argument("--llm", action="store_true", help="(c) also wait for the model's synthesis")
    args = parser.parse_args()
    coach = Coach(Settings(cache=False, critic="learned"))
    try:
        if args.what == "citations":
            citations(coach, "heldout.jsonl" if args.heldout else "queries.jsonl", args.limit)
        elif args.what == "ask":
            ask(coach, args.questions, args.limit, args.llm)
        elif args.what == "read":
            read(coach, args.limit)
        elif args.what == "translate":
            translate(coach, args.limit, args.rating)
        elif args.what == "report":
            lines = (RESULTS / "readers_translations.jsonl").read_text(encoding="utf-8").splitlines()
            rows = [json.loads(line) for line in lines if line.strip()]
            report_translations(rows, [], coach)
            if args.rating is not None:
                write_rating_file(rows, args.rating)
    finally:
        coach.close()


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
