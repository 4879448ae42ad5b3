"""What `copier copy` writes: the files a generated project contains and what is in them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from helpers import ANSWER_SETS, HOSTILE_SYSTEM_PROMPT, run


def test_system_prompt_file_holds_the_answer_verbatim(rendered) -> None:
    project = rendered("custom")

    text = (project / "system_prompt.md").read_text(encoding="utf-8")

    assert text == HOSTILE_SYSTEM_PROMPT + "\n"


def test_app_settings_hold_greeting_and_title_verbatim(rendered) -> None:
    settings = tomllib.loads((rendered("custom") / "app_settings.toml").read_text("utf-8"))

    assert settings["APP_GREETING"] == ANSWER_SETS["custom"]["greeting"]
    assert settings["APP_TITLE"] == ANSWER_SETS["custom"]["project_name"]
    assert settings["LLM_TEMPERATURE"] == 0.0
    assert settings["HISTORY_MAX_TOKENS"] == 500


def test_session_key_is_the_one_the_history_uses(rendered) -> None:
    chain = (rendered("custom") / "support_bot" / "chain.py").read_text("utf-8")

    assert 'SESSION_KEY = "chat_history"' in chain
    assert "StreamlitChatMessageHistory(key=SESSION_KEY)" in chain


def test_langchain_wiring_is_in_one_short_module(rendered) -> None:
    chain = (rendered("defaults") / "my_chat_app" / "chain.py").read_text("utf-8")

    assert len(chain.splitlines()) <= 80
    for piece in [
        "StreamlitChatMessageHistory(key=",
        "ChatPromptTemplate.from_messages(",
        'MessagesPlaceholder(variable_name="history")',
        '("human", "{question}")',
        "RunnableWithMessageHistory(",
        'input_messages_key="question"',
        'history_messages_key="history"',
    ]:
        assert piece in chain


def test_secrets_are_git_ignored_and_only_examples_are_shipped(rendered) -> None:
    project = rendered("defaults")
    run("git", "init", "-q", cwd=project)
    (project / ".streamlit" / "secrets.toml").write_text('OPENAI_API_KEY = "sk-not-real"\n')
    (project / ".env").write_text("OPENAI_API_KEY=sk-not-real\n")

    ignored = run(
        "git", "check-ignore", ".streamlit/secrets.toml", ".env", cwd=project
    ).stdout.split()

    assert ignored == [".streamlit/secrets.toml", ".env"]
    assert "OPENAI_API_KEY" in (project / ".streamlit" / "secrets.toml.example").read_text()
    assert "OPENAI_API_KEY" in (project / ".env.example").read_text()
    (project / ".streamlit" / "secrets.toml").unlink()
    (project / ".env").unlink()


def test_dependencies_are_only_what_the_provider_needs(rendered) -> None:
    def dependencies(project: Path) -> list[str]:
        pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
        return pyproject["project"]["dependencies"]

    assert any(d.startswith("langchain-openai") for d in dependencies(rendered("defaults")))
    assert not any("openai" in d for d in dependencies(rendered("offline")))
    assert "langchain-core>=1.0,<2" in dependencies(rendered("offline"))


def test_pyproject_carries_python_version_and_text_answers(rendered) -> None:
    pyproject = tomllib.loads((rendered("custom") / "pyproject.toml").read_text("utf-8"))

    assert pyproject["project"]["requires-python"] == ">=3.13"
    assert pyproject["project"]["description"] == ANSWER_SETS["custom"]["description"]
    assert pyproject["project"]["authors"] == [{"name": "Zoë O'Brien"}]
    assert pyproject["tool"]["ruff"]["target-version"] == "py313"
