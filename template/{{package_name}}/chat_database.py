"""Where chats are kept, chosen by one setting, CHAT_HISTORY_URL.

- `memory`: in this server's memory, until it stops;
- `sqlite:///chats.sqlite` (relative to the project folder) or `sqlite:////abs/path.sqlite`;
- `postgresql://user:password@host:5432/database` (or `postgres://`), for several replicas.

Each keeps two things per chat (thread id = chat id):
- the transcript, one row per message, in the order written: what the page draws;
- the graph's checkpoint: only the newest messages that fit the model's budget. After
  each turn every older checkpoint of the chat is pruned, so storage grows with the
  transcript alone, linearly with the length of the chat.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from .settings import PROJECT_ROOT, SettingsError

SETTING = "CHAT_HISTORY_URL"
URL_FORMS = "memory, sqlite:///chats.sqlite or postgresql://user:password@host:5432/database"


class ChatHistoryUrlError(SettingsError):
    """CHAT_HISTORY_URL is missing or malformed; the message never shows a password."""


class ChatDatabaseUnavailable(RuntimeError):
    """The database is down or refuses the login; the message never shows a password."""


class MessageLog(Protocol):
    """The transcript of every chat: messages numbered 0, 1, 2... in the order written."""

    def append(self, chat_id: str, message: BaseMessage) -> None: ...

    def count(self, chat_id: str) -> int: ...

    def last(self, chat_id: str, limit: int, before: int | None = None) -> list[BaseMessage]:
        """The newest `limit` messages numbered below `before` (default: all), oldest first."""
        ...

    def delete(self, chat_id: str) -> None: ...


@dataclass(frozen=True)
class ChatDatabase:
    """A checkpointer and a transcript log in one place, and how to describe it."""

    checkpointer: BaseCheckpointSaver[Any]
    """Supports prune([chat_id], strategy="keep_latest") and delete_thread(chat_id)."""
    log: MessageLog
    location: str
    """For the sidebar: where the chats are kept, never a password."""
    outage_errors: tuple[type[Exception], ...] = ()
    """What the database raises when it is down or refuses the login."""
    password: str = field(default="", repr=False)
    close: Callable[[], None] = lambda: None

    @contextmanager
    def reachable(self) -> Iterator[None]:
        """Turn a database outage into ChatDatabaseUnavailable with a readable message."""
        try:
            yield
        except self.outage_errors as error:
            raise ChatDatabaseUnavailable(
                unreachable(self.location, error, self.password)
            ) from None


def unreachable(location: str, error: Exception, password: str = "") -> str:
    """The message of ChatDatabaseUnavailable: where, and the database's reason."""
    reason = str(error).strip() or type(error).__name__
    if password:
        reason = reason.replace(password, "****")
    return f"The chat history ({location}) cannot be reached: {reason}"


def open_chat_database(url: str | None, project_root: Path = PROJECT_ROOT) -> ChatDatabase:
    """The database CHAT_HISTORY_URL names; a relative SQLite path is under project_root."""
    url = (url or "").strip()
    scheme, _, rest = url.partition("://")
    if url == "memory":
        return open_memory_database()
    if scheme == "sqlite":
        from .sqlite_database import open_sqlite_database

        return open_sqlite_database(sqlite_path(rest, project_root))
    if scheme in ("postgresql", "postgres"):
        from .postgres_database import open_postgres_database

        return open_postgres_database(url)
    if not url:
        raise ChatHistoryUrlError(f"{SETTING} is not set. Use one of: {URL_FORMS}.")
    # Only what comes before the first colon is shown: the rest may hold a password.
    shown = url.split(":")[0] + ":..." if ":" in url else url
    raise ChatHistoryUrlError(f'{SETTING} is "{shown}", which is not one of: {URL_FORMS}.')


def sqlite_path(rest: str, project_root: Path) -> Path:
    """The file of `sqlite:///relative.sqlite` or `sqlite:////absolute.sqlite`."""
    if not rest.startswith("/") or rest.strip("/") == "":
        raise ChatHistoryUrlError(
            f'{SETTING} is "sqlite://{rest}": write sqlite:///chats.sqlite for a file in '
            f"the project folder, or sqlite:////absolute/path/chats.sqlite."
        )
    return project_root / rest[1:]  # an absolute path stays absolute


class PrunableInMemorySaver(InMemorySaver):
    """InMemorySaver plus the keep_latest prune that PostgresSaver has."""

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        for thread_id in thread_ids:
            latest = self.get_tuple({"configurable": {"thread_id": thread_id}})
            self.delete_thread(thread_id)
            if latest is not None and strategy == "keep_latest":
                fresh: RunnableConfig = {
                    "configurable": {"thread_id": thread_id, "checkpoint_ns": ""}
                }
                versions = latest.checkpoint["channel_versions"]
                self.put(fresh, latest.checkpoint, latest.metadata, versions)


class MemoryMessageLog:
    """Transcripts in this process's memory."""

    def __init__(self) -> None:
        self._chats: defaultdict[str, list[BaseMessage]] = defaultdict(list)
        self._lock = threading.Lock()

    def append(self, chat_id: str, message: BaseMessage) -> None:
        with self._lock:
            self._chats[chat_id].append(message)

    def count(self, chat_id: str) -> int:
        return len(self._chats.get(chat_id, ()))

    def last(self, chat_id: str, limit: int, before: int | None = None) -> list[BaseMessage]:
        with self._lock:
            messages = self._chats.get(chat_id, [])
            stop = len(messages) if before is None else min(before, len(messages))
            return messages[max(stop - limit, 0) : stop]

    def delete(self, chat_id: str) -> None:
        with self._lock:
            self._chats.pop(chat_id, None)


def open_memory_database() -> ChatDatabase:
    return ChatDatabase(
        checkpointer=PrunableInMemorySaver(),
        log=MemoryMessageLog(),
        location="in memory on this server (lost when it stops)",
    )
