"""A streamed reply: how it ended, drawing it while it streams, and drawing it safely.

The model's text is untrusted (a prompt injection in a pasted document can make it write
anything), so it is drawn through `safe_markdown`. A reply counts as complete only when
the provider says it finished; every other ending is shown with a notice.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Generator, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum

import streamlit as st
from langchain_core.messages import BaseMessage

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

    def add(self, chunk: BaseMessage) -> None:
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
        if self.outcome is Outcome.CUT_OFF and self.finish_reason:
            notice += f' (The provider said "{self.finish_reason}".)'
        return notice


def read_reply(
    chunks: Iterable[BaseMessage],
    reply: Reply,
    *,
    timeout_seconds: float,
    draw: Callable[[Reply], None],
    clock: Callable[[], float] = time.monotonic,
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
    except Exception:
        raise
    except BaseException:  # Streamlit's StopException or RerunException, not errors
        reply.end(Outcome.STOPPED)
        raise
    finally:
        if isinstance(stream, Generator):
            stream.close()  # hang up on the provider: no more tokens are paid for
    draw(reply)
    return reply


WAITING_FOR_THE_MODEL = "Waiting for the model…"


def stream_reply(
    chunks: Iterable[BaseMessage],
    reply: Reply,
    *,
    timeout_seconds: float,
    allow_remote_images: bool = False,
) -> Reply:
    """Draw a reply into the current container as it streams, then its notice if any.

    A spinner shows until the first text arrives. Create `reply` before calling this and
    store it in a `finally`: when the user presses Stop, this raises and `reply` holds what
    was shown. Streamlit refuses every st.* call then, even reading st.session_state, so
    store through objects taken before streaming (e.g. the history's message list).
    """
    placeholder = st.empty()
    with ExitStack() as spinner:
        spinner.enter_context(st.spinner(WAITING_FOR_THE_MODEL))

        def draw(reply: Reply) -> None:
            spinner.close()  # the first text replaces the spinner
            markdown = safe_markdown(reply.text, allow_remote_images=allow_remote_images)
            placeholder.markdown(markdown)

        read_reply(chunks, reply, timeout_seconds=timeout_seconds, draw=draw)
    if reply.notice:
        show_notice(reply)
    return reply


def show_notice(reply: Reply) -> None:
    """The notice under a reply that did not end normally (also when the chat is redrawn)."""
    if reply.outcome in (Outcome.STOPPED, Outcome.EMPTY):
        st.info(reply.notice)
    else:
        st.warning(reply.notice)


# --- Untrusted Markdown -------------------------------------------------------------------

FENCE_OPENING = re.compile(r"(`{3,})[^`]*$|(~{3,})")
"""A fenced code block starting at the very beginning of a line."""
UNSURE_BLOCK = re.compile(r" {0,3}[<\[]")
"""An HTML block or a link reference definition (its title may span lines): inside them
a fence is not a fence, so after one, nothing more is treated as code."""
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
LINK_TARGET = re.compile(r"\]\(\s*<?|\]:\s*<?|<")
"""Where a link's URL starts: [text](url), [label]: url and <url>."""
LIVE_SCHEMES = ("data:", "javascript:", "vbscript:")


def safe_markdown(text: str, *, allow_remote_images: bool = False) -> str:
    """Model text made safe for st.markdown, which already escapes raw HTML.

    - Images are not fetched: `![x](url)` is shown as text, since fetching a URL can send
      data to anyone (unless allow_remote_images).
    - `data:`, `javascript:` and `vbscript:` links lead nowhere (a `#` is put before them).
    - `$` is shown as a dollar sign: LaTeX is not drawn, as it can draw something huge.

    Fenced code blocks are left as they are (when in doubt, text is not taken for code).
    """
    return "".join(
        part if is_code else disarm(part, allow_remote_images)
        for part, is_code in split_fenced_code(text)
    )


def split_fenced_code(text: str) -> list[tuple[str, bool]]:
    """The text in parts: (part, True) for a fenced code block, (part, False) for the rest."""
    parts: list[tuple[str, bool]] = []
    current: list[str] = []
    fence: str | None = None
    fences_are_certain = True

    def close_part(is_code: bool) -> None:
        if current:
            parts.append(("".join(current), is_code))
            current.clear()

    for line in text.splitlines(keepends=True):
        if fence is None:
            opening = FENCE_OPENING.match(line.rstrip("\r\n"))
            if opening and fences_are_certain:
                close_part(is_code=False)
                fence = opening.group(1) or opening.group(2)
            elif UNSURE_BLOCK.match(line):
                fences_are_certain = False
            current.append(line)
        else:
            current.append(line)
            stripped = line.strip(" \t\r\n")
            if len(line) - len(line.lstrip(" ")) <= 3 and is_closing_fence(stripped, fence):
                close_part(is_code=True)
                fence = None
    close_part(is_code=fence is not None)
    return parts


def is_closing_fence(line: str, fence: str) -> bool:
    return len(line) >= len(fence) and line == fence[0] * len(line)


def disarm(markdown: str, allow_remote_images: bool) -> str:
    """Markdown outside code blocks with images, live links and math made harmless."""
    if not allow_remote_images:
        # "![" starts every kind of image; "!\[" is the same text, and never an image.
        markdown = markdown.replace("![", "!\\[")
    markdown = LINK_TARGET.sub(
        lambda match: match[0] + ("#" if starts_live_url(markdown, match.end()) else ""),
        markdown,
    )
    return escape_dollars(markdown)


def starts_live_url(markdown: str, start: int) -> bool:
    """Whether a data:, javascript: or vbscript: URL starts here, as a browser reads it:
    after entities are decoded and tabs, line breaks and backslashes dropped."""
    url = re.sub(r"[\t\r\n\\]", "", html.unescape(markdown[start : start + 100]))
    return url.lstrip("".join(map(chr, range(33)))).lower().startswith(LIVE_SCHEMES)


def escape_dollars(markdown: str) -> str:
    """`$` escaped so that no math is drawn, except inside `code spans`."""
    pieces = []
    position = 0
    for span in CODE_SPAN.finditer(markdown):
        pieces.append(escape_dollars_in_text(markdown[position : span.start()]))
        pieces.append(span[0])
        position = span.end()
    pieces.append(escape_dollars_in_text(markdown[position:]))
    return "".join(pieces)


def escape_dollars_in_text(text: str) -> str:
    # An odd number of backslashes before a "$" already escapes it.
    return re.sub(
        r"(\\*)\$",
        lambda match: match[1] + ("$" if len(match[1]) % 2 else "\\$"),
        text,
    )
