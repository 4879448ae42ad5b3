"""What of a long chat the model is sent: the newest turns that fit a token budget."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage
from langchain_core.messages.utils import count_tokens_approximately


def latest_within_budget(messages: Sequence[BaseMessage], max_tokens: int) -> list[BaseMessage]:
    """The newest messages whose tokens add up to at most max_tokens, starting on a question.

    The same messages as `trim_messages(messages, max_tokens=max_tokens, strategy="last",
    start_on="human", token_counter=count_tokens_approximately)`, but found by walking
    back from the newest message and stopping at the budget: a turn costs the same
    however long the chat has grown. (The approximate count of a list is the sum of the
    counts of its messages, so they can be counted one by one.) Nothing is removed from
    the stored history; older turns are only left out of what the model is sent.
    """
    start = len(messages)
    tokens = 0
    while start > 0:
        tokens += count_tokens_approximately([messages[start - 1]])
        if tokens > max_tokens:
            break
        start -= 1
    while start < len(messages) and messages[start].type != "human":
        start += 1
    return list(messages[start:])
