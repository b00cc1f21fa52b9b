"""Which sentence an issue quotes: a ranker over the sentences' character n-grams, beside the sentence model.

The sentence model (over each sentence's vector) is fitted on every sentence of the corpus, so it learns what
a violating sentence looks like among all sentences, good drafts' included. Which sentence of a flagged draft to
quote is a narrower question: the quote ranker is fitted only on the sentences of drafts with a quoted (`said`)
violation of the criterion, the quoted one against its neighbours, over hashed character n-grams
(``coach.judging.lexical``: "you should have", "unfortunately", "as I said" in any language). Its logit, times
``QUOTE_WEIGHT``, is added to the sentence model's (``CriticModel.quote_ranking``).

Measured (bench/critic_fit.py --quotes, 5-fold CV on the training corpus, each fold's models fitted without it):
the labelled sentence ranks first .807 of the time by the sentence model alone, .836 with the ranker (every
criterion up or level: apology .82 -> .85, listening .78 -> .83, solution .77 -> .78, time frame .82 -> .88,
tone .75 -> .80); the ranker alone .78, the draft-level lexical model's weights read per sentence .41.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from coach.judging.critic import LinearModel
from coach.judging.lexical import fit_quote_lexical

QUOTE_WEIGHT = 2.0  # the ranker's logit added to the sentence model's (5-fold CV: 1 / 2 / 4 give .834 / .836 / .834)


class Sentences(Protocol):
    """Where the drafts' sentences are (``coach.judging.training.Features``)."""

    @property
    def sentence_draft(self) -> np.ndarray: ...

    @property
    def sentence_spans(self) -> list[tuple[int, int]]: ...


def quote_ranker(
    drafts: Sequence[str], sentences: Sentences, labels: Sequence[str], said: np.ndarray | None
) -> LinearModel | None:
    """A criterion's quote ranker over the ``sentences`` of the ``drafts`` (their texts); ``labels``: each draft's
    verdict on the criterion; ``said``: the sentence labels (None: no sentence model, so no ranker)."""
    if said is None:
        return None
    owners = [int(i) for i in sentences.sentence_draft]
    texts = [drafts[i][a:b] for i, (a, b) in zip(owners, sentences.sentence_spans, strict=True)]
    weights, bias = fit_quote_lexical(texts, said, [labels[i] == "said" for i in owners])
    return LinearModel(weights=weights, bias=bias)
