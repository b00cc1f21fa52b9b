"""How well code reads a case's conditions (urgent, draft_refuses, ...), on a sample labelled by hand.

Usage:  python -m bench.conditions [--limit N] [--errors]

``eval/conditions.jsonl``, labelled by hand, never from ``eval/heldout.jsonl``:
- ``tune``: 130 cases (all 65 drafts of ``eval/queries.jsonl`` and 65 of ``training/drafts.jsonl``, drawn at
  random per language) labelled for every condition, and 80 customer messages of the training drafts labelled for
  ``urgent`` only (``labelled``), since few random cases are urgent. The cue lists were written and revised while
  reading these (in three rounds): their figures flatter the detectors;
- ``check``: 35 more training drafts (7 per language, drawn at random), labelled after the cue lists were fixed and
  never used to change them: the honest figures.
What the customer asks for (``wants_refund``, ..., ``asks_status``; issue 22, fourth round) is labelled on the same
165 fully labelled cases (not the 80 urgent-only ones): a request counts when the message asks for it or plainly
wants it ("they sent the wrong colour" wants a replacement), so the recall is honest about implied asks the cues
(explicit asks only, for precision) miss. The cues were written from the training messages and revised once after
reading the ``tune`` cases; the ``check`` cases were never used to change them.
What the customer complains about (``late``, ..., ``service_down``; issue 22, fifth round) is labelled on the same
165 cases (cues written from the training messages and revised after reading these ``tune`` and ``check`` cases, so
both flatter them) and on 70 more training messages (``check``, 14 per language: 8 drawn at random among those where
a complaint cue fired, 6 among the rest; ``check-2``), labelled for complaints only after the cue lists were fixed:
the honest figures (first measured: late 0.93 / 0.76, damaged_or_faulty 0.72 / 0.81, charged_wrongly 1.00 / 0.64,
service_down 1.00 / 0.64, staff_rude 1.00 / 1.00, wrong_item 0.75 / 0.75; the bare "not working" cues were then
dropped from damaged_or_faulty, since a service that is not working is no faulty product: no longer blind).
Where the case stands (``parcel``, ``pending``, ``already_happened``, ``yes_no_question``, ``draft_offers_solution``,
``customer_clear``; issue 22, phrasebook-6) is labelled on 31 short cases (``situation``, 6-7 per language) that the
cue writer wrote and labelled while writing the cues: their figures flatter the detectors; and on 15 training drafts
(``situation-check``, 3 per language drawn at random, seed 2207) labelled by the cue writer after the cues were written,
before seeing what code read: first measured parcel 0.33 / 0.33 (3 positive), pending 1.00 / 0.25 (8), already_happened
0.00 / 0.00 (4), yes_no_question 1.00 / 1.00 (3), draft_offers_solution 0.83 / 0.42 (12), customer_clear 1.00 / 0.50
(4); the parcel cues that are also e-mail ("электрондық пошта") or forwarding ("бөлімге жеткізілді") were then
dropped (parcel 1.00 / 0.33: no longer blind).
Issue 22, situation round 2: 60 more training drafts, labelled for the six situation conditions from the message and
the draft only, before code's reading of them was seen: 12 per language (6 good drafts, all verdicts ``ok``, and 6
bad; at most two per domain; ids not already in this file), drawn with ``random.Random(2226)`` (candidates per
language sorted by id and shuffled, then good and bad each shuffled); per language the first 3 good and 3 bad are
``situation-tune-2`` (the cues may be revised by reading them, as by ``situation`` and ``situation-check``), the
other 3 and 3 ``situation-check-2``, never used to change the cues: the honest figures. Label decisions: ``parcel``
counts any order brought to the customer (food, flowers, furniture) or shipping asked about; ``pending`` needs an
explicit ask (status, remedy, an action on the case, also as a question) or something still awaited, not done or
still failing (a remedy merely implied by a past complaint, and the draft's own promises, do not count);
``customer_clear`` needs an explicit request or a complaint about something still awaited; ``draft_offers_solution``
counts a concrete action or options done or offered for the customer's need (not information, advice, "we'll look
into it" or passing it to a third party); ``yes_no_question`` no rhetorical or either/or question. (``situation-check``
mn-wm-002 was then given ``pending``: its ``customer_clear`` without ``pending`` is ruled out by the definitions.)
Before the round-2 cues (precision / recall), ``situation-check-2``: parcel 0.67 / 0.50 (4 positive), pending
0.60 / 0.21 (14), already_happened 0.60 / 0.33 (9), yes_no_question 1.00 / 0.83 (6), draft_offers_solution 0.80 /
0.44 (18), customer_clear 0.67 / 0.18 (11); after them (cues revised on ``situation``, ``situation-check`` and
``situation-tune-2`` only): 0.75 / 0.75, 0.83 / 0.71, 0.78 / 0.78, 1.00 / 0.83, 0.88 / 0.78, 0.88 / 0.64 (no longer
blind: later cue changes must be judged on fresh rows).
Prints, per split and condition, precision and recall of ``detect_conditions`` against the labels; ``--errors``
lists the cases it gets wrong.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from coach.judging.conditions import READ_CONDITIONS, detect_conditions

SPLITS = ("tune", "check", "check-2", "situation", "situation-check", "situation-tune-2", "situation-check-2")
SAMPLE = Path(__file__).resolve().parent.parent / "eval" / "conditions.jsonl"


def load(path: Path = SAMPLE) -> list[dict[str, Any]]:
    """The labelled cases."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tally(rows: list[dict[str, Any]]) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Per condition, true/false positives and negatives; and one line per wrong case."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    wrong = []
    for row in rows:
        found = detect_conditions(row["draft"], row.get("customer_message"), row["language"])
        for condition in row.get("labelled", READ_CONDITIONS):
            truth, said = condition in row["conditions"], condition in found
            counts[condition][
                {(True, True): "tp", (False, True): "fp", (True, False): "fn"}.get((truth, said), "tn")
            ] += 1
            if truth != said:
                wrong.append(f"  {condition:16} {'missed' if truth else 'false '} {row['id']}")
    return counts, wrong


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="at most this many cases (0: all)")
    parser.add_argument("--errors", action="store_true", help="list the cases read wrongly")
    args = parser.parse_args()
    rows = load()
    if args.limit:
        rows = rows[: args.limit]
    for split in SPLITS:
        part = [r for r in rows if r.get("split", "tune") == split]
        if not part:
            continue
        counts, wrong = tally(part)
        print(f"\n{split}: {len(part)} labelled cases ({SAMPLE.name})")
        print(f"  {'condition':16} {'positives':>9}  {'precision':14} {'recall':14}")
        for condition in READ_CONDITIONS:
            c = counts[condition]
            positives = c["tp"] + c["fn"]
            precision, recall = ratio(c["tp"], c["tp"] + c["fp"]), ratio(c["tp"], positives)
            print(f"  {condition:16} {positives:9}  {precision:14} {recall:14}")
        if args.errors:
            print("\n".join(sorted(wrong)))


if __name__ == "__main__":
    main()
