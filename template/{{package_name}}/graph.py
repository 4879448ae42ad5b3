"""The LangGraph wiring: one model node, one thread per chat, memory kept by a checkpointer.

The graph's state is what the model remembers of a chat: the newest messages that fit
history_max_tokens, plus the question and reply of the last turn. Older messages are
removed from the state as they fall out of the budget, so a checkpoint stays small
however long the chat grows. The whole transcript, which the page draws, is kept
beside the graph, one row per message (see chat_store.py).
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, RemoveMessage, SystemMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph

from .replies import finish_reason, why_unfinished


class ChatState(TypedDict):
    """One chat as the model sees it: earlier messages within the budget, then the question."""

    messages: Annotated[list[BaseMessage], add_messages]


ChatGraph = CompiledStateGraph[ChatState, None, ChatState, ChatState]


def build_chat_graph(
    model: BaseChatModel,
    system_prompt: str,
    history_max_tokens: int,
    checkpointer: BaseCheckpointSaver[Any],
) -> ChatGraph:
    """Graph that answers the last message of its state; call it with thread_id = chat id."""

    def answer(state: ChatState) -> dict[str, list[BaseMessage]]:
        *earlier, question = state["messages"]
        # Earlier turns beyond the budget are not sent, and dropped from the state;
        # the system prompt and the new question are always sent.
        history = trim_messages(
            earlier,
            max_tokens=history_max_tokens,
            token_counter=count_tokens_approximately,
            strategy="last",
            start_on="human",
        )
        forgotten = earlier[: len(earlier) - len(history)]
        # A SystemMessage: the prompt is sent verbatim, braces in it are text.
        reply = model.invoke([SystemMessage(content=system_prompt), *history, question])
        update: list[BaseMessage] = [RemoveMessage(id=str(old.id)) for old in forgotten]
        # A reply that was cut off is not remembered as an answer (the page keeps it,
        # marked unfinished, in the transcript).
        if why_unfinished(reply.text, finish_reason(reply)) is None:
            update.append(reply)
        return {"messages": update}

    builder = StateGraph(ChatState)
    builder.add_node("model", answer)
    builder.add_edge(START, "model")
    builder.add_edge("model", END)
    return builder.compile(checkpointer=checkpointer)
