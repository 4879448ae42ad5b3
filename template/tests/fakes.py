"""A fake chat model that records what it was sent, for tests of the wiring."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field


class RecordingChatModel(GenericFakeChatModel):
    """Streams canned replies word by word and records the messages of every call."""

    received: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.received.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def recording_model(*replies: str) -> RecordingChatModel:
    """A recording model that answers with these replies, in order."""
    return RecordingChatModel(messages=iter(AIMessage(content=reply) for reply in replies))
