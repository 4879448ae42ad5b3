"""Readable messages for a model call that failed, instead of a traceback."""

from __future__ import annotations

# Exception class names shared by the official SDKs (openai, anthropic, groq, mistral...),
# matched by name so that this module needs none of them installed.
MESSAGES_BY_ERROR_NAME = {
    "AuthenticationError": "The provider rejected the API key. Check the key you configured.",
    "PermissionDeniedError": "The API key may not use this model. Check LLM_MODEL and the key.",
    "NotFoundError": "The provider does not know this model. Check LLM_MODEL.",
    "RateLimitError": "The provider is rate limiting this app. Wait a moment and ask again.",
    "APITimeoutError": "No answer in time. Ask again, or raise LLM_TIMEOUT_SECONDS.",
    "APIConnectionError": "The provider could not be reached. Check the network and base URL.",
    "InternalServerError": "The provider had an internal error. Ask again in a moment.",
}


def describe_model_error(error: BaseException) -> str:
    """One or two sentences for the chat: what went wrong and what to do about it."""
    for error_class in type(error).__mro__:
        if message := MESSAGES_BY_ERROR_NAME.get(error_class.__name__):
            return message
    return f"The model could not answer ({type(error).__name__}: {error}). Ask again."
