"""Chats in one SQLite file: LangGraph's SqliteSaver plus a chat_messages table.

Every browser session of the server shares one connection, guarded by the saver's lock;
the file is in WAL mode, so a second server process on the same file waits its turn.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict
from langgraph.checkpoint.sqlite import SqliteSaver

from .chat_database import ChatDatabase, ChatDatabaseUnavailable

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS chat_messages (
    chat_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (chat_id, seq)
)
"""


class PrunableSqliteSaver(SqliteSaver):
    """SqliteSaver plus the keep_latest prune that PostgresSaver has.

    A SQLite checkpoint row holds every channel's value, so the newest one is enough.
    """

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        if strategy != "keep_latest":
            for thread_id in thread_ids:
                self.delete_thread(thread_id)
            return
        with self.lock, self.conn:
            for thread_id in thread_ids:
                for table in ("writes", "checkpoints"):
                    self.conn.execute(
                        f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < "
                        "(SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = ?)",
                        (thread_id, thread_id),
                    )


class SqliteMessageLog:
    """Transcripts in the chat_messages table, one row per message."""

    def __init__(self, connection: sqlite3.Connection, lock: threading.Lock) -> None:
        self._connection = connection
        self._lock = lock
        with self._lock, self._connection:
            self._connection.execute(CREATE_TABLE)

    def append(self, chat_id: str, message: BaseMessage) -> None:
        row = json.dumps(message_to_dict(message))
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT INTO chat_messages (chat_id, seq, message) "
                "SELECT ?, COALESCE(MAX(seq) + 1, 0), ? FROM chat_messages WHERE chat_id = ?",
                (chat_id, row, chat_id),
            )

    def count(self, chat_id: str) -> int:
        with self._lock:
            (count,) = self._connection.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM chat_messages WHERE chat_id = ?",
                (chat_id,),
            ).fetchone()
        return int(count)

    def last(self, chat_id: str, limit: int, before: int | None = None) -> list[BaseMessage]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT message FROM chat_messages WHERE chat_id = ? AND seq < ? "
                "ORDER BY seq DESC LIMIT ?",
                (chat_id, 2**62 if before is None else before, limit),
            ).fetchall()
        return messages_from_dict([json.loads(message) for (message,) in reversed(rows)])

    def delete(self, chat_id: str) -> None:
        with self._lock, self._connection:
            self._connection.execute("DELETE FROM chat_messages WHERE chat_id = ?", (chat_id,))


def open_sqlite_database(path: Path) -> ChatDatabase:
    location = f"SQLite file {path.name}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection for every session of this server; the saver's lock guards it.
        connection = sqlite3.connect(path, check_same_thread=False, timeout=10)
        checkpointer = PrunableSqliteSaver(connection)
        checkpointer.setup()  # creates its tables and turns on WAL mode
        # In WAL mode, NORMAL survives a crash of the app; only a power cut may lose the
        # last turns. FULL would wait for the disk on each of a turn's several commits.
        connection.execute("PRAGMA synchronous = NORMAL")
        log = SqliteMessageLog(connection, checkpointer.lock)
    except (OSError, sqlite3.Error) as error:
        message = f"The chat history ({path}) cannot be opened: {error}"
        raise ChatDatabaseUnavailable(message) from None
    return ChatDatabase(
        checkpointer=checkpointer,
        log=log,
        location=location,
        outage_errors=(sqlite3.Error,),
        close=connection.close,
    )
