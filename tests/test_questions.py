"""copier.yml: defaults that need no prompt, and validators that reject what would break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from helpers import PROVIDERS, TEMPLATE_ROOT, copier_cli, read_answers, render


def test_copy_with_defaults_asks_nothing_and_needs_no_trust(tmp_path: Path) -> None:
    result = copier_cli("copy", "--vcs-ref", "HEAD", TEMPLATE_ROOT, tmp_path / "out", cwd=tmp_path)

    assert (tmp_path / "out" / "app.py").is_file()
    assert "--trust" not in result.stderr


def test_template_uses_nothing_that_requires_trust() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))

    assert not {"_tasks", "_migrations", "_jinja_extensions"} & config.keys()


def test_package_name_is_derived_from_the_project_name(tmp_path: Path) -> None:
    project = render(tmp_path, project_name="42 Support-Bot!")

    assert read_answers(project)["package_name"] == "app_42_support_bot"
    assert (project / "app_42_support_bot" / "chain.py").is_file()


def test_long_project_name_gives_a_package_name_short_enough_for_a_folder(
    tmp_path: Path,
) -> None:
    project = render(tmp_path, project_name="Support Chat " * 60)

    package_name = read_answers(project)["package_name"]
    assert package_name == ("support_chat_" * 4)[:50].rstrip("_")
    assert (project / package_name / "page.py").is_file()


def test_model_name_defaults_to_the_providers_default_model(rendered) -> None:
    assert read_answers(rendered("offline"))["model_name"] == PROVIDERS["offline"]["default_model"]


def test_provider_table_is_the_only_list_of_providers() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    required = {"label", "package", "module", "class", "default_model", "key_variable"}

    assert "openai" in PROVIDERS and "offline" in PROVIDERS
    assert all(required <= set(entry) for entry in PROVIDERS.values())
    assert "providers" in config["model_provider"]["choices"]


def bad(question: str, answer: object, message: str, **context: str) -> object:
    """One rejected answer (with the answers that make it asked) and the message it must get:
    what is wrong and what is allowed."""
    shown = repr(answer) if len(repr(answer)) < 30 else f"{repr(answer)[:20]}...({len(answer)})"
    return pytest.param(context | {question: answer}, message, id=f"{question}={shown}")


REJECTED_ANSWERS = [  # the validators of copier.yml (copier checks choices and types itself)
    bad("project_name", "   ", "The project name must not be empty"),
    bad("project_name", "two\nlines", "must be one line of text, without line breaks"),
    bad("project_name", "tab\tin it", "must be one line of text, without line breaks"),
    bad("package_name", "", "use lowercase letters, digits and underscores"),
    bad("package_name", "My-App", "use lowercase letters, digits and underscores"),
    bad("package_name", "1app", "not starting with a digit"),
    bad("package_name", "class", '"class" is a Python keyword: choose another package name'),
    bad("package_name", "streamlit", "would shadow a module the app imports"),
    bad("package_name", "langchain_core", "would shadow a module the app imports"),
    bad("description", "two\nlines", "The description must be one line of text"),
    bad("description", "bell\x07", "The description must be one line of text"),
    bad("description", "x" * 513, "must be at most 512 characters"),
    bad("author_name", " ", "The author name must not be empty"),
    bad("author_name", "two\nlines", "The author name must be one line of text"),
    bad("session_key", "", "use letters, digits and underscores, not starting with a digit"),
    bad("session_key", "chat history", "is not a valid session key: use letters, digits"),
    bad("session_key", "1st", "is not a valid session key: use letters, digits"),
    bad("session_key", "new_chat_button", "is a st.session_state key of the app itself"),
    bad("session_key", "sidebar_api_key", "is a st.session_state key of the app itself"),
    bad("session_key", "messages_in_view", "is a st.session_state key of the app itself"),
    bad("model_name", " ", "The model name must not be empty"),
    bad("model_name", 'gpt "4"', "no spaces, quotes or backslashes"),
    bad("model_name", "gpt 4", "no spaces, quotes or backslashes"),
    bad("model_name", "gpt\\4", "no spaces, quotes or backslashes"),
    bad(
        "model_name",
        "gpt-4o-mini",
        "is another provider's default model, which Anthropic does not serve",
        model_provider="anthropic",
    ),
    bad(
        "base_url",
        "localhost:8000",
        "is not a URL: it must start with http:// or https://",
        model_provider="openai_compatible",
    ),
    bad(
        "base_url",
        "http://host:1/ v1",
        "contain no spaces, quotes or backslashes",
        model_provider="ollama",
    ),
    bad(
        "azure_endpoint",
        "my-resource.openai.azure.com",
        "is not a URL: it must start with",
        model_provider="azure_openai",
    ),
    bad(
        "azure_deployment",
        "my deployment",
        "use letters, digits, dots, dashes and underscores",
        model_provider="azure_openai",
    ),
    bad(
        "azure_api_version",
        "latest",
        "use a date like 2024-10-21, optionally followed by",
        model_provider="azure_openai",
    ),
    bad("temperature", 2.5, "The temperature must be between 0 and 2 for OpenAI, got 2.5"),
    bad("temperature", -0.1, "The temperature must be between 0 and 2 for OpenAI, got -0.1"),
    bad(
        "temperature",
        1.5,
        "The temperature must be between 0 and 1 for Anthropic, got 1.5",
        model_provider="anthropic",
    ),
    bad(
        "temperature",
        "nan",
        'must be a number from 0 (focused) to 2 (creative), such as 0.7; got "nan"',
    ),
    bad(
        "temperature",
        "warm",
        'must be a number from 0 (focused) to 2 (creative), such as 0.7; got "warm"',
    ),
    bad("temperature", "1e9", 'such as 0.7; got "1e9"'),
    bad("package_name", "p" * 51, "The package name must be at most 50 characters"),
    bad("history_max_tokens", 10, "The history budget must be at least 100 tokens, got 10"),
    bad("system_prompt", "  \n", "The system prompt must not be empty"),
    bad("system_prompt", "nul\x00", "must not contain control characters"),
    bad("system_prompt", "windows\r\nline", "carriage returns are not"),
    bad("greeting", "", "The greeting must not be empty"),
    bad("greeting", "\x1b[31mred", "The greeting must not contain control characters"),
]


@pytest.mark.parametrize(("answers", "message"), REJECTED_ANSWERS)
def test_bad_answer_is_rejected_with_a_clear_message(
    tmp_path: Path, answers: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as rejected:
        render(tmp_path / "out", **answers)

    assert message in str(rejected.value)
    assert not (tmp_path / "out").exists()


def test_validated_questions_name_themselves_in_the_message(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as rejected:
        render(tmp_path / "out", description="two\nlines")

    assert str(rejected.value).startswith("Validation error for question 'description': ")


def test_every_free_text_question_has_a_validator() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    free_text = [
        name
        for name, question in config.items()
        if isinstance(question, dict)
        and question.get("type") in ("str", "int", "float")
        and "choices" not in question
        and question.get("when") is not False
    ]

    assert [name for name in free_text if "validator" not in config[name]] == []
    assert {"project_name", "description", "author_name", "greeting"} <= set(free_text)


def test_answers_at_the_limits_are_accepted(tmp_path: Path) -> None:
    project = render(
        tmp_path / "out",
        temperature=2.0,
        history_max_tokens=100,
        description="x" * 512,
        greeting="Tabs\tand\nnewlines are fine",
        system_prompt="\tIndented\n\nand several lines\n",
    )

    answers = read_answers(project)
    assert (answers["temperature"], answers["history_max_tokens"]) == ("2.0", 100)
    assert "LLM_TEMPERATURE = 2.0\n" in (project / "app_settings.toml").read_text()
    assert len(answers["description"]) == 512


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("package_name=class", '"class" is a Python keyword: choose another package name.'),
        ("temperature=3", "The temperature must be between 0 and 2 for OpenAI, got 3."),
        ("temperature=warm", 'a number from 0 (focused) to 2 (creative), such as 0.7; got "warm"'),
        ("session_key=chat history", '"chat history" is not a valid session key'),
        ("model_provider=nope", "Invalid choice for 'model_provider'"),
    ],
    ids=["package_name", "temperature", "temperature_warm", "session_key", "model_provider"],
)
def test_cli_rejects_a_bad_answer_with_its_message_and_writes_nothing(
    tmp_path: Path, data: str, message: str
) -> None:
    # copier's CLI prints its own traceback above the message when `-d` data fails
    # validation (copier 9.19); interactive answers are re-asked with the message instead.
    result = copier_cli(
        "copy",
        "--vcs-ref",
        "HEAD",
        TEMPLATE_ROOT,
        tmp_path / "out",
        data=dict([data.split("=", 1)]),
        cwd=tmp_path,
        expect_failure=True,
    )

    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_provider_question_fits_an_80_column_terminal() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    help_lines = config["model_provider"]["help"].splitlines()

    # copier prints "🎤 " (3 columns) before the help.
    assert help_lines and max(len(line) + 3 for line in help_lines) <= 80


def test_temperature_answer_is_rendered_as_a_number(tmp_path: Path) -> None:
    project = render(tmp_path / "out", temperature=" 1 ")

    assert "LLM_TEMPERATURE = 1.0\n" in (project / "app_settings.toml").read_text()


def test_every_session_state_key_of_the_app_is_refused_as_the_session_key(rendered) -> None:
    """The history's session key must not collide with a key the page itself uses."""
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    used = set()
    for answers in ("oidc", "oidc-sqlite"):  # every module of both wirings, sign-in too
        project = rendered(answers)
        package = project / read_answers(project)["package_name"]
        for module in package.glob("*.py"):
            used |= set(re.findall(r'^[A-Z_]+_KEY = "(\w+)"', module.read_text(), re.M))

    assert used - {"langchain_messages"} == set(config["reserved_session_keys"]["default"])
