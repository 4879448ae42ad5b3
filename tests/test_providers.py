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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpers import HOSTILE_SYSTEM_PROMPT, PROVIDERS, clean_env, read_answers, run, tool
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

providers = import_module(package + ".providers")
settings = import_module(package + ".settings").load_settings(
    provider_setting_names=providers.PROVIDER_SETTING_NAMES
)
model = providers.PROVIDERS[settings.provider].build(settings, api_key)

def given(keyword):
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
    "arguments": {k: given(k) for k in json.loads(sys.argv[2])},
}, default=str))
"""


@dataclass(frozen=True)
class Exchange:
    """What the app showed, what the server received, what the client was built with."""

    url: str
    shown: dict[str, Any]
    requests: list[tuple[str | None, RecordedRequest]]
    conversations: list[Conversation]


def converse(project: Path, name: str) -> Exchange:
    case = CASES[name]
    provider = PROVIDERS[name]
    with ProviderServer(replies=list(REPLIES)) as server:
        env = clean_env(
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
        arguments = {"package": read_answers(project)["package_name"]}
        result = run(
            tool("python"),
            "-c",
            DRIVER,
            json.dumps([arguments["package"], secrets, QUESTIONS, API_KEY]),
            json.dumps(list(provider["arguments"])),
            cwd=project,
            env=env,
            timeout=300,
        )
        shown = json.loads(result.stdout.strip().splitlines()[-1])
        conversations = server.conversations(case.wire_format)
        return Exchange(server.url, shown, list(server.requests), conversations)


@pytest.fixture(scope="session")
def exchanges(rendered) -> dict[str, Exchange]:
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
        "model": MODEL,
        "temperature": TEMPERATURE,
        "max_tokens": MAX_TOKENS,
        "timeout_seconds": TIMEOUT_SECONDS,
        "max_retries": 0,
        "api_key": API_KEY,
    }
    values |= {
        entry["setting"]: case.answers[question]
        for question, entry in provider["questions"].items()
        if question in case.answers
    }
    values |= {variable: url.format(url=exchange.url) for variable, url in case.endpoint.items()}

    def expected(source: Any) -> Any:
        if isinstance(source, dict):
            return {key: expected(item) for key, item in source.items()}
        return values[source]

    built = exchange.shown["arguments"]

    assert exchange.shown["model_class"] == provider["class"]
    assert built == {keyword: expected(source) for keyword, source in provider["arguments"].items()}


def test_azure_calls_the_deployment_url_with_api_version_and_api_key_header(exchanges) -> None:
    _, request = exchanges("azure_openai").requests[0]

    assert request.path == "/openai/deployments/loopback-deployment/chat/completions"
    assert request.query["api-version"] == ["2024-10-21"]
    assert request.headers["api-key"] == API_KEY
