"""Link suggestions: how often the criterion suggested first for an unlinked passage is one a trainer chose.

Usage:  uv run python -m bench.link_suggestions [--limit N]

Leave one document out over the linked passages of knowledge/links.yaml: for each document, drop every link
of its passages, ask the suggester for that document's linked passages, and count top-1 (the first criterion
is one of the passage's criteria) and top-2 (either of the first two). Printed as top-1 / top-2, overall and
per language, for the baseline, the variants tried, and ``coach.knowledge.link_suggestions.CriterionSuggester``.
43 passages: one passage is 0.023, so read differences under 0.05 as noise. ``--limit N``: a smoke run (the
first N documents left out, the baseline, the chosen variant and ``CriterionSuggester`` only).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from bench.common import KNOWLEDGE, PROMPTS, ROOT
from coach.judging.training import read_labelled
from coach.knowledge.embeddings import Embedder, Vectors, shared_embedder
from coach.knowledge.link_suggestions import CriterionSuggester, centroids, criterion_text, rank_criteria
from coach.knowledge.links import LINKS_FILE, Links, Suggester, Suggestion, read_links
from coach.knowledge.passages import PassageRecord, find_document_files, read_document, split_passages
from coach.prompts import LANGUAGES, Rubric, load_rubric
from coach.text import split_sentences

Scores = Callable[[Links, list[PassageRecord], list[PassageRecord]], np.ndarray]  # targets x criteria
Figures = dict[str, dict[str, float]]  # "all" or a language -> top1, top2, n


def load_passages() -> list[PassageRecord]:
    """Every passage of the shipped knowledge base."""
    docs = [read_document(path, 10_000_000) for path in find_document_files(KNOWLEDGE)]
    return [passage for doc in docs for passage in split_passages(doc)]


def leave_one_document_out(
    suggest: Suggester, links: Links, passages: list[PassageRecord], documents: int = 0
) -> Figures:
    """Top-1 and top-2 overall (key "all") and per language, each document's links hidden in turn.

    ``documents``: only the first N documents are left out (0: all).
    """
    by_id = {p.id: p for p in passages}
    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for document in list(dict.fromkeys(p.document for p in passages))[: documents or None]:
        hidden = Links(
            links={cid: [pid for pid in ids if by_id[pid].document != document] for cid, ids in links.links.items()}
        )
        targets = [p for p in passages if p.document == document and links.criteria_of(p.id)]
        if not targets:
            continue
        ranked = suggest(hidden, passages, targets)
        for target in targets:
            truth = set(links.criteria_of(target.id))
            first = [s.criterion for s in ranked[target.id][:2]]
            hit = (first[0] in truth, bool(truth & set(first)))
            hits["all"].append(hit)
            hits[target.language].append(hit)
    return {
        key: {
            "top1": float(np.mean([h[0] for h in rows])),
            "top2": float(np.mean([h[1] for h in rows])),
            "n": len(rows),
        }
        for key, rows in sorted(hits.items(), key=lambda item: (item[0] != "all", item[0]))
    }


def print_row(name: str, result: Figures) -> None:
    overall = result["all"]
    langs = "  ".join(f"{lang} {r['top1']:.2f}/{r['top2']:.2f}" for lang, r in result.items() if lang != "all")
    print(f"{name:58s} top-1 {overall['top1']:.3f}  top-2 {overall['top2']:.3f} | {langs}")


class Embedded:
    """Vectors by text, embedded in batches and kept, so every variant reads the same vectors."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._kept: dict[tuple[str, str], np.ndarray] = {}

    def __call__(self, kind: str, texts: Sequence[str]) -> Vectors:
        new = [t for t in dict.fromkeys(texts) if (kind, t) not in self._kept]
        embed = self.embedder.queries if kind == "query" else self.embedder.passages
        self._kept.update({(kind, t): v for t, v in zip(new, embed(new), strict=True)})
        return np.asarray([self._kept[(kind, t)] for t in texts], dtype=np.float32).reshape(len(texts), -1)


def ranked_by(scores: Scores, ids: Sequence[str]) -> Suggester:
    """A suggester from a score function (rows: targets, columns: criteria in rubric order)."""

    def suggest(
        links: Links, passages: list[PassageRecord], targets: list[PassageRecord]
    ) -> dict[str, list[Suggestion]]:
        return dict(zip((t.id for t in targets), rank_criteria(scores(links, passages, targets), ids), strict=True))

    return suggest


class Signals:
    """The score functions compared: criterion texts read several ways, linked neighbours, training drafts."""

    def __init__(self, embedded: Embedded, rubric: Rubric) -> None:
        self.vectors = embedded
        self.rubric = rubric
        self.n = len(rubric.criteria)

    def texts(self, kind: str) -> Vectors:
        """Criteria x languages x dimension: each criterion's name + good + fix in every language."""
        texts = [criterion_text(c, lang) for c in self.rubric.criteria for lang in LANGUAGES]
        return self.vectors(kind, texts).reshape(self.n, len(LANGUAGES), -1)

    def own_language(self, kind: str) -> Scores:
        def scores(links: Links, passages: list[PassageRecord], targets: list[PassageRecord]) -> np.ndarray:
            texts = [criterion_text(c, t.language) for t in targets for c in self.rubric.criteria]
            criteria = self.vectors("passage", texts).reshape(len(targets), self.n, -1)
            return np.asarray(np.einsum("td,tcd->tc", self.vectors(kind, [t.text for t in targets]), criteria))

        return scores

    def every_language(self, passage_kind: str, criterion_kind: str, how: str) -> Scores:
        def scores(links: Links, passages: list[PassageRecord], targets: list[PassageRecord]) -> np.ndarray:
            vectors = self.vectors(passage_kind, [t.text for t in targets])
            per_language = np.einsum("td,cld->tcl", vectors, self.texts(criterion_kind))
            if how == "max":
                return np.asarray(per_language.max(axis=2))
            if how == "mean":
                return np.asarray(per_language.mean(axis=2))
            return vectors @ centroids(self.texts(criterion_kind).reshape(-1, vectors.shape[1]), self.n).T

        return scores

    def best_sentence(self, kind: str) -> Scores:
        """Per criterion, the average of the whole passage's and its best sentence's similarity to the centroid."""

        def scores(links: Links, passages: list[PassageRecord], targets: list[PassageRecord]) -> np.ndarray:
            texts = self.texts("passage")
            criteria = centroids(texts.reshape(-1, texts.shape[2]), self.n)
            whole = self.vectors(kind, [t.text for t in targets]) @ criteria.T
            best = [(self.vectors(kind, split_sentences(t.text)) @ criteria.T).max(axis=0) for t in targets]
            return np.asarray((whole + np.asarray(best)) / 2)

        return scores

    def neighbours(self, how: str) -> Scores:
        """Similarity to the passages linked to each criterion now (other documents), max or mean."""

        def scores(links: Links, passages: list[PassageRecord], targets: list[PassageRecord]) -> np.ndarray:
            by_id = {p.id: p for p in passages}
            vectors = self.vectors("passage", [t.text for t in targets])
            rows = []
            for c in self.rubric.criteria:
                linked = [by_id[pid].text for pid in links.passages_of(c.id) if pid in by_id]
                sims = vectors @ self.vectors("passage", linked).T if linked else np.full((len(targets), 1), -1.0)
                rows.append(sims.max(axis=1) if how == "max" else sims.mean(axis=1))
            return np.stack(rows, axis=1)

        return scores

    def violations(self, drafts_file: str) -> Scores:
        """Similarity to the centroid of each criterion's quoted violations in the training drafts."""
        drafts = read_labelled(ROOT / "training" / drafts_file, self.rubric.ids)
        quoted = []
        for c in self.rubric.criteria:
            spans = [d.text[v.start : v.end] for d in drafts if (v := d.verdicts[c.id]).label == "said"]
            quoted.append(self.vectors("query", spans).mean(axis=0))
        centroid = np.asarray(quoted) / np.linalg.norm(quoted, axis=1, keepdims=True)
        return lambda links, passages, targets: self.vectors("query", [t.text for t in targets]) @ centroid.T


def z_scored(scores: Scores) -> Scores:
    """Each criterion's scores standardised over every passage of the knowledge base (not only the targets)."""

    def standardised(links: Links, passages: list[PassageRecord], targets: list[PassageRecord]) -> np.ndarray:
        every = scores(links, passages, passages)
        return np.asarray((scores(links, passages, targets) - every.mean(axis=0)) / every.std(axis=0))

    return standardised


def blend(first: Scores, second: Scores, weight: float) -> Scores:
    """(1 - weight) * first + weight * second, each standardised over all its scores (one mean and std)."""

    def blended(links: Links, passages: list[PassageRecord], targets: list[PassageRecord]) -> np.ndarray:
        parts = []
        for scores in (first, second):
            every, wanted = scores(links, passages, passages), scores(links, passages, targets)
            parts.append((wanted - every.mean()) / every.std())
        return np.asarray((1 - weight) * parts[0] + weight * parts[1])

    return blended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="a smoke run: N documents, the chosen variants only")
    args = parser.parse_args()
    rubric = load_rubric(PROMPTS)
    passages = load_passages()
    links = read_links(KNOWLEDGE / LINKS_FILE)
    linked = [p for p in passages if links.criteria_of(p.id)]
    counts = {lang: sum(p.language == lang for p in linked) for lang in sorted({p.language for p in linked})}
    languages = ", ".join(f"{lang} {n}" for lang, n in counts.items())
    print(f"{len(linked)} linked passages of {len(passages)} ({languages}); {len(rubric.criteria)} criteria")
    print("figures: top-1 / top-2, leave one document out\n")

    embedder = shared_embedder()
    signals = Signals(Embedded(embedder), rubric)
    final = CriterionSuggester(embedder, rubric)

    def score(name: str, scores: Scores) -> None:
        print_row(name, leave_one_document_out(ranked_by(scores, rubric.ids), links, passages, args.limit))

    chosen = signals.every_language("query", "passage", "centroid")
    score("baseline: criterion text in the passage's language", signals.own_language("passage"))
    if args.limit:
        score("every language, centroid, passage as query (chosen)", chosen)
        print_row("\nCriterionSuggester", leave_one_document_out(final, links, passages, args.limit))
        return
    score("  same, passage embedded as a query", signals.own_language("query"))
    score("every language, max similarity", signals.every_language("passage", "passage", "max"))
    score("every language, mean similarity", signals.every_language("passage", "passage", "mean"))
    score("every language, centroid", signals.every_language("passage", "passage", "centroid"))
    score("every language, centroid, both as queries", signals.every_language("query", "query", "centroid"))
    score("every language, centroid, passage as query (chosen)", chosen)
    score("  + best sentence (whole and best averaged)", signals.best_sentence("query"))
    score("  z-scored per criterion over all passages", z_scored(chosen))
    score("kNN: passages linked now, max similarity", signals.neighbours("max"))
    score("kNN: passages linked now, mean similarity", signals.neighbours("mean"))
    for weight in (0.2, 0.5):
        score(f"  chosen + {weight} kNN mean", blend(chosen, signals.neighbours("mean"), weight))
    violations = signals.violations("drafts.jsonl")
    score("training drafts: quoted violations' centroid", violations)
    score("  chosen + 0.25 training drafts", blend(chosen, violations, 0.25))

    started = time.perf_counter()
    print_row("\nCriterionSuggester (coach.link_suggestions)", leave_one_document_out(final, links, passages))
    cold = time.perf_counter() - started
    started = time.perf_counter()
    leave_one_document_out(final, links, passages)
    again = time.perf_counter() - started
    print(f"CriterionSuggester: first run {cold:.2f} s (embeds criteria and passages), repeated {again:.3f} s")


if __name__ == "__main__":
    main()
