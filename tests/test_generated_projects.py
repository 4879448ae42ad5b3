"""Generated projects pass ruff, import no module in a cycle, and `streamlit run` serves
them (mypy: test_generated_type_checks.py; their own tests: test_generated_own_suites.py).

ruff runs on every answer set (it is cheap). The server starts only for
SERVED_ANSWER_SETS: the providers differ in files that test_rendered_files.py and
test_providers.py check directly.
"""

from __future__ import annotations

import ast
import urllib.request
from pathlib import Path

import pytest

from helpers import (
    ANSWER_SETS,
    SERVED_ANSWER_SETS,
    package_file,
    run,
    streamlit_server,
    tool,
)


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_generated_project_passes_ruff_check(rendered, answer_set: str) -> None:
    run(tool("ruff"), "check", "--no-cache", ".", cwd=rendered(answer_set))


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_generated_project_is_ruff_formatted(rendered, answer_set: str) -> None:
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=rendered(answer_set))


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_generated_package_imports_have_no_cycle(rendered, answer_set: str) -> None:
    package = package_file(rendered(answer_set), "__init__.py").parent
    graph = {path.stem: own_imports(path) for path in package.glob("*.py")}

    cycle = find_cycle(graph)
    assert not cycle, " imports ".join(cycle)


def own_imports(module: Path) -> set[str]:
    """The package's modules that a module imports, relatively, anywhere in it (inside
    functions too): `from .x import y` gives x, `from . import x` gives x."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                imported.add(node.module.split(".")[0])
            else:
                imported.update(alias.name for alias in node.names)
    return imported


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of imports, as the modules along it (first one repeated at the end), or []."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return path[path.index(module) :] + [module]
        if module in done or module not in graph:
            return []
        for imported in sorted(graph[module]):
            if cycle := visit(imported, [*path, module]):
                return cycle
        done.add(module)
        return []

    for module in sorted(graph):
        if cycle := visit(module, []):
            return cycle
    return []


@pytest.mark.parametrize("answer_set", SERVED_ANSWER_SETS)
def test_streamlit_run_serves_the_app_offline(rendered, answer_set: str) -> None:
    with streamlit_server(rendered(answer_set), LLM_PROVIDER="offline") as url:
        page = urllib.request.urlopen(url, timeout=10).read()

    assert b"<noscript>" in page
