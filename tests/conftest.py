"""Shared fixtures: real embedder (loaded once), real Chroma stores in temporary folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coach import Coach, Settings
from coach.knowledge.embeddings import Embedder, shared_embedder
from coach.resources import shipped_knowledge_dir

ROOT = Path(__file__).resolve().parent.parent  # the checkout: README, .ci, artifacts
KNOWLEDGE = shipped_knowledge_dir()
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's COACH_* variables or writes into the project's data dir."""
    import os

    for name in list(os.environ):
        if name.startswith("COACH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real embedded model, loaded once for the whole run."""
    return shared_embedder()


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    """A private copy of the project's guideline documents."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, knowledge_dir: Path) -> Settings:
    """Settings pointing at the private knowledge copy and a temporary index."""
    return Settings(knowledge_dir=knowledge_dir, data_dir=tmp_path / "data")


@pytest.fixture
def coach(settings: Settings, embedder: Embedder) -> Coach:
    """A Coach over a fresh temporary index (not yet built)."""
    return Coach(settings, embedder=embedder)


@pytest.fixture(scope="session")
def indexed_coach(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Coach:
    """A Coach whose index of the real knowledge base is built once per run (read-only use)."""
    root = tmp_path_factory.mktemp("indexed")
    knowledge = root / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    coach = Coach(Settings(knowledge_dir=knowledge, data_dir=root / "data"), embedder=embedder)
    coach.index()
    return coach
