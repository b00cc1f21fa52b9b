"""The package's shape: layers one way, no import circles, small modules (DESIGN.md, "Layers")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grimp

PACKAGE = Path(__file__).resolve().parents[1] / "coach"
LAYERS = ("llm", "knowledge", "judging", "writing", "batch", "web", "cli")


def _import_circles() -> list[list[str]]:
    """Strongly connected groups of more than one module in coach's import graph (Tarjan)."""
    graph = grimp.build_graph("coach", cache_dir=None)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for target in edges[module]:
            if target not in order:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], order[target])
        if low[module] == order[module]:
            group = []
            while (top := stack.pop()) != module:
                group.append(top)
            if group:
                circles.append(sorted([module, *group]))

    for module in modules:
        if module not in order:
            visit(module)
    return circles


def test_no_import_circles() -> None:
    assert _import_circles() == []


def test_the_layer_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml: each layer imports only from the layers below it."""
    command = shutil.which("lint-imports")
    assert command, "import-linter is a dev dependency"
    result = subprocess.run([command, "--no-cache"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


def test_every_layer_says_what_it_holds_and_may_import() -> None:
    for layer in LAYERS:
        doc = (PACKAGE / layer / "__init__.py").read_text(encoding="utf-8")
        assert doc.startswith('"""') and ("May import" in doc or "may import" in doc.lower()), layer


def test_modules_are_small_and_the_top_level_is_the_core() -> None:
    sizes = {
        p.relative_to(PACKAGE).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 400} == {}
    assert {name: n for name, n in sizes.items() if name.startswith("cli/") and n >= 150} == {}
    top_level = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert len(top_level) <= 15, sorted(top_level)
