"""A chat model that needs no key and no network: the app runs before you have a key.

It answers deterministically from what it was sent and streams its reply word by word,
so it exercises the same path as a real provider: prompt, history, streaming, storage.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

OFFLINE_MODEL_NAME = "offline-echo"
"""The name the offline model goes by (the sidebar shows it)."""


def offline_reply(messages: list[BaseMessage]) -> str:
    """The offline model's answer to a conversation: an echo that shows what it saw."""
    question = messages[-1].text if messages else ""
    earlier_turns = sum(1 for message in messages[:-1] if message.type in ("human", "ai"))
    return (
        f"You said: {question}\n\n"
        f"I am the offline demo model, so I only echo. I was sent the system prompt "
        f"and {earlier_turns} earlier messages of this chat. Set LLM_PROVIDER and your "
        f"API key to talk to a real model."
    )


class OfflineChatModel(BaseChatModel):
    """Deterministic, streaming, offline: for first runs, demos and tests."""

    model_name: str = OFFLINE_MODEL_NAME
    seconds_per_word: float = 0.01
    """Pause between streamed words, so that streaming is visible in the browser."""

    @property
    def _llm_type(self) -> str:
        return "offline-echo"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = AIMessage(
            content=offline_reply(messages), response_metadata={"finish_reason": "stop"}
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for word in re.findall(r"\S+\s*|\s+", offline_reply(messages)):
            time.sleep(self.seconds_per_word)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=word))
            if run_manager:
                run_manager.on_llm_new_token(word, chunk=chunk)
            yield chunk
        # The last chunk says that the reply is complete, as a provider's does.
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", response_metadata={"finish_reason": "stop"})
        )
