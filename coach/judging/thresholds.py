"""Thresholds and figures of the learned critic: per-criterion cuts under a false-issue budget, and the
recall / false issues per good draft they give (overall, per language, per criterion).

Pure functions on probabilities and labels (no model, no embedding), used by ``coach.judging.training``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np


class Labelled(Protocol):
    """What the figures read of a labelled draft (``coach.judging.training.LabelledDraft``)."""

    @property
    def language(self) -> str: ...

    @property
    def problems(self) -> set[str]: ...

    @property
    def good(self) -> bool: ...


BAD_DRAFT_COST = 0.25  # a false flag on a draft with other problems costs this much of one on a good draft


CUTS = np.round(np.arange(0.05, 0.96, 0.01), 2)


def choose_thresholds(
    probabilities: dict[str, np.ndarray], truth: dict[str, np.ndarray], good: np.ndarray, budget: float
) -> dict[str, float]:
    """Per-criterion cuts that find the most problems while false issues per good draft stay within budget.

    Each criterion takes the cut that maximises found problems minus ``price`` times its false flags
    (on good drafts in full, on other drafts at ``BAD_DRAFT_COST``); the price is raised by bisection
    until the summed false issues per good draft fit the budget. Deterministic, and one knob to read.
    """
    n_good = max(int(good.sum()), 1)

    def cuts_at(price: float) -> dict[str, float]:
        chosen = {}
        for cid, p in probabilities.items():
            flagged = p[None, :] >= CUTS[:, None]
            found = (flagged & truth[cid]).sum(axis=1)
            false_good = (flagged & good).sum(axis=1)
            false_bad = (flagged & ~truth[cid] & ~good).sum(axis=1)
            value = found - price * (false_good + BAD_DRAFT_COST * false_bad)
            chosen[cid] = float(CUTS[int(np.argmax(value))])
        return chosen

    def false_per_good(cuts: dict[str, float]) -> float:
        return sum(int(((probabilities[c] >= cuts[c]) & good).sum()) for c in cuts) / n_good

    low, high = 0.0, 64.0
    for _ in range(40):
        middle = (low + high) / 2
        if false_per_good(cuts_at(middle)) > budget:
            low = middle
        else:
            high = middle
    return cuts_at(high)


def precision_cut(probabilities: np.ndarray, truth: np.ndarray, target: float) -> float:
    """The lowest cut whose flags are right at least ``target`` of the time (the most recall at that precision).

    Scanned from the top: a cut counts only if every cut above it that flags something also reaches the
    target, so one lucky flag low down cannot open the gate. 0.95 (almost never) when none does.
    """
    chosen = float(CUTS[-1])
    for cut in CUTS[::-1]:
        flagged = probabilities >= cut
        if not flagged.any():
            continue
        if (flagged & truth).sum() / flagged.sum() < target:
            break
        chosen = float(cut)
    return chosen


def precision_thresholds(
    probabilities: dict[str, np.ndarray], truth: dict[str, np.ndarray], target: float
) -> dict[str, float]:
    """Per criterion, the issue's line at ``target`` precision (cross-validated probabilities)."""
    return {cid: precision_cut(p, truth[cid], target) for cid, p in probabilities.items()}


ChooseLines = Callable[[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray], dict[str, float]]


def line_chooser(precision: float | None, budget: float) -> ChooseLines:
    """How the issues' lines are chosen from (probabilities, truth, good): at a precision, or within a budget."""
    if precision is None:
        return lambda oof, truth, good: choose_thresholds(oof, truth, good, budget)
    return lambda oof, truth, good: precision_thresholds(oof, truth, precision)


def held_apart_flags(
    oof: dict[str, np.ndarray],
    truth: dict[str, np.ndarray],
    good: np.ndarray,
    groups: np.ndarray,
    choose: ChooseLines,
) -> dict[str, np.ndarray]:
    """Out-of-fold flags where each fold's thresholds were chosen on the other folds only."""
    flagged = {cid: np.zeros(len(good), dtype=bool) for cid in oof}
    for fold in np.unique(groups):
        test, rest = groups == fold, groups != fold
        cuts = choose({c: p[rest] for c, p in oof.items()}, {c: t[rest] for c, t in truth.items()}, good[rest])
        for cid, p in oof.items():
            flagged[cid][test] = p[test] >= cuts[cid]
    return flagged


def critic_figures(drafts: Sequence[Labelled], flagged: dict[str, np.ndarray]) -> dict[str, Any]:
    """Problem recall and false issues per good draft, overall, per language and per criterion."""

    def tally(indexes: Iterable[int]) -> dict[str, float]:
        chosen = list(indexes)
        problems = [(i, c) for i in chosen for c in drafts[i].problems]
        found = sum(bool(flagged[c][i]) for i, c in problems)
        good = [i for i in chosen if drafts[i].good]
        false = sum(int(flagged[c][i]) for i in good for c in flagged)
        return {
            "drafts": len(chosen),
            "recall": round(found / len(problems), 3) if problems else 0.0,
            "false_per_good": round(false / len(good), 2) if good else 0.0,
            "good": len(good),
        }

    languages = sorted({d.language for d in drafts})
    per_criterion = {}
    for cid, flags in flagged.items():
        truth = np.asarray([cid in d.problems for d in drafts])
        tp = int((flags & truth).sum())
        per_criterion[cid] = {
            "recall": round(tp / max(int(truth.sum()), 1), 3),
            "precision": round(tp / max(int(flags.sum()), 1), 3),
            "support": int(truth.sum()),
        }
    return {
        "all": tally(range(len(drafts))),
        "languages": {lang: tally(i for i, d in enumerate(drafts) if d.language == lang) for lang in languages},
        "criteria": per_criterion,
    }
