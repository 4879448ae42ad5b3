"""Every provider's chat model is built from the app's settings with the table's arguments.

For each provider of copier.yml's table, its rendered project builds its model as the app
does (from settings given in the environment) with the real client class, and the test
reads back what each constructor argument of the table was given. No network is used.
How each client then speaks its provider's API is that client package's to test; what the
app does around the model (history, streaming, errors, keys) is the same for every
provider and tested with the offline model and the OpenAI client elsewhere. The provider's
dependency, README lines and settings files are checked in test_rendered_files.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpers import (
    PROVIDERS,
    app_settings_environment,
    build_configured_model,
)

SETTINGS = {
    "LLM_MODEL": "test-model",
    "LLM_TEMPERATURE": "0.25",
    "LLM_MAX_TOKENS": "123",
    "LLM_TIMEOUT_SECONDS": "17.0",
    "LLM_MAX_RETRIES": "0",
}
"""The common settings, given in the environment."""
VALUES = {
    "LLM_MODEL": "test-model",
    "LLM_TEMPERATURE": 0.25,
    "LLM_MAX_TOKENS": 123,
    "LLM_TIMEOUT_SECONDS": 17.0,
    "LLM_MAX_RETRIES": 0,
}
"""What each common setting becomes in the Settings class."""
API_KEY = "test-key-not-real"
PROVIDER_SETTINGS = {
    "AZURE_OPENAI_ENDPOINT": "https://test-resource.openai.azure.com",
    "AZURE_OPENAI_DEPLOYMENT": "test-deployment",
    "OPENAI_API_VERSION": "2024-10-21",
    "OLLAMA_HOST": "http://127.0.0.1:9",
    "OPENAI_COMPATIBLE_BASE_URL": "http://127.0.0.1:9/v1",
}
"""A value for every provider setting that a follow-up question of the table keeps (a new
one must be added here: expected() fails on a source it does not know)."""

CLIENT_VARIABLES = {name for p in PROVIDERS.values() for name in p["extra_settings"]} | {
    "ANTHROPIC_API_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "GEMINI_API_KEY",
    "OPENAI_API_BASE",
    "GROQ_API_BASE",
    "LANGSMITH_GATEWAY",
}
"""Variables the clients read themselves: the developer's own must not change a build."""

WITH_A_CLIENT = [name for name, provider in PROVIDERS.items() if provider["module"]]


def expected(source: dict[str, Any]) -> Any:
    """What a constructor argument is given, by its source in the table's `arguments`:
    {setting: NAME}, {api_key: true}, {value: V} or {dict: {...}}."""
    if "api_key" in source:
        return API_KEY
    if "value" in source:
        return source["value"]
    if "dict" in source:
        return {key: expected(item) for key, item in source["dict"].items()}
    name = source["setting"]
    assert name in VALUES | PROVIDER_SETTINGS, f"no test value for the setting {name!r}"
    return (VALUES | PROVIDER_SETTINGS)[name]


def given(model: Any, keyword: str) -> Any:
    """The value a pydantic chat model holds for a constructor keyword (name or alias)."""
    for name, info in type(model).model_fields.items():
        if keyword in (name, info.alias):
            value = getattr(model, name)
            return value.get_secret_value() if hasattr(value, "get_secret_value") else value
    raise AssertionError(f"{type(model).__name__} has no field {keyword!r}")


@pytest.mark.parametrize("name", WITH_A_CLIENT)
def test_model_is_built_with_every_argument_of_the_table(rendered, name: str) -> None:
    provider = PROVIDERS[name]
    project = rendered(f"provider-{name}")
    environment = {"LLM_PROVIDER": name, **SETTINGS, **PROVIDER_SETTINGS}

    with app_settings_environment(**environment) as patch:
        for variable in CLIENT_VARIABLES - environment.keys():
            patch.delenv(variable, raising=False)
        model = build_configured_model(project, API_KEY)

    assert type(model).__name__ == provider["class"]
    assert {keyword: given(model, keyword) for keyword in provider["arguments"]} == {
        keyword: expected(source) for keyword, source in provider["arguments"].items()
    }
