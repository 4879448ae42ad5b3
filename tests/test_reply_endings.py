"""Every way a streamed reply ends, played by the generated OpenAI app under AppTest.

The app talks through the real openai client to tests/faulty_server.py on 127.0.0.1, which
ends each stream in its own way. All endings are played once, in one module fixture: a
question answered with that ending, the page drawn again (a rerun, as any click or reload
of the session does), then a question answered normally.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from faulty_server import (
    CLOSED_REPLY,
    FILTERED_REPLY,
    LENGTH_REPLY,
    NORMAL_REPLY,
    PARTIAL_REPLY,
    TRICKLE_PIECE,
    FaultyServer,
)
from helpers import app_settings_environment, app_test, shown

pytestmark = pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")

SESSION_KEY = "langchain_messages"
FIRST_QUESTION = "Tell me everything."
SECOND_QUESTION = "And now?"
TIMEOUT_SECONDS = 2.0
ENDINGS = [
    "ok",
    "closed_without_finish",
    "chunked_cut",
    "length",
    "content_filter",
    "empty",
    "whitespace",
    "trickle",
]


@dataclass
class Page:
    """What the page showed and kept at one moment."""

    exceptions: list[str]
    messages: list[tuple[str, list[str], list[str]]]
    """Each chat message drawn: its role, its Markdown texts and its notices (warnings,
    infos and errors)."""
    stored: list[tuple[str, str, dict[str, object]]]

    @property
    def reply(self) -> tuple[str, list[str], list[str]]:
        return self.messages[2]


@dataclass
class Played:
    asked: Page
    seconds: float
    """How long the first question took, from sending to the end of the run."""
    rerun: Page
    next: Page
    sent_next: list[dict[str, str]]
    """The messages the model was sent with the second question."""


def snapshot(app) -> Page:
    return Page(
        exceptions=[exception.value for exception in app.exception],
        messages=[
            (
                message.name,
                [text for text in [shown(message)] if text],
                [
                    notice.value
                    for kind in ("warning", "info", "error")
                    for notice in getattr(message, kind)
                ],
            )
            for message in app.chat_message
        ],
        stored=[
            (message.type, message.text, stored_metadata(message))
            for message in app.session_state[SESSION_KEY]
        ],
    )


RUN_ID = "run_id"
"""What the app adds to every stored reply with feedback on (the run id for LangSmith)."""


def stored_metadata(message: Any) -> dict[str, Any]:
    """A stored message's response_metadata, the run id of its model call left out."""
    return {key: value for key, value in message.response_metadata.items() if key != RUN_ID}


@pytest.fixture(scope="module")
def played(rendered) -> dict[str, Played]:
    project: Path = rendered(
        "provider-failures", model_provider="openai", package_name="failing_app"
    )
    results = {}
    with FaultyServer() as server, app_settings_environment(OPENAI_BASE_URL=server.base_url):
        for ending in ENDINGS:
            server.switch(ending)
            app = app_test(
                project,
                LLM_PROVIDER="openai",
                OPENAI_API_KEY="sk-test-not-a-real-key",
                LLM_MAX_RETRIES="0",
                LLM_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
            )
            app.run()
            started = time.monotonic()
            app.chat_input[0].set_value(FIRST_QUESTION).run()
            seconds = time.monotonic() - started
            asked = snapshot(app)
            rerun = snapshot(app.run())
            server.switch("ok")
            app.chat_input[0].set_value(SECOND_QUESTION).run()
            results[ending] = Played(
                asked, seconds, rerun, snapshot(app), server.requests[-1]["messages"]
            )
    return results


def test_complete_reply_is_stored_whole_with_no_notice(played) -> None:
    turn = played["ok"]

    assert turn.asked.reply == ("ai", [NORMAL_REPLY], [])
    assert turn.asked.stored == [
        ("human", FIRST_QUESTION, {}),
        ("ai", NORMAL_REPLY, REPORTED_USAGE),
    ]


CUT_OFF = "The reply was cut off: it ended before the provider said it was finished."
LENGTH = "The reply stopped at the token limit. Raise LLM_MAX_TOKENS"
FILTERED = "The provider's content filter stopped this reply."
TIMEOUT = "The reply took longer than LLM_TIMEOUT_SECONDS and was cut short."

REPORTED_USAGE = {"model_name": "gpt-4o-mini"}
"""What a reply whose stream reported usage is stored with beside its usage_metadata
(tests/faulty_server.py reports it after a finish reason, when asked)."""

MARKED = {
    # ending: (what arrived, the notice, the marker it is stored with)
    "closed_without_finish": (CLOSED_REPLY, CUT_OFF, "cut_off"),
    "length": (LENGTH_REPLY, LENGTH, "length"),
    "content_filter": (FILTERED_REPLY, FILTERED, "content_filter"),
}


@pytest.mark.parametrize("ending", MARKED)
def test_reply_that_ends_without_finishing_is_shown_with_its_notice(played, ending: str) -> None:
    text, notice, _ = MARKED[ending]
    turn = played[ending]

    assert not turn.asked.exceptions
    role, markdown, notices = turn.asked.reply
    assert (role, markdown) == ("ai", [text])
    assert len(notices) == 1 and notices[0].startswith(notice)


def test_connection_closed_without_finish_reason_is_cut_off_not_complete(played) -> None:
    turn = played["closed_without_finish"]

    assert turn.asked.stored == [
        ("human", FIRST_QUESTION, {}),
        ("ai", CLOSED_REPLY, {"unfinished": "cut_off"}),
    ]


@pytest.mark.parametrize("ending", MARKED)
def test_unfinished_reply_is_stored_marked_and_its_notice_survives_a_rerun(
    played, ending: str
) -> None:
    text, notice, marker = MARKED[ending]
    turn = played[ending]

    reported = REPORTED_USAGE if ending != "closed_without_finish" else {}
    assert turn.asked.stored == [
        ("human", FIRST_QUESTION, {}),
        ("ai", text, {"unfinished": marker} | reported),
    ]
    assert turn.rerun.messages[1:] == turn.asked.messages[1:]


def test_reply_at_the_token_limit_names_llm_max_tokens(played) -> None:
    assert "LLM_MAX_TOKENS" in played["length"].rerun.reply[2][0]


def test_reply_stopped_by_the_content_filter_says_so(played) -> None:
    assert "content filter" in played["content_filter"].rerun.reply[2][0]


def test_chunked_cut_keeps_what_arrived_visible_with_a_notice_and_the_question(played) -> None:
    turn = played["chunked_cut"]

    assert turn.asked.reply[1] == [PARTIAL_REPLY]
    assert "broke off in the middle of the reply" in turn.asked.reply[2][0]
    [(role, question, metadata)] = turn.asked.stored
    assert (role, question) == ("human", FIRST_QUESTION)
    assert "broke off" in str(metadata["unanswered_because"])


@pytest.mark.parametrize("ending", ["empty", "whitespace"])
def test_empty_reply_is_never_stored_and_says_the_model_returned_no_text(
    played, ending: str
) -> None:
    turn = played[ending]

    assert not turn.asked.exceptions
    assert turn.asked.reply[2] == ["The model returned no text. Ask again."]
    assert turn.asked.stored == [
        ("human", FIRST_QUESTION, {"unanswered_because": "The model returned no text. Ask again."})
    ]
    assert turn.rerun.messages[1:] == [
        ("human", [FIRST_QUESTION], []),
        ("ai", [], ["The model returned no text. Ask again."]),
    ]


def test_trickling_reply_ends_with_a_timeout_notice(played) -> None:
    turn = played["trickle"]

    _, [text], [notice] = turn.asked.reply
    assert text.startswith(TRICKLE_PIECE * 3) and notice.startswith(TIMEOUT)
    [question, (role, stored_text, metadata)] = turn.asked.stored
    assert question == ("human", FIRST_QUESTION, {})
    assert (role, metadata) == ("ai", {"unfinished": "timeout"})
    assert stored_text.startswith(text)
    assert turn.rerun.messages[1:] == turn.asked.messages[1:] or turn.rerun.reply[2] == [notice]


def test_llm_timeout_seconds_bounds_the_whole_reply(played) -> None:
    print(f"trickling reply ended after {played['trickle'].seconds:.1f} s")
    assert played["trickle"].seconds < TIMEOUT_SECONDS + 5


@pytest.mark.parametrize("ending", ENDINGS)
def test_next_question_is_answered_normally_and_no_unfinished_reply_is_sent(
    played, ending: str
) -> None:
    turn = played[ending]

    assert not turn.next.exceptions
    assert turn.next.messages[-1] == ("ai", [NORMAL_REPLY], [])
    sent = [(message["role"], message["content"]) for message in turn.sent_next[1:]]
    earlier = [("assistant", NORMAL_REPLY)] if ending == "ok" else []
    assert sent == [("user", FIRST_QUESTION), *earlier, ("user", SECOND_QUESTION)]
