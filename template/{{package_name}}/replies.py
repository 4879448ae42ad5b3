"""When a streamed reply counts as finished, and how an unfinished one is kept.

A reply is finished when the model says so: its provider sends a finish reason
(`finish_reason` for OpenAI, Mistral, Groq and Google, `stop_reason` for Anthropic,
`done_reason` for Ollama) on the last chunk of the stream, and the reply has text. A
stream that just ends, without that word, was cut off (a dropped connection, a proxy
timeout); a reply that ran into LLM_MAX_TOKENS is truncated. A model of your own, like
the offline one, marks its last chunk with `response_metadata={"finish_reason": "stop"}`.

An unfinished reply is still stored, so that the page shows it after a reload, but marked
in its metadata, and never sent back to the model as if it were an answer.
Both history wirings (session state and LangGraph) use these functions.
"""

from __future__ import annotations

from collections.abc import Iterable

from langchain_core.messages import AIMessage, BaseMessage

UNFINISHED = "unfinished"
"""response_metadata key of a stored reply that did not finish; its value says why."""

STOPPED = "stopped"
"""The user pressed Stop while the reply streamed."""
CUT_OFF = "cut_off"
"""The stream ended without the model's finish reason."""
TOO_LONG = "length"
"""The model stopped at its token limit (LLM_MAX_TOKENS): the reply is truncated."""
EMPTY = "empty"
"""The model finished without a word of text."""

FINISH_REASON_KEYS = ("finish_reason", "stop_reason", "done_reason")
TRUNCATED_REASONS = frozenset({"length", "max_tokens"})


def finish_reason(message: BaseMessage) -> str | None:
    """The provider's finish reason in a message or chunk, if it has one."""
    for key in FINISH_REASON_KEYS:
        if reason := message.response_metadata.get(key):
            return str(reason)
    return None


def why_unfinished(text: str, reason: str | None) -> str | None:
    """None for a reply that finished normally; otherwise CUT_OFF, TOO_LONG or EMPTY."""
    if reason is None:
        return CUT_OFF
    if reason.lower() in TRUNCATED_REASONS:
        return TOO_LONG
    if not text.strip():
        return EMPTY
    return None


def unfinished_reply(text: str, why: str) -> AIMessage:
    """A reply to keep although it did not finish: `why` is STOPPED, CUT_OFF... or a message."""
    return AIMessage(content=text, response_metadata={UNFINISHED: why})


def is_unfinished(message: BaseMessage) -> bool:
    return UNFINISHED in message.response_metadata


def sendable(messages: Iterable[BaseMessage]) -> list[BaseMessage]:
    """The stored messages the model may be sent again: all but unfinished replies."""
    return [message for message in messages if not is_unfinished(message)]
