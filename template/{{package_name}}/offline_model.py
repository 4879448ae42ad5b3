"""A chat model that needs no key and no network: the app runs before you have a key.

It answers deterministically from what it was sent and streams its reply word by word,
so it exercises the same path as a real provider: prompt, history, streaming, storage.
Like a real provider it reports the tokens it read and wrote (LangChain's approximate
count: about four characters a token), so that the usage a page shows is never empty.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

FINISHED = {"finish_reason": "stop"}
"""The metadata of the last chunk: the reply ended normally (as OpenAI-style APIs say it)."""
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


def offline_usage(messages: list[BaseMessage], reply: str) -> UsageMetadata:
    """The tokens the offline model reports for a reply: approximate counts."""
    read = count_tokens_approximately(messages)
    written = count_tokens_approximately([AIMessage(content=reply)])
    return {"input_tokens": read, "output_tokens": written, "total_tokens": read + written}


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
        text = offline_reply(messages)
        usage = offline_usage(messages, text)
        message = AIMessage(content=text, response_metadata=FINISHED, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text = offline_reply(messages)
        for word in re.findall(r"\S+\s*|\s+", text):
            time.sleep(self.seconds_per_word)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=word))
            if run_manager:
                run_manager.on_llm_new_token(word, chunk=chunk)
            yield chunk
        # Like a real provider, say that the reply is complete (the app stores only
        # those), and how many tokens it took.
        usage = offline_usage(messages, text)
        end = AIMessageChunk(content="", response_metadata=FINISHED, usage_metadata=usage)
        yield ChatGenerationChunk(message=end)
