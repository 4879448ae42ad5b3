"""Two browser sessions of one app at the same time never see each other's chat."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from helpers import shown, two_sessions

pytestmark = pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")

SESSION_KEY = "langchain_messages"


@pytest.fixture(scope="module")
def project(rendered) -> Path:
    return rendered("sessions", model_provider="offline", package_name="two_sessions_app")


def ask(app, question: str) -> None:
    app.chat_input[0].set_value(question).run()


def test_interleaved_sessions_each_keep_and_send_only_their_own_turns(project: Path) -> None:
    with two_sessions(project) as (alice, bob):
        ask(alice, "Alice's first question")
        ask(bob, "Bob's only question")
        ask(alice, "Alice's second question")
        bob.run()

        assert not alice.exception and not bob.exception
        alice_history = alice.session_state[SESSION_KEY]
        bob_history = bob.session_state[SESSION_KEY]
        assert [type(m) for m in alice_history] == [HumanMessage, AIMessage] * 2
        assert [m.content for m in alice_history[::2]] == [
            "Alice's first question",
            "Alice's second question",
        ]
        assert [m.content for m in bob_history[::2]] == ["Bob's only question"]
        # What each model call was sent: Alice's second turn saw her first turn only.
        assert "and 2 earlier messages" in alice_history[-1].content
        assert "and 0 earlier messages" in bob_history[-1].content


def test_each_session_draws_only_its_own_chat(project: Path) -> None:
    with two_sessions(project) as (alice, bob):
        ask(alice, "Only Alice asked this")
        bob.run()

        drawn_for_bob = [shown(m) for m in bob.chat_message]
        assert [m.name for m in alice.chat_message] == ["ai", "human", "ai"]
        assert [m.name for m in bob.chat_message] == ["ai"]
        assert not any("Only Alice asked this" in text for text in drawn_for_bob)


def test_new_chat_in_one_session_leaves_the_other_untouched(project: Path) -> None:
    with two_sessions(project) as (alice, bob):
        ask(alice, "Alice keeps this")
        ask(bob, "Bob clears this")

        bob.sidebar.button[0].click().run()
        alice.run()

        assert bob.session_state[SESSION_KEY] == []
        assert [m.content for m in alice.session_state[SESSION_KEY]][0] == "Alice keeps this"
