"""The pieces of the chat page that app.py draws, top to bottom."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables.history import RunnableWithMessageHistory

from .chain import build_chat_chain
from .model_errors import describe_model_error
from .providers import PROVIDERS, Provider
from .reply import (
    NOTICES,
    HangUp,
    Outcome,
    Reply,
    show_stored_reply,
    stream_reply,
    unfinished_message,
)
from .settings import Settings, SettingsError, load_settings, read_system_prompt

# Widget keys of the page itself (the history's session key must differ from these).
NEW_CHAT_BUTTON_KEY = "new_chat_button"
API_KEY_INPUT_KEY = "sidebar_api_key"
QUESTION_INPUT_KEY = "chat_question"
UNANSWERED_BECAUSE = "unanswered_because"
"""Metadata of a stored question whose reply failed: the explanation shown for it."""
STOPPED_BEFORE_ANY_TEXT = "You stopped this reply before any text arrived."


def settings_or_stop(folder: Path) -> Settings:
    """The app's settings; a readable error and the end of this run if one is wrong."""
    try:
        return load_settings(folder)
    except SettingsError as error:
        st.error(f"**The app is not configured correctly.** {error}")
        st.stop()


def provider_or_stop(settings: Settings) -> Provider:
    """The provider LLM_PROVIDER names; a readable error if there is no such provider."""
    provider = PROVIDERS.get(settings.LLM_PROVIDER.lower())
    if provider is None:
        choices = ", ".join(f'"{name}"' for name in PROVIDERS)
        st.error(f'**LLM_PROVIDER is "{settings.LLM_PROVIDER}".** Use one of: {choices}.')
        st.stop()
    return provider


@st.cache_resource(show_spinner=False, max_entries=16)
def shared_chat_chain(
    settings: Settings, provider_name: str, api_key: str | None, system_prompt: str
) -> RunnableWithMessageHistory:
    """The model and chain, built once per settings and key and reused by every rerun.

    The chain is safe to share between browser sessions: it looks up the history of the
    session it runs in each time it is called.
    """
    model = PROVIDERS[provider_name].build(settings, api_key)
    return build_chat_chain(model, system_prompt, settings.HISTORY_MAX_TOKENS)


def chat_chain_or_stop(
    settings: Settings, provider: Provider, api_key: str | None, folder: Path
) -> RunnableWithMessageHistory:
    """The shared chain; a readable error if the system prompt or the model is unusable."""
    try:
        system_prompt = read_system_prompt(folder)
    except SettingsError as error:
        st.error(f"**The app is not configured correctly.** {error}")
        st.stop()
    try:
        return shared_chat_chain(settings, settings.LLM_PROVIDER.lower(), api_key, system_prompt)
    except Exception as error:  # e.g. a client rejecting its settings at construction
        st.error(f"**The {provider.label} model could not be set up.** {error}")
        st.stop()


def render_sidebar(
    settings: Settings, provider: Provider, history: BaseChatMessageHistory
) -> str | None:
    """Draw the sidebar; return the API key to use: configured, or typed there."""
    with st.sidebar:
        st.markdown(f"**Model:** {provider.label} · `{provider.model_name(settings)}`")
        st.button("New chat", key=NEW_CHAT_BUTTON_KEY, on_click=history.clear)
        if provider.key_variable is None:
            return None
        if configured := settings.configured_api_key():
            return configured
        return st.text_input(
            f"{provider.label} API key",
            type="password",
            key=API_KEY_INPUT_KEY,
            help="Kept only in this browser session, never written to disk.",
        )


def render_history(
    greeting: str, history: BaseChatMessageHistory, allow_remote_images: bool = False
) -> None:
    """Redraw the whole chat: the greeting first, then every stored message.

    Replies are the model's untrusted text, drawn safely; a reply that did not end
    normally gets its notice again, from the marker it was stored with.
    """
    st.chat_message("ai").markdown(greeting)
    for message in history.messages:
        if message.type == "ai":
            with st.chat_message("ai"):
                show_stored_reply(message, allow_remote_images=allow_remote_images)
            continue
        st.chat_message(message.type).markdown(message.text)
        if error := message.response_metadata.get(UNANSWERED_BECAUSE):
            st.chat_message("ai").error(error)


def ask_for_api_key(provider: Provider) -> None:
    """Say where the missing key goes, with the question box shown but disabled."""
    st.info(
        f"**{provider.label} needs an API key.** Paste one in the sidebar (kept only in "
        f"this browser session), or set `{provider.key_variable}` in "
        f"`.streamlit/secrets.toml` or in the environment and reload. "
        f"To try the app without a key, run it with `LLM_PROVIDER=offline`."
    )
    st.chat_input("Your message", key=QUESTION_INPUT_KEY, disabled=True)


def question_box() -> str | None:
    """The question box at the bottom of the page; the question sent, if any.

    While a reply streams, its send button is a stop button (submit_mode="stop"), so that
    no question can be sent in the middle of a reply. A blank question is not sent.
    """
    question = st.chat_input("Your message", key=QUESTION_INPUT_KEY, submit_mode="stop")
    return question if question and question.strip() else None


def answer(
    chain: RunnableWithMessageHistory,
    history: BaseChatMessageHistory,
    question: str,
    settings: Settings,
) -> None:
    """Stream the reply to a question, then keep what the page shows.

    RunnableWithMessageHistory stores the question and a complete reply by itself. Any
    other ending is stored here: the question, and the text shown so far marked with how
    it ended (never sent to the model again), or, with no text, the question marked with
    why it got no answer. Stop ends this run at the next st.* call, after which Streamlit
    refuses every st.* call (st.session_state too): the `finally` below stores through
    the message list taken before streaming, and the notice is drawn by the next run.
    """
    st.chat_message("human").markdown(question)
    messages = history.messages  # the list itself: still usable after Stop
    reply = Reply()
    hang_up = HangUp()  # ends the model's stream when this page stops reading it
    explanation: str | None = None
    try:
        with st.chat_message("ai"):
            try:
                stream_reply(
                    chain.stream(
                        {"question": question},
                        config={
                            "configurable": {"session_id": "streamlit"},
                            "callbacks": [hang_up],
                        },
                    ),
                    reply,
                    timeout_seconds=settings.LLM_TIMEOUT_SECONDS,
                    allow_remote_images=settings.ALLOW_REMOTE_IMAGES,
                    hang_up=hang_up,
                )
            except Exception as error:  # any provider failure: show it, never a traceback
                explanation = describe_model_error(error)
                st.error(explanation)
    finally:
        messages.extend(unfinished_turn(question, reply, explanation))


def unfinished_turn(question: str, reply: Reply, explanation: str | None) -> list[BaseMessage]:
    """What to store for a turn that RunnableWithMessageHistory did not store.

    Only the text of a message is sent to the model, never its metadata; unfinished
    replies are not sent at all (reply.sendable).
    """
    if reply.outcome is Outcome.COMPLETE:
        return []  # stored by RunnableWithMessageHistory
    if reply.outcome is None or not reply.text.strip():
        # A failure, an empty reply or a stop before any text: keep the question, and why
        # it got no answer so that reruns show that too.
        because = explanation or NOTICES[reply.outcome or Outcome.EMPTY]
        if reply.outcome is Outcome.STOPPED:
            because = STOPPED_BEFORE_ANY_TEXT
        return [HumanMessage(content=question, response_metadata={UNANSWERED_BECAUSE: because})]
    return [HumanMessage(content=question), unfinished_message(reply.text, reply.outcome)]
