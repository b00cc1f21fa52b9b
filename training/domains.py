"""Fit the service-domain classifier of similar replies (``prompts/domain_model.json`` + ``domain_model.npy``).

Trained on the drafts of ``drafts.jsonl`` (good and bad) whose domain is one of the good replies' domains
(``knowledge/replies.jsonl``; names compared in lower case with spaces as underscores): each case's customer
message and draft, and its e5 situation vector. Deterministic: the same drafts give the same files, byte for
byte (closed-form ridge fit with one BLAS thread, as the critic's; weights kept as float16).
The drafts' vectors are kept in the data dir (``bench-vectors.npz``, shared with the benches) so a rebuild takes
seconds after the first (minutes: ~2,300 texts to embed).

    uv run python training/domains.py            # drafts.jsonl -> prompts/domain_model.{json,npy}
    uv run python training/domains.py --check    # rebuild in memory and say whether the shipped files are identical
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.judging.one_thread import one_blas_thread  # noqa: E402
from coach.knowledge.domains import MODEL_JSON, MODEL_WEIGHTS, DomainModel, case_text, domain_name  # noqa: E402
from coach.knowledge.embeddings import Embedder, Vectors  # noqa: E402
from coach.knowledge.replies import REPLIES_FILE, situation  # noqa: E402
from coach.knowledge.retrieval import text_vectors  # noqa: E402
from coach.settings import Settings  # noqa: E402


def cached_vectors(texts: list[str], path: Path, threads: int) -> Vectors:
    """``text_vectors`` of each text, kept by sha1 in one .npz file between runs."""
    known: dict[str, Vectors] = {}
    if path.is_file():
        with np.load(path) as data:
            known = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
    keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    todo = sorted({t for t, k in zip(texts, keys, strict=True) if k not in known})
    if todo:
        embedder = Embedder(threads)
        for start in range(0, len(todo), 64):
            part = todo[start : start + 64]
            known |= dict(
                zip((hashlib.sha1(t.encode()).hexdigest() for t in part), text_vectors(embedder, part), strict=True)
            )
            print(f"embedded {min(start + 64, len(todo))}/{len(todo)}", file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.asarray(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys])


def training_cases(drafts: Path, replies: Path) -> list[dict[str, str]]:
    """The drafts whose domain the good replies cover, their domain's name normalised."""
    covered = {domain_name(json.loads(line)["domain"]) for line in replies.read_text("utf-8").splitlines() if line}
    rows = [json.loads(line) for line in drafts.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r | {"domain": domain_name(r["domain"])} for r in rows if domain_name(r["domain"]) in covered]


def fit(cases: list[dict[str, str]], cache: Path, threads: int = 2) -> DomainModel:
    """The classifier fitted on ``cases`` (rows with ``text``, ``customer_message``, ``domain``)."""
    vectors = cached_vectors([t for c in cases for t in (c["text"], c["customer_message"])], cache, threads)
    situations = np.stack([situation(vectors[2 * i], vectors[2 * i + 1]) for i in range(len(cases))])
    texts = [case_text(c["text"], c["customer_message"]) for c in cases]
    return one_blas_thread(DomainModel.fit, texts, situations, [c["domain"] for c in cases])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "prompts")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--check", action="store_true", help="compare a rebuild with the files in --out")
    args = parser.parse_args()
    cases = training_cases(ROOT / "training" / "drafts.jsonl", ROOT / "knowledge" / REPLIES_FILE)
    model = fit(cases, Settings().data_dir / "bench-vectors.npz", args.threads)
    if args.check:
        with tempfile.TemporaryDirectory() as folder:
            model.save(Path(folder))
            same = all(
                (Path(folder) / n).read_bytes() == (args.out / n).read_bytes() for n in (MODEL_JSON, MODEL_WEIGHTS)
            )
        print(f"rebuilt from {len(cases)} drafts: {'identical to' if same else 'DIFFERENT from'} {args.out}")
        sys.exit(0 if same else 1)
    model.save(args.out)
    print(f"{len(cases)} drafts, {len(model.domains)} domains -> {args.out / MODEL_JSON}, {MODEL_WEIGHTS}")


if __name__ == "__main__":
    main()
