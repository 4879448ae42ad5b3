"""A provider that fails: the generated app explains it in the chat and loses nothing.

The generated OpenAI app runs under Streamlit's AppTest and talks, through the real openai
client, to tests/faulty_server.py on 127.0.0.1, which fails on purpose. Each scenario is
played once (a failing turn, then a normal turn) and the tests read what was recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from faulty_server import ERRORS, NORMAL_REPLY, PARTIAL_REPLY, USAGE, FaultyServer
from helpers import app_settings_environment, app_test, free_port, shown

pytestmark = pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")

SESSION_KEY = "langchain_messages"
FIRST_QUESTION = "What went wrong?"
SECOND_QUESTION = "And now?"
MAX_RETRIES = 1


@dataclass
class Turn:
    """What the page showed and kept after one question."""

    exceptions: list[str]
    messages: list[tuple[str, list[str], list[str]]]
    """Each chat message drawn: its role, its text (drawn HTML and code) and its error texts."""
    captions: list[str]
    """The captions of the last chat message (a reply's tokens and cost)."""
    history: list[BaseMessage]
    requests: int
    """How many requests the provider received for this question (retries included)."""
    sent: list[dict[str, str]]
    """The messages of the last request the provider received: what the model was sent."""

    @property
    def reply_errors(self) -> list[str]:
        return self.messages[-1][2]


@dataclass
class Played:
    failed: Turn
    rerun: Turn
    """The page drawn again (any widget click reruns it) before the next question."""
    next: Turn


@dataclass(frozen=True)
class Expected:
    """What the app must do when the provider fails in one way."""

    explanation: list[str]
    """Words that the explanation shown in the chat contains."""
    requests: int | None
    """How many requests one question makes (retries included); None: nobody can count."""


EXPECTED = {
    # Refused connections are retried too, but with nothing listening nobody counts them.
    "refused": Expected(["could not be reached", "base URL"], None),
    "slow": Expected(
        ["No answer within LLM_TIMEOUT_SECONDS", "raise LLM_TIMEOUT_SECONDS"], 1 + MAX_RETRIES
    ),
    "unauthorized": Expected(["rejected the API key", ".streamlit/secrets.toml"], 1),
    "forbidden": Expected(["may not use this model", "LLM_MODEL"], 1),
    "unknown_model": Expected(["does not know this model", "LLM_MODEL"], 1),
    "rate_limited": Expected(["rate limiting", "Wait a minute"], 1 + MAX_RETRIES),
    "server_error": Expected(["internal error", "Ask again"], 1 + MAX_RETRIES),
    "cut_stream": Expected(["broke off in the middle of the reply", "Ask again"], 1),
    "context_length": Expected(["chat is too long", "new chat", "HISTORY_MAX_TOKENS"], 1),
}
"""The one table of failures: every HTTP error of tests/faulty_server.py, a server that
never answers ("slow"), a cut stream, and "refused" (no server at all). How replies end
otherwise (no finish reason, length, content filter, empty...) is tests/test_reply_endings.py's."""

SCENARIOS = ["refused", "slow", *ERRORS, "cut_stream"]


@pytest.fixture(scope="module")
def project(rendered) -> Path:
    return rendered("provider-failures", model_provider="openai", package_name="failing_app")


def snapshot(app, server: FaultyServer | None) -> Turn:
    return Turn(
        exceptions=[exception.value for exception in app.exception],
        messages=[
            (
                message.name,
                [text for text in [shown(message)] if text],
                [error.value for error in message.error],
            )
            for message in app.chat_message
        ],
        captions=[caption.value for caption in app.chat_message[-1].caption],
        history=list(app.session_state[SESSION_KEY]),
        requests=len(server.requests) if server else 0,
        sent=server.requests[-1]["messages"] if server and server.requests else [],
    )


@pytest.fixture(scope="module", params=SCENARIOS)
def played(request: pytest.FixtureRequest, project: Path) -> Iterator[tuple[str, Played]]:
    """Ask once while the provider fails in this way, then once when it answers again."""
    scenario = request.param
    # "refused": nothing listens on the port until the provider "comes back".
    port = free_port()
    server = None if scenario == "refused" else FaultyServer(scenario, port=port, slow_seconds=4)
    with app_settings_environment(OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1"):
        if server:
            server.__enter__()
        try:
            app = app_test(
                project,
                LLM_PROVIDER="openai",
                OPENAI_API_KEY="sk-test-not-a-real-key",
                LLM_MAX_RETRIES=str(MAX_RETRIES),
                LLM_TIMEOUT_SECONDS="1",
            )
            app.run()
            app.chat_input[0].set_value(FIRST_QUESTION).run()
            failed = snapshot(app, server)
            rerun = snapshot(app.run(), server)

            if server is None:
                server = FaultyServer("ok", port=port).__enter__()
            server.switch("ok")
            app.chat_input[0].set_value(SECOND_QUESTION).run()
            yield scenario, Played(failed, rerun, snapshot(app, server))
        finally:
            if server:
                server.__exit__(None, None, None)


def test_failure_is_explained_in_the_chat_without_a_traceback(played) -> None:
    scenario, turns = played

    assert not turns.failed.exceptions
    [explanation] = turns.failed.reply_errors
    assert turns.failed.messages[-1][0] == "ai"
    for words in EXPECTED[scenario].explanation:
        assert words in explanation
    assert "Traceback" not in explanation


def test_each_failure_has_its_own_explanation() -> None:
    phrases = [expected.explanation[0] for expected in EXPECTED.values()]

    assert sorted(EXPECTED) == sorted(SCENARIOS)
    assert len(set(phrases)) == len(phrases)


def test_question_is_kept_in_the_history_and_no_half_reply_is_stored(played) -> None:
    _, turns = played

    assert [(type(m), m.content) for m in turns.failed.history] == [(HumanMessage, FIRST_QUESTION)]
    assert turns.failed.messages[1] == ("human", [FIRST_QUESTION], [])


def test_rerun_shows_the_question_and_its_explanation_again(played) -> None:
    _, turns = played

    assert not turns.rerun.exceptions
    assert turns.rerun.messages[1:] == [
        ("human", [FIRST_QUESTION], []),
        ("ai", [], turns.failed.reply_errors),
    ]


def test_model_is_sent_the_failed_question_but_not_its_explanation(played) -> None:
    _, turns = played

    assert [(m["role"], m["content"]) for m in turns.next.sent[1:]] == [
        ("user", FIRST_QUESTION),
        ("user", SECOND_QUESTION),
    ]
    assert not any(turns.failed.reply_errors[0] in str(m) for m in turns.next.sent)


@pytest.mark.parametrize("played", ["cut_stream"], indirect=True)
def test_cut_stream_shows_what_arrived_but_stores_none_of_it(played) -> None:
    _, turns = played

    assert turns.failed.messages[-1][1] == [PARTIAL_REPLY]
    assert not any(isinstance(message, AIMessage) for message in turns.failed.history)


def test_next_turn_is_answered_normally_with_the_failed_question_kept(played) -> None:
    _, turns = played

    assert not turns.next.exceptions
    assert turns.next.messages[-1] == ("ai", [NORMAL_REPLY], [])
    assert [message.content for message in turns.next.history] == [
        FIRST_QUESTION,
        SECOND_QUESTION,
        NORMAL_REPLY,
    ]
    assert turns.next.requests == 1


@pytest.mark.parametrize(
    "played", [name for name, expected in EXPECTED.items() if expected.requests], indirect=True
)
def test_only_failures_that_may_pass_are_retried(played) -> None:
    scenario, turns = played

    assert turns.failed.requests == EXPECTED[scenario].requests


@pytest.mark.parametrize("played", ["server_error"], indirect=True)
def test_reply_caption_shows_the_usage_the_server_streamed_and_its_cost(played) -> None:
    _, turns = played
    # gpt-4o-mini's prices in the rendered model_prices.toml: 0.15 and 0.60 US$ per million.
    cost = (USAGE["prompt_tokens"] * 0.15 + USAGE["completion_tokens"] * 0.60) / 1_000_000

    assert turns.failed.captions == []  # a failed call reports nothing, and shows nothing
    assert turns.next.captions == [f"1,234 in · 56 out · US${cost:.4g}"]
