"""Calibrate the Yes/No + exemplar critic on the labelled eval drafts, and report how well it finds problems.

Usage:  uv run python -m bench.calibrate_critic [--collect-only] [--fit-only] [--write]

1. Collect: for every draft in eval/queries.jsonl, the critic's raw signals per criterion with the
   configured LLM (the embedded one by default), cached in data/bench/ so a rerun only asks what is new.
2. Fit: per criterion, the mean and spread of both signals (z-scores), and the flagging threshold.
   One threshold shared by all criteria is fitted (fewer knobs, less overfitting to 65 drafts) so that
   false alarms stay under the budget per good draft; per-criterion thresholds are reported as a variant.
3. Report: issue recall (labelled problems flagged) and false alarms per good draft, per language,
   in-sample and under 5-fold cross-validation (thresholds fitted without the fold's drafts).
``--write`` saves prompts/critic_calibration.json, which the critic reads at run time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bench.common import PROMPTS, ROOT, load_eval
from coach import Coach
from coach.critic import CALIBRATION_FILE, Calibration, CriterionCalibration, CriterionSignals, ask_yes_no
from coach.models import Usage

FALSE_ALARM_BUDGET = 0.8  # per good draft, below the bar of 1.0 to leave room for new drafts
THRESHOLDS = [x / 20 for x in range(-20, 61)]


def load_drafts() -> list[dict]:
    """The labelled drafts of the eval set (trainer questions left out)."""
    return [item for item in load_eval()[0] if item["kind"] == "draft"]


def collect(coach: Coach, drafts: list[dict], cache_path: Path) -> dict[str, dict[str, CriterionSignals]]:
    """Signals per draft id, asking the LLM only for drafts not cached under the current prompt/model."""
    version = coach._prompt_version("system", "yesno")
    model = coach.llm.endpoint().model
    cached: dict[str, dict] = {}
    if cache_path.exists():
        for line in cache_path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["version"] == version and row["model"] == model:
                cached[row["id"]] = row["signals"]
    ask = ask_yes_no(coach.llm.chat_model(max_tokens=1, logprobs=True, top_logprobs=10))
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    times = []
    with cache_path.open("a", encoding="utf-8") as out:
        for n, draft in enumerate(drafts, 1):
            if draft["id"] in cached:
                continue
            started = time.perf_counter()
            *_, (_, found) = coach.scorer.signals(draft["text"], draft.get("customer_message"), ask, Usage())
            assert found is not None
            times.append(time.perf_counter() - started)
            cached[draft["id"]] = {cid: s.as_dict() for cid, s in found.items()}
            out.write(
                json.dumps({"id": draft["id"], "version": version, "model": model, "signals": cached[draft["id"]]})
                + "\n"
            )
            out.flush()
            print(f"  {n}/{len(drafts)} {draft['id']} {times[-1]:.1f} s", flush=True)
    if times:
        print(f"collected {len(times)} drafts, median {statistics.median(times):.1f} s per draft")
    return {did: {cid: CriterionSignals(**s) for cid, s in sig.items()} for did, sig in cached.items()}


def fit_stats(
    signals: list[dict[str, CriterionSignals]], criteria: list[str], weight: float
) -> dict[str, CriterionCalibration]:
    stats = {}
    for cid in criteria:
        llm = [s[cid].llm for s in signals]
        ex = [s[cid].exemplar for s in signals]
        stats[cid] = CriterionCalibration(
            llm_mean=statistics.fmean(llm),
            llm_std=statistics.pstdev(llm) or 1.0,
            exemplar_mean=statistics.fmean(ex),
            exemplar_std=statistics.pstdev(ex) or 1.0,
            llm_weight=weight,
            threshold=0.0,
        )
    return stats


def flags(calibration: dict[str, CriterionCalibration], signals: dict[str, CriterionSignals]) -> set[str]:
    return {cid for cid, cal in calibration.items() if cal.combined(signals[cid]) >= cal.threshold}


def evaluate(calibration, drafts, signals) -> dict[str, dict[str, float]]:
    """Recall and false alarms per good draft, overall and per language, with one calibration for all."""
    return tally(drafts, signals, lambda draft: calibration)


def tally(drafts, signals, calibration_for) -> dict[str, dict[str, float]]:
    """Recall and false alarms per good draft, judging each draft with ``calibration_for(draft)``."""
    by_lang: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0])  # found, labelled, false, good drafts
    for draft in drafts:
        flagged = flags(calibration_for(draft), signals[draft["id"]])
        for key in ("all", draft["language"]):
            row = by_lang[key]
            if draft["good"]:
                row[2] += len(flagged)
                row[3] += 1
            else:
                row[0] += len(flagged & set(draft["problems"]))
                row[1] += len(draft["problems"])
    return {k: {"recall": v[0] / max(v[1], 1), "false_per_good": v[2] / max(v[3], 1)} for k, v in by_lang.items()}


def with_threshold(stats: dict[str, CriterionCalibration], threshold: float | dict[str, float]):
    return {
        cid: cal.model_copy(update={"threshold": threshold[cid] if isinstance(threshold, dict) else threshold})
        for cid, cal in stats.items()
    }


def fit(drafts, signals, criteria, weight: float, per_criterion: bool) -> dict[str, CriterionCalibration]:
    """z-score stats from all given drafts; threshold(s) maximising recall within the false-alarm budget."""
    stats = fit_stats([signals[d["id"]] for d in drafts], criteria, weight)
    best, best_recall = max(THRESHOLDS), -1.0
    for t in THRESHOLDS:
        result = evaluate(with_threshold(stats, t), drafts, signals)["all"]
        if result["false_per_good"] <= FALSE_ALARM_BUDGET and result["recall"] > best_recall:
            best, best_recall = t, result["recall"]
    if not per_criterion:
        return with_threshold(stats, best)
    # per criterion: start from the shared threshold, then greedily move each one
    chosen = {cid: best for cid in criteria}
    for _ in range(2):
        for cid in criteria:
            best_t, best_score = chosen[cid], -1.0
            for t in THRESHOLDS:
                trial = with_threshold(stats, chosen | {cid: t})
                result = evaluate(trial, drafts, signals)["all"]
                if result["false_per_good"] <= FALSE_ALARM_BUDGET and result["recall"] > best_score:
                    best_t, best_score = t, result["recall"]
            chosen[cid] = best_t
    return with_threshold(stats, chosen)


def cross_validate(drafts, signals, criteria, weight, per_criterion, folds: int = 5):
    """Each draft judged by a calibration fitted without it (5 folds, drafts interleaved)."""
    predictions = {}
    for fold in range(folds):
        train = [d for i, d in enumerate(drafts) if i % folds != fold]
        test = [d for i, d in enumerate(drafts) if i % folds == fold]
        calibration = fit(train, signals, criteria, weight, per_criterion)
        for d in test:
            predictions[d["id"]] = calibration
    return tally(drafts, signals, lambda draft: predictions[draft["id"]])


def show(label: str, result: dict[str, dict[str, float]]) -> None:
    langs = " ".join(
        f"{k} {v['recall']:.2f}/{v['false_per_good']:.1f}" for k, v in sorted(result.items()) if k != "all"
    )
    print(
        f"{label:42s} recall {result['all']['recall']:.3f}  false/good {result['all']['false_per_good']:.2f}  | {langs}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collect-only", action="store_true")
    parser.add_argument("--write", action="store_true", help="save prompts/critic_calibration.json")
    args = parser.parse_args()
    coach = Coach()
    drafts = load_drafts()
    try:
        signals = collect(coach, drafts, coach.settings.data_dir / "bench" / "critic_signals.jsonl")
        model = coach.llm.endpoint().model
    finally:
        coach.close()
    if args.collect_only:
        return
    criteria = list(coach.rubric.ids)
    print(f"{len(drafts)} drafts ({sum(d['good'] for d in drafts)} good); budget {FALSE_ALARM_BUDGET} false/good")
    print("format: recall / false alarms per good draft; per language the same")
    for weight in (0.0, 0.25, 0.5, 0.75, 1.0):
        for per in (False, True):
            label = f"llm weight {weight:.2f}, {'per-criterion' if per else 'shared'} threshold"
            show(label + " (in-sample)", evaluate(fit(drafts, signals, criteria, weight, per), drafts, signals))
            show(label + " (5-fold CV)", cross_validate(drafts, signals, criteria, weight, per))
    if args.write:
        weight, per = 0.5, False
        final = fit(drafts, signals, criteria, weight, per)
        calibration = Calibration(
            model=model,
            prompt_version=coach._prompt_version("system", "yesno"),
            rubric_version=coach.rubric.version,
            criteria=final,
            measured={
                "drafts": len(drafts),
                "in_sample": evaluate(final, drafts, signals)["all"],
                "cross_validated": cross_validate(drafts, signals, criteria, weight, per)["all"],
                "llm_weight": weight,
                "shared_threshold": not per,
            },
        )
        path = PROMPTS / CALIBRATION_FILE
        path.write_text(calibration.model_dump_json(indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
