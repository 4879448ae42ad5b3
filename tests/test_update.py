"""`copier update` and `copier recopy`: template changes arrive, the user's edits stay.

Each scenario uses a throwaway git copy of this template tagged v1.0.0, a project rendered
from it and committed, the user's edits, then a template change tagged v2.0.0.
"""

from __future__ import annotations

from pathlib import Path

import copier
import pytest

from helpers import (
    TEMPLATE_ROOT,
    commit_all,
    edit,
    project_at_v1,
    read_answers,
    ruff_and_own_tests_pass,
    run,
    tool,
)

CHAT_PAGE = Path("my_chat_app") / "page.py"
TEMPLATE_CHAT_PAGE = Path("template") / "{{package_name}}" / "page.py"


def change_template_and_tag_v2(template: Path) -> None:
    """A typical template release: a changed line, a changed setting, a new file."""
    edit(template / TEMPLATE_CHAT_PAGE, '"Your message"', '"Ask anything"', count=2)
    (template / "template" / ".streamlit" / "config.toml").write_text(
        (template / "template" / ".streamlit" / "config.toml").read_text()
        + '\n[theme]\nprimaryColor = "#0068c9"\n'
    )
    (template / "template" / "SECURITY.md").write_text("# Security\n\nReport issues privately.\n")
    commit_all(template, "Template v2")
    run("git", "tag", "v2.0.0", cwd=template)


def update(project: Path, **answers: object) -> None:
    copier.run_update(
        project, data=answers, defaults=True, overwrite=True, conflict="inline", quiet=True
    )


@pytest.fixture(scope="module")
def updated_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with typical user edits, updated from v1.0.0 to v2.0.0."""
    template, project = project_at_v1(tmp_path_factory.mktemp("update"))

    edit(
        project / "app.py",
        "st.title(settings.APP_TITLE)\n",
        'st.title(settings.APP_TITLE)\nst.caption("Internal use only")\n',
    )
    (project / "system_prompt.md").write_text("You are a pirate. Answer in pirate speak.\n")
    edit(
        project / "pyproject.toml",
        '    "pydantic-settings>=2.7,<3",\n',
        '    "pydantic-settings>=2.7,<3",\n    "rich>=13",\n',
    )
    (project / "my_chat_app" / "glossary.py").write_text('"""Our own terms."""\n\nTERMS = {}\n')
    commit_all(project, "Our own edits")

    change_template_and_tag_v2(template)
    update(project)
    return project


def test_update_keeps_the_users_code_edit(updated_project: Path) -> None:
    assert 'st.caption("Internal use only")' in (updated_project / "app.py").read_text()


def test_update_keeps_the_users_system_prompt(updated_project: Path) -> None:
    text = (updated_project / "system_prompt.md").read_text()

    assert text == "You are a pirate. Answer in pirate speak.\n"


def test_update_keeps_the_users_added_dependency(updated_project: Path) -> None:
    assert '"rich>=13",' in (updated_project / "pyproject.toml").read_text()


def test_update_keeps_the_users_added_file(updated_project: Path) -> None:
    assert (updated_project / "my_chat_app" / "glossary.py").read_text().startswith('"""Our')


def test_update_brings_the_template_changes(updated_project: Path) -> None:
    assert (updated_project / CHAT_PAGE).read_text().count('"Ask anything"') == 2
    assert "[theme]" in (updated_project / ".streamlit" / "config.toml").read_text()
    assert (updated_project / "SECURITY.md").is_file()


def test_update_records_the_new_template_version(updated_project: Path) -> None:
    assert read_answers(updated_project)["_commit"] == "v2.0.0"


def test_update_leaves_no_conflict_markers_when_edits_do_not_overlap(
    updated_project: Path,
) -> None:
    for path in updated_project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            lines = path.read_text(errors="replace").splitlines()
            assert not any(line.startswith("<<<<<<< ") for line in lines), path


def test_updated_project_passes_ruff_and_its_own_tests(updated_project: Path) -> None:
    ruff_and_own_tests_pass(updated_project)


def test_conflicting_edit_shows_both_sides_inline(tmp_path: Path) -> None:
    template, project = project_at_v1(tmp_path)
    edit(project / CHAT_PAGE, '"Your message"', '"Type here"', count=2)
    commit_all(project, "Our wording")
    change_template_and_tag_v2(template)

    update(project)

    text = (project / CHAT_PAGE).read_text()
    assert "<<<<<<< before updating" in text
    assert ">>>>>>> after updating" in text
    assert '"Type here"' in text
    assert '"Ask anything"' in text


def test_update_with_a_new_session_key_moves_the_history(tmp_path: Path) -> None:
    _, project = project_at_v1(tmp_path)

    run(tool("copier"), "update", "--defaults", "-d", "session_key=chat_history", cwd=project)

    assert 'SESSION_KEY = "chat_history"' in (project / "my_chat_app" / "chain.py").read_text()
    assert read_answers(project)["session_key"] == "chat_history"
    ruff_and_own_tests_pass(project)


def test_switching_provider_replaces_the_old_providers_default_model(tmp_path: Path) -> None:
    # model_name's validator rejects another provider's default model, and copier drops a
    # last answer that no longer validates, so the new provider's default takes its place.
    _, project = project_at_v1(tmp_path)

    update(project, model_provider="anthropic")

    answers = read_answers(project)
    assert (answers["model_provider"], answers["model_name"]) == ("anthropic", "claude-haiku-4-5")
    assert 'LLM_MODEL = "claude-haiku-4-5"' in (project / "app_settings.toml").read_text()


def test_recopy_keeps_the_answers(tmp_path: Path) -> None:
    _, project = project_at_v1(tmp_path, project_name="Helpdesk", session_key="helpdesk_messages")

    run(tool("copier"), "recopy", "--defaults", "--overwrite", cwd=project)

    answers = read_answers(project)
    assert (answers["project_name"], answers["session_key"]) == ("Helpdesk", "helpdesk_messages")
    assert 'SESSION_KEY = "helpdesk_messages"' in (project / "helpdesk" / "chain.py").read_text()


def test_update_from_the_latest_release_to_head(tmp_path: Path) -> None:
    tags = run("git", "tag", "--list", "v*", "--sort=-v:refname", cwd=TEMPLATE_ROOT).stdout.split()
    if not tags:
        pytest.skip("this clone has no release tag (v*) yet: nothing released to update from")
    project = tmp_path / "project"
    copier.run_copy(str(TEMPLATE_ROOT), project, defaults=True, vcs_ref=tags[0], quiet=True)
    commit_all(project, f"Generated from {tags[0]}")

    copier.run_update(project, defaults=True, overwrite=True, vcs_ref="HEAD", quiet=True)

    assert read_answers(project)["_commit"].startswith(tags[0])
    ruff_and_own_tests_pass(project)
