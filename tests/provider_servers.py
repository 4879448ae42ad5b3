"""A small HTTP server on 127.0.0.1 that speaks each model provider's streaming API.

The real client libraries talk to it instead of the provider. It records every request
and streams canned replies in the provider's own format:

- OpenAI chat completions as server-sent events (OpenAI, Azure OpenAI's deployment URLs,
  Groq, Mistral and any OpenAI-compatible server share it),
- Anthropic's messages events,
- Gemini's streamGenerateContent with alt=sse,
- Ollama's /api/chat as newline-delimited JSON.

Each wire format also reads back what the client sent as one `Conversation`, so that
tests assert the same things for every provider.

Used by benchmarks/loopback_openai.py, the model of benchmarks/long_chats.py (which
tests/test_benchmark.py runs): only its OpenAI wire format so far.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names in lower case."""
    body: Any


@dataclass(frozen=True)
class Conversation:
    """What a chat request asked, in the same terms for every provider."""

    model: str
    system: str
    turns: list[tuple[str, str]]
    """(role, text) of every message after the system prompt; roles are user/assistant."""
    api_key: str | None
    streamed: bool
    temperature: float | None
    max_tokens: int | None


def text_of(content: Any) -> str:
    """The text of a message content: a string, or a list of parts with text."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def bearer_token(request: RecordedRequest) -> str | None:
    """The token of an "Authorization: Bearer ..." header, if there is one."""
    authorization = request.headers.get("authorization", "")
    return authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None


def sse(events: Iterator[tuple[str | None, Any]]) -> Iterator[bytes]:
    """Server-sent events; a payload that is not a string is sent as JSON."""
    for name, payload in events:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        yield (f"event: {name}\n" if name else "").encode() + f"data: {data}\n\n".encode()


def words(text: str) -> list[str]:
    """The reply in chunks of one word each (with its space), as models stream."""
    pieces = text.split(" ")
    return [piece + " " for piece in pieces[:-1]] + [pieces[-1]]


class WireFormat:
    """One provider API: which paths it serves, how it streams, how to read a request."""

    content_type = "text/event-stream"

    def serves(self, path: str) -> bool:
        raise NotImplementedError

    def stream(self, request: RecordedRequest, reply: str) -> Iterator[bytes]:
        raise NotImplementedError

    def conversation(self, request: RecordedRequest) -> Conversation:
        raise NotImplementedError


class OpenAIChatCompletions(WireFormat):
    """POST .../chat/completions with "stream": true; Azure puts the deployment in the path."""

    def serves(self, path: str) -> bool:
        return path.endswith("/chat/completions")

    def stream(self, request: RecordedRequest, reply: str) -> Iterator[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-loopback",
                "object": "chat.completion.chunk",
                "created": 1700000000,
                "model": request.body.get("model") or "loopback",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        def events() -> Iterator[tuple[str | None, Any]]:
            yield None, chunk({"role": "assistant", "content": ""})
            for piece in words(reply):
                yield None, chunk({"content": piece})
            yield None, chunk({}, "stop")
            if (request.body.get("stream_options") or {}).get("include_usage"):
                # What OpenAI sends when asked: a last chunk with no choices.
                usage = {"prompt_tokens": 10, "completion_tokens": len(words(reply))}
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                yield None, {**chunk({}), "choices": [], "usage": usage}
            yield None, "[DONE]"

        return sse(events())

    def conversation(self, request: RecordedRequest) -> Conversation:
        body = request.body
        messages = body["messages"]
        assert messages[0]["role"] == "system", messages[0]
        # Azure names the deployment in the path rather than the model in the body.
        _, _, deployment_path = request.path.partition("/deployments/")
        return Conversation(
            model=deployment_path.split("/")[0] if deployment_path else body["model"],
            system=text_of(messages[0]["content"]),
            turns=[(m["role"], text_of(m["content"])) for m in messages[1:]],
            api_key=request.headers.get("api-key") or bearer_token(request),
            streamed=body.get("stream") is True,
            temperature=body.get("temperature"),
            max_tokens=body.get("max_completion_tokens", body.get("max_tokens")),
        )


class AnthropicMessages(WireFormat):
    """POST /v1/messages with "stream": true: message_start ... message_stop events."""

    def serves(self, path: str) -> bool:
        return path.endswith("/v1/messages")

    def stream(self, request: RecordedRequest, reply: str) -> Iterator[bytes]:
        def events() -> Iterator[tuple[str | None, Any]]:
            yield (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_loopback",
                        "type": "message",
                        "role": "assistant",
                        "model": request.body["model"],
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 10, "output_tokens": 1},
                    },
                },
            )
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            yield "ping", {"type": "ping"}
            for piece in words(reply):
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
            yield "content_block_stop", {"type": "content_block_stop", "index": 0}
            yield (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": len(words(reply))},
                },
            )
            yield "message_stop", {"type": "message_stop"}

        return sse(events())

    def conversation(self, request: RecordedRequest) -> Conversation:
        body = request.body
        return Conversation(
            model=body["model"],
            system=text_of(body.get("system", "")),
            turns=[(m["role"], text_of(m["content"])) for m in body["messages"]],
            # anthropic 2.x sends the key as a bearer token; older releases as x-api-key.
            api_key=request.headers.get("x-api-key") or bearer_token(request),
            streamed=body.get("stream") is True,
            temperature=body.get("temperature"),
            max_tokens=body.get("max_tokens"),
        )


class GeminiStreamGenerateContent(WireFormat):
    """POST /{version}/models/{model}:streamGenerateContent?alt=sse."""

    def serves(self, path: str) -> bool:
        return path.endswith(":streamGenerateContent")

    def stream(self, request: RecordedRequest, reply: str) -> Iterator[bytes]:
        def candidate(text: str, finish: str | None = None) -> dict[str, Any]:
            chosen: dict[str, Any] = {
                "content": {"role": "model", "parts": [{"text": text}]},
                "index": 0,
            }
            if finish:
                chosen["finishReason"] = finish
            return {
                "candidates": [chosen],
                "usageMetadata": {
                    "promptTokenCount": 10,
                    "candidatesTokenCount": 5,
                    "totalTokenCount": 15,
                },
                "modelVersion": "loopback",
            }

        def events() -> Iterator[tuple[str | None, Any]]:
            pieces = words(reply)
            for piece in pieces[:-1]:
                yield None, candidate(piece)
            yield None, candidate(pieces[-1], "STOP")

        return sse(events())

    def conversation(self, request: RecordedRequest) -> Conversation:
        body = request.body
        model = request.path.rsplit("/models/", 1)[1].removesuffix(":streamGenerateContent")
        system = body.get("systemInstruction") or body.get("system_instruction") or {}
        roles = {"user": "user", "model": "assistant"}
        config = body.get("generationConfig") or body.get("generation_config") or {}
        return Conversation(
            model=model,
            system=text_of(system.get("parts", [])),
            turns=[(roles[c["role"]], text_of(c["parts"])) for c in body["contents"]],
            api_key=request.headers.get("x-goog-api-key"),
            streamed=request.query.get("alt") == ["sse"],
            temperature=config.get("temperature"),
            max_tokens=config.get("maxOutputTokens", config.get("max_output_tokens")),
        )


class OllamaChat(WireFormat):
    """POST /api/chat: one JSON object per line, the last with "done": true."""

    content_type = "application/x-ndjson"

    def serves(self, path: str) -> bool:
        return path == "/api/chat"

    def stream(self, request: RecordedRequest, reply: str) -> Iterator[bytes]:
        model = request.body["model"]
        created = "2026-01-01T00:00:00Z"
        for piece in words(reply):
            message = {"role": "assistant", "content": piece}
            line = {"model": model, "created_at": created, "message": message, "done": False}
            yield json.dumps(line).encode() + b"\n"
        last = {
            "model": model,
            "created_at": created,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 1000,
            "load_duration": 10,
            "prompt_eval_count": 10,
            "prompt_eval_duration": 100,
            "eval_count": 5,
            "eval_duration": 100,
        }
        yield json.dumps(last).encode() + b"\n"

    def conversation(self, request: RecordedRequest) -> Conversation:
        body = request.body
        messages = body["messages"]
        assert messages[0]["role"] == "system", messages[0]
        options = body.get("options") or {}
        return Conversation(
            model=body["model"],
            system=messages[0]["content"],
            turns=[(m["role"], m["content"]) for m in messages[1:]],
            api_key=bearer_token(request),
            streamed=body.get("stream", True) is True,
            temperature=options.get("temperature"),
            max_tokens=options.get("num_predict"),
        )


WIRE_FORMATS: dict[str, WireFormat] = {
    "openai-chat-completions": OpenAIChatCompletions(),
    "anthropic-messages": AnthropicMessages(),
    "gemini-stream-generate-content": GeminiStreamGenerateContent(),
    "ollama-chat": OllamaChat(),
}


class QuietServer(ThreadingHTTPServer):
    """Says nothing when a client hangs up mid-request (a client closing a kept-alive
    connection); any other error is printed as usual."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class ProviderServer:
    """A ThreadingHTTPServer on 127.0.0.1 in a thread, speaking every wire format.

    Chat requests get the next of `replies`; every request is recorded with the name of
    the wire format that served it (None for a path no format serves, answered 404).
    """

    replies: list[str]
    requests: list[tuple[str | None, RecordedRequest]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def conversations(self, wire_format: str) -> list[Conversation]:
        """What each chat request served in this wire format asked, in order."""
        served = WIRE_FORMATS[wire_format]
        return [served.conversation(r) for name, r in self.requests if name == wire_format]

    def _respond(self, request: RecordedRequest) -> tuple[int, str, Iterator[bytes]]:
        for name, wire_format in WIRE_FORMATS.items():
            if request.method == "POST" and wire_format.serves(request.path):
                with self._lock:
                    self.requests.append((name, request))
                    reply = self.replies.pop(0) if self.replies else "No more replies."
                return 200, wire_format.content_type, wire_format.stream(request, reply)
        with self._lock:
            self.requests.append((None, request))
        message = json.dumps({"error": {"message": f"no route for {request.path}"}})
        return 404, "application/json", iter([message.encode()])

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads the recorded requests instead."""

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=json.loads(raw) if raw else None,
                )
                status, content_type, chunks = server._respond(request)
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for chunk in chunks:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler
