"""The benchmark's model: an OpenAI-compatible server on 127.0.0.1, in its own process.

It is tests/provider_servers.py's ProviderServer with the OpenAI chat-completions wire
format, plus two things the benchmark needs:

- a non-streamed answer (one JSON completion) for clients that call `invoke`, as the
  documented app does; streamed requests get the usual server-sent events;
- GET /stats: what the last chat request sent (messages and characters), instead of
  keeping every request: at 5,000 exchanges each request is megabytes.

It runs in a process of its own so that parsing a large request is not counted as the
app's time, as with a real provider. Prints its base URL (for OPENAI_BASE_URL) on the
first line of stdout, then serves until stdin closes.

    python benchmarks/loopback_openai.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from provider_servers import (  # noqa: E402
    OpenAIChatCompletions,
    ProviderServer,
    RecordedRequest,
    text_of,
)

REPLY = (
    "Here is a considered answer of about sixty words, the length of every stored message "
    "in this benchmark. It says nothing new, which is fine for a benchmark: what matters is "
    "how much text the app keeps, draws and sends on each turn, and how long it takes to "
    "do so as the chat grows from a few exchanges to several thousand of them."
)
"""The reply to every question: about sixty words, like the seeded messages."""


class LoopbackOpenAI(ProviderServer):
    """Answers every chat completion with REPLY, streamed or not; GET /stats reports."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.stats: dict[str, Any] = {"requests": 0, "messages": 0, "chars": 0, "streamed": None}

    def _respond(self, request: RecordedRequest) -> tuple[int, str, Iterator[bytes]]:
        wire_format = OpenAIChatCompletions()
        if request.method == "POST" and wire_format.serves(request.path):
            messages = request.body["messages"]
            streamed = request.body.get("stream") is True
            with self._lock:
                self.stats = {
                    "requests": self.stats["requests"] + 1,
                    "messages": len(messages),
                    "chars": sum(len(text_of(m.get("content") or "")) for m in messages),
                    "streamed": streamed,
                }
            if streamed:
                return 200, wire_format.content_type, wire_format.stream(request, REPLY)
            return 200, "application/json", iter([json.dumps(completion(request)).encode()])
        if request.method == "GET" and request.path == "/stats":
            with self._lock:
                return 200, "application/json", iter([json.dumps(self.stats).encode()])
        message = json.dumps({"error": {"message": f"no route for {request.path}"}})
        return 404, "application/json", iter([message.encode()])


def completion(request: RecordedRequest) -> dict[str, Any]:
    """A non-streamed chat completion answering REPLY."""
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": 1700000000,
        "model": request.body.get("model") or "loopback",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REPLY},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 60, "total_tokens": 70},
    }


if __name__ == "__main__":
    with LoopbackOpenAI(replies=[]) as server:
        print(f"{server.url}/v1", flush=True)
        sys.stdin.read()  # serve until the benchmark closes our stdin (or exits)
