"""The LangGraph chat store on a real PostgreSQL server, started by the test on 127.0.0.1.

The modules are loaded straight from template/{{package_name}} (they hold no Jinja), so no
project is rendered. Outside CI a machine without Debian's postgresql package skips.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field

from helpers import TEMPLATE_ROOT, free_port

PASSWORD = "s3cret-Pa55"
SIXTY_WORDS = " ".join(f"word{n}" for n in range(60))


def load_template_package(name: str = "graph_chat_app") -> ModuleType:
    folder = TEMPLATE_ROOT / "template" / "{{package_name}}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec and spec.loader
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


app = load_template_package()
chat_database = importlib.import_module(f"{app.__name__}.chat_database")
chat_store = importlib.import_module(f"{app.__name__}.chat_store")
graph = importlib.import_module(f"{app.__name__}.graph")


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, password login, stopped at the end."""

    def __init__(self, folder: Path) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is not installed (apt-get install postgresql)")
            pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = found[-1].parent
        self.folder = folder
        self.port = free_port()
        self.url = f"postgresql://chat:{PASSWORD}@127.0.0.1:{self.port}/postgres"
        (folder / "password").write_text(PASSWORD)
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(folder, "postgres")
            shutil.chown(folder / "password", "postgres")
        self._run("initdb", "-D", str(folder / "data"), "-U", "chat", "--no-sync",
                  "-A", "scram-sha-256", f"--pwfile={folder / 'password'}")  # fmt: skip
        self.start()

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{program} failed: {done.stderr}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -h 127.0.0.1 -F"  # -F: no fsync, a test
        log = str(self.folder / "server.log")  # the server must not inherit our pipes
        self._run(
            "pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    # Not under pytest's own temporary folder: the postgres user could not enter it.
    folder = Path(tempfile.mkdtemp(prefix="chat-store-postgres-"))
    try:
        server = ThrowawayPostgres(folder)
        yield server
        server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class ScriptedChatModel(BaseChatModel):
    """Streams its reply word by word, then a finish reason, and records what it was sent."""

    reply: str = "the answer"
    received: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, *args, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.received.append(list(messages))
        words = self.reply.split(" ")
        for number, word in enumerate(words):
            last = number == len(words) - 1
            message = AIMessageChunk(
                content=word if number == 0 else f" {word}",
                response_metadata={"finish_reason": "stop"} if last else {},
            )
            chunk = ChatGenerationChunk(message=message)
            if run_manager:
                run_manager.on_llm_new_token(message.text, chunk=chunk)
            yield chunk


@pytest.fixture
def databases() -> Iterator[list[Any]]:
    opened: list[Any] = []
    yield opened
    for database in opened:
        database.close()


def open_store(url: str, databases: list[Any], model: BaseChatModel | None = None) -> Any:
    database = chat_database.open_chat_database(url)
    databases.append(database)
    model = model or ScriptedChatModel()
    chat_graph = graph.build_chat_graph(model, "Be brief.", 2000, database.checkpointer)
    return chat_store.ChatStore(database, chat_graph)


def ask(store: Any, chat_id: str, question: str) -> str:
    return "".join(chunk.text for chunk in store.stream_reply(chat_id, question))


def texts(messages: list[BaseMessage]) -> list[str]:
    return [message.text for message in messages]


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_two_turns_survive_a_restart(
    postgres: ThrowawayPostgres, databases: list[Any], scheme: str
) -> None:
    url = postgres.url.replace("postgresql://", f"{scheme}://")
    model = ScriptedChatModel()
    chat_id = chat_store.new_chat_id()
    store = open_store(url, databases, model)
    ask(store, chat_id, "first question")
    ask(store, chat_id, "second question")
    databases.pop().close()

    restarted = open_store(url, databases, model)

    assert restarted.location == f"PostgreSQL at 127.0.0.1:{postgres.port}/postgres"
    assert texts(restarted.recent(chat_id, 10)) == [
        "first question",
        "the answer",
        "second question",
        "the answer",
    ]
    ask(restarted, chat_id, "third question")
    assert texts(model.received[-1][1:]) == [
        "first question",
        "the answer",
        "second question",
        "the answer",
        "third question",
    ]


def test_delete_removes_the_chat(postgres: ThrowawayPostgres, databases: list[Any]) -> None:
    store = open_store(postgres.url, databases)
    chat_id = chat_store.new_chat_id()
    ask(store, chat_id, "question")

    store.delete(chat_id)

    assert store.count(chat_id) == 0
    config = {"configurable": {"thread_id": chat_id}}
    assert list(databases[0].checkpointer.list(config)) == []


def test_two_tabs_on_one_chat_never_drop_or_reorder_a_message(
    postgres: ThrowawayPostgres, databases: list[Any]
) -> None:
    store = open_store(postgres.url, databases)
    log = databases[0].log
    chat_id = chat_store.new_chat_id()

    def write(tab: str) -> None:
        for number in range(25):
            log.append(chat_id, HumanMessage(content=f"{tab} {number}"))

    tabs = [threading.Thread(target=write, args=(tab,)) for tab in ("left", "right")]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()

    stored = texts(store.recent(chat_id, 100))
    assert len(stored) == store.count(chat_id) == 50
    for tab in ("left", "right"):
        assert [text for text in stored if text.startswith(tab)] == [
            f"{tab} {number}" for number in range(25)
        ]


def test_wrong_password_is_a_readable_error_without_the_password(
    postgres: ThrowawayPostgres,
) -> None:
    url = postgres.url.replace(PASSWORD, "wrong-" + PASSWORD)

    with pytest.raises(chat_database.ChatDatabaseUnavailable) as error:
        chat_database.open_chat_database(url)

    assert "password authentication failed" in str(error.value)
    assert PASSWORD not in str(error.value)
    assert f"PostgreSQL at 127.0.0.1:{postgres.port}/postgres" in str(error.value)


def test_malformed_url_hides_the_password() -> None:
    with pytest.raises(chat_database.ChatHistoryUrlError) as error:
        chat_database.open_chat_database(f"postgresql://chat:{PASSWORD}@host:port:x/db?=")

    assert "CHAT_HISTORY_URL" in str(error.value)
    assert PASSWORD not in str(error.value)


def test_store_recovers_once_the_database_is_back(
    postgres: ThrowawayPostgres, databases: list[Any]
) -> None:
    store = open_store(postgres.url, databases)
    chat_id = chat_store.new_chat_id()
    ask(store, chat_id, "before the outage")

    postgres.stop()
    try:
        with pytest.raises(chat_database.ChatDatabaseUnavailable) as error:
            ask(store, chat_id, "during the outage")
        assert PASSWORD not in str(error.value)
        assert "PostgreSQL at 127.0.0.1" in str(error.value)
    finally:
        postgres.start()

    ask(store, chat_id, "after the outage")
    assert texts(store.recent(chat_id, 10)) == [
        "before the outage",
        "the answer",
        "after the outage",
        "the answer",
    ]


def stored_bytes(postgres: ThrowawayPostgres, exchanges: int, databases: list[Any]) -> int:
    """Bytes of every table of a fresh database holding one chat of that many exchanges."""
    with psycopg.connect(postgres.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE growth_{exchanges}")
    url = postgres.url.replace("/postgres", f"/growth_{exchanges}")
    store = open_store(url, databases, ScriptedChatModel(reply=SIXTY_WORDS))
    chat_id = chat_store.new_chat_id()
    for number in range(exchanges):
        ask(store, chat_id, f"question {number}: {SIXTY_WORDS}")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM")  # what autovacuum does in the background
        (size,) = connection.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).fetchone() or (0,)
    return int(size)


def test_storage_grows_linearly_with_the_chat(
    postgres: ThrowawayPostgres, databases: list[Any]
) -> None:
    short = stored_bytes(postgres, 30, databases)
    long = stored_bytes(postgres, 90, databases)

    assert long <= 3.6 * short, (short, long)
