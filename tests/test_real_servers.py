"""The real-server fixtures work: PostgreSQL (password login, stop and start, LangGraph's
PostgresSaver) and an OpenID Connect provider driving Streamlit's sign-in in Chromium."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers import SCRIPT_DONE, free_port, streamlit_server
from oidc_server import OidcProvider, block_outside_requests
from postgres_server import PostgresCluster, postgres_cluster


def connect(url: str):
    import psycopg

    return psycopg.connect(url, connect_timeout=10, autocommit=True)


def test_postgres_accepts_the_password_and_refuses_a_wrong_one(postgres: PostgresCluster) -> None:
    import psycopg

    assert postgres.url == f"postgresql://tests:tests-password@127.0.0.1:{postgres.port}/tests"
    with connect(postgres.url) as connection:
        assert connection.execute("select current_user, current_database()").fetchone() == (
            "tests",
            "tests",
        )
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(postgres.url_for(password="wrong"))
    # The postgres:// form that hosting providers hand out works as well.
    with connect(postgres.url.replace("postgresql://", "postgres://")) as connection:
        assert connection.execute("select 1").fetchone() == (1,)


def test_postgres_stopped_refuses_connections_and_keeps_its_data_when_started_again(
    postgres: PostgresCluster,
) -> None:
    import psycopg

    url = postgres.create_database("stop_start")
    with connect(url) as connection:
        connection.execute("create table kept (text text)")
        connection.execute("insert into kept values ('still here')")
    port = postgres.port

    began = time.monotonic()
    postgres.stop()
    stopped = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        connect(url)
    postgres.start()
    started = time.monotonic()

    assert postgres.port == port
    with connect(url) as connection:
        assert connection.execute("select text from kept").fetchall() == [("still here",)]
    print(f"stop {stopped - began:.2f}s, start {started - stopped:.2f}s")


def test_postgres_cluster_starts_in_seconds_and_is_gone_afterwards(
    postgres_server: PostgresCluster,  # skips (or fails in CI) the same way without PostgreSQL
) -> None:
    import psycopg

    began = time.monotonic()
    with postgres_cluster(database="fresh") as cluster:
        ready = time.monotonic() - began
        url, folder = cluster.url, cluster.folder
        assert cluster.port != postgres_server.port
        with connect(url) as connection:
            assert connection.execute("select current_database()").fetchone() == ("fresh",)
    print(f"initdb and start: {ready:.2f}s")
    assert ready < 30
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        connect(url)


def test_langgraph_postgres_saver_sets_up_and_stores_a_checkpoint(
    postgres: PostgresCluster,
) -> None:
    from langgraph.checkpoint.postgres import PostgresSaver

    url = postgres.create_database("langgraph")
    config = {"configurable": {"thread_id": "chat-1", "checkpoint_ns": ""}}
    with PostgresSaver.from_conn_string(url) as saver:
        saver.setup()
        saver.setup()  # a second call (another replica starting) is harmless
        checkpoint = {
            "v": 1,
            "id": "1ef4f797-8335-6428-8001-8a1503f9b875",
            "ts": "2024-07-31T20:14:19.804150+00:00",
            "channel_values": {"messages": ["hello"]},
            "channel_versions": {"messages": 1},
            "versions_seen": {},
        }
        saver.put(config, checkpoint, {"source": "input", "step": 1}, {"messages": 1})
    with PostgresSaver.from_conn_string(url) as saver:
        stored = saver.get_tuple(config)
    assert stored is not None
    assert stored.checkpoint["channel_values"] == {"messages": ["hello"]}


# --- Sign-in: Streamlit's st.login against the real provider, in headless Chromium ---

SIGN_IN_APP = """\
import streamlit as st

st.title("Sign-in probe")
if not st.user.is_logged_in:
    st.text("signed out")
    if st.button("Log in"):
        st.login()
else:
    st.text(f"sub={st.user.sub}")
    st.text(f"email={st.user.email}")
    st.text(f"iss={st.user.iss}")
    if st.button("Log out"):
        st.logout()
"""


def shown_text(page) -> list[str]:
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)
    return [text.strip() for text in page.get_by_test_id("stText").all_inner_texts()]


@pytest.mark.browser
def test_streamlit_sign_in_and_out_with_the_real_provider(
    oidc_provider: OidcProvider, browser, tmp_path: Path
) -> None:
    port = free_port()
    app_url = f"http://127.0.0.1:{port}/"
    (tmp_path / "app.py").write_text(SIGN_IN_APP)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(oidc_provider.auth_secrets(app_url))

    began = time.monotonic()
    with streamlit_server(tmp_path, port=port) as url:
        served = time.monotonic()
        assert url == app_url
        context = browser.new_context()
        block_outside_requests(context)
        try:
            page = context.new_page()
            page.goto(url)
            page.get_by_text("signed out").wait_for(timeout=30_000)
            assert shown_text(page) == ["signed out"]

            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{oidc_provider.issuer}/oauth2/authorize?**", timeout=30_000)
            oidc_provider.sign_in(page, "alice", email="alice@example.com")

            page.wait_for_url(url, timeout=30_000)
            page.get_by_text("sub=alice").wait_for(timeout=30_000)
            signed_in = [
                "sub=alice",
                "email=alice@example.com",
                f"iss={oidc_provider.issuer}",
            ]
            assert shown_text(page) == signed_in
            cookies = {cookie["name"] for cookie in context.cookies(url)}
            assert "_streamlit_user" in cookies, cookies

            page.reload()
            page.get_by_text("sub=alice").wait_for(timeout=30_000)
            assert shown_text(page) == signed_in

            page.get_by_role("button", name="Log out").click()
            # Streamlit clears its cookies and sends the browser to the provider's
            # end_session_endpoint, which asks for a confirmation, then back to the app.
            page.wait_for_url(f"{oidc_provider.issuer}/oauth2/end_session?**", timeout=30_000)
            oidc_provider.end_session(page)
            page.wait_for_url(url, timeout=30_000)
            page.get_by_text("signed out").wait_for(timeout=30_000)
            assert shown_text(page) == ["signed out"]
            assert "_streamlit_user" not in {c["name"] for c in context.cookies(url)}
        finally:
            context.close()
        finished = time.monotonic()
    print(f"streamlit ready {served - began:.2f}s, whole flow {finished - served:.2f}s")


def test_apptest_fakes_a_signed_in_user(tmp_path: Path) -> None:
    """What AppTest offers for st.user (no real flow): `at.user`, a dict read as st.user."""
    from streamlit.testing.v1 import AppTest

    app = tmp_path / "app.py"
    app.write_text(SIGN_IN_APP)

    at = AppTest.from_file(str(app), default_timeout=30)
    # The default, {"email": "test@example.com"}, has no is_logged_in: without an [auth]
    # section in .streamlit/secrets.toml (at.secrets does not count) st.user.is_logged_in
    # raises. A test sets it.
    assert at.user == {"email": "test@example.com"}
    at.user = {"is_logged_in": False}
    at.run()
    assert [text.value for text in at.text] == ["signed out"]

    at.user = {"is_logged_in": True, "sub": "alice", "email": "a@example.com", "iss": "http://x"}
    at.run()
    assert [text.value for text in at.text] == ["sub=alice", "email=a@example.com", "iss=http://x"]

    at.button[0].click().run()  # st.logout(): at.user becomes {"is_logged_in": False}
    assert at.user == {"is_logged_in": False}
    at.run()
    assert [text.value for text in at.text] == ["signed out"]
