"""The pieces of the chat page that app.py draws, top to bottom."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import HumanMessage
from langchain_core.runnables.history import RunnableWithMessageHistory

from .chain import build_chat_chain
from .model_errors import describe_model_error
from .providers import PROVIDERS, Provider
from .settings import Settings, SettingsError, load_settings, read_system_prompt

# Widget keys of the page itself (the history's session key must differ from these).
NEW_CHAT_BUTTON_KEY = "new_chat_button"
API_KEY_INPUT_KEY = "sidebar_api_key"
QUESTION_INPUT_KEY = "chat_question"
EARLIER_MESSAGES_BUTTON_KEY = "earlier_messages_button"
MESSAGES_SHOWN_KEY = "messages_shown"
"""st.session_state key: how many of the latest stored messages the page draws."""
UNANSWERED_BECAUSE = "unanswered_because"
"""Metadata of a stored question whose reply failed: the explanation shown for it."""


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
        st.button("New chat", key=NEW_CHAT_BUTTON_KEY, on_click=start_new_chat, args=[history])
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


def start_new_chat(history: BaseChatMessageHistory) -> None:
    """Clear the history and draw only the latest messages again."""
    history.clear()
    st.session_state.pop(MESSAGES_SHOWN_KEY, None)


def show_earlier_messages(page_size: int) -> None:
    """Draw page_size more of the earlier messages from now on."""
    shown = st.session_state.get(MESSAGES_SHOWN_KEY, page_size)
    st.session_state[MESSAGES_SHOWN_KEY] = shown + page_size


def render_history(greeting: str, history: BaseChatMessageHistory, page_size: int) -> None:
    """Draw the chat: the latest page_size messages, or more after "Show earlier messages".

    Streamlit redraws the page on every click, so a long chat is drawn a page at a time:
    each rerun costs the same however long the chat has grown. Every stored message stays
    reachable through the button; nothing is deleted.
    """
    messages = history.messages  # the stored list itself, not a copy
    shown = st.session_state.get(MESSAGES_SHOWN_KEY, page_size)
    hidden = max(0, len(messages) - shown)
    if hidden:
        st.button(
            f"Show earlier messages ({hidden} more)",
            key=EARLIER_MESSAGES_BUTTON_KEY,
            on_click=show_earlier_messages,
            args=[page_size],
        )
    else:
        st.chat_message("ai").markdown(greeting)
    for message in messages[hidden:]:
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
    """The question box at the bottom of the page; the question sent, if any."""
    return st.chat_input("Your message", key=QUESTION_INPUT_KEY)


def answer(
    chain: RunnableWithMessageHistory, history: BaseChatMessageHistory, question: str
) -> None:
    """Stream the reply to a question; on failure, say why and keep the question."""
    st.chat_message("human").markdown(question)
    with st.chat_message("ai"):
        try:
            # RunnableWithMessageHistory stores both turns once the reply is complete.
            st.write_stream(
                chain.stream(
                    {"question": question},
                    config={"configurable": {"session_id": "streamlit"}},
                )
            )
        except Exception as error:  # any provider failure: show it, never a traceback
            explanation = describe_model_error(error)
            st.error(explanation)
            # Keep the question, and why it got no answer so that reruns show that too.
            # Only the text of a message is sent to the model, never its metadata.
            metadata = {UNANSWERED_BECAUSE: explanation}
            history.add_message(HumanMessage(content=question, response_metadata=metadata))
