"""The critic rebuilds exactly: the same drafts give the same model file, byte for byte, whatever the threads.

The full fit embeds ~7,500 texts (minutes), so these tests refit on a fixed sample of ``training/drafts.jsonl``;
the shipped model is tied to its data by the data file's sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from coach.errors import InputError
from coach.judging.critic import load_critic_model
from coach.judging.one_thread import one_blas_thread
from coach.judging.training import Features, LabelledDraft, embed, fit_critic_file, read_labelled, train_critic
from coach.knowledge.embeddings import Embedder
from coach.prompts import load_rubric
from coach.resources import heldout_file

ROOT = Path(__file__).resolve().parent.parent
TRAINING = ROOT / "training" / "drafts.jsonl"

REFIT = """
import pickle, sys
from coach.judging.training import train_critic
drafts, features, rubric = pickle.load(open(sys.argv[1], "rb"))
sys.stdout.write(train_critic(drafts, features, rubric, folds=3).to_json())
"""


@pytest.fixture(scope="module")
def sample(embedder: Embedder) -> tuple[list[LabelledDraft], Features]:
    """Every 18th training draft (60 drafts, all five languages, good and bad), embedded once."""
    drafts = read_labelled(TRAINING, load_rubric().ids)[::18]
    return drafts, embed(embedder, drafts, drop_customers=True)


def test_the_shipped_model_was_fitted_on_the_training_file_as_it_is() -> None:
    trained_on = load_critic_model().trained_on
    assert trained_on["file"] == TRAINING.name
    assert trained_on["sha256"] == hashlib.sha256(TRAINING.read_bytes()).hexdigest(), (
        "training/drafts.jsonl changed since prompts/critic_model.json was fitted: run `coach train-critic`"
    )


def _blas_threads() -> str | None:
    return os.environ.get("OPENBLAS_NUM_THREADS")


def test_the_fit_runs_with_one_blas_thread_whatever_the_caller_has(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert one_blas_thread(_blas_threads) == "1"


def _raise_input_error() -> None:
    raise InputError("bad data", field="data")


def test_an_error_in_the_fit_is_raised_in_the_caller() -> None:
    with pytest.raises(InputError, match="bad data"):
        one_blas_thread(_raise_input_error)


@pytest.mark.slow
def test_a_refit_gives_the_same_bytes_twice(sample: tuple[list[LabelledDraft], Features]) -> None:
    drafts, features = sample
    rubric = load_rubric()
    first = train_critic(drafts, features, rubric, folds=3).to_json()
    assert train_critic(drafts, features, rubric, folds=3).to_json() == first


@pytest.mark.slow
def test_a_refit_gives_the_same_bytes_with_one_or_two_blas_threads(
    sample: tuple[list[LabelledDraft], Features], tmp_path: Path
) -> None:
    job = tmp_path / "sample.pickle"
    job.write_bytes(pickle.dumps((*sample, load_rubric())))
    outputs = []
    for threads in ("1", "2"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        done = subprocess.run(
            [sys.executable, "-c", REFIT, str(job)], env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout)
    assert json.loads(outputs[0])["criteria"], "the refit wrote a model"
    assert outputs[0] == outputs[1]


def test_train_critic_refuses_the_heldout_set(tmp_path: Path) -> None:
    heldout = heldout_file()
    assert heldout is not None and heldout.is_file(), "tests run from the checkout, which has eval/heldout.jsonl"
    with pytest.raises(InputError, match="held-out") as error:
        fit_critic_file(heldout, tmp_path / "model.json")
    assert error.value.field == "data"
    assert not (tmp_path / "model.json").exists()


def test_train_critic_refuses_training_data_with_one_heldout_text_in_it(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in TRAINING.read_text(encoding="utf-8").splitlines()[:30]]
    assert heldout_file() is not None
    leaked = next(json.loads(line) for line in heldout_file().read_text(encoding="utf-8").splitlines() if line.strip())
    rows[7] = rows[7] | {"id": "renamed-7", "text": leaked["text"]}
    data = tmp_path / "drafts.jsonl"
    data.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    with pytest.raises(InputError, match="renamed-7"):
        fit_critic_file(data, tmp_path / "model.json")
