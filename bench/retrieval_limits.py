"""What bounds retrieval recall on eval/: ideas measured against coach's default, and two ceilings.

Usage:  uv run python -m bench.retrieval_limits [--heldout] [--limit N]

Recall@5 as in bench/retrieval.py (share of a query's labelled principles with a passage in the top 5).
Scored by brute force over every stored vector (passages and their notes), which ranks exactly like the
default retriever; then:

- customer message + draft as the query (what a critique knows besides the draft);
- each sentence embedded on its own and the vectors averaged (would let repeated sentences be cached);
- the embedder's sparse head fused with the dense score (costs a second model pass per query);
- hubness correction (CSLS): subtract each passage's mean similarity to draft-like reference sentences
  (the notes' phrases);
- ceiling 1, oracle routing: the drafts' true rubric criteria, each adding its best-ranked linked passage;
- ceiling 2, the best constant list: five passages chosen greedily for the whole set, the same for every
  query. It measures how much of recall is label frequency rather than retrieval.

``--limit N``: the first N queries, and 30 N of the notes' phrases as the hubness reference (a smoke run).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.common import KNOWLEDGE, add_eval_arguments, eval_file, limited, load_eval
from bench.retrieval import evaluate, print_row
from coach import Coach, Settings
from coach.text import sentence_chunks

K = 5


class Records:
    """Every stored vector (a passage's own and its notes') with the passage it stands for."""

    def __init__(self, coach: Coach) -> None:
        found = coach.store._get_collection().get(include=["embeddings", "metadatas", "documents"])
        owners = [meta.get("passage", rid) for rid, meta in zip(found["ids"], found["metadatas"], strict=True)]
        self.passage_ids = sorted(set(owners))
        position = {pid: i for i, pid in enumerate(self.passage_ids)}
        self.owner = np.array([position[pid] for pid in owners])
        self.vectors = np.asarray(found["embeddings"], dtype=np.float32)
        self.texts: list[str] = found["documents"]

    def per_passage(self, similarities: np.ndarray) -> np.ndarray:
        """(queries, records) -> (queries, passages): each passage's best record."""
        out = np.full((len(similarities), len(self.passage_ids)), -np.inf, dtype=np.float32)
        for record, passage in enumerate(self.owner):
            out[:, passage] = np.maximum(out[:, passage], similarities[:, record])
        return out


def report(
    name: str, rankings: list[list[str]], queries: list[dict[str, Any]], principles: dict[str, set[str]]
) -> None:
    """bench/retrieval.py's figures for rankings computed here, one per query."""
    by_text = {q["text"]: ranking for q, ranking in zip(queries, rankings, strict=True)}
    print_row(name, evaluate(lambda text, k: by_text[text][:k], queries, principles, K))


def ranked_by(scores: np.ndarray, records: Records) -> list[list[str]]:
    return [[records.passage_ids[i] for i in np.argsort(-row)[:K]] for row in scores]


def normalized(matrix: np.ndarray) -> np.ndarray:
    return np.asarray(matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9))


def note_phrases() -> list[str]:
    phrases: list[str] = []
    for path in sorted((KNOWLEDGE / "notes").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["passages"].values():
            for items in (entry.get("phrases") or {}).values():
                phrases.extend(items)
    return phrases


def oracle_routing(coach: Coach, queries: list[dict[str, Any]], dense: list[list[str]]) -> list[list[str]]:
    """Drafts: one best-ranked linked passage per true rubric criterion, then the dense ranking."""
    links = coach.links.read()
    routed = []
    for query, ranking in zip(queries, dense, strict=True):
        chosen: list[str] = []
        vector = coach.retriever.text_vector(query["text"])
        for criterion in query.get("problems", []):
            linked = [p.id for p in coach.retriever.rank(vector, links.passages_of(criterion)) if p.id not in chosen]
            chosen.extend(linked[:1])
        chosen.extend(pid for pid in ranking if pid not in chosen)
        routed.append(chosen[:K])
    return routed


def best_constant_list(
    queries: list[dict[str, Any]], principles: dict[str, set[str]], candidates: list[str]
) -> list[str]:
    """Five passages chosen greedily to maximise recall over all the queries at once."""

    def recall_of(ids: list[str]) -> float:
        return float(evaluate(lambda text, k: ids, queries, principles, K)["recall"])

    chosen: list[str] = []
    for _ in range(K):
        chosen.append(max((c for c in candidates if c not in chosen), key=lambda c: recall_of([*chosen, c])))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_eval_arguments(parser)
    args = parser.parse_args()
    queries, principles = load_eval(eval_file(args))
    queries = limited(queries, args.limit)
    work = Path(tempfile.mkdtemp(prefix="coach-bench-limits-"))
    try:
        shutil.copytree(KNOWLEDGE, work / "knowledge")
        coach = Coach(Settings(knowledge_dir=work / "knowledge", data_dir=work / "data"))
        coach.index()
        records = Records(coach)
        model = coach._embedder
        query_vectors = np.vstack([coach.retriever.text_vector(q["text"]) for q in queries])
        dense = records.per_passage(query_vectors @ records.vectors.T)
        dense_ranking = ranked_by(dense, records)
        print(f"{len(queries)} queries from eval/{eval_file(args)}; recall@{K} | per language and kind")
        report("dense, passages + notes (coach's default)", dense_ranking, queries, principles)

        with_customer = [
            coach.retriever.text_vector(f"{q['customer_message']}\n\n{q['text']}") if q.get("customer_message") else v
            for q, v in zip(queries, query_vectors, strict=True)
        ]
        customer_scores = records.per_passage(np.vstack(with_customer) @ records.vectors.T)
        report("customer message + draft as the query", ranked_by(customer_scores, records), queries, principles)

        sentence_means = [
            normalized(model.queries(sentence_chunks(q["text"], 1)).mean(axis=0, keepdims=True))[0] for q in queries
        ]
        by_sentences = records.per_passage(np.vstack(sentence_means) @ records.vectors.T)
        report("sentences embedded one by one, vectors averaged", ranked_by(by_sentences, records), queries, principles)

        engine = model._loaded()
        sparse_records = normalized(engine.sparse(records.texts))
        sparse_queries = normalized(engine.sparse([q["text"] for q in queries]))
        sparse = records.per_passage(sparse_queries @ sparse_records.T)
        for weight in (0.1, 0.3):
            fused = ranked_by(dense + weight * sparse, records)
            report(f"dense + {weight} x sparse head", fused, queries, principles)

        phrases = note_phrases()[: 30 * args.limit] if args.limit else note_phrases()  # --limit: a smoke run
        reference = records.per_passage(model.queries(phrases) @ records.vectors.T)
        hub = reference.mean(axis=0)
        report(
            "hubness correction (CSLS, weight 0.5)",
            ranked_by(dense - 0.5 * hub, records),
            queries,
            principles,
        )

        drafts = [i for i, q in enumerate(queries) if q["kind"] == "draft"]
        draft_queries = [queries[i] for i in drafts]
        routed = oracle_routing(coach, draft_queries, [dense_ranking[i] for i in drafts])
        print("\ndrafts only:")
        report("dense (coach's default)", [dense_ranking[i] for i in drafts], draft_queries, principles)
        report("ceiling: oracle routing by the true rubric criteria", routed, draft_queries, principles)
        constant = best_constant_list(draft_queries, principles, records.passage_ids)
        report("ceiling: one constant list of 5 for every draft", [constant] * len(drafts), draft_queries, principles)
        print("  the constant list: " + ", ".join(constant))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
