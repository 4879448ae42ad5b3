"""How a turn is stored: the one storage contract of both wirings (see chats.py).

How a streamed reply ended is decided in reply.py (`Reply`, `Outcome`, `finish_reason`);
this module only turns a turn into the messages kept for it:

- a complete reply: the question, then the reply (an AIMessage with its finish reason);
- a reply that did not finish but has text (stopped, cut off, at the token limit, filtered,
  timed out): the question, then what was shown, marked
  `response_metadata={"unfinished": outcome}`; never sent back to the model as an answer;
- no reply at all (a model error, or no text): the question alone, marked
  `response_metadata={"unanswered_because": explanation}`, so that a reload shows why.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from .reply import NOTICES, Outcome, Reply, unfinished_message

UNANSWERED_BECAUSE = "unanswered_because"
"""response_metadata key of a stored question that got no reply: the explanation shown."""
STOPPED_BEFORE_ANY_TEXT = "You stopped this reply before any text arrived."


def stored_turn(question: str, reply: Reply, failure: str | None = None) -> list[BaseMessage]:
    """The messages to keep for a turn; `failure` explains a model error, if there was one."""
    if reply.is_complete:
        metadata = {"finish_reason": reply.finish_reason} if reply.finish_reason else {}
        answer = AIMessage(content=reply.text, response_metadata=metadata)
        return [HumanMessage(content=question), answer]
    if failure is None and reply.outcome is not None and reply.text.strip():
        unfinished = unfinished_message(reply.text, reply.outcome, reply.finish_reason)
        return [HumanMessage(content=question), unfinished]
    explanation = failure or reply.notice or NOTICES[Outcome.CUT_OFF]
    if reply.outcome is Outcome.STOPPED and failure is None:
        explanation = STOPPED_BEFORE_ANY_TEXT
    return [HumanMessage(content=question, response_metadata={UNANSWERED_BECAUSE: explanation})]


def unanswered_because(message: BaseMessage) -> str | None:
    """Why a stored question got no reply, or None if it got one."""
    explanation = message.response_metadata.get(UNANSWERED_BECAUSE)
    return str(explanation) if explanation else None
