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
    render,
    run,
    tool,
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


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_copy_writes_no_key_from_the_environment_or_from_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    for name, key in FAKE_KEYS.items():
        monkeypatch.setenv(name, key)

    project = render(tmp_path / "out", model_provider=provider, **FAKE_KEYS)

    assert (project / "app.py").is_file()
    assert leaked_keys(files_and_history(project)) == []


def test_cli_copy_writes_no_key_from_the_environment_or_from_data(tmp_path: Path) -> None:
    data = [argument for name, key in FAKE_KEYS.items() for argument in ("-d", f"{name}={key}")]

    run(
        tool("copier"),
        "copy",
        "--defaults",
        "--vcs-ref",
        "HEAD",
        *data,
        TEMPLATE_ROOT,
        tmp_path / "out",
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
    with FaultyServer("ok") as server, app_settings_environment(OPENAI_BASE_URL=server.base_url):
        first = app_test(openai_project, LLM_PROVIDER="openai")
        second = app_test(openai_project, LLM_PROVIDER="openai")
        first.run()
        first.sidebar.text_input[0].input(typed_key).run()
        first.chat_input[0].set_value("Is my key used?").run()
        second.run()

        assert not first.exception and not second.exception
        assert first.chat_message[-1].markdown[0].value == NORMAL_REPLY
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


def test_key_passed_as_data_is_not_recorded_as_an_answer(tmp_path: Path) -> None:
    project = render(tmp_path / "out", model_provider="openai", **FAKE_KEYS)

    answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "API_KEY" not in answers
