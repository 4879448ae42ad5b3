"""An OpenAI-compatible chat-completions server on 127.0.0.1 that fails on purpose.

The generated app talks to it through the real openai client (OPENAI_BASE_URL). Each
scenario is one way a provider fails; "ok" streams a normal reply. The server counts
the requests it receives, so tests can see how often the client retried.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NORMAL_REPLY = "All good again, here is a normal answer."
PARTIAL_REPLY = "This reply breaks off in the"

SCENARIOS = (
    "ok",
    "unauthorized",
    "forbidden",
    "unknown_model",
    "rate_limited",
    "server_error",
    "cut_stream",
    "context_length",
    "slow",
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

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        scenario = self.server.record(json.loads(body or b"{}"), self.headers.get("Authorization"))
        if scenario == "slow":
            self.server.stopping.wait(self.server.slow_seconds)
            self.close_connection = True
            return
        if scenario in ERRORS:
            status, headers, payload = ERRORS[scenario]
            self.send_json(status, payload, headers)
            return
        self.stream_reply(cut=scenario == "cut_stream")

    def send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def stream_reply(self, cut: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        text = PARTIAL_REPLY if cut else NORMAL_REPLY
        self.send_event(chunk({"role": "assistant", "content": ""}))
        for word in re.findall(r"\S+\s*", text):
            self.send_event(chunk({"content": word}))
        if cut:
            # Half an event and no end of the chunked body: the connection just drops.
            self.wfile.write(b'40\r\ndata: {"id"')
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_event(chunk({}, finish_reason="stop"))
        self.send_event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")

    def send_event(self, data: dict[str, Any] | str) -> None:
        line = data if isinstance(data, str) else json.dumps(data)
        event = f"data: {line}\n\n".encode()
        self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
        self.wfile.flush()


class FaultyServer(ThreadingHTTPServer):
    """The server; set .scenario before a request, read .requests after it."""

    daemon_threads = True

    def __init__(self, scenario: str = "ok", port: int = 0, slow_seconds: float = 5.0) -> None:
        super().__init__(("127.0.0.1", port), FaultyHandler)
        self.scenario = scenario
        self.slow_seconds = slow_seconds
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        """The Authorization header of each request: which API key the client sent."""
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

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

    def switch(self, scenario: str) -> None:
        """Answer the next requests with this scenario, counting afresh."""
        assert scenario in SCENARIOS, scenario
        with self._lock:
            self.scenario = scenario
            self.requests.clear()

    def __enter__(self) -> FaultyServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


if __name__ == "__main__":  # try it by hand: python tests/faulty_server.py
    with FaultyServer() as server:
        print(f"OPENAI_BASE_URL={server.base_url}")
        while True:
            time.sleep(3600)
