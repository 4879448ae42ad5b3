"""Readable messages for a model call that failed, instead of a traceback.

A provider's own error text (an HTTP 400 body, an error event inside a stream) is
untrusted like the model's replies: it is shown as plain text, never as Markdown.
"""

from __future__ import annotations

import re

import streamlit as st

from .replies import STOPPED_BEFORE_ANY_TEXT
from .reply import NOTICES
from .safe_drawing import show_error

# Exception class names shared by the official SDKs (openai, anthropic, groq, mistral...),
# by httpx underneath them, and by langchain-core's own error classes (ModelError...),
# matched by name so that this module needs none of them installed.
MESSAGES_BY_ERROR_NAME = {
    "AuthenticationError": "The provider rejected the API key. Check the key in "
    ".streamlit/secrets.toml, the environment or the sidebar, then ask again.",
    "PermissionDeniedError": "The API key may not use this model. Check LLM_MODEL and the key.",
    "NotFoundError": "The provider does not know this model. Check LLM_MODEL.",
    "RateLimitError": "The provider is rate limiting this app (too many requests, or no "
    "quota left). Wait a minute, then ask again.",
    "APITimeoutError": "No answer within LLM_TIMEOUT_SECONDS. Ask again, or raise "
    "LLM_TIMEOUT_SECONDS.",
    "RemoteProtocolError": "The connection broke off in the middle of the reply, so the "
    "partial reply was not kept. Ask again.",
    "APIConnectionError": "The provider could not be reached. Check the network and any "
    "base URL you configured, then ask again.",
    "InternalServerError": "The provider had an internal error, even after retrying. "
    "Ask again in a moment.",
}
MESSAGES_BY_ERROR_NAME |= {
    "ModelAuthenticationError": MESSAGES_BY_ERROR_NAME["AuthenticationError"],
    "ModelPermissionDeniedError": MESSAGES_BY_ERROR_NAME["PermissionDeniedError"],
    "ModelNotFoundError": MESSAGES_BY_ERROR_NAME["NotFoundError"],
    "ModelRateLimitError": MESSAGES_BY_ERROR_NAME["RateLimitError"],
    "ModelTimeoutError": MESSAGES_BY_ERROR_NAME["APITimeoutError"],
    "ModelConnectionError": MESSAGES_BY_ERROR_NAME["APIConnectionError"],
    "ModelAPIError": MESSAGES_BY_ERROR_NAME["InternalServerError"],
}

CONTEXT_TOO_LONG = (
    "This chat is too long for the model. Start a new chat (sidebar), or lower "
    "HISTORY_MAX_TOKENS so that fewer earlier turns are sent."
)
# Providers say it with an error code (OpenAI: context_length_exceeded), a class
# (langchain-core: ContextOverflowError) or only in words.
CONTEXT_TOO_LONG_PATTERN = re.compile(
    r"context_length_exceeded|context length|context window|prompt is too long", re.IGNORECASE
)


MODEL_FAILED = "**The model could not answer.** Ask again."
"""The title above an error this module has no sentence of its own for."""
OWN_SENTENCES = frozenset(
    {*MESSAGES_BY_ERROR_NAME.values(), CONTEXT_TOO_LONG, *NOTICES.values(), STOPPED_BEFORE_ANY_TEXT}
)
"""The explanations that are ours, drawn as they are; any other is shown as text."""


def causes(error: BaseException) -> list[BaseException]:
    """The error and what caused it, innermost cause first (the most specific)."""
    chain = [error]
    while (cause := cause_of(chain[-1])) is not None and cause not in chain:
        chain.append(cause)
    return chain[::-1]


def cause_of(error: BaseException) -> BaseException | None:
    """What Python's traceback would show as the cause of error, if anything."""
    return error.__cause__ or (None if error.__suppress_context__ else error.__context__)


def is_context_too_long(error: BaseException) -> bool:
    names = {error_class.__name__ for error_class in type(error).__mro__}
    text = f"{getattr(error, 'code', '')} {error}"
    return "ContextOverflowError" in names or bool(CONTEXT_TOO_LONG_PATTERN.search(text))


def describe_model_error(error: BaseException) -> str:
    """One or two sentences for the chat: what went wrong and what to do about it; for an
    error without a sentence of ours, its class and message (the provider's words)."""
    if any(is_context_too_long(cause) for cause in causes(error)):
        return CONTEXT_TOO_LONG
    for cause in causes(error):
        for error_class in type(cause).__mro__:
            if message := MESSAGES_BY_ERROR_NAME.get(error_class.__name__):
                return message
    return f"{type(error).__name__}: {error}"


def show_failure(explanation: str) -> None:
    """Why a question got no reply: a sentence of ours as it is, anything else (a stored
    explanation is drawn again at every rerun) as plain text under MODEL_FAILED."""
    if explanation in OWN_SENTENCES:
        st.error(explanation)
    else:
        show_error(MODEL_FAILED, explanation)
