"""`copier update -d history_backend=...` moves a `session` app to LangGraph and keeps the
user's edits: their system prompt, a module and a dependency of their own.

The rule of test_update.py: the updated project must equal a fresh render of the new
version with the new answer, plus the user's edits; that render's own suite runs in
test_generated_projects.py (the backend-* answer sets). One scenario per backend
(module-scoped): a template tagged v1.0.0, a session project rendered from it and edited,
a release v2.0.0, then the update with the new backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_update import edited_project_at_v1, update, with_user_edits

from helpers import (
    HISTORY_BACKENDS,
    assert_same_files,
    commit_all,
    package_file,
    read_answers,
    render,
    run,
    tool,
)


@pytest.fixture(scope="module", params=HISTORY_BACKENDS)
def updated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Path]:
    """(backend, updated project, fresh render of v2.0.0 with that backend and the edits)."""
    backend = request.param
    workdir = tmp_path_factory.mktemp(f"to-{backend}")
    template, project = edited_project_at_v1(workdir)
    (template / "CHANGELOG.md").write_text("# v2.0.0\n\nA release.\n")
    commit_all(template, "Template v2")
    run("git", "tag", "v2.0.0", cwd=template)

    update(project, history_backend=backend)

    fresh = render(
        workdir / "fresh-v2", template=template, vcs_ref="v2.0.0", history_backend=backend
    )
    return backend, project, with_user_edits(fresh, workdir / "expected")


def test_updated_project_equals_a_fresh_render_with_the_backend_plus_the_users_edits(
    updated: tuple[str, Path, Path],
) -> None:
    _, project, expected = updated

    assert_same_files(project, expected)


def test_update_records_the_backend_and_drops_the_deprecated_wiring(
    updated: tuple[str, Path, Path],
) -> None:
    backend, project, _ = updated

    assert read_answers(project)["history_backend"] == backend
    assert not package_file(project, "chain.py").exists()
    assert not package_file(project, "deprecations.py").exists()
    assert package_file(project, "graph.py").exists()
    assert "langchain-community" not in (project / "pyproject.toml").read_text()


def test_updated_project_passes_ruff(updated: tuple[str, Path, Path]) -> None:
    _, project, _ = updated

    run(tool("ruff"), "check", "--no-cache", ".", cwd=project)
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=project)
