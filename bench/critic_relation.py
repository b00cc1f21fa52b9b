"""Choosing the critic's message x reply inputs on 5-fold CV of training/drafts.jsonl, for ``bench/critic_fit.py``.

``--relation`` prints, each stacked onto the shipped inputs without them (vectors, sentence and lexical logits):
- the surface cues the critic reads (``coach.judging.relation``);
- the cosine similarity of the message's vector to each reply sentence's (max, mean, min) and to the draft's;
- per sentence of the message (embedded apart when it has two or more: ~2 texts more per critique), its best
  similarity to a reply sentence: the lowest, the mean, and the lowest over the message's questions (an
  unanswered sentence);
- the element-wise product of the message's and the draft's vectors;
then mean AUC, held-apart recall and false issues per good draft at the 0.75 line, as ``--ablation`` prints
them, and the listening criterion's AUC, recall and precision apart (the one these inputs were meant for).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bench.critic_cv import Candidate, auc, print_ablation, truths
from coach.judging.critic import FeatureSet
from coach.judging.folds import fold_of, out_of_fold
from coach.judging.relation import relation_cues
from coach.judging.thresholds import critic_figures, held_apart_flags, line_chooser
from coach.judging.training import PRECISION, Features, LabelledDraft, draft_matrix
from coach.knowledge.embeddings import Vectors
from coach.knowledge.passages import sentence_spans
from coach.prompts import Rubric

LISTENING = "listening_clarifying"


def similarities(features: Features) -> np.ndarray:
    """Per draft: has a message, then the message's cosine to its sentences (max, mean, min) and to the draft."""
    rows = []
    for i, message in enumerate(features.messages):
        if not message:
            rows.append([0.0] * 5)
            continue
        cosines = features.sentences[features.sentence_draft == i] @ features.customers[i]
        rows.append(
            [1.0, cosines.max(), cosines.mean(), cosines.min(), float(features.drafts[i] @ features.customers[i])]
        )
    return np.asarray(rows)


def coverage(features: Features, vectors_of: Callable[[Sequence[str]], Vectors]) -> np.ndarray:
    """Per draft: has a message, then its sentences' best similarity to a reply sentence: min, mean, min over
    the questions (the whole message's vector when it is one sentence)."""
    rows = []
    for i, message in enumerate(features.messages):
        if not message:
            rows.append([0.0] * 4)
            continue
        spans = sentence_spans(message)
        parts = vectors_of([message[a:b] for a, b in spans]) if len(spans) > 1 else features.customers[i][None, :]
        best = (parts @ features.sentences[features.sentence_draft == i].T).max(axis=1)
        asked = [j for j, (a, b) in enumerate(spans) if "?" in message[a:b]] if len(spans) > 1 else []
        rows.append([1.0, best.min(), best.mean(), best[asked].min() if asked else best.max()])
    return np.asarray(rows)


def relation_sweep(
    drafts: Sequence[LabelledDraft],
    features: Features,
    rubric: Rubric,
    kind: FeatureSet,
    l2: float,
    covered: np.ndarray,
) -> list[Candidate]:
    """The shipped inputs without the cues, then with each relation variant stacked (see the module's docstring);
    the stacked logits are fitted once, then each variant's draft models on the same folds. ``covered``:
    ``coverage(features, ...)``, computed by the caller (it embeds the messages' sentences)."""
    cues = np.stack([relation_cues(d.text, m) for d, m in zip(drafts, features.messages, strict=True)])
    sims = similarities(features)
    variants = {
        "+ message x reply cues (shipped)": cues,
        "+ cosine message-sentences": sims,
        "+ message sentences' coverage": covered,
        "+ cues + cosines + coverage": np.hstack([cues, sims, covered]),
        "+ message * draft vectors": features.customers * features.drafts,
    }
    base = draft_matrix(drafts, features, sorted(rubric.ids), kind, True, l2=l2, lexical=True)
    texts = 1.0 + len(features.sentences) / len(drafts) + float(np.mean([bool(m) for m in features.messages]))
    split = float(np.mean([len(s) if len(s := sentence_spans(m)) > 1 else 0 for m in features.messages]))
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    found = []
    for name, extra in {"vectors + sentence + lexical logits": None, **variants}.items():
        matrix = base if extra is None else np.hstack([base, extra])
        oof = {c: out_of_fold(matrix, t.astype(np.int64), groups, 5, l2) for c, t in truths(drafts, rubric).items()}
        found.append(Candidate(name, oof, texts + split * ("coverage" in name)))
    return found


def print_relation_sweep(drafts: Sequence[LabelledDraft], rubric: Rubric, found: Sequence[Candidate]) -> None:
    """The sweep's table (``print_ablation``'s columns), then listening's AUC, recall and precision per row."""
    print("\nmessage x reply inputs, stacked onto the vectors, sentence and lexical logits:", end="")
    print_ablation(drafts, rubric, found)
    truth = truths(drafts, rubric)
    groups = np.asarray([fold_of(d.id, 5) for d in drafts])
    good = np.asarray([d.good for d in drafts])
    print(f"  {LISTENING}:")
    for one in found:
        flags = held_apart_flags(one.oof, truth, good, groups, line_chooser(PRECISION, 0.0))
        row = critic_figures(drafts, flags)["criteria"][LISTENING]
        print(
            f"    {one.name:60} AUC {auc(one.oof[LISTENING], truth[LISTENING]):.3f} "
            f"recall {row['recall']:.2f} precision {row['precision']:.2f}"
        )
