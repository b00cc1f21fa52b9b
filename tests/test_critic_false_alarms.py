"""Good replies are left alone: the shipped critic, through the public API, on the tuning set's good drafts.

The critic's main risk is crying wolf: an agent who sees issues on a good reply stops reading them. The
thresholds are chosen for at most ``FALSE_PER_GOOD`` false issues per good draft on the training corpus
(cross-validated); on ``eval/queries.jsonl`` (the tuning set: never trained on, and not held out) this
test allows that budget with a margin for a 15-draft sample. A critic that flags everything must fail it:
the second test feeds one (every threshold near 0) through the same check.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from coach import Coach, Settings
from coach.judging.critic import MODEL_FILE
from coach.judging.training import FALSE_PER_GOOD
from coach.knowledge.embeddings import Embedder
from coach.resources import shipped_prompts_dir

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = 2 * FALSE_PER_GOOD  # the CV budget, with a margin: 15 drafts are a small sample


def good_drafts() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    return [row for row in rows if row.get("kind") == "draft" and row.get("good")]


def false_issues_per_good(coach: Coach, drafts: list[dict[str, Any]]) -> float:
    """Issues per good draft, each critiqued as an agent would: the draft and the customer's message."""
    issues = [coach.critique(d["text"], d.get("customer_message")).issues for d in drafts]
    return sum(len(found) for found in issues) / len(drafts)


def coach_with(indexed_coach: Coach, embedder: Embedder, prompts_dir: Path | None = None) -> Coach:
    base = indexed_coach.settings
    options: dict[str, Any] = {"prompts_dir": prompts_dir} if prompts_dir else {}
    settings = Settings(knowledge_dir=base.knowledge_dir, data_dir=base.data_dir, cache=False, **options)
    return Coach(settings, embedder=embedder)


def test_the_tuning_set_has_good_drafts_to_check() -> None:
    assert len(good_drafts()) >= 10


def test_good_replies_get_at_most_the_false_alarm_budget(indexed_coach: Coach, embedder: Embedder) -> None:
    rate = false_issues_per_good(coach_with(indexed_coach, embedder), good_drafts())
    assert rate <= ALLOWED, f"{rate:.2f} false issues per good draft (allowed {ALLOWED:.2f})"


def test_the_check_catches_a_critic_that_flags_everything(
    indexed_coach: Coach, embedder: Embedder, tmp_path: Path
) -> None:
    prompts = shutil.copytree(shipped_prompts_dir(), tmp_path / "prompts")
    model = json.loads((prompts / MODEL_FILE).read_text(encoding="utf-8"))
    for criterion in model["criteria"].values():
        criterion["threshold"] = 1e-6  # every criterion flagged on every draft
    (prompts / MODEL_FILE).write_text(json.dumps(model), encoding="utf-8")
    coach = coach_with(indexed_coach, embedder, prompts)
    rate = false_issues_per_good(coach, good_drafts()[:3])
    assert rate == len(model["criteria"]) > ALLOWED  # the budget test above would fail on this critic
