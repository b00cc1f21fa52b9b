"""Where prompts, guidelines and data are found: in this checkout, and as an installed package would see them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coach import Coach, KnowledgeError, Settings, resources
from coach.knowledge.embeddings import Embedder
from coach.prompts import load_prompt, load_rubric
from tests.conftest import KNOWLEDGE, ROOT


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Pretend coach runs from a wheel: no checkout beside the package, the shipped files under a bundle folder.

    Returns the user data folder ($XDG_DATA_HOME/coach). COACH_DATA_DIR is unset, as for a new user.
    """
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "prompts", bundle / "prompts")
    shutil.copytree(KNOWLEDGE, bundle / "knowledge")
    monkeypatch.setattr(resources, "checkout_root", lambda: None)
    monkeypatch.setattr(resources, "BUNDLED_DIR", bundle)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("COACH_DATA_DIR")
    return tmp_path / "xdg" / "coach"


def test_in_a_checkout_the_top_level_folders_are_used(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("COACH_DATA_DIR")
    assert resources.checkout_root() == ROOT
    settings = Settings()
    assert settings.prompts_dir == ROOT / "prompts"
    assert settings.knowledge_dir == ROOT / "knowledge"
    assert settings.data_dir == ROOT / "data"
    assert not resources.seed_knowledge(settings.knowledge_dir), "the checkout's own folder is never touched"


def test_installed_defaults_live_in_the_user_data_dir_and_the_bundle(installed: Path):
    settings = Settings()
    assert settings.data_dir == installed
    assert settings.knowledge_dir == installed / "knowledge"
    assert settings.prompts_dir == resources.BUNDLED_DIR / "prompts"
    assert load_rubric(settings.prompts_dir).ids == load_rubric().ids


def test_settings_override_every_default(installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    custom = tmp_path / "my-prompts"
    shutil.copytree(ROOT / "prompts", custom)
    (custom / "system.md").write_text('---\nversion: "system-custom"\nvariables: []\n---\nBe brief.\n', "utf-8")
    monkeypatch.setenv("COACH_PROMPTS_DIR", str(custom))
    monkeypatch.setenv("COACH_KNOWLEDGE_DIR", str(tmp_path / "kb"))
    settings = Settings()
    assert settings.prompts_dir == custom
    assert settings.knowledge_dir == tmp_path / "kb"
    assert load_prompt("system", settings.prompts_dir).version == "system-custom"


def test_the_default_knowledge_folder_is_seeded_once_with_the_shipped_guidelines(installed: Path, embedder: Embedder):
    coach = Coach(Settings(), embedder=embedder)
    documents, skipped = coach.load_documents()
    shipped = sorted(p.name for p in KNOWLEDGE.glob("*.md"))
    assert sorted(p.name for p in (installed / "knowledge").glob("*.md")) == shipped
    assert len(documents) == len(shipped) and not skipped
    (installed / "knowledge" / "el-customer-queries.md").unlink()  # the user's folder now: never refilled
    assert not resources.seed_knowledge(coach.settings.knowledge_dir)
    assert len(coach.load_documents()[0]) == len(shipped) - 1


def test_a_named_knowledge_folder_that_does_not_exist_is_an_error_not_a_copy(
    installed: Path, tmp_path: Path, embedder: Embedder
):
    missing = tmp_path / "nowhere"
    coach = Coach(Settings(knowledge_dir=missing), embedder=embedder)
    with pytest.raises(KnowledgeError, match="does not exist"):
        coach.load_documents()
    assert not missing.exists()


def test_user_data_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert resources.user_data_dir() == tmp_path / "coach"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert resources.user_data_dir() == Path.home() / ".local" / "share" / "coach"
