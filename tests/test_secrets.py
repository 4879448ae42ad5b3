"""API keys: never written by `copier copy`, and a key typed in the app stays in its session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from faulty_server import NORMAL_REPLY, FaultyServer
from helpers import (
    PROVIDERS,
    TEMPLATE_ROOT,
    app_settings_environment,
    app_test,
    clean_env,
    copier_cli,
    render,
    run,
    shown,
    two_sessions,
)

pytestmark = pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")

FAKE_KEYS = {"OPENAI_API_KEY": "sk-test-openai-5f3a9c1e7b2d4068"} | {
    provider["key_variable"]: f"sk-test-{name}-5f3a9c1e7b2d4068"
    for name, provider in PROVIDERS.items()
    if provider["key_variable"]
}
"""A fake key for every key variable of the provider table, each a distinct string."""


def files_and_history(project: Path) -> str:
    """Everything a generated project holds: each file's text and its whole git history."""
    run("git", "init", "-q", "-b", "main", cwd=project)
    run("git", "add", "-A", cwd=project)
    run("git", "commit", "-q", "-m", "Generated", cwd=project)
    texts = [
        path.read_bytes().decode("utf-8", "replace")
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    ]
    texts.append(run("git", "log", "-p", "--all", cwd=project).stdout)
    return "\n".join(texts)


def leaked_keys(text: str) -> list[str]:
    return [name for name, key in FAKE_KEYS.items() if key in text]


ONE_PROVIDER_OF_EACH_KIND = sorted(
    {
        (bool(provider["key_variable"]), bool(provider["questions"])): name
        for name, provider in reversed(PROVIDERS.items())
    }.values()
)
"""The first provider of the table of each kind (with or without a key, with or without
follow-up questions): the kinds render different files; providers of one kind differ in
names only."""


@pytest.fixture(scope="module")
def rendered_with_fake_keys(tmp_path_factory: pytest.TempPathFactory):
    """Render for a provider with every fake key both in the environment and in the data."""
    projects: dict[str, Path] = {}

    def get(provider: str) -> Path:
        if provider not in projects:
            destination = tmp_path_factory.mktemp(f"keys-{provider}") / "out"
            with pytest.MonkeyPatch.context() as patch:
                for name, key in FAKE_KEYS.items():
                    patch.setenv(name, key)
                projects[provider] = render(destination, model_provider=provider, **FAKE_KEYS)
        return projects[provider]

    return get


@pytest.mark.parametrize("provider", ONE_PROVIDER_OF_EACH_KIND)
def test_copy_writes_no_key_from_the_environment_or_from_data(
    rendered_with_fake_keys, provider: str
) -> None:
    project = rendered_with_fake_keys(provider)

    assert (project / "app.py").is_file()
    assert leaked_keys(files_and_history(project)) == []


def test_cli_copy_writes_no_key_from_the_environment_or_from_data(tmp_path: Path) -> None:
    copier_cli(
        "copy",
        "--vcs-ref",
        "HEAD",
        TEMPLATE_ROOT,
        tmp_path / "out",
        data=FAKE_KEYS,
        cwd=tmp_path,
        env=clean_env(**FAKE_KEYS),
    )

    assert (tmp_path / "out" / "app.py").is_file()
    assert leaked_keys(files_and_history(tmp_path / "out")) == []


@pytest.fixture(scope="module")
def openai_project(rendered) -> Path:
    return rendered("secrets-openai", model_provider="openai", package_name="key_keeper_app")


def test_key_typed_in_the_sidebar_stays_in_its_browser_session(openai_project: Path) -> None:
    typed_key = "sk-test-typed-in-the-sidebar-7d1e"
    with (
        FaultyServer("ok") as server,
        two_sessions(
            openai_project, {"OPENAI_BASE_URL": server.base_url}, LLM_PROVIDER="openai"
        ) as (first, second),
    ):
        first.sidebar.text_input[0].input(typed_key).run()
        first.chat_input[0].set_value("Is my key used?").run()
        second.run()

        assert not first.exception and not second.exception
        assert shown(first.chat_message[-1]) == NORMAL_REPLY
        assert server.authorizations == [f"Bearer {typed_key}"]
        # The other session still asks for a key and cannot chat.
        assert second.sidebar.text_input[0].value == ""
        assert second.chat_input[0].disabled
        assert "needs an API key" in second.info[0].value


def test_key_typed_in_the_sidebar_is_not_put_in_the_environment_or_on_disk(
    openai_project: Path,
) -> None:
    typed_key = "sk-test-typed-in-the-sidebar-9b2c"
    with app_settings_environment():
        app = app_test(openai_project, LLM_PROVIDER="openai")
        app.run()
        app.sidebar.text_input[0].input(typed_key).run()

        assert not app.chat_input[0].disabled
        assert not [name for name, value in os.environ.items() if typed_key in value]
    written = [
        path
        for path in openai_project.rglob("*")
        if path.is_file() and typed_key.encode() in path.read_bytes()
    ]
    assert written == []


def test_key_passed_as_data_is_not_recorded_as_an_answer(rendered_with_fake_keys) -> None:
    project = rendered_with_fake_keys("openai")

    answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "API_KEY" not in answers
