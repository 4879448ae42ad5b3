"""A streamed reply: how it ended, drawing it while it streams, and drawing it safely.

The model's text is untrusted (a prompt injection in a pasted document can make it write
anything), so it is drawn through safe_drawing.py. A reply counts as complete only when
the provider says it finished; every other ending is shown with a notice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from inspect import GEN_SUSPENDED, getgeneratorstate
from typing import Any

import streamlit as st
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage

from .safe_drawing import StreamedMarkdown, draw_markdown

REDRAW_INTERVAL_SECONDS = 0.05
"""Redraw a streaming reply at most this often: each redraw sends the whole text again."""
REDRAWN_CHARACTERS_PER_SECOND = 20_000
"""And a long reply less often, so that the browser, which draws the whole text again
each time, keeps up: a 200 KB reply is redrawn every 10 s."""


class Outcome(StrEnum):
    """How a reply ended."""

    COMPLETE = "complete"
    LENGTH = "length"
    CONTENT_FILTER = "content_filter"
    CUT_OFF = "cut_off"
    EMPTY = "empty"
    TIMEOUT = "timeout"
    STOPPED = "stopped"


CHECKED_BY_THE_CHAIN = "stop"
"""The finish reason of a chain's text stream that ended without ReplyUnfinished."""

FINISH_REASON_KEYS = ("finish_reason", "stop_reason", "done_reason")
"""Where each client puts why the reply ended, in a chunk's response_metadata:
finish_reason (OpenAI, Azure, Groq, Mistral, OpenAI-compatible servers, Gemini),
stop_reason (Anthropic), done_reason (Ollama)."""

OUTCOMES_BY_FINISH_REASON = {
    # A normal end: OpenAI-style and Ollama "stop", Anthropic "end_turn" and
    # "stop_sequence", Gemini "STOP" (compared in lower case).
    "stop": Outcome.COMPLETE,
    "end_turn": Outcome.COMPLETE,
    "stop_sequence": Outcome.COMPLETE,
    # The token limit: OpenAI-style and Ollama "length", Anthropic "max_tokens", Gemini
    # "MAX_TOKENS", and the model's whole context window (Mistral, Anthropic).
    "length": Outcome.LENGTH,
    "max_tokens": Outcome.LENGTH,
    "model_length": Outcome.LENGTH,
    "model_context_window_exceeded": Outcome.LENGTH,
    # The provider's filters: OpenAI-style "content_filter", Anthropic "refusal", Gemini's
    # safety and policy reasons.
    "content_filter": Outcome.CONTENT_FILTER,
    "refusal": Outcome.CONTENT_FILTER,
    "safety": Outcome.CONTENT_FILTER,
    "prohibited_content": Outcome.CONTENT_FILTER,
    "blocklist": Outcome.CONTENT_FILTER,
    "spii": Outcome.CONTENT_FILTER,
    "recitation": Outcome.CONTENT_FILTER,
}
"""Finish reasons in lower case. Any other reason (Mistral "error", Gemini "OTHER"...)
means the reply did not end normally: it counts as cut off."""

NOTICES = {
    Outcome.LENGTH: "The reply stopped at the token limit. Raise LLM_MAX_TOKENS for longer "
    "replies, or ask for a shorter answer.",
    Outcome.CONTENT_FILTER: "The provider's content filter stopped this reply.",
    Outcome.CUT_OFF: "The reply was cut off: it ended before the provider said it was "
    "finished. Ask again.",
    Outcome.EMPTY: "The model returned no text. Ask again.",
    Outcome.TIMEOUT: "The reply took longer than LLM_TIMEOUT_SECONDS and was cut short. "
    "Ask again, or raise LLM_TIMEOUT_SECONDS.",
    Outcome.STOPPED: "You stopped this reply.",
}
"""What the page says under a reply that did not end normally."""


UNFINISHED = "unfinished"
"""The response_metadata key of a stored reply that did not end normally; its value is
the Outcome's value ("stopped", "cut_off", "length", "content_filter", "timeout")."""


class ReplyUnfinished(Exception):  # noqa: N818 (not an error: a reply that ended early)
    """Raised by the chain's last stage when a reply did not end normally, so that the
    history stores nothing by itself; the page stores it, marked."""

    def __init__(self, outcome: Outcome, finish_reason: str | None = None) -> None:
        super().__init__(f"The reply ended as {outcome.value} (finish reason {finish_reason}).")
        self.outcome = outcome
        self.finish_reason = finish_reason


def unfinished_message(text: str, outcome: Outcome, finish_reason: str | None = None) -> AIMessage:
    """How a reply that did not end normally is stored: its text, marked with its outcome
    (and, for a reply cut off, the provider's finish reason, named by its notice)."""
    metadata = {UNFINISHED: outcome.value}
    if finish_reason and outcome is Outcome.CUT_OFF:
        metadata["finish_reason"] = finish_reason
    return AIMessage(content=text, response_metadata=metadata)


def unfinished_outcome(message: BaseMessage) -> Outcome | None:
    """The outcome a stored reply is marked with; None for a complete reply."""
    value = message.response_metadata.get(UNFINISHED)
    return Outcome(value) if value in set(Outcome) else None


def sendable(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The messages the model may be sent: unfinished replies left out, so that a stopped
    or cut-off text is never taken by the model for a whole answer of its own."""
    return [message for message in messages if UNFINISHED not in message.response_metadata]


def texts_of_finished_reply(chunks: Iterator[BaseMessage]) -> Iterator[str]:
    """The chain's last stage: the text of each chunk, then ReplyUnfinished if the provider
    did not say that the reply is complete (the history then stores nothing by itself).
    """
    reply = Reply()
    for chunk in chunks:
        reply.add(chunk)
        if chunk.text:
            yield chunk.text
    reply.end()
    if reply.outcome is not Outcome.COMPLETE:
        raise ReplyUnfinished(reply.outcome or Outcome.CUT_OFF, reply.finish_reason)


def finish_reason(message: BaseMessage) -> str | None:
    """Why the provider says a reply ended, from a chunk or message; None if it does not say."""
    for key in FINISH_REASON_KEYS:
        if reason := message.response_metadata.get(key):
            return str(reason)
    return None


@dataclass
class Reply:
    """A reply as it streams in; `outcome` is set once it has ended."""

    text: str = ""
    finish_reason: str | None = None
    outcome: Outcome | None = None
    """None while the reply streams, or when the stream failed with an error."""

    def add(self, chunk: BaseMessage | str) -> None:
        """Add a chunk of a model's stream, or a piece of text of a chain's stream (whose
        last stage raises ReplyUnfinished unless the provider said the reply is complete).
        """
        if isinstance(chunk, str):
            self.text += chunk
            self.finish_reason = self.finish_reason or CHECKED_BY_THE_CHAIN
        else:
            self.text += chunk.text
            self.finish_reason = finish_reason(chunk) or self.finish_reason

    def end(self, outcome: Outcome | None = None) -> None:
        """The stream is over: by the provider's word unless an outcome is given."""
        if outcome is None:
            reason = (self.finish_reason or "").lower()
            outcome = OUTCOMES_BY_FINISH_REASON.get(reason, Outcome.CUT_OFF)
        if outcome in (Outcome.COMPLETE, Outcome.CUT_OFF) and not self.text.strip():
            outcome = Outcome.EMPTY
        self.outcome = outcome

    @property
    def is_complete(self) -> bool:
        """Whether this is a whole reply, to be stored and sent back to the model as one."""
        return self.outcome is Outcome.COMPLETE

    @property
    def notice(self) -> str | None:
        """What to say under the reply, if it did not end normally."""
        if self.outcome is None or self.outcome is Outcome.COMPLETE:
            return None
        notice = NOTICES[self.outcome]
        if said := self.provider_said:
            notice += f" {said}"
        return notice

    @property
    def provider_said(self) -> str | None:
        """Why a cut-off reply ended, in the provider's words (untrusted text)."""
        if self.outcome is not Outcome.CUT_OFF or self.finish_reason in (
            None,
            CHECKED_BY_THE_CHAIN,
        ):
            return None
        return f'(The provider said "{self.finish_reason}".)'


class HungUp(Exception):  # noqa: N818 (not an error: the app stopped listening)
    """Raised into the model's stream at its next token once the app hangs up."""


class HangUp(BaseCallbackHandler):
    """A callback that ends a model's stream with HungUp at its next token, once
    `hang_up()` is called: how read_reply stops a LangChain stream (Stop, timeout).

    Closing the stream instead would be wrong twice over: LangChain takes a closed stream
    for a finished one, so the chain's history would store the text so far as a
    complete reply, and it reads the model's stream to its end for its tracing, paying
    for every token (and never ending, for a reply that trickles forever). An error
    raised from inside the model ends every stage as failed: nothing is stored.
    Pass it in the chain's config callbacks, and to read_reply.
    """

    raise_error = True

    def __init__(self) -> None:
        self.hung_up = False

    def hang_up(self) -> None:
        self.hung_up = True

    def on_llm_new_token(self, token: str | list[str | dict[str, Any]], **kwargs: Any) -> None:
        if self.hung_up:
            raise HungUp


def hang_up_on(stream: Iterator[BaseMessage | str], reply: Reply, hang_up: HangUp) -> None:
    """End a LangChain stream that is read no further: at most one more chunk is read."""
    hang_up.hang_up()
    rest = Reply()
    try:
        for chunk in stream:  # the chunk already on its way, if any
            rest.add(chunk)
    except Exception:  # HungUp, or how the reply ended meanwhile: nothing was stored
        return
    reply.text += rest.text
    reply.end()  # the reply was complete by then, and stored as such


def read_reply(
    chunks: Iterable[BaseMessage | str],
    reply: Reply,
    *,
    timeout_seconds: float,
    draw: Callable[[Reply], None],
    clock: Callable[[], float] = time.monotonic,
    hang_up: HangUp | None = None,
) -> Reply:
    """Read a streamed reply into `reply`, calling `draw` at most every 50 ms and at the end
    (less often for a long reply).

    `timeout_seconds` bounds the whole reply, checked whenever a chunk arrives (the client's
    own timeout bounds the wait for each chunk). When Streamlit ends the run (the user
    pressed Stop, or a rerun), the reply is marked stopped and the run ends: the caller's
    `finally` still sees it. A provider error propagates with `reply.outcome` left None.
    """
    deadline = clock() + timeout_seconds
    drawn_at: float | None = None
    drawn_text = ""
    stream = iter(chunks)
    try:
        for chunk in stream:
            reply.add(chunk)
            now = clock()
            if now > deadline:
                reply.end(Outcome.TIMEOUT)
                break
            interval = max(REDRAW_INTERVAL_SECONDS, len(drawn_text) / REDRAWN_CHARACTERS_PER_SECOND)
            due = drawn_at is None or now - drawn_at >= interval
            if reply.text != drawn_text and due:
                draw(reply)
                drawn_at, drawn_text = now, reply.text
        else:
            reply.end()
    except ReplyUnfinished as unfinished:  # the chain's verdict on how the reply ended
        reply.finish_reason = unfinished.finish_reason
        reply.end(unfinished.outcome)
    except Exception:
        if reply.text != drawn_text:
            draw(reply)  # what arrived stays visible, above the error
        raise
    except BaseException:  # Streamlit's StopException or RerunException, not errors
        reply.text = drawn_text  # what the page shows: the draw that raised never arrived
        reply.end(Outcome.STOPPED)
        raise
    finally:
        suspended = isinstance(stream, Generator) and getgeneratorstate(stream) == GEN_SUSPENDED
        if reply.outcome in (Outcome.TIMEOUT, Outcome.STOPPED) and hang_up and suspended:
            hang_up_on(stream, reply, hang_up)
        elif isinstance(stream, Generator):
            stream.close()  # hang up on the provider: no more tokens are paid for
    draw(reply)
    return reply


WAITING_FOR_THE_MODEL = "Waiting for the model…"


def stream_reply(
    chunks: Iterable[BaseMessage | str],
    reply: Reply,
    *,
    timeout_seconds: float,
    allow_remote_images: bool = False,
    hang_up: HangUp | None = None,
) -> Reply:
    """Draw a reply into the current container as it streams, then its notice if any.

    A spinner shows until the first text arrives. Create `reply` before calling this and
    store it in a `finally`: when the user presses Stop, this raises and `reply` holds what
    was shown. Streamlit refuses every st.* call then, even reading st.session_state, so
    store through objects taken before streaming (e.g. the history's message list).
    """
    drawing = StreamedMarkdown(allow_remote_images)
    with ExitStack() as spinner:
        spinner.enter_context(st.spinner(WAITING_FOR_THE_MODEL))

        def draw(reply: Reply) -> None:
            spinner.close()  # the first text replaces the spinner
            drawing.draw(reply.text)

        read_reply(chunks, reply, timeout_seconds=timeout_seconds, draw=draw, hang_up=hang_up)
    drawing.finish(reply.text)
    if reply.notice:
        show_notice(reply)
    return reply


def show_notice(reply: Reply) -> None:
    """The notice under a reply that did not end normally (also when the chat is redrawn)."""
    if reply.outcome is None or reply.outcome is Outcome.COMPLETE:
        return
    if reply.outcome in (Outcome.STOPPED, Outcome.EMPTY):
        st.info(NOTICES[reply.outcome])
    else:
        st.warning(NOTICES[reply.outcome])
    if said := reply.provider_said:
        st.text(said)  # the provider's words, never drawn as Markdown


def show_stored_reply(message: BaseMessage, *, allow_remote_images: bool = False) -> None:
    """A stored reply drawn again, safely, with the notice its marker asks for."""
    draw_markdown(message.text, allow_remote_images=allow_remote_images)
    if outcome := unfinished_outcome(message):
        reason = message.response_metadata.get("finish_reason")
        show_notice(Reply(message.text, str(reason) if reason else None, outcome))
