"""`copier update -d history_backend=...` moves a `session` app to LangGraph and keeps the
user's edits: their system prompt, their own module and an added dependency.

One scenario per backend (module-scoped): a template tagged v1.0.0, a session project
rendered from it and edited, a template release v2.0.0, then the update with the new
backend. The updated project must pass ruff and its own tests.
"""

from __future__ import annotations

from pathlib import Path

import copier
import pytest

from helpers import commit_all, edit, project_at_v1, read_answers, ruff_and_own_tests_pass, run

SYSTEM_PROMPT = "You are a pirate. Answer in pirate speak.\n"
OWN_MODULE = '"""Our own terms."""\n\nTERMS: dict[str, str] = {}\n'


@pytest.fixture(scope="module", params=["memory", "sqlite", "postgres"])
def updated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    backend = request.param
    template, project = project_at_v1(tmp_path_factory.mktemp(f"to-{backend}"))
    (project / "system_prompt.md").write_text(SYSTEM_PROMPT)
    (project / "my_chat_app" / "glossary.py").write_text(OWN_MODULE)
    edit(
        project / "pyproject.toml",
        '    "streamlit>=1.40,<2",\n',
        '    "streamlit>=1.40,<2",\n    "rich>=13",\n',
    )
    commit_all(project, "Our own edits")
    (template / "CHANGELOG.md").write_text("# v2.0.0\n\nA release.\n")
    commit_all(template, "Template v2")
    run("git", "tag", "v2.0.0", cwd=template)

    copier.run_update(
        project,
        data={"history_backend": backend},
        defaults=True,
        overwrite=True,
        conflict="inline",
        quiet=True,
    )
    return project


def test_update_records_the_new_backend(updated: Path) -> None:
    assert read_answers(updated)["history_backend"] in ("memory", "sqlite", "postgres")
    assert read_answers(updated)["_commit"] == "v2.0.0"


def test_update_drops_the_deprecated_wiring(updated: Path) -> None:
    package = updated / "my_chat_app"
    assert not (package / "chain.py").exists()
    assert not (package / "deprecations.py").exists()
    assert (package / "graph.py").exists()
    code = "\n".join(path.read_text() for path in [updated / "app.py", *package.glob("*.py")])
    assert "langchain_community" not in code
    assert "RunnableWithMessageHistory" not in code
    assert "langchain-community" not in (updated / "pyproject.toml").read_text()


def test_update_keeps_the_users_edits(updated: Path) -> None:
    assert (updated / "system_prompt.md").read_text() == SYSTEM_PROMPT
    assert (updated / "my_chat_app" / "glossary.py").read_text() == OWN_MODULE
    pyproject = (updated / "pyproject.toml").read_text()
    assert '"rich>=13",' in pyproject
    assert '"langgraph>=' in pyproject
    conflicts = [
        path
        for path in updated.rglob("*")
        if path.is_file()
        and ".git" not in path.parts
        and any(
            line.startswith("<<<<<<< ") for line in path.read_text(errors="replace").splitlines()
        )
    ]
    assert not conflicts


def test_updated_project_passes_ruff_and_its_own_tests(updated: Path) -> None:
    ruff_and_own_tests_pass(updated)
