"""Who owns which chat, kept in PostgreSQL: the chat_owners table of an oidc + postgres
project on the real throwaway cluster (tests/conftest_servers.py `postgres`).

The page logic around it (lists, "not found") is the generated project's own AppTest
suite (tests/test_user_chats.py there), which keeps chats in memory or SQLite; here the
PostgreSQL owners are tried alone: claims, lists, deletes, a restart and racing claims.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers import ANSWER_SETS, imported, render
from postgres_server import PostgresCluster

PACKAGE = ANSWER_SETS["oidc-postgres"]["package_name"]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package of a rendered oidc + postgres project, imported into this process."""
    project = render(tmp_path_factory.mktemp("oidc-postgres"), **ANSWER_SETS["oidc-postgres"])
    with imported(project) as package:
        yield package


@pytest.fixture
def open_owners(package: ModuleType, postgres: PostgresCluster) -> Iterator[Any]:
    """open_owners(): the project's chat store and its database (which keeps the owners)
    on a fresh database, opened as the app opens them (call again for a restart); all
    closed at the end."""
    url = postgres.create_database(f"owners_{uuid.uuid4().hex[:12]}")
    opened: list[Any] = []
    chat_history_url = importlib.import_module(f"{PACKAGE}.chat_history_url")
    chat_store = importlib.import_module(f"{PACKAGE}.chat_store")

    def open_() -> tuple[Any, Any]:
        database = chat_history_url.open_chat_database(url, Path.cwd())
        opened.append(database)
        return chat_store.ChatStore(database), database

    yield open_
    for database in opened:
        database.close()


def test_claims_lists_and_deletes_keep_each_users_chats_apart(open_owners, package) -> None:
    store, _ = open_owners()
    user_chats = importlib.import_module(f"{PACKAGE}.user_chats")
    alice = user_chats.UserChats(store, '["https://issuer.example", "alice"]')
    bob = user_chats.UserChats(store, '["https://issuer.example", "bob"]')
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(3)]

    assert alice.claim(ids[0], "  first\nquestion ") and alice.claim(ids[1], "second")
    assert bob.claim(ids[2], "bob's")
    assert not bob.claim(ids[0], "taking it over?")
    assert alice.claim(ids[0], "a later question keeps the title")

    assert alice.chats() == [(ids[1], "second"), (ids[0], "first question")]
    assert bob.chats() == [(ids[2], "bob's")]
    assert alice.owns(ids[0]) and not bob.owns(ids[0]) and bob.owner_of(ids[0]) == alice.owner

    from langchain_core.messages import HumanMessage

    store.database.append_messages(ids[0], HumanMessage(content="first question"))
    bob.delete(ids[0])  # not his: nothing happens
    assert store.count(ids[0]) == 1 and alice.owns(ids[0])
    alice.delete(ids[0])
    assert store.count(ids[0]) == 0 and alice.owner_of(ids[0]) is None
    assert alice.chats() == [(ids[1], "second")]


def test_owners_survive_a_restart(open_owners, package) -> None:
    _, database = open_owners()
    database.claim_chat("00000000-0000-4000-8000-000000000001", "alice", "kept")

    _, restarted = open_owners()

    assert restarted.owner_of("00000000-0000-4000-8000-000000000001") == "alice"
    assert restarted.chats_of("alice", 50) == [("00000000-0000-4000-8000-000000000001", "kept")]


def test_racing_claims_of_one_chat_give_it_one_owner(open_owners) -> None:
    _, database = open_owners()
    chat_id = "00000000-0000-4000-8000-0000000000aa"
    results: dict[str, str] = {}
    start = threading.Barrier(8)

    def claim(user: str) -> None:
        start.wait()
        results[user] = database.claim_chat(chat_id, user, f"{user}'s question")

    threads = [threading.Thread(target=claim, args=(f"user{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(results) == 8
    assert len(set(results.values())) == 1  # every claimant sees the same owner
    [winner] = set(results.values())
    assert database.chats_of(winner, 50) == [(chat_id, f"{winner}'s question")]


def test_monthly_usage_adds_up_per_owner_month_and_model_and_survives_a_restart(
    open_owners,
) -> None:
    _, database = open_owners()
    database.add_monthly_usage("alice", "2026-12", "gpt-4o-mini", (10, 2, 3))
    database.add_monthly_usage("alice", "2026-12", "gpt-4o-mini", (1, 0, 1))
    database.add_monthly_usage("alice", "2026-11", "gpt-4o-mini", (5, 0, 5))
    database.add_monthly_usage("bob", "2026-12", "gpt-4o-mini", (7, 0, 7))
    _, again = open_owners()

    assert again.monthly_usage("alice", "2026-12") == {"gpt-4o-mini": (11, 2, 4)}
    assert again.monthly_usage("carol", "2026-12") == {}


def test_imported_export_is_the_importers_chat_with_the_same_messages(open_owners, package) -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    store, _ = open_owners()
    user_chats = importlib.import_module(f"{PACKAGE}.user_chats")
    alice = user_chats.UserChats(store, '["https://issuer.example", "alice"]')
    usage = {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    messages = [
        HumanMessage(content="## hi\x01"),
        AIMessage(content="```yo", usage_metadata=usage, response_metadata={"model_name": "m"}),
    ]

    chat_id = alice.import_chat(messages, 4000)
    assert alice.owns(chat_id)
    assert alice.chats() == [(chat_id, "## hi\x01")]
    # The store gives the imported messages ids of its own.
    stored = [m.model_dump(exclude={"id"}) for m in alice.recent(chat_id, 10)]
    assert stored == [m.model_dump(exclude={"id"}) for m in messages]


def test_imported_chat_whose_first_question_holds_nul_is_titled_with_a_replacement(
    open_owners, package
) -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    store, _ = open_owners()
    user_chats = importlib.import_module(f"{PACKAGE}.user_chats")
    alice = user_chats.UserChats(store, '["https://issuer.example", "alice"]')
    messages = [HumanMessage(content="hi\x00there"), AIMessage(content="A\x00")]

    chat_id = alice.import_chat(messages, 4000)

    assert alice.chats() == [(chat_id, "hi\ufffdthere")]
    assert [m.text for m in alice.recent(chat_id, 10)] == ["hi\x00there", "A\x00"]
