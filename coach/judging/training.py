"""Fitting the learned critic from labelled drafts: the data's shape, the features, the fit and its figures.

Deterministic: the same drafts and embedder give the same model file, byte for byte, whatever the machine's
thread settings (``tests/test_critic_rebuild.py``): folds are chosen by a hash of each draft's id, the solver
is Newton's method from zero, the fit runs with one BLAS thread (``coach.judging.one_thread``: thread counts
change the last bits of matrix products) and out-of-fold probabilities are rounded to 6 decimals before the
thresholds are chosen on a 0.01 grid. ``coach train-critic`` runs it.

Figures (``measured``): thresholds are chosen on out-of-fold predictions; reporting recall and false issues on
those same predictions would flatter them (the cuts were picked to look good there). So each fold is scored
with thresholds chosen on the other four folds' out-of-fold predictions only, and the model file keeps the
thresholds chosen on all five. Fully nested CV (refitting inside every outer fold) would cost 5x the fits for
a correction the cheap form already makes: the cut never sees the labels it is scored on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import InputError
from coach.judging.critic import CriterionModel, CriticModel, FeatureSet, LinearModel, draft_features, fit_logistic
from coach.judging.folds import fold_of, out_of_fold, out_of_fold_sentence_logits
from coach.judging.heldout import refuse_heldout
from coach.judging.hidden_layer import blend, fit_hidden_layer, out_of_fold_hidden
from coach.judging.labelled import LabelledDraft, Verdict, read_labelled
from coach.judging.lexical import BUCKETS, LEXICAL_L2, fit_lexical, hashed_rows, out_of_fold_lexical_logits
from coach.judging.one_thread import one_blas_thread
from coach.judging.quote_ranker import QUOTE_WEIGHT, quote_ranker
from coach.judging.relation import relation_cues
from coach.judging.thresholds import critic_figures, held_apart_flags, line_chooser, precision_thresholds
from coach.knowledge.embeddings import MODEL_NAME, Embedder, Vectors
from coach.knowledge.passages import sentence_spans
from coach.knowledge.retrieval import text_vectors
from coach.prompts import Rubric

Embed = Callable[[Sequence[str]], Vectors]
MIN_SENTENCE_POSITIVES = 12  # fewer quoted violations than this: no sentence model, the best match is quoted
L2 = 300.0  # chosen by 5-fold CV on the training corpus among 10, 30, 100, 300, 1000 (bench/critic_fit.py --l2)
PRECISION = 0.75  # an issue's line: the lowest cut whose cross-validated precision reaches this (issue 21)
TIP_PRECISION = 0.5  # a tip's line: below the issue's, the lowest cut whose precision reaches this
FALSE_PER_GOOD = 0.4  # the older budget rule (bench/critic_fit.py compares it): false issues per good draft
FEATURES: FeatureSet = "draft+sentences+customer"  # +0.09 CV recall over the draft's vector alone
STACKED = True  # the draft models also read the sentence models' highest logits (+0.03 CV recall, same false/good)
LEXICAL = True  # and the lexical models' logits over hashed character n-grams (+0.05 CV recall, fewer false/good)
RELATION = True  # and the message x reply cues (coach.judging.relation: false/good 0.07 -> 0.05 on CV, same recall)
HIDDEN = True  # a tanh layer blended in (coach.judging.hidden_layer: CV recall 0.545 -> 0.568 at the 0.75 line)


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class Features:
    """The vectors the critic is fitted on: one per draft, and one per sentence with its draft's index."""

    drafts: Vectors
    sentences: Vectors
    sentence_draft: np.ndarray  # index of each sentence's draft
    sentence_spans: list[tuple[int, int]]
    customers: Vectors  # zeros where a draft has no customer message (or it is dropped, see embed)
    messages: tuple[str, ...] = ()  # each draft's customer message as the critic reads it ("" where none or dropped)

    def matrix(self, kind: FeatureSet) -> np.ndarray:
        """One feature row per draft, as ``CriticModel.violation_probabilities`` builds it."""
        return np.stack(
            [
                draft_features(kind, vector, self.sentences[self.sentence_draft == i], self.customers[i])
                for i, vector in enumerate(self.drafts)
            ]
        )


def embed(
    embedder: Embedder,
    drafts: Sequence[LabelledDraft],
    texts_to_vectors: Embed | None = None,
    *,
    drop_customers: bool = False,
) -> Features:
    """Draft vectors exactly as retrieval makes them, and sentence vectors for the quote models.

    ``texts_to_vectors`` replaces ``text_vectors`` (benchmarks pass a cached one). ``drop_customers`` is for
    training data only: one draft in five is then shown without its customer message (``drop_customer``).
    Drafts to be scored keep their message, as the product reads them.
    """
    vectors_of = texts_to_vectors or (lambda texts: text_vectors(embedder, texts))
    draft_vectors = vectors_of([d.text for d in drafts])
    spans: list[tuple[int, int]] = []
    owner: list[int] = []
    texts: list[str] = []
    for index, draft in enumerate(drafts):
        for start, end in sentence_spans(draft.text) or [(0, len(draft.text))]:
            spans.append((start, end))
            owner.append(index)
            texts.append(draft.text[start:end])
    customers = np.zeros_like(draft_vectors)
    with_message = {
        i for i, d in enumerate(drafts) if d.customer_message and not (drop_customers and drop_customer(d.id))
    }
    if with_message:
        customers[sorted(with_message)] = vectors_of([str(drafts[i].customer_message) for i in sorted(with_message)])
    messages = tuple(str(d.customer_message) if i in with_message else "" for i, d in enumerate(drafts))
    return Features(draft_vectors, vectors_of(texts), np.asarray(owner), spans, customers, messages)


def drop_customer(draft_id: str) -> bool:
    """Whether a training draft is shown without its customer message (one in five, fixed by its id).

    Agents may critique a draft without pasting the message: the critic must have seen that case.
    """
    return int(hashlib.sha256(f"no-message:{draft_id}".encode()).hexdigest(), 16) % 5 == 0


def sentence_labels(drafts: Sequence[LabelledDraft], features: Features, criterion: str) -> np.ndarray:
    """1 for each sentence that overlaps the draft's quoted violation of the criterion by half or more."""
    labels = np.zeros(len(features.sentence_spans), dtype=np.int64)
    for i, (start, end) in enumerate(features.sentence_spans):
        verdict = drafts[int(features.sentence_draft[i])].verdicts[criterion]
        if verdict.label != "said" or verdict.start is None or verdict.end is None:
            continue
        overlap = min(end, verdict.end) - max(start, verdict.start)
        if overlap * 2 >= end - start:
            labels[i] = 1
    return labels


# --------------------------------------------------------------------------- fitting


def said_labels(drafts: Sequence[LabelledDraft], features: Features, criterion: str) -> np.ndarray | None:
    """The sentence labels a criterion's sentence model is fitted on; None when too few to fit one."""
    said = sentence_labels(drafts, features, criterion)
    return said if said.sum() >= MIN_SENTENCE_POSITIVES else None


def draft_matrix(
    drafts: Sequence[LabelledDraft],
    features: Features,
    criteria: Sequence[str],
    kind: FeatureSet,
    stacked: bool,
    *,
    folds: int = 5,
    l2: float = L2,
    lexical: bool = False,
    relation: bool = False,
) -> np.ndarray:
    """The draft models' feature rows: ``kind``'s vectors, then with ``stacked`` the out-of-fold sentence logits,
    then with ``lexical`` the out-of-fold lexical logits, then with ``relation`` the message x reply cues
    (``CriticModel.violation_probabilities``' order)."""
    parts = [features.matrix(kind)]
    groups = np.asarray([fold_of(d.id, folds) for d in drafts])
    if stacked:
        said = [said_labels(drafts, features, cid) for cid in criteria]
        parts.append(out_of_fold_sentence_logits(features.sentences, features.sentence_draft, said, groups, folds, l2))
    if lexical:
        truth = [np.asarray([d.verdicts[cid].violated for d in drafts], dtype=np.float64) for cid in criteria]
        rows = hashed_rows([d.text for d in drafts])
        parts.append(out_of_fold_lexical_logits(rows, truth, groups, folds, LEXICAL_L2))
    if relation:
        messages = features.messages or ("",) * len(drafts)
        parts.append(np.stack([relation_cues(d.text, m) for d, m in zip(drafts, messages, strict=True)]))
    return np.hstack(parts)


def train_critic(
    drafts: Sequence[LabelledDraft],
    features: Features,
    rubric: Rubric,
    *,
    folds: int = 5,
    l2: float = L2,
    budget: float = FALSE_PER_GOOD,
    precision: float | None = PRECISION,
    kind: FeatureSet = FEATURES,
    stacked: bool = STACKED,
    lexical: bool = LEXICAL,
    relation: bool = RELATION,
    hidden: bool = HIDDEN,
    trained_on: dict[str, Any] | None = None,
) -> CriticModel:
    """Fit every criterion's draft and sentence models (with one BLAS thread); thresholds from out-of-fold
    predictions, figures from thresholds chosen without the fold they score.

    An issue's line is the lowest cut at ``precision`` (a tip's at ``TIP_PRECISION``); with ``precision=None``
    the older rule: the most problems found within ``budget`` false issues per good draft.
    """
    return one_blas_thread(
        _train_critic,
        list(drafts),
        features,
        rubric,
        folds,
        l2,
        budget,
        precision,
        kind,
        stacked,
        lexical,
        relation,
        hidden,
        dict(trained_on or {}),
    )


def _train_critic(
    drafts: list[LabelledDraft],
    features: Features,
    rubric: Rubric,
    folds: int,
    l2: float,
    budget: float,
    precision: float | None,
    kind: FeatureSet,
    stacked: bool,
    lexical: bool,
    relation: bool,
    hidden: bool,
    trained_on: dict[str, Any],
) -> CriticModel:
    groups = np.asarray([fold_of(d.id, folds) for d in drafts])
    ids = sorted(rubric.ids)  # the model's order (CriticModel sorts its criteria): the stacked columns follow it
    truth = {cid: np.asarray([d.verdicts[cid].violated for d in drafts]) for cid in ids}
    good = np.asarray([d.good for d in drafts])
    matrix = draft_matrix(drafts, features, ids, kind, stacked, folds=folds, l2=l2, lexical=lexical, relation=relation)
    texts = [d.text for d in drafts]
    rows = hashed_rows(texts) if lexical else None
    oof = {cid: out_of_fold(matrix, truth[cid].astype(np.int64), groups, folds, l2) for cid in ids}
    labels_matrix = np.stack([truth[cid] for cid in ids], axis=1).astype(np.float64)
    layer = fit_hidden_layer(matrix, labels_matrix) if hidden else None
    if layer is not None:  # the thresholds and figures are the blend's, as the model file gives it
        oof = blend(oof, out_of_fold_hidden(matrix, labels_matrix, groups, folds), layer.weight)
    choose = line_chooser(precision, budget)
    thresholds = choose(oof, truth, good)
    tip_lines = precision_thresholds(oof, truth, TIP_PRECISION) if precision is not None else {}
    criteria: dict[str, CriterionModel] = {}
    for criterion in ids:
        labels = truth[criterion].astype(np.int64)
        threshold = thresholds[criterion]
        tip = tip_lines.get(criterion)
        said = said_labels(drafts, features, criterion)
        sentence_model = None if said is None else fit_logistic(features.sentences, said, l2=l2)
        weights, bias = fit_lexical(rows, labels, l2=LEXICAL_L2) if rows is not None else ([], 0.0)
        lexical_model = LinearModel(weights=weights, bias=bias) if rows is not None else None
        criteria[criterion] = CriterionModel(
            draft=fit_logistic(matrix, labels, l2=l2),
            lexical=lexical_model,
            threshold=threshold,
            tip_threshold=tip if tip is not None and tip < threshold else None,
            sentence=sentence_model,
            quote_lexical=quote_ranker(texts, features, [d.verdicts[criterion].label for d in drafts], said),
        )
    measured = {
        "cross_validated": critic_figures(drafts, held_apart_flags(oof, truth, good, groups, choose)),
        "thresholds": "each fold scored with thresholds chosen on the other folds' out-of-fold predictions",
        "folds": folds,
        "l2": l2,
        "budget": budget,
        "precision": precision,
        "tip_precision": TIP_PRECISION,
        "features": kind,
        "stacked": stacked,
        "lexical": {"l2": LEXICAL_L2, "buckets": BUCKETS} if lexical else None,
        "relation": relation,
        "hidden": layer is not None,
    }
    return CriticModel(
        embedder=MODEL_NAME,
        features=kind,
        stacked=stacked,
        lexical=lexical,
        relation=relation,
        hidden=layer,
        quote_lexical_weight=QUOTE_WEIGHT,
        rubric_version=rubric.version,
        criteria=criteria,
        trained_on=trained_on,
        measured=measured,
    )


# --------------------------------------------------------------------------- figures


def fit_critic_file(
    data: Path, output: Path | None = None, *, embedder: Embedder | None = None, rubric: Rubric | None = None
) -> tuple[CriticModel, Path]:
    """Read labelled drafts, fit the critic and write its model file; returns the model and where it went."""
    from coach.judging.critic import MODEL_FILE
    from coach.knowledge.embeddings import shared_embedder
    from coach.prompts import DEFAULT_PROMPTS_DIR, load_rubric

    rubric = rubric or load_rubric()
    drafts = read_labelled(data, rubric.ids)
    refuse_heldout(data, drafts)
    if len(drafts) < 20:
        raise InputError(f"{data}: {len(drafts)} labelled drafts; at least 20 are needed to fit", field="data")
    features = embed(embedder or shared_embedder(), drafts, drop_customers=True)
    trained_on = {"file": data.name, "sha256": file_digest(data), "drafts": len(drafts)}
    model = train_critic(drafts, features, rubric, trained_on=trained_on)
    path = output or DEFAULT_PROMPTS_DIR / MODEL_FILE
    write_model(model, path)
    return model, path


def file_digest(path: Path) -> str:
    """sha256 of a data file, recorded in the model so a fit can be traced to its data."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_model(model: CriticModel, path: Path) -> None:
    """Write the model file (atomically: a half-written model must never be loaded)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(model.to_json(), encoding="utf-8")
    tmp.replace(path)


__all__ = ["Features", "LabelledDraft", "LinearModel", "Verdict", "critic_figures", "embed", "read_labelled"]
__all__ += ["train_critic"]
