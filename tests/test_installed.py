"""The installed-wheel bar: coach built from this tree and installed into a fresh venv works outside the checkout.

The wheel is built with `uv build` (sdist, then the wheel from it, as a release would), installed with the
lock file's versions as constraints (uv's cache makes that a few seconds, no network beyond the package
registry), and run from an empty folder with a bare environment: PATH, a throw-away HOME, and only
COACH_DATA_DIR and COACH_KNOWLEDGE_DIR. One guideline document (with its notes) keeps `coach index` short.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE, ROOT

pytestmark = pytest.mark.slow

UV = shutil.which("uv")
DOCUMENT = "mn-service-best-practices"
DRAFT = "We can't refund you, it's our policy. Read the terms next time."


def _run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this tree; returns its bin folder."""
    if UV is None:
        pytest.skip("uv is not on PATH: the installed-wheel test builds and installs with uv (CI installs it)")
    work = tmp_path_factory.mktemp("wheel")
    _run([UV, "build", "--quiet", "--out-dir", str(work / "dist"), str(ROOT)], cwd=work)
    (wheel,) = (work / "dist").glob("coach-*.whl")
    constraints = work / "constraints.txt"
    export = [UV, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet"]
    _run([*export, "--output-file", str(constraints)], cwd=ROOT)
    _run([UV, "venv", "--quiet", "--python", sys.executable, str(work / "venv")], cwd=work)
    bin_dir = work / "venv" / "bin"
    install = [UV, "pip", "install", "--quiet", "--python", str(bin_dir / "python"), "--constraint", str(constraints)]
    _run([*install, str(wheel)], cwd=work)
    return bin_dir


@pytest.fixture(scope="module")
def outside(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An empty working folder, a private HOME, a data dir and a one-document copy of the guidelines."""
    base = tmp_path_factory.mktemp("outside")
    knowledge = base / "knowledge"
    (knowledge / "notes").mkdir(parents=True)
    shutil.copy(KNOWLEDGE / f"{DOCUMENT}.md", knowledge)
    shutil.copy(KNOWLEDGE / "notes" / f"{DOCUMENT}.yaml", knowledge / "notes")
    for name in ("cwd", "home"):
        (base / name).mkdir()
    return {"cwd": base / "cwd", "home": base / "home", "data": base / "data", "knowledge": knowledge}


def _coach(installed: Path, outside: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{installed}:/usr/bin:/bin",
        "HOME": str(outside["home"]),
        "COACH_DATA_DIR": str(outside["data"]),
        "COACH_KNOWLEDGE_DIR": str(outside["knowledge"]),
    }
    return _run([str(installed / args[0]), *args[1:]], cwd=outside["cwd"], env=env)


def test_the_installed_cli_indexes_and_searches_outside_the_checkout(installed: Path, outside: dict[str, Path]):
    assert "index" in _coach(installed, outside, "coach", "--help").stdout
    assert "--port" in _coach(installed, outside, "coach", "serve", "--help").stdout

    report = _coach(installed, outside, "coach", "index").stdout
    assert f"added: {DOCUMENT}" in report
    assert (outside["data"] / "index").is_dir(), "the index goes to COACH_DATA_DIR"

    passages = json.loads(_coach(installed, outside, "coach", "search", DRAFT, "-k", "3", "--json").stdout)
    assert len(passages) == 3
    assert all(p["id"].startswith(f"{DOCUMENT}#") and p["text"].strip() for p in passages)
    assert not any(outside["cwd"].iterdir()), "nothing is written into the working folder"


def test_the_installed_package_carries_its_prompts_and_its_web_page(installed: Path, outside: dict[str, Path]):
    code = (
        "from coach import Settings; from coach.prompts import load_prompt, load_rubric; import coach.web.serve; "
        "s = Settings(); print(s.prompts_dir); print(len(load_rubric(s.prompts_dir).ids)); "
        "print(load_prompt('system', s.prompts_dir).version)"
    )
    prompts_dir, criteria, version = _coach(installed, outside, "python", "-c", code).stdout.split()
    assert Path(prompts_dir).is_relative_to(installed.parent), "prompts come from the installed package"
    assert not Path(prompts_dir).is_relative_to(ROOT)
    assert int(criteria) >= 5 and version.startswith("system")
