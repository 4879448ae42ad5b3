"""Which chat the page shows: the one in the page's link, or the browser session's own.

Chats that last (LangGraph's) have an unguessable id, carried in the page's URL as the
query parameter `chat`: a reload or a shared link reopens that chat, and nothing else
does. Chats that do not last (the session wiring's) are one per browser session.
"""

from __future__ import annotations

import uuid

import streamlit as st

from .chats import Chats

CHAT_PARAMETER = "chat"
"""The URL's query parameter holding the chat id: ?chat=<uuid4>."""
SESSION_CHAT_ID = "this-browser-session"
"""The id of a browser session's one chat, when chats do not last (it has no link)."""

# st.session_state keys.
STARTED_KEY = "chats_started_here"
"""The ids of the chats this browser session started (an empty one needs no note)."""
NOTE_KEY = "chat_note"
"""A note for the next run, e.g. why a chat could not be deleted."""


def new_chat_id() -> str:
    """An unguessable id for a new chat: its LangGraph thread id and its URL parameter."""
    return str(uuid.uuid4())


def is_chat_id(text: str) -> bool:
    """True for an id that new_chat_id could have made (so never a path or a pattern)."""
    try:
        return str(uuid.UUID(text, version=4)) == text
    except ValueError:
        return False


def linked_chat_id() -> str | None:
    """The chat id in the page's URL, if it holds a well-formed one."""
    requested = st.query_params.get(CHAT_PARAMETER)
    return requested if requested and is_chat_id(requested) else None


def current_chat_id(chats: Chats) -> str:
    """The chat to show: the URL's; a new one (with a note) when the URL names none or a
    malformed one; or, when chats do not last, the browser session's."""
    if not chats.lasting:
        return SESSION_CHAT_ID
    if chat_id := linked_chat_id():
        return chat_id
    if st.query_params.get(CHAT_PARAMETER):  # never shown: it may be anything
        leave_note("The link's chat id is not valid, so this is a new chat.")
    return link_new_chat()


def link_new_chat() -> str:
    """Put a new chat's id in the URL; return it."""
    chat_id = new_chat_id()
    st.session_state.setdefault(STARTED_KEY, set()).add(chat_id)
    st.query_params[CHAT_PARAMETER] = chat_id
    return chat_id


def started_here(chat_id: str) -> bool:
    """Whether this browser session started the chat (so it is no stranger's link)."""
    return chat_id in st.session_state.get(STARTED_KEY, set())


def leave_note(note: str, detail: str | None = None) -> None:
    """Say something at the top of the chat in the next run (or in this one, if not yet
    drawn): `note` is the app's own Markdown, `detail` (a database's message, whatever it
    holds) is shown under it as plain text."""
    st.session_state[NOTE_KEY] = (note, detail)


def take_note() -> tuple[str, str | None] | None:
    """The note left for this run and its detail, if any (shown once)."""
    note: tuple[str, str | None] | None = st.session_state.pop(NOTE_KEY, None)
    return note
