"""Build training/drafts.jsonl from the writers' raw files, and report agreement with the blind relabelling.

Usage:  uv run python training/build.py            # merge raw/*.jsonl -> drafts.jsonl, print counts
        uv run python training/build.py --agreement  # also Cohen's kappa vs relabel/*.jsonl, drop disagreements

Raw rows (written by the helpers, see README.md) label each criterion "ok", "omission" or
{"said": "<verbatim sentence>"}; here a quote becomes character offsets, checked against the text.
A row whose quote is not in its text is dropped and reported, never guessed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from coach.prompts import load_rubric

HERE = Path(__file__).resolve().parent
CRITERIA = load_rubric().ids  # the rubric's criteria, in its order


def verdict(label: object, text: str) -> dict[str, object]:
    """A raw label as a verdict with offsets; ValueError when a quote is not in the text."""
    if label in ("ok", "omission"):
        return {"label": label}
    if isinstance(label, dict) and isinstance(label.get("said"), str):
        quote = label["said"].strip()
        start = text.find(quote)
        if start < 0 or not quote:
            raise ValueError(f"quote not in text: {quote[:60]!r}")
        return {"label": "said", "start": start, "end": start + len(quote)}
    raise ValueError(f"unknown label {label!r}")


def convert(row: dict[str, object]) -> dict[str, object]:
    """One raw row as a training row."""
    text = str(row["text"])
    labels = row["labels"]
    assert isinstance(labels, dict)
    missing = set(CRITERIA) - labels.keys()
    if missing:
        raise ValueError(f"no label for {sorted(missing)}")
    return {
        "id": row["id"],
        "language": row["language"],
        "domain": row.get("domain", ""),
        "voice": row.get("voice", ""),
        "customer_message": row["customer_message"],
        "text": text,
        "verdicts": {cid: verdict(labels[cid], text) for cid in CRITERIA},
    }


def read_jsonl(path: Path) -> list[dict[str, object]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                print(f"  {path.name}:{number}: not JSON ({exc}); dropped", file=sys.stderr)
    return rows


def kappa(first: list[bool], second: list[bool]) -> float:
    """Cohen's kappa for two binary labellings."""
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    p1, p2 = sum(first) / n, sum(second) / n
    expected = p1 * p2 + (1 - p1) * (1 - p2)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def agreement(rows: dict[str, dict[str, object]], relabel_dir: Path) -> set[str]:
    """Print per-criterion kappa between writers and blind relabellers; return ids with any disagreement."""
    second: dict[str, dict[str, object]] = {}
    for path in sorted(relabel_dir.glob("*.jsonl")):
        for row in read_jsonl(path):
            second[str(row["id"])] = row
    common = sorted(set(second) & set(rows))
    print(f"\nblind relabelling: {len(common)} drafts")
    disagreeing: set[str] = set()
    print(f"{'criterion':26} {'kappa':>6} {'agree':>6}")
    for cid in CRITERIA:
        a = [rows[i]["verdicts"][cid]["label"] != "ok" for i in common]  # type: ignore[index]
        b = [second[i]["labels"][cid] != "ok" for i in common]  # type: ignore[index]
        for draft_id, x, y in zip(common, a, b, strict=True):
            if x != y:
                disagreeing.add(draft_id)
        agree = sum(x == y for x, y in zip(a, b, strict=True)) / max(len(common), 1)
        print(f"{cid:26} {kappa(a, b):6.2f} {agree:6.0%}")
    print(f"drafts with a disagreement on any criterion: {len(disagreeing)} (dropped)")
    return disagreeing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agreement", action="store_true", help="compare with relabel/ and drop disagreements")
    args = parser.parse_args()
    rows: dict[str, dict[str, object]] = {}
    for path in sorted((HERE / "raw").glob("*.jsonl")):
        for raw in read_jsonl(path):
            try:
                row = convert(raw)
            except (KeyError, ValueError, AssertionError) as exc:
                print(f"  {path.name}: {raw.get('id')}: {exc}; dropped", file=sys.stderr)
                continue
            if row["id"] in rows:
                print(f"  {path.name}: duplicate id {row['id']}; dropped", file=sys.stderr)
                continue
            rows[str(row["id"])] = row
    if args.agreement:
        for draft_id in agreement(rows, HERE / "relabel"):
            rows.pop(draft_id, None)
    out = HERE / "drafts.jsonl"
    with out.open("w", encoding="utf-8") as handle:
        for row in rows.values():
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    good = sum(all(v["label"] == "ok" for v in r["verdicts"].values()) for r in rows.values())  # type: ignore[union-attr]
    print(f"\n{len(rows)} drafts -> {out.name}; good {good} ({good / max(len(rows), 1):.0%})")
    print("languages:", dict(Counter(str(r["language"]) for r in rows.values())))
    print("domains:", dict(Counter(str(r["domain"]) for r in rows.values())))
    for cid in CRITERIA:
        counts = Counter(r["verdicts"][cid]["label"] for r in rows.values())  # type: ignore[index]
        print(f"  {cid:26} {dict(counts)}")


if __name__ == "__main__":
    main()
