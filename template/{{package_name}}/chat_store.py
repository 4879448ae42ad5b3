"""The chats as the page sees them: read a window of messages, stream a reply, delete.

What is kept where (see chat_database.py for the three databases):
- the transcript: every message of every chat, one row each, numbered in order. The page
  reads only the window it draws (`recent`, `older`), never the whole chat;
- the graph's checkpoint (thread id = chat id): what the model remembers, the newest
  messages within its token budget. Older checkpoints are pruned after every turn.

A turn stores the question at once, and the reply only once the model has finished it.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from .chat_database import ChatDatabase
from .graph import ChatGraph
from .replies import finish_reason, unfinished_reply, why_unfinished


class ReplyUnfinished(Exception):
    """The stream ended but the model did not finish its reply (cut off or truncated)."""

    def __init__(self, why: str, text: str) -> None:
        super().__init__(f"The reply is unfinished ({why}).")
        self.why = why
        """CUT_OFF, TOO_LONG or EMPTY (see replies.py)."""
        self.text = text
        """What was streamed of it."""


def new_chat_id() -> str:
    """An unguessable id for a new chat: its LangGraph thread id and its URL parameter."""
    return str(uuid.uuid4())


def is_chat_id(text: str) -> bool:
    """True for an id that new_chat_id could have made (so never a path or a pattern)."""
    try:
        return str(uuid.UUID(text, version=4)) == text
    except ValueError:
        return False


class ChatStore:
    """The chats kept in one database, answered by one graph."""

    def __init__(self, database: ChatDatabase, graph: ChatGraph) -> None:
        self._database = database
        self._graph = graph

    @property
    def location(self) -> str:
        """Where the chats are kept, for the sidebar; never a password."""
        return self._database.location

    def count(self, chat_id: str) -> int:
        """How many messages the chat has."""
        with self._database.reachable():
            return self._database.log.count(chat_id)

    def recent(self, chat_id: str, limit: int) -> list[BaseMessage]:
        """The newest `limit` messages of the chat, oldest first."""
        with self._database.reachable():
            return self._database.log.last(chat_id, limit)

    def older(self, chat_id: str, before: int, limit: int) -> list[BaseMessage]:
        """The `limit` messages just before message number `before` (0 is the first)."""
        with self._database.reachable():
            return self._database.log.last(chat_id, limit, before=before)

    def stream_reply(self, chat_id: str, question: str) -> Generator[AIMessageChunk, None, None]:
        """Ask the model; yield its reply token by token; store it once it has finished.

        Raises ReplyUnfinished at the end of a stream that the model did not finish; the
        model's own errors pass through. In both cases, and when the caller stops
        iterating, only the question is stored: keep what was shown with keep_unfinished.
        """
        config: RunnableConfig = {"configurable": {"thread_id": chat_id}}
        with self._database.reachable():
            self._database.log.append(chat_id, HumanMessage(content=question))
        texts: list[str] = []
        reason: str | None = None
        with self._database.reachable():
            for chunk, _metadata in self._graph.stream(
                {"messages": [HumanMessage(content=question)]}, config, stream_mode="messages"
            ):
                if isinstance(chunk, AIMessageChunk):
                    texts.append(chunk.text)
                    reason = finish_reason(chunk) or reason
                    yield chunk
            # The newest checkpoint holds all the model remembers: drop the others.
            self._database.checkpointer.prune([chat_id], strategy="keep_latest")
        text = "".join(texts)
        if why := why_unfinished(text, reason):
            raise ReplyUnfinished(why, text)
        with self._database.reachable():
            reply = AIMessage(content=text, response_metadata={"finish_reason": reason})
            self._database.log.append(chat_id, reply)

    def keep_unfinished(
        self, chat_id: str, text: str, why: str, unstored_question: str | None = None
    ) -> None:
        """Store what was shown of a reply that did not finish, marked so (see replies.py).

        `why` is STOPPED, CUT_OFF, TOO_LONG, EMPTY or the explanation of a model error.
        Pass the question too if it was not stored (stream_reply always stores it).
        """
        with self._database.reachable():
            if unstored_question is not None:
                self._database.log.append(chat_id, HumanMessage(content=unstored_question))
            self._database.log.append(chat_id, unfinished_reply(text, why))

    def delete(self, chat_id: str) -> None:
        """Remove the chat from the database: its transcript and its checkpoints."""
        with self._database.reachable():
            self._database.checkpointer.delete_thread(chat_id)
            self._database.log.delete(chat_id)
