"""Settings of the app: app_settings.toml, overridden by st.secrets and the environment.

Each setting has one name, used alike in app_settings.toml, .streamlit/secrets.toml and
the environment. The environment wins, then secrets.toml, then app_settings.toml.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = PROJECT_ROOT / "app_settings.toml"
SYSTEM_PROMPT_FILE = PROJECT_ROOT / "system_prompt.md"

SETTING_NAMES = (
    "APP_TITLE",
    "APP_GREETING",
    "LLM_PROVIDER",
    "LLM_MODEL",
    "LLM_TEMPERATURE",
    "LLM_MAX_TOKENS",
    "LLM_TIMEOUT_SECONDS",
    "LLM_MAX_RETRIES",
    "HISTORY_MAX_TOKENS",
)
"""Every setting of app_settings.toml, each overridable by st.secrets or the environment."""


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know to build its model and draw its page."""

    title: str
    greeting: str
    provider: str
    model: str
    temperature: float
    max_tokens: int | None
    timeout_seconds: float
    max_retries: int
    history_max_tokens: int
    system_prompt: str = field(repr=False)
    provider_settings: dict[str, str | None] = field(default_factory=dict)
    """The provider's own settings (e.g. its base URL) by name; None when unset."""


def read_secret(name: str) -> Any | None:
    """Return st.secrets[name], or None when it or the whole secrets file is missing."""
    try:
        return st.secrets.get(name)
    except StreamlitSecretNotFoundError:
        return None


def read_setting(name: str, file_values: dict[str, Any]) -> Any | None:
    """Return a setting from the environment, st.secrets or app_settings.toml, in that order."""
    if os.environ.get(name):
        return os.environ[name]
    secret = read_secret(name)
    if secret not in (None, ""):
        return secret
    return file_values.get(name)


def read_optional_setting(name: str, file_values: dict[str, Any]) -> str | None:
    """Return a setting that may be left unset, or None when it is missing or empty."""
    value = read_setting(name, file_values)
    if value is None:
        return None
    return str(value).strip() or None


def _number(name: str, value: Any, kind: type[int] | type[float], minimum: float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be a number, got {value!r}.") from None
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value!r}.")
    return number


def read_system_prompt(path: Path = SYSTEM_PROMPT_FILE) -> str:
    """Return the system prompt exactly as written, less the file's final newline."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"The system prompt file {path.name} is missing.") from None
    return text.removesuffix("\n")


def load_settings(
    settings_file: Path = SETTINGS_FILE, provider_setting_names: Sequence[str] = ()
) -> Settings:
    """Read every setting; raise SettingsError with a readable message when one is wrong.

    provider_setting_names are read the same way; they may be unset.
    """
    try:
        file_values = tomllib.loads(settings_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"The settings file {settings_file.name} is missing.") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{settings_file.name} is not valid TOML: {error}.") from None

    def setting(name: str) -> Any:
        value = read_setting(name, file_values)
        if value is None:
            raise SettingsError(f"{name} is not set: add it to {settings_file.name}.")
        return value

    max_tokens = _number("LLM_MAX_TOKENS", setting("LLM_MAX_TOKENS"), int, 0)
    return Settings(
        title=str(setting("APP_TITLE")),
        greeting=str(setting("APP_GREETING")),
        provider=str(setting("LLM_PROVIDER")).strip().lower(),
        model=str(setting("LLM_MODEL")).strip(),
        temperature=_number("LLM_TEMPERATURE", setting("LLM_TEMPERATURE"), float, 0),
        max_tokens=max_tokens or None,
        timeout_seconds=_number("LLM_TIMEOUT_SECONDS", setting("LLM_TIMEOUT_SECONDS"), float, 1),
        max_retries=_number("LLM_MAX_RETRIES", setting("LLM_MAX_RETRIES"), int, 0),
        history_max_tokens=_number("HISTORY_MAX_TOKENS", setting("HISTORY_MAX_TOKENS"), int, 100),
        system_prompt=read_system_prompt(),
        provider_settings={
            name: read_optional_setting(name, file_values) for name in provider_setting_names
        },
    )
