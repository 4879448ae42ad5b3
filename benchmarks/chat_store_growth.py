"""Storage and speed of the LangGraph chat store as a chat grows: SQLite and PostgreSQL.

    .venv/bin/python benchmarks/chat_store_growth.py

Prints the bytes a store takes with one chat of 100 and of 300 exchanges (about 60 words
a message; real turns through the graph with a scripted model), and the time of
`recent(chat_id, 50)` (what a rerun reads) and of one turn at 100, 1,000 and 5,000
earlier exchanges. PostgreSQL is a throwaway server (Debian's postgresql package).
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from langchain_core.messages import AIMessage, HumanMessage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_postgres_chat_store import (  # noqa: E402
    SIXTY_WORDS,
    ScriptedChatModel,
    ThrowawayPostgres,
    ask,
    chat_database,
    chat_store,
    graph,
)


def open_store(url: str) -> tuple[Any, Any]:
    database = chat_database.open_chat_database(url)
    model = ScriptedChatModel(reply=SIXTY_WORDS)
    chat_graph = graph.build_chat_graph(model, "Be brief.", 4000, database.checkpointer)
    return database, chat_store.ChatStore(database, chat_graph)


def sqlite_bytes(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def postgres_bytes(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM")
        (size,) = connection.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).fetchone() or (0,)
    return int(size)


def growth(url: str, exchanges: int, measure: Any) -> int:
    database, store = open_store(url)
    chat_id = chat_store.new_chat_id()
    for number in range(exchanges):
        ask(store, chat_id, f"question {number}: {SIXTY_WORDS}")
    database.close()
    return int(measure())


def timings(url: str, exchanges: int) -> tuple[float, float]:
    """Seconds of recent(chat_id, 50) and of one turn with that many earlier exchanges."""
    database, store = open_store(url)
    chat_id = chat_store.new_chat_id()
    for number in range(exchanges - 20):  # the transcript, written directly
        database.log.append(chat_id, HumanMessage(content=f"q{number}: {SIXTY_WORDS}"))
        database.log.append(chat_id, AIMessage(content=SIXTY_WORDS))
    for number in range(20):  # real turns, so that the model's window is full
        ask(store, chat_id, f"question {number}: {SIXTY_WORDS}")
    start = time.perf_counter()
    for _ in range(20):
        store.count(chat_id)
        store.recent(chat_id, 50)
    read = (time.perf_counter() - start) / 20
    start = time.perf_counter()
    for number in range(5):
        ask(store, chat_id, f"timed {number}: {SIXTY_WORDS}")
    turn = (time.perf_counter() - start) / 5
    assert store.count(chat_id) == 2 * exchanges + 10
    database.close()
    return read, turn


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="chat-store-growth-"))
    server = ThrowawayPostgres(folder)
    try:
        rows = []
        for backend in ("sqlite", "postgres"):
            sizes = []
            for exchanges in (100, 300):
                if backend == "sqlite":
                    path = folder / f"growth-{exchanges}.sqlite"
                    url = f"sqlite:///{path}"
                    sizes.append(growth(url, exchanges, lambda p=path: sqlite_bytes(p)))
                else:
                    with psycopg.connect(server.url, autocommit=True) as connection:
                        connection.execute(f"CREATE DATABASE growth_{exchanges}")
                    url = server.url.replace("/postgres", f"/growth_{exchanges}")
                    sizes.append(growth(url, exchanges, lambda u=url: postgres_bytes(u)))
            ratio = sizes[1] / sizes[0]
            print(f"{backend}: {sizes[0]:,} bytes at 100 exchanges, {sizes[1]:,} at 300, "
                  f"ratio {ratio:.2f}")  # fmt: skip
            for exchanges in (100, 1000, 5000):
                url = (
                    f"sqlite:///{folder / f'time-{exchanges}.sqlite'}"
                    if backend == "sqlite"
                    else server.url
                )
                read, turn = timings(url, exchanges)
                rows.append((backend, exchanges, read, turn))
        print(f"{'backend':10} {'exchanges':>9} {'count+recent(50)':>17} {'one turn':>9}")
        for backend, exchanges, read, turn in rows:
            print(f"{backend:10} {exchanges:9,} {read * 1000:14.1f} ms {turn * 1000:6.1f} ms")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
