"""How often a jargon sentence gets its plain version as the example (issue #22), per language.

Usage:  python -m bench.plain_words [--limit N] [--glossary FILE] [--show] [--no-tuning]

For a sentence flagged ``clear_positive_wording`` the page shows the sentence put plainly by the glossary
(``knowledge/plain_words.yaml``) when that passes the gate (``coach.judging.plain_words.shown_plain``: something
changed, every fact kept, no refusal left, not a near copy of the quote, no jargon left); else a phrasebook
phrasing with a blank, which blind raters call "needs editing". Per set and language: how many sentences pass, and
why the others do not (no plain version / a near copy / jargon left, with the words most often left). Sets:
- training: the ``said`` spans of ``clear_positive_wording`` in ``training/drafts.jsonl``;
- tuning: the quotes the critic flags for ``clear_positive_wording`` (public ``Coach().critique``) on the drafts of
  ``eval/queries.jsonl``;
- check: ``eval/plain_words_check.jsonl``, 100 jargon or bureaucratic agent sentences (20 per language, other
  domains: telecom, insurance, banking, travel, health-care admin, utilities, public services, IT, payments,
  logistics) written by hand before the glossary was extended; the same hand then wrote the new terms, knowing
  these sentences, so its "after" figure is optimistic too;
- check-after: ``eval/plain_words_check_after.jsonl``, 50 more (10 per language), written after the glossary was
  extended and never used to change it: the figure for unseen drafts.
The glossary was first mined from the training and tuning sentences, so their figures are optimistic.
``--glossary FILE`` measures another version of the glossary (``git show REV:knowledge/plain_words.yaml``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from bench.common import EVAL, KNOWLEDGE, ROOT, load_eval
from coach import Coach, Settings
from coach.judging.plain_words import CRITERION, leftover_jargon, plain_version, shown_plain
from coach.knowledge.plain_words import PlainWords, load_plain_words, parse_plain_words
from coach.text import is_copy

LANGS = ("en", "ru", "el", "kk", "mn")
CHECK_FILE = "plain_words_check.jsonl"
CHECK_AFTER_FILE = "plain_words_check_after.jsonl"

Sentence = tuple[str, str, str | None]  # (language, sentence, the customer's message)


def training_sentences(limit: int) -> list[Sentence]:
    """The ``said`` spans of ``clear_positive_wording`` in the training drafts (the first ``limit`` per language)."""
    found: dict[str, list[Sentence]] = defaultdict(list)
    for line in (ROOT / "training" / "drafts.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        verdict = row.get("verdicts", {}).get(CRITERION, {})
        if verdict.get("label") == "said" and "start" in verdict:
            quote = row["text"][verdict["start"] : verdict["end"]].strip()
            found[row["language"]].append((row["language"], quote, row.get("customer_message")))
    return [s for language in LANGS for s in (found[language][:limit] if limit else found[language])]


def tuning_sentences(limit: int) -> list[Sentence]:
    """The quotes the critic flags for ``clear_positive_wording`` on the tuning set's drafts (the first ``limit``
    drafts), through the public API."""
    rows, _ = load_eval()
    rows = [r for r in rows if r.get("kind", "draft") == "draft"]
    rows = rows[:limit] if limit else rows
    found: list[Sentence] = []
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings()
        coach = Coach(Settings(data_dir=Path(scratch), index_dir=settings.resolved_index_dir))
        coach.ensure_index()
        for row in rows:
            critique = coach.critique(row["text"], row.get("customer_message"))
            for issue in critique.issues:
                if issue.criterion == CRITERION and issue.kind == "said" and issue.quote:
                    found.append((critique.language, issue.quote, row.get("customer_message")))
    return found


def check_sentences(limit: int, name: str = CHECK_FILE) -> list[Sentence]:
    """A hand-written check set (the first ``limit`` per language)."""
    rows = [json.loads(line) for line in (EVAL / name).read_text(encoding="utf-8").splitlines() if line]
    by_language = {language: [r for r in rows if r["language"] == language] for language in LANGS}
    return [
        (r["language"], r["sentence"], r.get("customer_message"))
        for language in LANGS
        for r in (by_language[language][:limit] if limit else by_language[language])
    ]


def outcome(sentence: Sentence, words: PlainWords) -> tuple[str, str | None, list[str]]:
    """Why the sentence's plain version is shown or not ("shown", "none", "copy", "jargon"), the plain version,
    and the jargon left in it."""
    language, quote, customer = sentence
    plain = plain_version(quote, language, words)
    left = leftover_jargon(plain, language, words, customer) if plain else []
    if shown_plain(quote, language, words, customer) is not None:
        return "shown", plain, left
    if plain is None:
        return "none", None, left
    return ("copy" if is_copy(plain, [quote]) else "jargon"), plain, left


def report(name: str, sentences: list[Sentence], words: PlainWords, show: bool) -> None:
    """Per language: shown / sentences, and the reasons for the rest."""
    print(f"\n{name}: plain version shown (passes the gate), per language")
    print("  lang     n  shown          no plain  near copy  jargon left")
    total: Counter[str] = Counter()
    left_words: Counter[str] = Counter()
    for language in LANGS:
        mine = [s for s in sentences if s[0] == language]
        counts: Counter[str] = Counter()
        for sentence in mine:
            why, plain, left = outcome(sentence, words)
            counts[why] += 1
            left_words.update(w.lower() for w in left)
            if show and why != "shown":
                print(f"    [{why}] {sentence[1]}\n      -> {plain} {left if left else ''}")
        total += counts
        total["n"] += len(mine)
        share = counts["shown"] / len(mine) if mine else 0.0
        print(
            f"  {language:5} {len(mine):4}  {counts['shown']:3} ({share:.2f})     "
            f"{counts['none']:5}  {counts['copy']:9}  {counts['jargon']:11}"
        )
    if total["n"]:
        print(f"  all   {total['n']:4}  {total['shown']:3} ({total['shown'] / total['n']:.2f})")
    if left_words:
        print("  jargon most often left: " + ", ".join(f"{w} {n}" for w, n in left_words.most_common(15)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="the first N sentences per language (tuning: drafts)")
    parser.add_argument("--glossary", type=Path, default=None, help="a glossary YAML file (default: the shipped one)")
    parser.add_argument("--show", action="store_true", help="print each sentence not shown plainly, and why")
    parser.add_argument("--no-tuning", action="store_true", help="skip the tuning set (it needs the critic)")
    args = parser.parse_args()
    words = (
        parse_plain_words(args.glossary.read_text(encoding="utf-8"), args.glossary.name)
        if args.glossary
        else load_plain_words(KNOWLEDGE)
    )
    print(f"glossary {words.fingerprint}: " + ", ".join(f"{lang} {len(words.terms_for(lang))}" for lang in LANGS))
    report("training (said spans; the glossary was mined from them)", training_sentences(args.limit), words, args.show)
    if not args.no_tuning:
        report("tuning (critic's quotes on eval/queries.jsonl)", tuning_sentences(args.limit), words, args.show)
    report(
        f"check (eval/{CHECK_FILE}, written before the glossary was extended)",
        check_sentences(args.limit),
        words,
        args.show,
    )
    after = check_sentences(args.limit, CHECK_AFTER_FILE)
    report(f"check-after (eval/{CHECK_AFTER_FILE}, written after; unseen)", after, words, args.show)


if __name__ == "__main__":
    main()
