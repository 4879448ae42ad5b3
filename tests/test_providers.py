"""Every provider, through its real client library, against a server on 127.0.0.1.

For each provider of the table a project is generated (with a hostile system prompt) and
its real app is driven by Streamlit's AppTest in a subprocess, in the project directory:
two questions, each answered by streaming from `ProviderServer` in that provider's own
API format. The server records what the client sent; the tests check it. The client is
pointed at the server by its own standard environment variable (or by the app's base
URL setting where the provider has one), and its key comes from st.secrets or the
environment, alternating between providers.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import pytest

from helpers import (
    HOSTILE_SYSTEM_PROMPT,
    PROVIDERS,
    TEMPLATE_ROOT,
    clean_env,
    commit_all,
    make_template_repo,
    read_answers,
    ruff_and_own_tests_pass,
    run,
    tool,
)
from provider_servers import Conversation, ProviderServer, RecordedRequest

QUESTIONS = ["First question: what is {x}?", 'Second question, with "quotes" — ünïcödé ✓']
REPLIES = ["Hello from the loopback server.", "A second streamed reply, word by word."]
MODEL = "loopback-model"
TEMPERATURE = 0.25
MAX_TOKENS = 123
TIMEOUT_SECONDS = 17.0
API_KEY = "test-key-not-real"


@dataclass(frozen=True)
class Case:
    """How one provider is pointed at the loopback server and given its key."""

    wire_format: str
    endpoint: dict[str, str]
    """Environment variables naming the server ("{url}" is replaced by its address)."""
    key_from: str = "secrets"
    """"secrets" (st.secrets) or "environment"; ignored by a provider without a key."""
    answers: dict[str, Any] = field(default_factory=dict)
    """Extra copier answers of the generated project."""
    model: str = MODEL
    """The model the server is asked for: the model name, or Azure's deployment."""


CASES: dict[str, Case] = {
    "openai": Case("openai-chat-completions", {"OPENAI_BASE_URL": "{url}/v1"}),
    "azure_openai": Case(
        "openai-chat-completions",
        {"AZURE_OPENAI_ENDPOINT": "{url}"},
        key_from="environment",
        answers={"azure_deployment": "loopback-deployment", "azure_api_version": "2024-10-21"},
        model="loopback-deployment",
    ),
    "anthropic": Case("anthropic-messages", {"ANTHROPIC_BASE_URL": "{url}"}),
    "google_genai": Case(
        "gemini-stream-generate-content",
        {"GOOGLE_GEMINI_BASE_URL": "{url}"},
        key_from="environment",
    ),
    "ollama": Case("ollama-chat", {"OLLAMA_HOST": "{url}"}),
    "groq": Case("openai-chat-completions", {"GROQ_BASE_URL": "{url}"}),
    "mistralai": Case(
        "openai-chat-completions", {"MISTRAL_BASE_URL": "{url}/v1"}, key_from="environment"
    ),
    "openai_compatible": Case(
        "openai-chat-completions",
        {"OPENAI_COMPATIBLE_BASE_URL": "{url}/v1"},
        answers={"base_url": "http://127.0.0.1:9/v1"},
    ),
}

# Runs in the generated project: the real app, driven by AppTest, then the real model
# built again from the settings so that the test can read back what the client was given.
DRIVER = """
import json, sys
from importlib import import_module
from streamlit.testing.v1 import AppTest

package, secrets, questions, api_key = json.loads(sys.argv[1])
app = AppTest.from_file("app.py", default_timeout=60)
for name, value in secrets.items():
    app.secrets[name] = value
app.run()
for question in questions:
    app.chat_input[0].set_value(question).run()

from pathlib import Path
providers = import_module(package + ".providers")
settings = import_module(package + ".settings").load_settings(Path.cwd())
model = providers.PROVIDERS[settings.LLM_PROVIDER].build(settings, api_key)

def built_with(keyword):
    for name, info in type(model).model_fields.items():
        if keyword in (name, info.alias):
            value = getattr(model, name)
            return value.get_secret_value() if hasattr(value, "get_secret_value") else value
    return "<no such field>"

print(json.dumps({
    "exceptions": [str(e.value) for e in app.exception],
    "errors": [e.value for e in app.error],
    "infos": [e.value for e in app.info],
    "chat": [[m.name, m.markdown[0].value] for m in app.chat_message],
    "model_class": type(model).__name__,
    "arguments": {k: built_with(k) for k in json.loads(sys.argv[2])},
}, default=str))
"""


@dataclass(frozen=True)
class Exchange:
    """What the app showed, what the server received, what the client was built with."""

    url: str
    shown: dict[str, Any]
    requests: list[tuple[str | None, RecordedRequest]]
    conversations: list[Conversation]


# Variables the clients read themselves: the developer's own must not redirect a test.
CLIENT_VARIABLES = {name for p in PROVIDERS.values() for name in p["extra_settings"]} | {
    "ANTHROPIC_API_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "GEMINI_API_KEY",
    "OPENAI_API_BASE",
    "GROQ_API_BASE",
    "LANGSMITH_GATEWAY",
}


def without_client_variables(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in CLIENT_VARIABLES}


def converse(project: Path, name: str) -> Exchange:
    case = CASES[name]
    provider = PROVIDERS[name]
    with ProviderServer(replies=list(REPLIES)) as server:
        env = without_client_variables(clean_env())
        env.update(
            LLM_TEMPERATURE=str(TEMPERATURE),
            LLM_MAX_TOKENS=str(MAX_TOKENS),
            LLM_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
            LLM_MAX_RETRIES="0",
            NO_PROXY="127.0.0.1,localhost",
            **{variable: url.format(url=server.url) for variable, url in case.endpoint.items()},
        )
        secrets = {"LLM_PROVIDER": name}
        if provider["key_variable"]:
            target = secrets if case.key_from == "secrets" else env
            target[provider["key_variable"]] = API_KEY
        package = read_answers(project)["package_name"]
        result = run(
            tool("python"),
            "-c",
            DRIVER,
            json.dumps([package, secrets, QUESTIONS, API_KEY]),
            json.dumps(list(provider["arguments"])),
            cwd=project,
            env=env,
            timeout=300,
        )
        shown = json.loads(result.stdout.strip().splitlines()[-1])
        conversations = server.conversations(case.wire_format)
        return Exchange(server.url, shown, list(server.requests), conversations)


@pytest.fixture(scope="session")
def exchanges(rendered) -> Callable[[str], Exchange]:
    """One full chat per provider, shared by the tests of that provider."""
    done: dict[str, Exchange] = {}

    def get(name: str) -> Exchange:
        if name not in done:
            answers = {
                "model_provider": name,
                "model_name": MODEL,
                "system_prompt": HOSTILE_SYSTEM_PROMPT,
                **CASES[name].answers,
            }
            done[name] = converse(rendered(f"loopback-{name}", **answers), name)
        return done[name]

    return get


def test_every_provider_but_offline_has_a_loopback_case() -> None:
    assert sorted(CASES) == sorted(name for name in PROVIDERS if name != "offline")


each_provider = pytest.mark.parametrize("name", list(CASES))


@each_provider
def test_reply_streams_from_the_provider_api_into_the_chat(exchanges, name: str) -> None:
    shown = exchanges(name).shown

    assert shown["exceptions"] == [] and shown["errors"] == [] and shown["infos"] == []
    assert shown["chat"][1:] == [
        ["human", QUESTIONS[0]],
        ["ai", REPLIES[0]],
        ["human", QUESTIONS[1]],
        ["ai", REPLIES[1]],
    ]


@each_provider
def test_client_calls_only_the_provider_streaming_api(exchanges, name: str) -> None:
    exchange = exchanges(name)

    assert [format_name for format_name, _ in exchange.requests] == [CASES[name].wire_format] * 2
    assert all(conversation.streamed for conversation in exchange.conversations)


@each_provider
def test_client_sends_model_system_prompt_and_earlier_turns_in_order(exchanges, name: str) -> None:
    second = exchanges(name).conversations[1]

    assert second.model == CASES[name].model
    assert second.system == HOSTILE_SYSTEM_PROMPT
    assert second.turns == [
        ("user", QUESTIONS[0]),
        ("assistant", REPLIES[0]),
        ("user", QUESTIONS[1]),
    ]


@each_provider
def test_client_sends_the_configured_api_key(exchanges, name: str) -> None:
    expected = API_KEY if PROVIDERS[name]["key_variable"] else None

    assert [c.api_key for c in exchanges(name).conversations] == [expected, expected]


@each_provider
def test_client_sends_temperature_and_max_tokens_settings(exchanges, name: str) -> None:
    first = exchanges(name).conversations[0]

    assert first.temperature == pytest.approx(TEMPERATURE)
    assert first.max_tokens == MAX_TOKENS


@each_provider
def test_model_is_built_with_every_setting_of_the_table(exchanges, name: str) -> None:
    case, provider, exchange = CASES[name], PROVIDERS[name], exchanges(name)
    values = {
        "LLM_MODEL": MODEL,
        "LLM_TEMPERATURE": TEMPERATURE,
        "LLM_MAX_TOKENS": MAX_TOKENS,
        "LLM_TIMEOUT_SECONDS": TIMEOUT_SECONDS,
        "LLM_MAX_RETRIES": 0,
    }
    values |= {
        entry["setting"]: case.answers[question]
        for question, entry in provider["questions"].items()
        if question in case.answers
    }
    values |= {variable: url.format(url=exchange.url) for variable, url in case.endpoint.items()}

    def expected(source: dict[str, Any]) -> Any:
        """The value an argument's source in the table (copier.yml) stands for."""
        if "setting" in source:
            return values[source["setting"]]
        if "api_key" in source:
            return API_KEY
        return {key: expected(item) for key, item in source["dict"].items()}

    built = exchange.shown["arguments"]

    assert exchange.shown["model_class"] == provider["class"]
    assert built == {keyword: expected(source) for keyword, source in provider["arguments"].items()}


def test_azure_calls_the_deployment_url_with_api_version_and_api_key_header(exchanges) -> None:
    _, request = exchanges("azure_openai").requests[0]

    assert request.path == "/openai/deployments/loopback-deployment/chat/completions"
    assert request.query["api-version"] == ["2024-10-21"]
    assert request.headers["api-key"] == API_KEY


# ---------------------------------------------------------------------------------------
# Follow-up questions: asked only by the provider that needs them, kept as settings
# ---------------------------------------------------------------------------------------
FOLLOW_UP_QUESTIONS = {"base_url", "azure_endpoint", "azure_deployment", "azure_api_version"}


@each_provider
def test_follow_up_questions_are_asked_only_by_the_provider_that_needs_them(
    rendered, name: str
) -> None:
    answered = set(read_answers(rendered(f"provider-{name}"))) & FOLLOW_UP_QUESTIONS

    assert answered == set(PROVIDERS[name]["questions"])


@pytest.mark.parametrize(
    ("provider", "question", "bad_answer"),
    [
        ("ollama", "base_url", "localhost:11434"),
        ("openai_compatible", "base_url", "ftp://127.0.0.1/v1"),
        ("openai_compatible", "base_url", "http://127.0.0.1:8000/v1 with spaces"),
        ("azure_openai", "azure_endpoint", "my-resource.openai.azure.com"),
        ("azure_openai", "azure_deployment", "my deployment"),
        ("azure_openai", "azure_api_version", "latest"),
    ],
)
def test_malformed_follow_up_answer_is_rejected(
    tmp_path: Path, provider: str, question: str, bad_answer: str
) -> None:
    with pytest.raises(ValueError, match=question):
        copier.run_copy(
            str(TEMPLATE_ROOT),
            tmp_path,
            data={"model_provider": provider, question: bad_answer},
            defaults=True,
            vcs_ref="HEAD",
            quiet=True,
        )


def test_follow_up_answers_become_run_time_settings(rendered) -> None:
    answers = {
        "model_provider": "azure_openai",
        "azure_endpoint": "https://contoso.openai.azure.com",
        "azure_deployment": "chat-prod",
        "azure_api_version": "2025-04-01-preview",
    }
    project = rendered("azure-answers", **answers)

    settings = tomllib.loads((project / "app_settings.toml").read_text("utf-8"))

    assert settings["AZURE_OPENAI_ENDPOINT"] == "https://contoso.openai.azure.com"
    assert settings["AZURE_OPENAI_DEPLOYMENT"] == "chat-prod"
    assert settings["OPENAI_API_VERSION"] == "2025-04-01-preview"


def test_base_url_default_is_the_providers_own(rendered) -> None:
    def base_url(name: str) -> str:
        return read_answers(rendered(f"provider-{name}"))["base_url"]

    assert base_url("ollama") == "http://127.0.0.1:11434"
    assert base_url("openai_compatible") == "http://127.0.0.1:8000/v1"


# ---------------------------------------------------------------------------------------
# Switching provider later with `copier update`
# ---------------------------------------------------------------------------------------
USER_LINE = "# Our own note: keep answers short on mobile.\n"


@pytest.fixture(scope="module")
def switched_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OpenAI project with the user's own edits, switched to Anthropic by an update."""
    template = make_template_repo(tmp_path_factory.mktemp("template"), "v0.0.1")
    project = tmp_path_factory.mktemp("switched")
    copier.run_copy(str(template), project, defaults=True, vcs_ref="HEAD", quiet=True)
    commit_all(project, "Generated with OpenAI")
    chat_page = project / "my_chat_app" / "page.py"
    chat_page.write_text(chat_page.read_text("utf-8") + "\n\n" + USER_LINE, "utf-8")
    (project / "NOTES.md").write_text("Our own notes.\n", "utf-8")
    commit_all(project, "Our own edits")

    copier.run_update(
        project,
        # copier keeps earlier answers, the model name too: a new provider needs its own.
        data={"model_provider": "anthropic", "model_name": "claude-haiku-4-5"},
        defaults=True,
        overwrite=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return project


def test_switching_provider_changes_the_dependency(switched_project: Path) -> None:
    pyproject = tomllib.loads((switched_project / "pyproject.toml").read_text("utf-8"))
    dependencies = pyproject["project"]["dependencies"]

    assert PROVIDERS["anthropic"]["package"] in dependencies
    assert not any(d.startswith("langchain-openai") for d in dependencies)


def test_switching_provider_changes_the_model_code_settings_and_docs(
    switched_project: Path,
) -> None:
    providers = (switched_project / "my_chat_app" / "providers.py").read_text("utf-8")
    secrets = (switched_project / ".streamlit" / "secrets.toml.example").read_text("utf-8")
    settings = tomllib.loads((switched_project / "app_settings.toml").read_text("utf-8"))
    readme = (switched_project / "README.md").read_text("utf-8")

    assert "from langchain_anthropic import ChatAnthropic" in providers
    assert "ChatOpenAI" not in providers
    assert 'ANTHROPIC_API_KEY = ""' in secrets and "OPENAI_API_KEY" not in secrets
    assert (settings["LLM_PROVIDER"], settings["LLM_MODEL"]) == ("anthropic", "claude-haiku-4-5")
    assert "Anthropic (`claude-haiku-4-5`)" in readme and "OPENAI_API_KEY" not in readme


def test_switching_provider_keeps_the_users_edits(switched_project: Path) -> None:
    chat_page = (switched_project / "my_chat_app" / "page.py").read_text("utf-8")

    assert chat_page.endswith(USER_LINE)
    assert (switched_project / "NOTES.md").read_text("utf-8") == "Our own notes.\n"


def test_switched_project_passes_ruff_and_its_own_tests(switched_project: Path) -> None:
    ruff_and_own_tests_pass(switched_project)
