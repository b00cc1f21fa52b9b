"""Choosing the critic's lexical inputs on 5-fold CV of training/drafts.jsonl, for ``bench/critic_fit.py``.

``--lexical-sweep`` prints, stacked onto the shipped inputs (vectors + sentence logits): hashed character
n-gram models at several bucket counts and l2 (``coach.judging.lexical``), one over the draft and the customer
message together, and hand-written multilingual cues (``cue_counts``) with and without the n-grams. Mean AUC,
held-apart recall and false issues per good draft at the 0.75 line, as ``--ablation`` prints them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bench.critic_cv import Candidate, candidate, print_ablation, truths
from coach.judging.critic import FeatureSet
from coach.judging.folds import fold_of
from coach.judging.lexical import hashed_rows, out_of_fold_lexical_logits
from coach.judging.training import Features, LabelledDraft, drop_customer
from coach.knowledge.passages import sentence_spans
from coach.prompts import Rubric

GRID = ((2**14, 0.1), (2**14, 0.3), (2**14, 1.0), (2**14, 3.0), (2**15, 0.3))

# A time expression in the five languages: hh:mm, a date, a count of hours, or a word for today, tomorrow, a
# weekday, "within", hours, days, weeks (stems, so inflected forms match).
TIME = re.compile(
    r"\d{1,2}[:.]\d{2}|\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?|\b\d+\s*(?:h|hrs?|ч|сағ)\b"
    r"|tomorrow|today|tonight|within|hours?|days?|weeks?|minutes?|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday|end of"
    r"|завтра|сегодня|в течение|час|дн[яей]|день|недел|минут|понедельник|вторник|сред[уы]|четверг|пятниц"
    r"|суббот|воскресень"
    r"|αύριο|σήμερα|εντός|ώρ[αεώ]|ημέρ|μέρ[αεώ]|εβδομάδ|λεπτ|δευτέρα|τρίτη|τετάρτη|πέμπτη|παρασκευή|σάββατο|κυριακή"
    r"|ертең|бүгін|ішінде|сағат|күн|апта|дүйсенбі|сейсенбі|сәрсенбі|бейсенбі|жұма|сенбі|жексенбі"
    r"|маргааш|өнөөдөр|дотор|цаг|хоног|өдр|даваа|мягмар|лхагва|пүрэв|баасан|бямба|ням гараг",
    re.IGNORECASE,
)


def cue_counts(text: str) -> list[float]:
    """log(1 + count) of time expressions, of question marks (';' is Greek's) and of sentences in a reply."""
    questions = text.count("?") + text.count(";") + text.count("\u037e")
    return [float(np.log1p(n)) for n in (len(TIME.findall(text.lower())), questions, len(sentence_spans(text)))]


def lexical_columns(drafts: Sequence[LabelledDraft], rubric: Rubric, rows: np.ndarray, l2: float) -> np.ndarray:
    """Out-of-fold lexical logits per criterion over ``rows`` (as ``coach train-critic`` makes them)."""
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    truth = [t.astype(np.float64) for t in truths(drafts, rubric).values()]
    return out_of_fold_lexical_logits(rows, truth, groups, 5, l2)


def lexical_sweep(
    drafts: Sequence[LabelledDraft], features: Features, rubric: Rubric, kind: FeatureSet, l2: float
) -> list[Candidate]:
    """The shipped inputs alone, then with each lexical variant stacked (see the module's docstring)."""
    found = [candidate(drafts, features, rubric, kind, True, l2, name="vectors + sentence logits")]
    texts = [d.text for d in drafts]
    messages = [(d.customer_message or "") if not drop_customer(d.id) else "" for d in drafts]
    cues = np.asarray([cue_counts(t) for t in texts])
    for buckets, lexical_l2 in GRID:
        columns = lexical_columns(drafts, rubric, hashed_rows(texts, buckets), lexical_l2)
        name = f"+ lexical, 2^{buckets.bit_length() - 1} buckets, l2 {lexical_l2:g}"
        found.append(candidate(drafts, features, rubric, kind, True, l2, extra=columns, name=name))
    rows = hashed_rows(texts)
    both = np.hstack([rows, hashed_rows(messages)]) / np.sqrt(2)
    columns = lexical_columns(drafts, rubric, both, 1.0)
    found.append(candidate(drafts, features, rubric, kind, True, l2, extra=columns, name="+ lexical, draft+message"))
    found.append(candidate(drafts, features, rubric, kind, True, l2, extra=cues, name="+ cues"))
    columns = lexical_columns(drafts, rubric, rows, 0.3)
    found.append(
        candidate(drafts, features, rubric, kind, True, l2, extra=np.hstack([columns, cues]), name="+ lexical + cues")
    )
    return found


def print_lexical_sweep(drafts: Sequence[LabelledDraft], rubric: Rubric, found: Sequence[Candidate]) -> None:
    """The sweep's table (``print_ablation``'s columns)."""
    print("\nlexical inputs, stacked onto the vectors and sentence logits:", end="")
    print_ablation(drafts, rubric, found)
