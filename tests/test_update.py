"""`copier update`: the project a user updates equals a fresh render plus the user's edits.

The rule of DiamondLightSource/python-copier-template: a project updated to a template
version must equal a fresh render of that version with the same answers, apart from the
user's own edits. Here the user's edits (their system prompt, a module and a dependency of
their own) are made on the project before the update and on the fresh render, and the two
trees are compared whole (`assert_same_files`). Only what is the template's own is tested:
the files the user owns, a changed answer, a provider switch, a conflict shown inline, and
updates from the first and from the newest release to this working tree. Copier's merge
engine is copier's.

Every scenario uses throwaway git copies of this template, tagged (helpers.project_at_v1,
helpers.make_release_repo): no tag of this clone is needed. Releases are found in the git
history as docs/updating.md makes them (helpers.release_commit), and tried here too.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import copier
import pytest
import yaml

from helpers import (
    ANSWER_SETS,
    CHAT_PAGE_IN_TEMPLATE,
    CHAT_PAGE_MODULE,
    CHAT_PAGE_TEXT,
    CHAT_PAGE_TEXT_COUNT,
    DEPENDENCY_LINE,
    TEMPLATE_ROOT,
    assert_same_files,
    changelog_entry,
    clean_env,
    commit_all,
    copier_cli,
    edit,
    make_release_repo,
    package_file,
    project_at_v1,
    read_answers,
    release_commit,
    release_tags,
    render,
    run,
)

USER_PROMPT = "You are a pirate. Answer in pirate speak.\n"
USER_MODULE = "glossary.py"
USER_DEPENDENCY = '    "rich>=13",\n'
NEW_PLACEHOLDER = '"Ask anything"'
NEW_DEFAULT_PROMPT_LINE = "Answer in the language of the question.\n"
CHANGELOG = (TEMPLATE_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
RELEASES = release_tags(CHANGELOG)
UPDATED_FROM = list(dict.fromkeys([RELEASES[0], RELEASES[-1]]))
"""The releases a user updates from to this working tree: the first and the newest."""


def make_user_edits(project: Path) -> None:
    """What a user changes in a generated project: the system prompt (a file the user owns),
    a module of their own and a dependency of their own."""
    (project / "system_prompt.md").write_text(USER_PROMPT, encoding="utf-8")
    package_file(project, USER_MODULE).write_text('"""Our own terms."""\n\nTERMS = {}\n')
    edit(project / "pyproject.toml", DEPENDENCY_LINE, DEPENDENCY_LINE + USER_DEPENDENCY)


def with_user_edits(fresh: Path, destination: Path) -> Path:
    """A copy of a fresh render with the user's edits made: what an update must give."""
    shutil.copytree(fresh, destination, ignore=shutil.ignore_patterns(".git"))
    make_user_edits(destination)
    return destination


def edited_project_at_v1(workdir: Path, **answers: object) -> tuple[Path, Path]:
    """(template, project): a project rendered from the template's v1.0.0 tag, committed,
    then edited by the user and committed again."""
    template, project = project_at_v1(workdir, **answers)
    make_user_edits(project)
    commit_all(project, "Our own edits")
    return template, project


def release_v2(template: Path) -> None:
    """A template release that changes a module, a setting and the default system prompt,
    and adds a file; tagged v2.0.0."""
    edit(template / CHAT_PAGE_IN_TEMPLATE, CHAT_PAGE_TEXT, NEW_PLACEHOLDER, CHAT_PAGE_TEXT_COUNT)
    config = template / "template" / ".streamlit" / "config.toml"
    config.write_text(config.read_text() + '\n[theme]\nprimaryColor = "#0068c9"\n')
    prompt = template / "template" / "system_prompt.md.jinja"
    prompt.write_text(prompt.read_text() + NEW_DEFAULT_PROMPT_LINE)
    (template / "template" / "SECURITY.md").write_text("# Security\n\nReport issues privately.\n")
    commit_all(template, "Template v2")
    run("git", "tag", "v2.0.0", cwd=template)


def update(project: Path, **answers: object) -> None:
    copier.run_update(
        project, data=answers, defaults=True, overwrite=True, conflict="inline", quiet=True
    )


@pytest.fixture(scope="module")
def updated_to_v2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(updated project, fresh render of v2.0.0 with the user's edits made on it)."""
    workdir = tmp_path_factory.mktemp("update")
    template, project = edited_project_at_v1(workdir)
    release_v2(template)

    update(project)

    fresh = render(workdir / "fresh-v2", template=template, vcs_ref="v2.0.0")
    return project, with_user_edits(fresh, workdir / "expected")


def test_updated_project_equals_a_fresh_render_of_the_new_version_plus_the_users_edits(
    updated_to_v2: tuple[Path, Path],
) -> None:
    assert_same_files(*updated_to_v2)


def test_update_keeps_the_users_system_prompt_though_the_default_prompt_changed(
    updated_to_v2: tuple[Path, Path],
) -> None:
    project, _ = updated_to_v2

    assert (project / "system_prompt.md").read_text(encoding="utf-8") == USER_PROMPT


def test_update_brings_the_new_versions_changes_next_to_the_users_own_files(
    updated_to_v2: tuple[Path, Path],
) -> None:
    project, _ = updated_to_v2

    assert NEW_PLACEHOLDER in package_file(project, CHAT_PAGE_MODULE).read_text()
    assert (project / "SECURITY.md").is_file()
    assert package_file(project, USER_MODULE).is_file()
    assert USER_DEPENDENCY in (project / "pyproject.toml").read_text()


def test_new_session_key_gives_a_fresh_render_with_that_key_plus_the_users_edits(
    rendered, tmp_path: Path
) -> None:
    _, project = edited_project_at_v1(tmp_path)

    copier_cli("update", data={"session_key": "chat_history"}, cwd=project)

    fresh = rendered("session-key-chat_history", session_key="chat_history")
    assert_same_files(project, with_user_edits(fresh, tmp_path / "expected"))


def test_switching_provider_gives_a_fresh_render_for_that_provider_plus_the_users_edits(
    rendered, tmp_path: Path
) -> None:
    # The old provider's default model is dropped too: model_name's validator rejects
    # another provider's default model, so copier asks again and takes the new default.
    _, project = edited_project_at_v1(tmp_path)

    prices = (project / "model_prices.toml").read_text(encoding="utf-8")

    update(project, model_provider="anthropic")

    expected = with_user_edits(rendered("provider-anthropic"), tmp_path / "expected")
    # The price table is the user's (_skip_if_exists): kept as it was, the old provider's.
    assert (project / "model_prices.toml").read_text(encoding="utf-8") == prices
    (expected / "model_prices.toml").write_text(prices, encoding="utf-8")
    assert_same_files(project, expected)


@pytest.mark.parametrize("answer_set", ["oidc", "oidc-sqlite"])
def test_adding_sign_in_gives_a_fresh_oidc_render_plus_the_users_edits(
    rendered, tmp_path: Path, answer_set: str
) -> None:
    # The app before: the same answers without sign-in (the session history, or chats kept
    # in SQLite, which gain per-user lists).
    before = {k: v for k, v in ANSWER_SETS[answer_set].items() if k != "authentication"}
    _, project = edited_project_at_v1(tmp_path, **before)

    copier_cli("update", data={"authentication": "oidc"}, cwd=project)

    assert_same_files(project, with_user_edits(rendered(answer_set), tmp_path / "expected"))
    assert package_file(project, "auth.py").is_file()


CHAT_SCRIPT = """
import base64, pathlib, sys
from streamlit.testing.v1 import AppTest

app = AppTest.from_file(str(pathlib.Path.cwd() / "app.py"), default_timeout=60)
app.secrets["LLM_PROVIDER"] = "offline"
app.secrets["CHAT_HISTORY_URL"] = sys.argv[1]
if len(sys.argv) > 2:
    app.query_params["chat"] = sys.argv[2]
app.run()
if len(sys.argv) == 2:
    app.chat_input[0].set_value("asked before the update").run()
    chat = app.query_params["chat"]
    print(chat if isinstance(chat, str) else chat[-1])
else:
    print([html.value for html in app.get("html")])
    png = base64.b64decode(sys.argv[3])
    app.chat_input[0].upload("chart.png", png, "image/png").set_value("and a file").run()
    print(repr(app.exception), [len(message.get("image")) for message in app.chat_message])
"""
"""A served chat as AppTest drives it, run by the project's own code: without a chat id,
ask a question and print the chat's id; with one, print what the chat shows, then send
an image and print how many images each message draws."""
ONE_PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_adding_files_keeps_the_chats_and_the_users_edits(rendered, tmp_path: Path) -> None:
    before = {k: v for k, v in ANSWER_SETS["backend-sqlite"].items() if k != "attachments"}
    _, project = edited_project_at_v1(tmp_path, **before)
    url = f"sqlite:///{tmp_path / 'chats.sqlite'}"  # the app's chats, written before
    chat_id = chat_in(project, url).strip()

    copier_cli("update", data={"attachments": "both"}, cwd=project)

    assert_same_files(project, with_user_edits(rendered("backend-sqlite"), tmp_path / "expected"))
    shown, drawn = chat_in(project, url, chat_id, ONE_PIXEL_PNG).splitlines()
    assert "asked before the update" in shown  # the chat of before, from the same database
    assert drawn.startswith("ElementList()")  # no exception
    assert drawn.endswith("[0, 0, 0, 1, 0]")  # greeting, old turn, new turn: its image


def chat_in(project: Path, url: str, *arguments: str) -> str:
    """What CHAT_SCRIPT prints, run in the project with its own code."""
    command = (sys.executable, "-c", CHAT_SCRIPT, url, *arguments)
    return run(*command, cwd=project, env=clean_env()).stdout


def test_conflicting_edit_shows_both_sides_inline(tmp_path: Path) -> None:
    template, project = project_at_v1(tmp_path)
    edit(
        package_file(project, CHAT_PAGE_MODULE),
        CHAT_PAGE_TEXT,
        '"Type here"',
        CHAT_PAGE_TEXT_COUNT,
    )
    commit_all(project, "Our wording")
    release_v2(template)

    update(project)

    text = package_file(project, CHAT_PAGE_MODULE).read_text()
    assert "<<<<<<< before updating" in text
    assert ">>>>>>> after updating" in text
    assert '"Type here"' in text
    assert NEW_PLACEHOLDER in text


@pytest.mark.parametrize("release", UPDATED_FROM)
def test_update_from_a_release_gives_a_fresh_render_of_this_working_tree(
    rendered, tmp_path: Path, release: str
) -> None:
    # The release is rebuilt from this clone's history (CHANGELOG.md says which commit),
    # so no tag is needed. A fresh render of the defaults passes ruff and its own tests
    # (test_generated_projects.py): an update equal to it does too.
    template, following = make_release_repo(tmp_path / "template", release)
    project = render(tmp_path / "project", template=template, vcs_ref=release)
    commit_all(project, f"Generated from {release}")

    update(project)

    user_owned = yaml.safe_load((template / "copier.yml").read_text())["_skip_if_exists"]
    assert read_answers(project)["_commit"] == following
    assert_same_files(project, rendered("defaults"), ignore=user_owned)


def test_released_changelog_entries_are_as_released() -> None:
    # A release's entry is what its users were told; an entry merged into it afterwards
    # (meant for Unreleased) would describe changes the release does not have.
    for tag in RELEASES:
        released = run("git", "show", f"{release_commit(tag)}:CHANGELOG.md", cwd=TEMPLATE_ROOT)

        assert changelog_entry(CHANGELOG, tag) == changelog_entry(released.stdout, tag), tag


def test_the_release_commit_is_the_one_that_moves_the_unreleased_entries(
    tmp_path: Path,
) -> None:
    # As docs/updating.md cuts a release; the commits after it must not move it.
    def commit_changelog(text: str, message: str) -> str:
        (tmp_path / "CHANGELOG.md").write_text(f"# Changelog\n\n## Unreleased\n\n{text}")
        commit_all(tmp_path, message)
        return run("git", "rev-parse", "HEAD", cwd=tmp_path).stdout.strip()

    first = "## v0.1.0\n\nFirst release.\n"
    commit_changelog("## v0.1.0\n\nFirst.\n", "Drafted")
    v1 = commit_changelog(first, "CHANGELOG for v0.1.0")
    commit_changelog(f"- a\n\n{first}", "Feature a")
    second = f"## v0.2.0 (2026-12-03)\n\n- a\n\n{first}"
    v2 = commit_changelog(second, "Release v0.2.0")
    (tmp_path / "app.py").write_text("")
    commit_all(tmp_path, "Not in the changelog")
    commit_changelog(f"- b\n\n{second}", "Feature b")
    commit_changelog(f"- b\n\n{second.replace('- a', '- a.')}", "Typo in v0.2.0's entry")
    commit_changelog(second.replace("- a", "- a."), "Revert feature b")

    assert release_commit("v0.1.0", tmp_path) == v1
    assert release_commit("v0.2.0", tmp_path) == v2
