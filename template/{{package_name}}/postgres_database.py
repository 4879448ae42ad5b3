"""Chats in PostgreSQL: LangGraph's PostgresSaver plus a chat_messages table.

Every browser session and every replica share the database through a connection pool.
The pool checks a connection before handing it out and opens new ones as needed, so
the app recovers by itself once a database that was down is back.
"""

from __future__ import annotations

import psycopg
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from .chat_database import (
    SETTING,
    ChatDatabase,
    ChatDatabaseUnavailable,
    ChatHistoryUrlError,
    unreachable,
)

WAIT_SECONDS = 5
"""How long a page waits for the database before it says that it cannot be reached."""

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS chat_messages (
    chat_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    message JSONB NOT NULL,
    PRIMARY KEY (chat_id, seq)
)
"""

Pool = ConnectionPool[psycopg.Connection[DictRow]]


class PostgresMessageLog:
    """Transcripts in the chat_messages table, one row per message."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        with self._pool.connection() as connection:
            connection.execute(CREATE_TABLE)

    def append(self, chat_id: str, message: BaseMessage) -> None:
        with self._pool.connection() as connection, connection.transaction():
            # Two tabs on one chat append one after the other, never with the same number.
            connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (chat_id,))
            connection.execute(
                "INSERT INTO chat_messages (chat_id, seq, message) "
                "SELECT %s, COALESCE(MAX(seq) + 1, 0), %s FROM chat_messages WHERE chat_id = %s",
                (chat_id, Jsonb(message_to_dict(message)), chat_id),
            )

    def count(self, chat_id: str) -> int:
        with self._pool.connection() as connection:
            row = connection.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) AS count FROM chat_messages WHERE chat_id = %s",
                (chat_id,),
            ).fetchone()
        return int(row["count"]) if row else 0

    def last(self, chat_id: str, limit: int, before: int | None = None) -> list[BaseMessage]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT message FROM chat_messages WHERE chat_id = %s AND seq < %s "
                "ORDER BY seq DESC LIMIT %s",
                (chat_id, 2**62 if before is None else before, limit),
            ).fetchall()
        return messages_from_dict([row["message"] for row in reversed(rows)])

    def delete(self, chat_id: str) -> None:
        with self._pool.connection() as connection:
            connection.execute("DELETE FROM chat_messages WHERE chat_id = %s", (chat_id,))


def describe(url: str) -> tuple[str, str]:
    """`PostgreSQL at host:port/database` for the sidebar, and the password to hide."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise ChatHistoryUrlError(
            f"{SETTING} is not a valid PostgreSQL URL: write it as "
            f"postgresql://user:password@host:5432/database."
        ) from None
    host = parts.get("host") or "localhost"
    where = f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"
    return f"PostgreSQL at {where}", str(parts.get("password") or "")


def open_postgres_database(url: str) -> ChatDatabase:
    location, password = describe(url)
    outage_errors = (psycopg.OperationalError, PoolTimeout)
    try:
        # One plain connection first: if the database is down or refuses the login,
        # its error says why (the pool would only say that it timed out).
        psycopg.connect(url, connect_timeout=WAIT_SECONDS).close()
    except outage_errors as error:
        raise ChatDatabaseUnavailable(unreachable(location, error, password)) from None
    pool: Pool = ConnectionPool(
        url,
        kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": WAIT_SECONDS},
        min_size=1,
        max_size=10,
        timeout=WAIT_SECONDS,
        check=ConnectionPool.check_connection,  # drops connections that died meanwhile
        open=False,
    )
    checkpointer = PostgresSaver(pool)
    try:
        pool.open(wait=True, timeout=WAIT_SECONDS)
        checkpointer.setup()  # creates or migrates LangGraph's tables
        log = PostgresMessageLog(pool)
    except outage_errors as error:
        pool.close()
        raise ChatDatabaseUnavailable(unreachable(location, error, password)) from None
    return ChatDatabase(
        checkpointer=checkpointer,
        log=log,
        location=location,
        outage_errors=outage_errors,
        password=password,
        close=pool.close,
    )
