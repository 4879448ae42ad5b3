"""Two replicas of a `postgres` app on one database, driven in headless Chromium: a chat
begun on the first continues on the second through the same link, and a reload on the
first shows every turn of both, in order.

Two `streamlit run` servers on two loopback ports share the throwaway PostgreSQL cluster
(tests/conftest_servers.py); the offline model answers.
"""

from __future__ import annotations

import pytest
from test_browser import GREETING, ask, browser, chromium, messages  # noqa: F401 (fixtures)

from helpers import CHAT_MESSAGES, SCRIPT_DONE, open_app, streamlit_server
from postgres_server import PostgresCluster

pytestmark = pytest.mark.browser


def test_a_chat_continues_on_another_replica_and_a_reload_shows_every_turn(
    rendered,
    postgres: PostgresCluster,
    browser,  # noqa: F811 (the fixture imported from test_browser)
) -> None:
    project = rendered("backend-postgres")
    database = postgres.create_database("replicas")
    settings = {"LLM_PROVIDER": "offline", "CHAT_HISTORY_URL": database}
    with (
        streamlit_server(project, **settings) as first,
        streamlit_server(project, **settings) as second,
    ):
        contexts = [browser.new_context(), browser.new_context()]
        try:
            on_first = contexts[0].new_page()
            open_app(on_first, first)
            ask(on_first, "asked on the first replica")
            on_first.wait_for_url("**chat=*", timeout=30_000)
            link = on_first.url.split("?", 1)[1]
            assert first != second

            on_second = contexts[1].new_page()
            open_app(on_second, f"{second}?{link}")
            on_second.locator(CHAT_MESSAGES).nth(2).wait_for(timeout=30_000)
            continued = messages(on_second)
            ask(on_second, "asked on the second replica")

            on_first.reload()
            on_first.locator(CHAT_MESSAGES).nth(4).wait_for(timeout=30_000)
            on_first.locator(SCRIPT_DONE).wait_for(timeout=30_000)
            reloaded = messages(on_first)
        finally:
            for context in contexts:
                context.close()

    assert continued[:2] == [GREETING, "asked on the first replica"] and len(continued) == 3
    assert reloaded[1] == "asked on the first replica"
    assert reloaded[2].startswith("You said: asked on the first replica")
    assert reloaded[3] == "asked on the second replica"
    assert reloaded[4].startswith("You said: asked on the second replica")
    assert "and 2 earlier messages" in reloaded[4]
    assert len(reloaded) == 5
