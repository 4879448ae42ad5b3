"""The LangGraph chat store of a `postgres` project on a real PostgreSQL server.

The server is the shared throwaway cluster of tests/conftest_servers.py (`postgres`); a
postgres project is rendered once and its package imported here. Outside CI a machine
without Debian's postgresql package skips.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import importlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, message_to_dict
from psycopg import sql
from psycopg.types.json import Jsonb

from helpers import ANSWER_SETS, imported, render, template_fakes
from postgres_server import PostgresCluster

SIXTY_WORDS = " ".join(f"word{n}" for n in range(60))
PASSWORD_PIECES = ("Zq7x", "Wk3y", "Rn8v", "Tp2u", "Hb6m", "Ld4k")
URL_CHARACTERS_PASSWORD = "Zq7x@Wk3y/Rn8v#Tp2u:Hb6m%Ld4k?"
"""A password holding every character with a meaning in a URL, between pieces to look for."""
PACKAGE = "postgres_store_chats"
ScriptedChatModel = template_fakes().ScriptedChatModel
"""Streams its replies word by word, then a finish reason, and records what it was sent."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package of a rendered postgres project (taking images), imported into this
    process."""
    answers = ANSWER_SETS["backend-postgres"] | {"package_name": PACKAGE, "attachments": "images"}
    project = render(tmp_path_factory.mktemp("postgres-store"), **answers)
    with imported(project) as package:
        yield package


@pytest.fixture(scope="module")
def chat_database(app: ModuleType) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.chat_database")


@pytest.fixture(scope="module")
def chat_history_url(app: ModuleType) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.chat_history_url")


@pytest.fixture
def databases() -> Iterator[list[Any]]:
    opened: list[Any] = []
    yield opened
    for database in opened:
        database.close()


class Store:
    """A postgres project's ChatStore and model, driven as its page drives them."""

    def __init__(
        self,
        url: str,
        databases: list[Any],
        model: BaseChatModel | None,
        package: str = PACKAGE,
    ) -> None:
        modules = {
            name: importlib.import_module(f"{package}.{name}")
            for name in ("chat_history_url", "chat_link", "chat_store", "chats", "reply")
        }
        self.modules = modules
        database = modules["chat_history_url"].open_chat_database(url, Path.cwd())
        databases.append(database)
        self.model = model or ScriptedChatModel()
        self.store = modules["chat_store"].ChatStore(database)
        self.assistant = modules["chats"].Assistant(self.model, "Be brief.", 2000)

    def new_chat(self) -> str:
        return str(self.modules["chat_link"].new_chat_id())

    def ask(self, chat_id: str, question: str, replacing: str | None = None) -> str:
        """Ask a question, as a new turn or (replacing a question's id) a new version."""
        reply_module = self.modules["reply"]
        reply = reply_module.Reply()
        with self.store.take_turn(chat_id, 60, wait=lambda: time.sleep(0.05)):
            chunks = self.store.stream_reply(
                chat_id, question, self.assistant, reply_module.HangUp(), replacing
            )
            reply_module.read_reply(chunks, reply, timeout_seconds=60, draw=lambda _: None)
            self.store.keep_turn(chat_id, question, reply, None, replacing)
        return str(reply.text)

    def question_ids(self, chat_id: str) -> list[str]:
        return [str(m.id) for m in self.store.recent(chat_id, 100) if m.type == "human"]


def texts(messages: list[BaseMessage]) -> list[str]:
    return [message.text for message in messages]


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_two_turns_survive_a_restart(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any], scheme: str
) -> None:
    url = postgres.url.replace("postgresql://", f"{scheme}://")
    model = ScriptedChatModel()
    first = Store(url, databases, model)
    chat_id = first.new_chat()
    first.ask(chat_id, "first question")
    first.ask(chat_id, "second question")
    databases.pop().close()

    restarted = Store(url, databases, model)

    assert restarted.store.location == f"PostgreSQL at 127.0.0.1:{postgres.port}/tests"
    assert texts(restarted.store.recent(chat_id, 10)) == [
        "first question",
        "the answer",
        "second question",
        "the answer",
    ]
    restarted.ask(chat_id, "third question")
    assert texts(model.received[-1][1:]) == [
        "first question",
        "the answer",
        "second question",
        "the answer",
        "third question",
    ]


def test_delete_removes_the_chat(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    chats = Store(postgres.url, databases, None)
    chat_id = chats.new_chat()
    chats.ask(chat_id, "question")

    chats.store.delete(chat_id)

    assert chats.store.count(chat_id) == 0
    config = {"configurable": {"thread_id": chat_id}}
    assert list(databases[0].checkpointer.list(config)) == []


def files_in(url: str) -> int:
    with psycopg.connect(url) as connection:
        (count,) = connection.execute("SELECT count(*) FROM chat_files").fetchone()
    return int(count)


def test_a_file_is_stored_once_sent_after_a_restart_and_deleted_with_its_last_chat(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    url = postgres.create_database("files")
    model = ScriptedChatModel()
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode()
    question = [
        {"type": "text", "text": "look"},
        {"type": "image", "base64": image, "mime_type": "image/png"},
    ]
    first = Store(url, databases, model)
    mine, theirs = first.new_chat(), first.new_chat()
    first.ask(mine, question)  # type: ignore[arg-type]
    first.ask(theirs, question)  # type: ignore[arg-type]
    databases.pop().close()

    restarted = Store(url, databases, model)
    restarted.ask(mine, "and now?")

    assert files_in(url) == 1
    assert model.received[-1][1].content[1] == question[1]  # its bytes, sent again
    stored = restarted.store.database.last_messages(mine, 1, before=1)[0]
    assert "base64" not in str(stored.content)  # the transcript holds a reference
    copied = restarted.new_chat()
    restarted.store.database.append_messages(copied, stored)  # another chat's reference
    copied_question = restarted.store.recent(copied, 1)
    assert "not found" in str(restarted.store.with_files(copied, copied_question)[0].content)
    restarted.store.delete(mine)
    assert files_in(url) == 1  # the other chat still refers to it
    restarted.store.delete(theirs)
    assert files_in(url) == 0


def test_an_exported_chat_with_a_file_opens_as_a_new_chat_keeping_the_file_once(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    chat_export = importlib.import_module(f"{PACKAGE}.chat_export")
    chat_files = importlib.import_module(f"{PACKAGE}.chat_files")
    url = postgres.create_database("imported_files")
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    image = base64.b64encode(data).decode()
    question = [
        {"type": "text", "text": "look"},
        {"type": "image", "base64": image, "mime_type": "image/png"},
    ]
    chats = Store(url, databases, None)
    chat_id = chats.new_chat()
    chats.ask(chat_id, question)  # type: ignore[arg-type]
    when = datetime.datetime.now(datetime.UTC)
    export = chat_export.to_json("Chat", chat_files.whole_chat(chats.store, chat_id), when)

    imported = chats.store.import_chat(chat_export.from_json(export.encode()), 4000)

    digest = hashlib.sha256(data).hexdigest()
    assert chats.store.database.files_of(imported, [digest]) == {digest: data}
    assert files_in(url) == 1  # one row for both chats
    assert image not in str(chats.store.database.last_messages(imported, 10))
    config = {"configurable": {"thread_id": imported}}
    checkpoint = chats.store.database.checkpointer.get_tuple(config)
    assert checkpoint is not None and image not in str(checkpoint.checkpoint)


def test_two_replicas_asking_in_one_chat_at_once_answer_one_after_the_other(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    model = ScriptedChatModel(replies=["one two three four"], seconds_per_word=0.05)
    replicas = [Store(postgres.url, databases, model) for _ in range(2)]  # a pool each
    chat_id = replicas[0].new_chat()
    tabs = [
        threading.Thread(target=replica.ask, args=(chat_id, f"via replica {number}"))
        for number, replica in enumerate(replicas)
    ]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()

    stored = texts(replicas[1].store.recent(chat_id, 10))
    first, second = stored[0], stored[2]
    assert sorted([first, second]) == ["via replica 0", "via replica 1"]
    assert stored == [first, "one two three four", second, "one two three four"]
    # The second turn's model call saw the first turn: the graph's memory misses neither.
    assert texts(model.received[1][1:]) == [first, "one two three four", second]


def test_appends_from_two_tabs_never_drop_or_reorder_a_message(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    chats = Store(postgres.url, databases, None)
    store = chats.store
    database = databases[0]
    chat_id = chats.new_chat()

    def write(tab: str) -> None:
        for number in range(25):
            database.append_messages(chat_id, HumanMessage(content=f"{tab} {number}"))

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
    chat_database: ModuleType, chat_history_url: ModuleType, postgres: PostgresCluster
) -> None:
    url = postgres.url_for(password="wrong-" + postgres.password)

    with pytest.raises(chat_database.ChatDatabaseUnavailable) as error:
        chat_history_url.open_chat_database(url, Path.cwd())

    assert "password authentication failed" in str(error.value)
    assert postgres.password not in str(error.value)
    assert f"PostgreSQL at 127.0.0.1:{postgres.port}/tests" in str(error.value)


def test_password_full_of_url_characters_works_percent_encoded_and_is_never_shown(
    chat_database: ModuleType,
    chat_history_url: ModuleType,
    postgres: PostgresCluster,
    databases: list[Any],
) -> None:
    name = f"url_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.create_database(name), autocommit=True) as connection:
        password = sql.Literal(URL_CHARACTERS_PASSWORD)
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), password)
        )
        connection.execute(sql.SQL("ALTER DATABASE {0} OWNER TO {0}").format(sql.Identifier(name)))
    url = postgres.url_for(name, user=name, password=URL_CHARACTERS_PASSWORD)  # encoded
    database = chat_history_url.open_chat_database(url, Path.cwd())
    databases.append(database)
    wrong = postgres.url_for(name, user=name, password=URL_CHARACTERS_PASSWORD + "x")

    with pytest.raises(chat_database.ChatDatabaseUnavailable) as error:
        chat_history_url.open_chat_database(wrong, Path.cwd())

    assert database.location == f"PostgreSQL at 127.0.0.1:{postgres.port}/{name}"
    message = str(error.value)
    # The server's reason names the user: it is shown as ****, like the password.
    assert 'password authentication failed for user "****"' in message
    assert message.startswith(f"The chat history (PostgreSQL at 127.0.0.1:{postgres.port}/")
    for piece in PASSWORD_PIECES:
        assert piece not in message


def test_malformed_url_hides_the_password(
    chat_database: ModuleType, chat_history_url: ModuleType
) -> None:
    with pytest.raises(chat_database.ChatHistoryUrlError) as error:
        chat_history_url.open_chat_database("postgresql://chat:s3cret@host:port:x/db?=", Path.cwd())

    assert "CHAT_HISTORY_URL" in str(error.value)
    assert "s3cret" not in str(error.value)


def test_store_recovers_once_the_database_is_back(
    chat_database: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    chats = Store(postgres.url, databases, None)
    chat_id = chats.new_chat()
    chats.ask(chat_id, "before the outage")

    postgres.stop()
    try:
        with pytest.raises(chat_database.ChatDatabaseUnavailable) as error:
            chats.ask(chat_id, "during the outage")
        assert postgres.password not in str(error.value)
        assert "PostgreSQL at 127.0.0.1" in str(error.value)
    finally:
        postgres.start()

    chats.ask(chat_id, "after the outage")
    assert texts(chats.store.recent(chat_id, 10)) == [
        "before the outage",
        "the answer",
        "after the outage",
        "the answer",
    ]


def stored_bytes(
    postgres: PostgresCluster, exchanges: int, databases: list[Any], regenerated: int = 0
) -> int:
    """Bytes of every table of a fresh database holding one chat of that many exchanges,
    every `regenerated`-th of them regenerated once (0: none)."""
    url = postgres.create_database(f"growth_{exchanges}_{regenerated}")
    chats = Store(url, databases, ScriptedChatModel(replies=[SIXTY_WORDS]))
    chat_id = chats.new_chat()
    for number in range(exchanges):
        question = f"question {number}: {SIXTY_WORDS}"
        chats.ask(chat_id, question)
        if regenerated and number % regenerated == 0:
            chats.ask(chat_id, question, replacing=chats.question_ids(chat_id)[-1])
    return database_bytes(url)


def database_bytes(url: str) -> int:
    """Bytes of every table of the database (the benchmark measures with it too)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM")  # what autovacuum does in the background
        (size,) = connection.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).fetchone() or (0,)
    return int(size)


def test_storage_grows_linearly_with_the_chat(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    short = stored_bytes(postgres, 30, databases)
    long = stored_bytes(postgres, 90, databases)

    assert long <= 3.6 * short, (short, long)


def test_storage_grows_linearly_with_a_chat_whose_every_tenth_turn_was_regenerated(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    short = stored_bytes(postgres, 30, databases, regenerated=10)
    long = stored_bytes(postgres, 90, databases, regenerated=10)

    assert long <= 3.6 * short, (short, long)


def chat_with_an_edited_question(
    postgres: PostgresCluster, databases: list[Any]
) -> tuple[Store, str, ScriptedChatModel]:
    """A chat of two turns whose second question was then edited ("Q2 edited")."""
    model = ScriptedChatModel(replies=["A1", "A2", "A2 edited", "A3"])
    chats = Store(postgres.url, databases, model)
    chat_id = chats.new_chat()
    chats.ask(chat_id, "Q1")
    chats.ask(chat_id, "Q2")
    chats.ask(chat_id, "Q2 edited", replacing=chats.question_ids(chat_id)[1])
    return chats, chat_id, model


def test_new_version_of_a_turn_is_shown_and_the_model_sent_only_it(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    chats, chat_id, model = chat_with_an_edited_question(postgres, databases)

    assert texts(model.received[-1][1:]) == ["Q1", "A1", "Q2 edited"]
    assert texts(chats.store.recent(chat_id, 10)) == ["Q1", "A1", "Q2 edited", "A2 edited"]
    edited = chats.question_ids(chat_id)[1]
    assert chats.store.versions(chat_id, chats.question_ids(chat_id)) == {
        edited: chats.modules["chats"].Versions(2, 2)
    }


def test_earlier_version_shown_again_is_what_the_model_is_sent_next(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    chats, chat_id, model = chat_with_an_edited_question(postgres, databases)

    chats.store.show_version(chat_id, chats.question_ids(chat_id)[1], 1)
    chats.ask(chat_id, "Q3")

    assert texts(model.received[-1][1:]) == ["Q1", "A1", "Q2", "A2", "Q3"]
    assert chats.store.count(chat_id) == 6


def test_feedback_survives_a_restart(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    chats = Store(postgres.url, databases, None)
    chat_id = chats.new_chat()
    chats.ask(chat_id, "Q1")
    (reply,) = [m for m in chats.store.recent(chat_id, 10) if m.type == "ai"]
    feedback = chats.modules["chats"].Feedback(1, "Just right")
    chats.store.keep_feedback(chat_id, str(reply.id), feedback)
    databases.pop().close()

    restarted = Store(postgres.url, databases, None)

    assert restarted.store.feedback(chat_id, [str(reply.id)]) == {str(reply.id): feedback}


def test_nul_characters_in_a_question_and_its_reply_are_kept(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    # PostgreSQL's text and JSONB refuse NUL; model output and pasted text may hold it.
    model = ScriptedChatModel(replies=["nul\x00 in the reply", "A2"])
    chats = Store(postgres.url, databases, model)
    chat_id = chats.new_chat()
    chats.ask(chat_id, "nul\x00 in the question")
    chats.ask(chat_id, "Q2")
    databases.pop().close()

    restarted = Store(postgres.url, databases, model)

    assert texts(restarted.store.recent(chat_id, 10)) == [
        "nul\x00 in the question",
        "nul\x00 in the reply",
        "Q2",
        "A2",
    ]
    assert texts(model.received[-1][1:3]) == ["nul\x00 in the question", "nul\x00 in the reply"]


def test_imported_messages_with_nul_characters_are_kept(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    chats = Store(postgres.url, databases, None)
    messages = [HumanMessage(content="Q\x00"), AIMessage(content="A\x00\x01")]

    chat_id = chats.store.import_chat(messages, 4000)

    assert texts(chats.store.recent(chat_id, 10)) == ["Q\x00", "A\x00\x01"]


V0_2_0_TRANSCRIPT = """
    CREATE TABLE chat_messages (
        chat_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        message JSONB NOT NULL,
        PRIMARY KEY (chat_id, seq)
    )
"""
"""The transcript table as release v0.2.0 created it (postgres_database.py)."""


def test_database_written_by_v0_2_0_opens_and_its_chats_get_versions(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    url = postgres.create_database("written_by_v0_2_0")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(V0_2_0_TRANSCRIPT)
        for seq, message in enumerate(
            [HumanMessage(content="old Q1"), AIMessage(content="old A1")]
            + [HumanMessage(content="old Q2"), AIMessage(content="old A2")]
        ):
            connection.execute(
                "INSERT INTO chat_messages VALUES ('old-chat', %s, %s)",
                (seq, Jsonb(message_to_dict(message))),
            )
    model = ScriptedChatModel(replies=["new A2"])

    Store(url, databases, model)  # the schema added once...
    chats = Store(url, databases, model)  # ...and again: nothing changes

    assert texts(chats.store.recent("old-chat", 10)) == ["old Q1", "old A1", "old Q2", "old A2"]
    chats.ask("old-chat", "old Q2", replacing=chats.question_ids("old-chat")[1])
    assert texts(chats.store.recent("old-chat", 10)) == ["old Q1", "old A1", "old Q2", "new A2"]
    chats.store.show_version("old-chat", chats.question_ids("old-chat")[1], 1)
    assert texts(chats.store.recent("old-chat", 10))[-1] == "old A2"
    chats.ask("old-chat", "nul\x00 after the upgrade")  # JSONB became JSON: NUL is kept
    assert texts(chats.store.recent("old-chat", 10))[-2] == "nul\x00 after the upgrade"


def test_linking_older_messages_at_start_reads_no_table_once_done(
    app: ModuleType, postgres: PostgresCluster, databases: list[Any]
) -> None:
    """The start-up UPDATE of messages without a depth reads a partial index of those
    (none once linked), not every message of every chat at every start."""
    url = postgres.create_database("linked_once")
    chats = Store(url, databases, None)
    chats.ask(chats.new_chat(), "Q1")

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO chat_messages (chat_id, seq, message, parent, depth) "
            "SELECT 'long chat', n, '{}', n - 1, n FROM generate_series(0, 49999) AS n"
        )
        connection.execute("ANALYZE chat_messages")
        plan = [
            row[0]
            for row in connection.execute(
                "EXPLAIN UPDATE chat_messages SET parent = seq - 1, depth = seq WHERE depth IS NULL"
            )
        ]

    assert any("chat_messages_unlinked" in line for line in plan), plan
