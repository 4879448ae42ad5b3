"""An OpenAI-compatible chat-completions server on 127.0.0.1 that fails on purpose.

The generated app talks to it through the real openai client (OPENAI_BASE_URL). Each
scenario is one way a provider fails or a stream ends: an HTTP error (ERRORS), a streamed
reply (STREAMS), or "slow" (no answer at all); "ok" streams a normal reply. The server
counts the requests it receives, so tests can see how often the client retried, and the
GET /leak requests, so browser tests can see whether a remote image was fetched.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

NORMAL_REPLY = "All good again, here is a normal answer."
PARTIAL_REPLY = "This reply breaks off in the"
CLOSED_REPLY = "This reply ends without saying why"
LENGTH_REPLY = "This reply runs until the token limit stops"
FILTERED_REPLY = "This reply was stopped by the"
WHITESPACE_REPLY = "  \n "
TRICKLE_PIECE = "drip "
SLOW_REPLY = " ".join(f"word{number}" for number in range(50)) + " done."
"""Streamed over about 10 seconds: long enough to press Stop in a browser."""
LONG_REPLY_END = "END OF THE LONG REPLY."
USAGE = {"prompt_tokens": 1234, "completion_tokens": 56, "total_tokens": 1290}
"""The usage reported after a complete reply, to a client that asks for it in the stream
(stream_options.include_usage), as OpenAI's API does."""


def long_reply(size: int = 200_000) -> str:
    """About `size` characters of numbered lines, ending with LONG_REPLY_END."""
    line = "Line {:05d}: the quick brown fox jumps over the lazy dog.\n"
    count = (size - len(LONG_REPLY_END)) // len(line.format(0))
    return "".join(line.format(number) for number in range(count)) + LONG_REPLY_END


LONG_REPLY = long_reply()


def remote_image_reply(port: int) -> str:
    """Hostile Markdown: an image that leaks to /leak, live-looking links and huge LaTeX."""
    return (
        f"Here is an image: ![x](http://127.0.0.1:{port}/leak?q=secret)\n\n"
        "A [click](javascript:alert(1)) link and a "
        "[data](data:text/html,<script>alert(1)</script>) link.\n\n"
        "Math: $\\rule{9999px}{9999px}$ done."
    )


def openai_error(message: str, kind: str, code: str | None) -> dict[str, Any]:
    """An error body shaped like OpenAI's."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


ERRORS: dict[str, tuple[int, dict[str, str], dict[str, Any]]] = {
    "unauthorized": (
        401,
        {},
        openai_error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    ),
    "forbidden": (
        403,
        {},
        openai_error("You are not allowed to use this model.", "invalid_request_error", None),
    ),
    "unknown_model": (
        404,
        {},
        openai_error("The model `gpt-0` does not exist.", "invalid_request_error", "not_found"),
    ),
    "rate_limited": (
        429,
        {"Retry-After": "1"},
        openai_error("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    ),
    "server_error": (
        500,
        {},
        openai_error("The server had an error processing your request.", "server_error", None),
    ),
    "context_length": (
        400,
        {},
        openai_error(
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 130000 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
        ),
    ),
}
"""Status, extra headers and body of each scenario answered with an HTTP error."""


Ending = Literal["done", "cut", "close"]
"""How a streamed body ends: "done" a finish reason, `data: [DONE]` and the end of the chunked
body; "cut" half an event, then the connection drops; "close" (HTTP/1.0, no chunking) the
connection simply closes after the last piece, with neither finish reason nor [DONE]."""


@dataclass(frozen=True)
class Stream:
    """A scenario answered with a 200 and a streamed reply."""

    pieces: Callable[[FaultyServer], Iterable[str]]
    """The reply's content, piece by piece (one event each)."""
    finish_reason: str | None = "stop"
    ending: Ending = "done"
    seconds_per_piece: float = 0.0


def words(text: str) -> Callable[[FaultyServer], list[str]]:
    return lambda server: re.findall(r"\s*\S+\s*", text)


def pieces_of(text: str, sizes: tuple[int, ...] = (4, 7, 10, 5, 9, 6, 8)) -> list[str]:
    """The text in small pieces of 4 to 10 characters."""
    pieces, start = [], 0
    for size in itertools.cycle(sizes):
        if start >= len(text):
            return pieces
        pieces.append(text[start : start + size])
        start += size
    raise AssertionError("unreachable")


def forever(piece: str) -> Callable[[FaultyServer], Iterator[str]]:
    def pieces(server: FaultyServer) -> Iterator[str]:
        while not server.stopping.is_set():
            yield piece

    return pieces


STREAMS: dict[str, Stream] = {
    "ok": Stream(words(NORMAL_REPLY)),
    "cut_stream": Stream(words(PARTIAL_REPLY), finish_reason=None, ending="cut"),
    "closed_without_finish": Stream(words(CLOSED_REPLY), finish_reason=None, ending="close"),
    "length": Stream(words(LENGTH_REPLY), finish_reason="length"),
    "content_filter": Stream(words(FILTERED_REPLY), finish_reason="content_filter"),
    "empty": Stream(lambda server: []),
    "whitespace": Stream(lambda server: [WHITESPACE_REPLY]),
    "trickle": Stream(forever(TRICKLE_PIECE), seconds_per_piece=0.2),
    "slow_stream": Stream(words(SLOW_REPLY), seconds_per_piece=0.2),
    "long_reply": Stream(lambda server: pieces_of(LONG_REPLY)),
    "remote_image": Stream(lambda server: words(remote_image_reply(server.port))(server)),
}
"""Scenarios answered with a streamed reply, each ending in its own way."""
STREAMS["chunked_cut"] = STREAMS["cut_stream"]

SCENARIOS = ("slow", *ERRORS, *STREAMS)
"""Every scenario; "slow" accepts the request and never answers."""


def chunk(delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-faulty",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


class FaultyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked streaming, so that a cut stream is detectable
    server: FaultyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the tests assert on what the app shows, not on this log."""

    def do_GET(self) -> None:  # noqa: N802
        """/leak counts what a browser fetched (a remote image must never be)."""
        if self.path.startswith("/leak"):
            self.server.count_leak(self.path)
        self.send_json(404, {}, {})

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        scenario = self.server.record(json.loads(body or b"{}"), self.headers.get("Authorization"))
        if scenario == "slow":
            self.server.stopping.wait(self.server.slow_seconds)
            self.close_connection = True
        elif scenario in ERRORS:
            status, headers, payload = ERRORS[scenario]
            self.send_json(status, payload, headers)
        else:
            asked = json.loads(body or b"{}").get("stream_options") or {}
            self.stream_reply(STREAMS[scenario], with_usage=asked.get("include_usage") is True)

    def send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def stream_reply(self, stream: Stream, with_usage: bool = False) -> None:
        chunked = stream.ending != "close"
        if not chunked:
            self.protocol_version = "HTTP/1.0"  # the body ends when the connection closes
            self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.send_event(chunk({"role": "assistant", "content": ""}), chunked)
        for piece in stream.pieces(self.server):
            if stream.seconds_per_piece:
                time.sleep(stream.seconds_per_piece)
            self.send_event(chunk({"content": piece}), chunked)
        if stream.ending == "cut":
            # Half an event and no end of the chunked body: the connection just drops.
            self.wfile.write(b'40\r\ndata: {"id"')
            self.wfile.flush()
            self.close_connection = True
        elif stream.ending == "done":
            self.send_event(chunk({}, finish_reason=stream.finish_reason), chunked)
            if with_usage:  # a last chunk with no choices, as OpenAI sends it
                self.send_event({**chunk({}), "choices": [], "usage": USAGE}, chunked)
            self.send_event("[DONE]", chunked)
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.server.streams_sent.append(time.monotonic())

    def send_event(self, data: dict[str, Any] | str, chunked: bool = True) -> None:
        line = data if isinstance(data, str) else json.dumps(data)
        event = f"data: {line}\n\n".encode()
        if chunked:
            event = f"{len(event):x}\r\n".encode() + event + b"\r\n"
        self.wfile.write(event)
        self.wfile.flush()


class FaultyServer(ThreadingHTTPServer):
    """The server; set .scenario before a request, read .requests after it."""

    daemon_threads = True

    def __init__(self, scenario: str = "ok", port: int = 0, slow_seconds: float = 5.0) -> None:
        super().__init__(("127.0.0.1", port), FaultyHandler)
        self.scenario = scenario
        self.slow_seconds = slow_seconds
        self.requests: list[dict[str, Any]] = []
        self.streams_sent: list[float] = []
        """time.monotonic() when each streamed reply was sent to its end."""
        self.leaks: list[str] = []
        """The paths of GET /leak requests: remote images a browser fetched."""
        self.authorizations: list[str | None] = []
        """The Authorization header of each request: which API key the client sent."""
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (after a timeout or a cut stream) are expected here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def record(self, request: dict[str, Any], authorization: str | None) -> str:
        """Count a request; return the scenario it is answered with."""
        with self._lock:
            self.requests.append(request)
            self.authorizations.append(authorization)
            return self.scenario

    def count_leak(self, path: str) -> None:
        with self._lock:
            self.leaks.append(path)

    def switch(self, scenario: str) -> None:
        """Answer the next requests with this scenario, counting afresh."""
        assert scenario in SCENARIOS, scenario
        with self._lock:
            self.scenario = scenario
            self.requests.clear()

    def __enter__(self) -> FaultyServer:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


if __name__ == "__main__":  # try it by hand: python tests/faulty_server.py [scenario]
    with FaultyServer(*sys.argv[1:2]) as server:
        print(f"OPENAI_BASE_URL={server.base_url}")
        while True:
            time.sleep(3600)
