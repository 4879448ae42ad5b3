"""Storage and speed of the LangGraph chat store as a chat grows: SQLite and PostgreSQL.

    .venv/bin/python benchmarks/chat_store_growth.py

Prints the bytes a store takes with one chat of 100 and of 300 exchanges (about 60 words
a message; real turns through the graph with a scripted model), also with every tenth
turn regenerated once (a new version beside the old: turn_controls), and the time of
`recent(chat_id, 50)` (what a rerun reads) and of one turn at 100, 1,000 and 5,000
earlier exchanges. PostgreSQL is a throwaway server (Debian's postgresql package).

    .venv/bin/python benchmarks/chat_store_growth.py files

Prints only the bytes of a store (attachments=images) with one chat of 100 exchanges,
ten of whose questions carry a different 1 MB image: each file is stored once, by
reference, so the store should take about 10 MB, not a copy per checkpoint.
"""

from __future__ import annotations

import base64
import functools
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))
from test_postgres_chat_store import (  # noqa: E402
    SIXTY_WORDS,
    ScriptedChatModel,
    Store,
    database_bytes,
)

from helpers import random_png, render  # noqa: E402
from postgres_server import postgres_cluster  # noqa: E402


def import_project(folder: Path, backend: str, **answers: Any) -> str:
    """Render a project for the backend, make its package importable; its name."""
    package = f"growth_{backend}_{'files_' if answers else ''}chats"
    project = render(folder / package, history_backend=backend, package_name=package, **answers)
    sys.path.insert(0, str(project))
    return package


BACKENDS = ("sqlite", "postgres")


class Chats(Store):
    """A project's store and graph with the benchmark's scripted model."""

    def __init__(self, url: str, package: str) -> None:
        self.opened: list[Any] = []
        super().__init__(url, self.opened, ScriptedChatModel(replies=[SIXTY_WORDS]), package)

    def close(self) -> None:
        for database in self.opened:
            database.close()


def sqlite_bytes(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def growth(url: str, package: str, exchanges: int, measure: Any, regenerated: int = 0) -> int:
    """Bytes of a store with one chat of that many exchanges, every `regenerated`-th turn
    regenerated once (0: none)."""
    chats = Chats(url, package)
    chat_id = chats.new_chat()
    for number in range(exchanges):
        question = f"question {number}: {SIXTY_WORDS}"
        chats.ask(chat_id, question)
        if regenerated and number % regenerated == 0:
            chats.ask(chat_id, question, replacing=chats.question_ids(chat_id)[-1])
    chats.close()
    return int(measure())


IMAGE_BYTES = 1000 * 1000


def growth_with_images(url: str, package: str, measure: Any) -> int:
    """Bytes of a store with one chat of 100 exchanges, every tenth question with a
    different 1 MB image (a PNG of random pixels: nothing compresses it; the store keeps
    its thumbnail with its reference too)."""
    chats = Chats(url, package)
    chat_id = chats.new_chat()
    for number in range(100):
        question: Any = f"question {number}: {SIXTY_WORDS}"
        if number % 10 == 0:
            image = random_png(IMAGE_BYTES)
            encoded = base64.b64encode(image).decode()
            question = [
                {"type": "text", "text": question},
                {"type": "text", "text": f"[Attached file: image-{number}.png (image/png)]"},
                {"type": "image", "base64": encoded, "mime_type": "image/png"},
            ]
        chats.ask(chat_id, question)
    chats.close()
    return int(measure())


def files_only() -> None:
    """The store's bytes with ten 1 MB images in a 100-exchange chat, per backend."""
    folder = Path(tempfile.mkdtemp(prefix="chat-store-files-"))
    try:
        with postgres_cluster() as server:
            for backend in BACKENDS:
                package = import_project(folder, backend, attachments="images")
                if backend == "sqlite":
                    path = folder / "files.sqlite"
                    url = f"sqlite:///{path}"
                    measure = functools.partial(sqlite_bytes, path)
                else:
                    url = server.create_database("files")
                    measure = functools.partial(database_bytes, url)
                size = growth_with_images(url, package, measure)
                print(f"{backend}, ten 1 MB images in 100 exchanges: {size:,} bytes")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def timings(url: str, package: str, exchanges: int) -> tuple[float, float]:
    """Seconds of recent(chat_id, 50) and of one turn with that many earlier exchanges."""
    chats = Chats(url, package)
    store, database = chats.store, chats.opened[0]
    chat_id = chats.new_chat()
    for number in range(exchanges - 20):  # the transcript, written directly
        database.append_messages(
            chat_id,
            HumanMessage(content=f"q{number}: {SIXTY_WORDS}"),
            AIMessage(content=SIXTY_WORDS),
        )
    for number in range(20):  # real turns, so that the model's window is full
        chats.ask(chat_id, f"question {number}: {SIXTY_WORDS}")
    start = time.perf_counter()
    for _ in range(20):
        store.count(chat_id)
        store.recent(chat_id, 50)
    read = (time.perf_counter() - start) / 20
    start = time.perf_counter()
    for number in range(5):
        chats.ask(chat_id, f"timed {number}: {SIXTY_WORDS}")
    turn = (time.perf_counter() - start) / 5
    assert store.count(chat_id) == 2 * exchanges + 10
    chats.close()
    return read, turn


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="chat-store-growth-"))
    try:
        with postgres_cluster() as server:
            packages = {backend: import_project(folder, backend) for backend in BACKENDS}
            rows = []
            for backend in BACKENDS:
                package = packages[backend]
                for regenerated in (0, 10):
                    sizes = []
                    for exchanges in (100, 300):
                        name = f"growth_{exchanges}_{regenerated}"
                        if backend == "sqlite":
                            path = folder / f"{name}.sqlite"
                            url = f"sqlite:///{path}"
                            measure = functools.partial(sqlite_bytes, path)
                        else:
                            url = server.create_database(name)
                            measure = functools.partial(database_bytes, url)
                        sizes.append(growth(url, package, exchanges, measure, regenerated))
                    ratio = sizes[1] / sizes[0]
                    case = f", every {regenerated}th turn regenerated" if regenerated else ""
                    print(f"{backend}{case}: {sizes[0]:,} bytes at 100 exchanges, "
                          f"{sizes[1]:,} at 300, ratio {ratio:.2f}")  # fmt: skip
                for exchanges in (100, 1000, 5000):
                    url = (
                        f"sqlite:///{folder / f'time-{exchanges}.sqlite'}"
                        if backend == "sqlite"
                        else server.create_database(f"time_{exchanges}")
                    )
                    read, turn = timings(url, package, exchanges)
                    rows.append((backend, exchanges, read, turn))
            print(f"{'backend':10} {'exchanges':>9} {'count+recent(50)':>17} {'one turn':>9}")
            for backend, exchanges, read, turn in rows:
                print(f"{backend:10} {exchanges:9,} {read * 1000:14.1f} ms {turn * 1000:6.1f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    files_only() if sys.argv[1:] == ["files"] else main()
