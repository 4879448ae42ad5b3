"""copier.yml: defaults that need no prompt, and validators that reject what would break."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import PROVIDERS, TEMPLATE_ROOT, read_answers, render, run, tool


def test_copy_with_defaults_asks_nothing_and_needs_no_trust(tmp_path: Path) -> None:
    result = run(
        tool("copier"),
        "copy",
        "--defaults",
        "--vcs-ref",
        "HEAD",
        TEMPLATE_ROOT,
        tmp_path / "out",
        cwd=tmp_path,
    )

    assert (tmp_path / "out" / "app.py").is_file()
    assert "--trust" not in result.stderr


def test_template_uses_nothing_that_requires_trust() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))

    assert not {"_tasks", "_migrations", "_jinja_extensions"} & config.keys()


def test_package_name_is_derived_from_the_project_name(tmp_path: Path) -> None:
    project = render(tmp_path, project_name="42 Support-Bot!")

    assert read_answers(project)["package_name"] == "app_42_support_bot"
    assert (project / "app_42_support_bot" / "chain.py").is_file()


def test_model_name_defaults_to_the_providers_default_model(tmp_path: Path) -> None:
    project = render(tmp_path, model_provider="offline")

    assert read_answers(project)["model_name"] == PROVIDERS["offline"]["default_model"]


def test_answers_file_records_the_template_source_and_commit(rendered) -> None:
    answers = read_answers(rendered("defaults"))

    assert answers["_src_path"] == str(TEMPLATE_ROOT)
    assert answers["_commit"]
    assert answers["session_key"] == "langchain_messages"


def test_provider_table_is_the_only_list_of_providers() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    required = {"label", "package", "module", "class", "default_model", "key_variable"}

    assert "openai" in PROVIDERS and "offline" in PROVIDERS
    assert all(required <= set(entry) for entry in PROVIDERS.values())
    assert "providers" in config["model_provider"]["choices"]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"package_name": "My-App"}, "is not a valid package name"),
        ({"package_name": "1app"}, "is not a valid package name"),
        ({"package_name": "class"}, "is a Python keyword"),
        ({"package_name": "streamlit"}, "would shadow a module"),
        ({"package_name": "langchain_core"}, "would shadow a module"),
        ({"project_name": "   "}, "project name must not be empty"),
        ({"project_name": "two\nlines"}, "project name must be one line"),
        ({"session_key": ""}, "is not a valid session key"),
        ({"session_key": "chat history"}, "is not a valid session key"),
        ({"session_key": "new_chat_button"}, "is a widget key of the app itself"),
        ({"model_name": " "}, "model name must not be empty"),
        ({"model_name": 'gpt "4"'}, "is not a valid model name"),
        ({"temperature": 2.5}, "temperature must be between 0 and 2"),
        ({"temperature": -0.1}, "temperature must be between 0 and 2"),
        ({"history_max_tokens": 10}, "history budget must be at least 100"),
        ({"system_prompt": "  \n"}, "system prompt must not be empty"),
        ({"greeting": ""}, "greeting must not be empty"),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v!r}" for k, v in value.items()) if isinstance(value, dict) else ""
    ),
)
def test_bad_answer_is_rejected_with_a_clear_message(
    tmp_path: Path, answers: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render(tmp_path / "out", **answers)

    assert not (tmp_path / "out" / "app.py").exists()


def test_cli_rejects_a_bad_answer_with_its_message_and_writes_nothing(tmp_path: Path) -> None:
    # copier's CLI prints its own traceback above the message when `-d` data fails
    # validation (copier 9.19); interactive answers are re-asked with the message instead.
    result = subprocess.run(
        [
            tool("copier"),
            "copy",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "-d",
            "package_name=class",
            TEMPLATE_ROOT,
            tmp_path / "out",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )

    assert result.returncode != 0
    assert "Validation error for question 'package_name'" in result.stderr
    assert '"class" is a Python keyword: choose another package name.' in result.stderr
    assert not (tmp_path / "out").exists()
