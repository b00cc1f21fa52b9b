"""Add the blind-written held-out drafts of ``raw/`` to ``heldout.jsonl``, and report the blind relabelling's agreement.

Usage:  uv run python eval/build.py

``raw/heldout-extra.jsonl`` was written by a helper who never saw ``training/``, the code or any system
output (rubric, guidelines and ``principles.yaml`` only); ``raw/heldout-extra-relabel.jsonl`` is a second,
blind labelling of the same drafts by another helper who saw only the rubric and the drafts. The first
labelling is the one kept (all rows: dropping disagreements would leave only the easy cases); Cohen's κ
per criterion says how far to trust it. Rows keep per-criterion ``verdicts`` (with the quoted sentence's
offsets) beside the ``problems`` list the older rows have. Nothing here is ever trained on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from coach.prompts import load_rubric

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the raw-label format and kappa are training/build.py's: one reading of both
from training.build import kappa, read_jsonl, verdict  # noqa: E402

CRITERIA = tuple(load_rubric().ids)  # the rubric's criteria, in its order


def main() -> None:
    extra = read_jsonl(HERE / "raw" / "heldout-extra.jsonl")
    heldout_path = HERE / "heldout.jsonl"
    existing = [row for row in read_jsonl(heldout_path) if not str(row["id"]).split("-")[-1].startswith("x")]
    rows = []
    for raw in extra:
        text = str(raw["text"])
        labels = raw["labels"]
        assert isinstance(labels, dict)
        verdicts = {cid: verdict(labels[cid], text) for cid in CRITERIA}
        problems = [cid for cid in CRITERIA if verdicts[cid]["label"] != "ok"]
        rows.append(
            {
                "id": raw["id"],
                "language": raw["language"],
                "kind": "draft",
                "domain": raw.get("domain", ""),
                "customer_message": raw["customer_message"],
                "text": text,
                "principles": raw.get("principles", []),
                "problems": problems,
                "verdicts": verdicts,
                "good": not problems,
            }
        )
    with heldout_path.open("w", encoding="utf-8") as handle:
        for row in [*existing, *rows]:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    drafts = [r for r in [*existing, *rows] if r.get("kind") == "draft"]
    good = sum(bool(r["good"]) for r in drafts)
    print(f"{heldout_path.name}: {len(existing)} + {len(rows)} rows; {len(drafts)} drafts, {good} good")
    relabel_path = HERE / "raw" / "heldout-extra-relabel.jsonl"
    if not relabel_path.exists():
        return
    second = {str(r["id"]): r["labels"] for r in read_jsonl(relabel_path)}
    common = [r for r in rows if r["id"] in second]
    print(f"\nblind relabelling: {len(common)} drafts")
    print(f"{'criterion':26} {'kappa':>6} {'agree':>6}")
    for cid in CRITERIA:
        a = [r["verdicts"][cid]["label"] != "ok" for r in common]  # type: ignore[index]
        b = [second[str(r["id"])][cid] != "ok" for r in common]  # type: ignore[index]
        agree = sum(x == y for x, y in zip(a, b, strict=True)) / max(len(common), 1)
        print(f"{cid:26} {kappa(a, b):6.2f} {agree:6.0%}")
    a = [bool(r["good"]) for r in common]
    b = [all(v == "ok" for v in second[str(r["id"])].values()) for r in common]  # type: ignore[attr-defined]
    print(
        f"{'good draft (all ok)':26} {kappa(a, b):6.2f} {sum(x == y for x, y in zip(a, b, strict=True)) / len(a):6.0%}"
    )


if __name__ == "__main__":
    main()
