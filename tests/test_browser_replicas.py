"""Two replicas of a `postgres` app on one database, driven in headless Chromium: a chat
begun on the first continues on the second through the same link, and a reload on the
first shows every turn of both, in order; two tabs, one on each replica, asking in one
chat at the same moment are answered one after the other, neither turn lost.

Two `streamlit run` servers on two loopback ports share the throwaway PostgreSQL cluster
(tests/conftest_servers.py); the offline model answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers import (
    CHAT_MESSAGES,
    GREETING,
    REPLY_END,
    SCRIPT_DONE,
    ask,
    messages,
    open_app,
    streamlit_server,
)
from postgres_server import PostgresCluster

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def replicas(rendered, postgres_server: PostgresCluster) -> Iterator[tuple[str, str]]:
    """The addresses of two `streamlit run` servers of one project on one database."""
    postgres_server.start()
    database = postgres_server.create_database("replicas")
    settings = {"LLM_PROVIDER": "offline", "CHAT_HISTORY_URL": database}
    project = rendered("backend-postgres")
    with (
        streamlit_server(project, **settings) as first,
        streamlit_server(project, **settings) as second,
    ):
        assert first != second
        yield first, second


@pytest.fixture
def two_tabs(browser) -> Iterator[tuple]:
    """Two tabs in two browser sessions."""
    contexts = [browser.new_context(), browser.new_context()]
    try:
        yield contexts[0].new_page(), contexts[1].new_page()
    finally:
        for context in contexts:
            context.close()


def link_of(page) -> str:
    """The page's chat link: its query string, ?chat=<id>."""
    page.wait_for_url("**chat=*", timeout=30_000)
    return page.url.split("?", 1)[1]


def one_chat_in_both_tabs(replicas: tuple[str, str], two_tabs: tuple, question: str) -> None:
    """Ask in the first tab, on the first replica; open that chat's link in the second
    tab, on the second replica."""
    (first, second), (on_first, on_second) = replicas, two_tabs
    open_app(on_first, first)
    ask(on_first, question)
    open_app(on_second, f"{second}?{link_of(on_first)}")
    on_second.locator(CHAT_MESSAGES).nth(2).wait_for(timeout=30_000)
    on_second.locator(SCRIPT_DONE).wait_for(timeout=30_000)  # its messages drawn whole


def reloaded(page, count: int) -> list[str]:
    """The page's messages after a reload, once the first `count` are drawn."""
    page.reload()
    page.locator(CHAT_MESSAGES).nth(count - 1).wait_for(timeout=30_000)
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)
    return messages(page)


def test_a_chat_continues_on_another_replica_and_a_reload_shows_every_turn(
    replicas: tuple[str, str], two_tabs: tuple
) -> None:
    on_first, on_second = two_tabs
    one_chat_in_both_tabs(replicas, two_tabs, "asked on the first replica")
    continued = messages(on_second)
    ask(on_second, "asked on the second replica")

    reloaded_first = reloaded(on_first, 5)

    assert continued[:2] == [GREETING, "asked on the first replica"] and len(continued) == 3
    assert reloaded_first[1] == "asked on the first replica"
    assert reloaded_first[2].startswith("You said: asked on the first replica")
    assert reloaded_first[3] == "asked on the second replica"
    assert reloaded_first[4].startswith("You said: asked on the second replica")
    assert "and 2 earlier messages" in reloaded_first[4]
    assert len(reloaded_first) == 5


def test_two_tabs_asking_in_one_chat_at_once_are_answered_one_after_the_other(
    replicas: tuple[str, str], two_tabs: tuple
) -> None:
    one_chat_in_both_tabs(replicas, two_tabs, "the first question")
    boxes = [page.get_by_test_id("stChatInputTextArea") for page in two_tabs]
    for box, tab in zip(boxes, ("left", "right"), strict=True):
        box.fill(f"at once from the {tab} tab")
    for box in boxes:
        box.press("Enter")  # the second while the first is being answered
    for page in two_tabs:
        page.locator(CHAT_MESSAGES).nth(4).filter(has_text=REPLY_END).wait_for(timeout=60_000)
        page.locator(SCRIPT_DONE).wait_for(timeout=30_000)
    shown = reloaded(two_tabs[0], 7)

    assert len(shown) == 7
    assert sorted([shown[3], shown[5]]) == [
        "at once from the left tab",
        "at once from the right tab",
    ]
    assert shown[4].startswith(f"You said: {shown[3]}")
    assert shown[6].startswith(f"You said: {shown[5]}")
    # Each turn was answered knowing every turn before it: none is missing from memory.
    assert "and 2 earlier messages" in shown[4]
    assert "and 4 earlier messages" in shown[6]
