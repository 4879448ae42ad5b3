"""The LangGraph history backends in a rendered app: a chat survives a reload of its link
(every backend) and a restart of the server (sqlite, postgres), and a PostgreSQL outage
costs no question.

Each backend's project is rendered once (the `backend-*` answer sets) and driven in this
process by Streamlit's AppTest on the offline model; a restart is a new Python process.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from helpers import (
    ANSWER_SETS,
    app_settings_environment,
    app_test,
    chat_id_of,
    clean_env,
    package_file,
    run,
    shown,
    tool,
)
from postgres_server import PostgresCluster

RELOAD_SCRIPT = """
import html, json, sys
import nh3
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

def in_sight(node):  # as helpers.in_sight: not what a popover holds
    if node.type != "popover":
        yield node
        if isinstance(node, Block):
            for child in node.children.values():
                yield from in_sight(child)

def shown(part):  # as helpers.shown
    texts = [
        html.unescape(nh3.clean(node.value, tags=set())) if node.type == "html" else node.value
        for node in in_sight(part)
        if node.type in ("html", "code")
    ]
    return "\\n".join(texts).strip()

app = AppTest.from_file("app.py", default_timeout=60)
app.secrets["LLM_PROVIDER"] = "offline"
app.secrets["OFFLINE_SECONDS_PER_WORD"] = "0"
app.secrets["CHAT_HISTORY_URL"] = sys.argv[1]
app.query_params["chat"] = sys.argv[2]
app.run()
assert not app.exception, app.exception
print(json.dumps([[message.name, shown(message)] for message in app.chat_message]))
"""
"""Opens a chat's link in a new Python process and prints what the page draws."""


def ask(app, question: str):
    return app.chat_input[0].set_value(question).run()


def drawn(app) -> list[list[str]]:
    """Each chat message as [name, its text]; "" for one that holds only a notice."""
    return [[message.name, shown(message)] for message in app.chat_message]


def reopen(project: Path, url: str, chat_id: str):
    """The chat's link opened again in this process (a reload): the server's caches stay."""
    from streamlit.testing.v1 import AppTest

    again = AppTest.from_file(str(project / "app.py"), default_timeout=60)
    again.secrets["LLM_PROVIDER"] = "offline"
    again.secrets["OFFLINE_SECONDS_PER_WORD"] = "0"
    again.secrets["CHAT_HISTORY_URL"] = url
    again.query_params["chat"] = chat_id
    return again.run()


def chat_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "memory":
        return "memory"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'chats.sqlite'}"
    postgres: PostgresCluster = request.getfixturevalue("postgres")
    return postgres.create_database(f"reload_{tmp_path.name.lower().replace('-', '_')}")


@dataclass
class StoredChat:
    """A chat of two turns, asked in a new session of a backend's project."""

    project: Path
    url: str
    chat_id: str
    drawn: list[list[str]]
    """What the page drew after the second turn."""


def two_turns(rendered, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> StoredChat:
    project = rendered(f"backend-{backend}")
    url = chat_url(backend, tmp_path, request)
    with app_settings_environment():
        app = app_test(project, CHAT_HISTORY_URL=url)
        ask(ask(app.run(), "first question"), "second question")
    assert not app.exception
    return StoredChat(project, url, chat_id_of(app), drawn(app))


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_a_reload_of_the_link_shows_both_turns(
    rendered, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    chat = two_turns(rendered, backend, tmp_path, request)
    with app_settings_environment():
        again = reopen(chat.project, chat.url, chat.chat_id)

    assert not again.exception
    assert [name for name, _ in chat.drawn] == ["ai", "human", "ai", "human", "ai"]
    assert drawn(again) == chat.drawn


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_restart_of_the_server_keeps_both_turns(
    rendered, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    chat = two_turns(rendered, backend, tmp_path, request)

    command = (tool("python"), "-c", RELOAD_SCRIPT, chat.url, chat.chat_id)
    restarted = run(*command, cwd=chat.project, env=clean_env())

    assert json.loads(restarted.stdout.strip().splitlines()[-1]) == chat.drawn


def test_postgres_outage_keeps_the_question_and_the_app_recovers(
    rendered, postgres: PostgresCluster
) -> None:
    project = rendered("backend-postgres")
    url = postgres.create_database("outage")
    with app_settings_environment():
        app = ask(app_test(project, CHAT_HISTORY_URL=url).run(), "before the outage")
        chat_id = chat_id_of(app)

        postgres.stop()
        try:
            ask(app, "during the outage")
            assert not app.exception
            # Our own title in st.error, the database's words as text (st.code) under it.
            errors = " ".join(element.value for element in [*app.error, *app.code])
            assert "cannot be reached" in errors
            assert postgres.password not in errors
            assert app.session_state["unsent_questions"][chat_id] == "during the outage"
            app.run()  # the question stays on the page while the database is away
            assert ["human", "during the outage"] in drawn(app)
        finally:
            postgres.start()

        app.button(key="resend_question_button").click().run()
        assert not app.exception
        assert not app.session_state["unsent_questions"], "not sent again"
        ask(app, "after the outage")
        assert not app.exception
        again = reopen(project, url, chat_id)

    questions = [text for name, text in drawn(again) if name == "human"]
    assert questions == ["before the outage", "during the outage", "after the outage"]
    assert not again.error


def test_postgres_projects_store_tests_pass_on_a_real_server(
    rendered, postgres: PostgresCluster
) -> None:
    # What the generated workflow does with its PostgreSQL service container.
    url = postgres.create_database("generated_store_tests")
    env = clean_env(TEST_CHAT_HISTORY_URL=url)

    result = run(tool("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "tests/test_chat_store.py", cwd=rendered("backend-postgres"), env=env)  # fmt: skip

    assert " passed" in result.stdout


def test_compose_file_runs_the_app_after_a_healthy_postgres(rendered) -> None:
    compose = yaml.safe_load((rendered("backend-postgres") / "compose.yaml").read_text())

    app, database = compose["services"]["app"], compose["services"]["postgres"]
    assert app["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert app["environment"]["CHAT_HISTORY_URL"].startswith("postgresql://")
    assert database["image"] == "postgres:16"
    assert "pg_isready" in " ".join(database["healthcheck"]["test"])
    for answer_set in ("defaults", "backend-memory", "backend-sqlite"):
        assert not (rendered(answer_set) / "compose.yaml").exists()


def test_postgres_url_is_never_written_to_app_settings(rendered) -> None:
    project = rendered("backend-postgres")
    settings = (project / "app_settings.toml").read_text()

    assert "\nCHAT_HISTORY_URL" not in settings
    assert "# CHAT_HISTORY_URL" in settings
    assert "# CHAT_HISTORY_URL" in (project / ".streamlit" / "secrets.toml.example").read_text()
    assert "# CHAT_HISTORY_URL" in (project / ".env.example").read_text()


def changed_lines(before: str, after: str) -> list[str]:
    """The lines that differ between two texts, each with its - or + sign."""
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    return [line for line in diff if line[:1] in "-+"]


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_one_page_serves_both_wirings(rendered, backend: str) -> None:
    # The session app with the same files answer (some backend sets take files).
    files = {k: v for k, v in ANSWER_SETS[f"backend-{backend}"].items() if k == "attachments"}
    session = rendered(f"defaults-files-{files['attachments']}", **files) if files else None
    session, langgraph = session or rendered("defaults"), rendered(f"backend-{backend}")

    page = [package_file(project, "page.py").read_text() for project in (session, langgraph)]
    app = [(project / "app.py").read_text() for project in (session, langgraph)]

    # page.py differs only in which implementation of chats.py's interface it opens...
    assert sorted(changed_lines(*page)) == [
        "+ def chats_or_stop(settings: Settings, folder: Path) -> ChatStore:",
        "+ from .chat_store import ChatStore",
        "+ from .chat_store import open_chat_store as open_chats",
        "- def chats_or_stop(settings: Settings, folder: Path) -> SessionChats:",
        "- from .session_chats import SessionChats",
        "- from .session_chats import open_session_chats as open_chats",
    ]
    # ...and app.py draws the page with the same calls, one after the other.
    assert flow(app[0]) == flow(app[1])
    assert "hide_known_deprecations()" in app[0]  # before LangChain's community package


def flow(app: str) -> list[str]:
    """The calls of app.py that draw the page, comments left out."""
    return [
        line.split("  #")[0].strip()
        for line in app.splitlines()
        if re.search(r"\b(page|chat_link)\.\w+\(", line)
    ]


def test_langgraph_projects_use_no_deprecated_wiring(rendered) -> None:
    for backend in ("memory", "sqlite", "postgres"):
        project = rendered(f"backend-{backend}")
        package = project / f"{backend}_chats"
        code = "\n".join(p.read_text() for p in [project / "app.py", *package.glob("*.py")])
        assert "langchain_community" not in code
        assert "RunnableWithMessageHistory" not in code
        assert not (package / "deprecations.py").exists()
        modules = {path.name for path in package.glob("*_database.py")}
        assert modules == {"chat_database.py", f"{backend}_database.py", "memory_database.py"}
        dependencies = (project / "pyproject.toml").read_text()
        assert "langchain-community" not in dependencies
        assert ("langgraph-checkpoint-sqlite" in dependencies) == (backend == "sqlite")
        assert ("langgraph-checkpoint-postgres" in dependencies) == (backend == "postgres")
