"""What `copier copy` writes: the files a generated project contains and what is in them."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from helpers import (
    ANSWER_SETS,
    CHAIN_MODULE,
    HOSTILE_SYSTEM_PROMPT,
    PROVIDERS,
    package_file,
    read_answers,
    run,
)


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
    chain = package_file(rendered("custom"), CHAIN_MODULE).read_text("utf-8")

    assert 'SESSION_KEY = "chat_history"' in chain
    assert "StreamlitChatMessageHistory(key=SESSION_KEY)" in chain


def test_langchain_wiring_is_in_one_short_module(rendered) -> None:
    chain = package_file(rendered("defaults"), CHAIN_MODULE).read_text("utf-8")

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


def test_secrets_are_git_ignored_and_only_examples_are_shipped(rendered, tmp_path: Path) -> None:
    project = shutil.copytree(rendered("defaults"), tmp_path / "project")
    run("git", "init", "-q", cwd=project)
    (project / ".streamlit" / "secrets.toml").write_text('OPENAI_API_KEY = "sk-not-real"\n')
    (project / ".env").write_text("OPENAI_API_KEY=sk-not-real\n")

    ignored = run(
        "git", "check-ignore", ".streamlit/secrets.toml", ".env", cwd=project
    ).stdout.split()

    assert ignored == [".streamlit/secrets.toml", ".env"]
    assert "OPENAI_API_KEY" in (project / ".streamlit" / "secrets.toml.example").read_text()
    assert "OPENAI_API_KEY" in (project / ".env.example").read_text()


def test_pyproject_carries_python_version_and_text_answers(rendered) -> None:
    pyproject = tomllib.loads((rendered("custom") / "pyproject.toml").read_text("utf-8"))

    assert pyproject["project"]["requires-python"] == ">=3.13"
    assert pyproject["project"]["description"] == ANSWER_SETS["custom"]["description"]
    assert pyproject["project"]["authors"] == [{"name": "Zoë O'Brien"}]
    assert pyproject["tool"]["ruff"]["target-version"] == "py313"


# ---------------------------------------------------------------------------------------
# What differs per provider, read from each provider's rendered project (the model built
# from its providers.py is checked in test_providers.py)
# ---------------------------------------------------------------------------------------
each_provider = pytest.mark.parametrize("name", list(PROVIDERS))
KEY_VARIABLES = {p["key_variable"] for p in PROVIDERS.values() if p["key_variable"]}
FOLLOW_UP_QUESTIONS = {question for p in PROVIDERS.values() for question in p["questions"]}


def names_variable(text: str, variable: str) -> bool:
    """Whether text names the variable itself (OPENAI_API_KEY is not AZURE_OPENAI_API_KEY)."""
    return re.search(rf"(?<![A-Z0-9_]){variable}(?![A-Z0-9_])", text) is not None


@each_provider
def test_dependencies_hold_the_providers_package_and_no_other(rendered, name: str) -> None:
    pyproject = tomllib.loads((rendered(f"provider-{name}") / "pyproject.toml").read_text("utf-8"))
    dependencies = set(pyproject["project"]["dependencies"])
    package = PROVIDERS[name]["package"]
    others = {p["package"] for p in PROVIDERS.values() if p["package"]} - {package}

    assert package is None or package in dependencies
    assert dependencies & others == set()


@each_provider
def test_providers_module_imports_the_providers_client_and_no_other(rendered, name: str) -> None:
    providers = package_file(rendered(f"provider-{name}"), "providers.py").read_text("utf-8")
    provider = PROVIDERS[name]
    other_modules = {p["module"] for p in PROVIDERS.values() if p["module"]} - {provider["module"]}

    if provider["module"]:
        assert f"from {provider['module']} import {provider['class']}" in providers
    assert [module for module in other_modules if module in providers] == []


@each_provider
def test_key_variable_is_named_where_keys_are_set_and_no_other(rendered, name: str) -> None:
    project = rendered(f"provider-{name}")
    key = PROVIDERS[name]["key_variable"]

    for file in ["README.md", ".env.example", ".streamlit/secrets.toml.example"]:
        text = (project / file).read_text("utf-8")
        assert key is None or names_variable(text, key), file
        assert [other for other in KEY_VARIABLES - {key} if names_variable(text, other)] == []


@each_provider
def test_readme_names_the_provider_and_its_model(rendered, name: str) -> None:
    readme = (rendered(f"provider-{name}") / "README.md").read_text("utf-8")
    provider = PROVIDERS[name]

    assert provider["label"].lower() in readme.lower()  # "the offline demo model" in a sentence
    assert provider["default_model"] in readme


@each_provider
def test_app_settings_hold_provider_model_and_follow_up_answers(rendered, name: str) -> None:
    project = rendered(f"provider-{name}")
    settings = tomllib.loads((project / "app_settings.toml").read_text("utf-8"))
    answers = read_answers(project)
    provider = PROVIDERS[name]

    assert (settings["LLM_PROVIDER"], settings["LLM_MODEL"]) == (name, provider["default_model"])
    for question, entry in provider["questions"].items():
        assert settings[entry["setting"]] == answers[question]


@each_provider
def test_follow_up_questions_are_asked_only_by_the_provider_that_needs_them(
    rendered, name: str
) -> None:
    answered = set(read_answers(rendered(f"provider-{name}"))) & FOLLOW_UP_QUESTIONS

    assert answered == set(PROVIDERS[name]["questions"])


# ---------------------------------------------------------------------------------------
# Sign-in (authentication=oidc); the app itself is tested in test_sign_in.py
# ---------------------------------------------------------------------------------------
AUTH_KEYS = ["redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url"]


def test_oidc_project_has_the_sign_in_module_dependency_and_a_commented_auth_section(
    rendered,
) -> None:
    project = rendered("oidc")
    example = (project / ".streamlit" / "secrets.toml.example").read_text("utf-8")
    # The [auth] section as a user uncomments it: every key there, no value filled in.
    start = example.index("# [auth]")
    uncommented = re.sub(r"^# ((?:\[auth\]|\w+ = ).*)$", r"\1", example[start:], flags=re.M)
    auth = tomllib.loads(uncommented)["auth"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))

    assert package_file(project, "auth.py").is_file()
    assert "streamlit[auth]>=1.45,<2" in pyproject["project"]["dependencies"]
    assert "auth" not in tomllib.loads(example)  # commented out until filled in
    assert sorted(auth) == sorted(AUTH_KEYS)
    assert auth["redirect_uri"] == "http://localhost:8501/oauth2callback"
    assert {auth[key] for key in AUTH_KEYS if key != "redirect_uri"} == {""}
    for provider in ["Google", "Microsoft Entra", "Okta", "Auth0", "any other"]:
        assert provider in example[start:]
    settings = tomllib.loads((project / "app_settings.toml").read_text("utf-8"))
    assert settings["ALLOWED_USERS"] == ""
    assert "## Sign-in" in (project / "README.md").read_text("utf-8")


def test_project_without_sign_in_has_none_of_it(rendered) -> None:
    project = rendered("defaults")

    assert not package_file(project, "auth.py").exists()
    assert not (project / "tests" / "test_sign_in.py").exists()
    for name in ["pyproject.toml", ".streamlit/secrets.toml.example", "README.md", "app.py"]:
        text = (project / name).read_text("utf-8")
        assert "[auth]" not in text and "ALLOWED_USERS" not in text, name
        assert "sign-in" not in text.lower() and "sign in" not in text.lower(), name


# ---------------------------------------------------------------------------------------
# chat_features: turn controls and feedback; the app itself is tested by its own suite
# ---------------------------------------------------------------------------------------
TURN_CONTROL_FILES = ["turn_controls.py", "message_tree.py"]
FEEDBACK_FILES = ["feedback.py", "langsmith_feedback.py"]
FEATURE_TESTS = ["test_turn_controls.py", "test_feedback.py"]
FEATURE_WORDS = ["popover", "Regenerate", "replacing", "Versions", "chat_heads"]
FEATURE_WORDS += ["st.feedback", "Feedback", "feedback", "langsmith", "LangSmith", "run_id"]


def test_default_project_has_turn_controls_and_feedback(rendered) -> None:
    project = rendered("defaults")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))

    for name in TURN_CONTROL_FILES + FEEDBACK_FILES:
        assert package_file(project, name).is_file(), name
    for name in FEATURE_TESTS:
        assert (project / "tests" / name).is_file(), name
    assert "langsmith>=0.4,<1" in pyproject["project"]["dependencies"]
    assert "LANGSMITH_TRACING=true" in (project / "README.md").read_text("utf-8")


def test_project_without_chat_features_has_no_trace_of_them(rendered) -> None:
    project = rendered("no-chat-features")

    for name in TURN_CONTROL_FILES + FEEDBACK_FILES:
        assert not package_file(project, name).exists(), name
    for name in FEATURE_TESTS:
        assert not (project / "tests" / name).exists(), name
    texts = {
        path.relative_to(project).as_posix(): path.read_text("utf-8")
        for path in project.rglob("*")
        if path.suffix in {".py", ".toml", ".md", ".example"} and ".git" not in path.parts
    }
    for name, text in texts.items():
        for word in FEATURE_WORDS:
            assert word not in text, (name, word)
