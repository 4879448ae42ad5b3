"""Fake chat models that record what they were sent, for tests of the wiring."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field


def token_chunk(
    text: str,
    run_manager: CallbackManagerForLLMRun | None,
    metadata: dict[str, Any] | None = None,
) -> ChatGenerationChunk:
    """One chunk of a streamed reply, reported to the callbacks as a new token, as a
    provider's client does (this is what LangGraph streams and what HangUp listens to)."""
    chunk = ChatGenerationChunk(
        message=AIMessageChunk(content=text, response_metadata=metadata or {})
    )
    if run_manager:
        run_manager.on_llm_new_token(text, chunk=chunk)
    return chunk


class RecordingChatModel(GenericFakeChatModel):
    """Streams canned replies word by word, then their metadata (the finish reason) as a
    last chunk, as providers do; records the messages of every call."""

    received: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.received.append(list(messages))
        return super()._generate(messages, *args, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        result = self._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        message = result.generations[0].message
        for word in re.findall(r"\S+\s*|\s+", message.text):
            yield token_chunk(word, run_manager)
        if message.response_metadata:
            last = AIMessageChunk(content="", response_metadata=dict(message.response_metadata))
            yield ChatGenerationChunk(message=last)


def recording_model(*replies: str, finish_reason: str | None = "stop") -> RecordingChatModel:
    """A recording model that answers with these replies, in order, each ending with this
    finish reason (None: the stream just ends, like a connection closed early)."""
    metadata = {"finish_reason": finish_reason} if finish_reason else {}
    return RecordingChatModel(
        messages=iter(AIMessage(content=reply, response_metadata=metadata) for reply in replies)
    )


class StopPressedChatModel(RecordingChatModel):
    """Streams `words_before_stop` words of its reply, then raises what Streamlit raises
    at the next st.* call when the user presses Stop: the run ends there."""

    words_before_stop: int = 3

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        from streamlit.runtime.scriptrunner_utils.exceptions import StopException

        for number, chunk in enumerate(super()._stream(*args, **kwargs)):
            if number == self.words_before_stop:
                raise StopException
            yield chunk


class ScriptedChatModel(BaseChatModel):
    """Streams its replies word by word, like a provider, and records what it was sent.

    finish_reason goes on the last chunk (None: the stream just ends); a model with
    fail_after_words raises after streaming that many words.
    """

    replies: list[str] = Field(default_factory=lambda: ["the answer"])
    finish_reason: str | None = "stop"
    fail_after_words: int | None = None
    seconds_per_word: float = 0.0
    received: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, *args, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.received.append(list(messages))
        reply = self.replies[(len(self.received) - 1) % len(self.replies)]
        for number, word in enumerate(reply.split(" ")):
            if number == self.fail_after_words:
                raise ConnectionError("the connection to the model was lost")
            time.sleep(self.seconds_per_word)
            yield token_chunk(word if number == 0 else f" {word}", run_manager)
        if self.finish_reason is not None:
            yield token_chunk("", run_manager, {"finish_reason": self.finish_reason})
