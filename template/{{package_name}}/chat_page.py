"""The chat page: the history, a question box, streamed replies and a sidebar."""

from __future__ import annotations

import os

import streamlit as st
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import HumanMessage
from langchain_core.runnables.history import RunnableWithMessageHistory

from .chain import build_chat_chain, streamlit_history
from .model_errors import describe_model_error
from .providers import PROVIDER_SETTING_NAMES, PROVIDERS, Provider
from .settings import Settings, SettingsError, load_settings, read_secret

# Widget keys of the page itself (the history's session key must differ from these).
NEW_CHAT_BUTTON_KEY = "new_chat_button"
API_KEY_INPUT_KEY = "sidebar_api_key"
QUESTION_INPUT_KEY = "chat_question"
UNANSWERED_BECAUSE = "unanswered_because"
"""Metadata of a stored question whose reply failed: the explanation shown for it."""


@st.cache_resource(show_spinner=False, max_entries=16)
def shared_chat_chain(
    settings: Settings, provider_name: str, api_key: str | None
) -> RunnableWithMessageHistory:
    """The model and chain, built once per settings and key and reused by every rerun.

    The chain is safe to share between browser sessions: it looks up the history of the
    session it runs in each time it is called.
    """
    model = PROVIDERS[provider_name].build(settings, api_key)
    return build_chat_chain(model, settings.system_prompt, settings.history_max_tokens)


def configured_api_key(provider: Provider) -> str | None:
    """The provider's API key from the environment or st.secrets, if the server has one."""
    if provider.key_variable is None:
        return None
    return os.environ.get(provider.key_variable) or read_secret(provider.key_variable) or None


def render_sidebar(
    settings: Settings, provider: Provider, history: BaseChatMessageHistory
) -> str | None:
    """Draw the sidebar; return an API key typed there, if any."""
    with st.sidebar:
        st.markdown(f"**Model:** {provider.label} · `{provider.model_name(settings)}`")
        st.button("New chat", key=NEW_CHAT_BUTTON_KEY, on_click=history.clear)
        if provider.key_variable and not configured_api_key(provider):
            return st.text_input(
                f"{provider.label} API key",
                type="password",
                key=API_KEY_INPUT_KEY,
                help="Kept only in this browser session, never written to disk.",
            )
    return None


def render_history(greeting: str, history: BaseChatMessageHistory) -> None:
    """Redraw the whole chat: the greeting first, then every stored message."""
    st.chat_message("ai").markdown(greeting)
    for message in history.messages:
        st.chat_message(message.type).markdown(message.text)
        if error := message.response_metadata.get(UNANSWERED_BECAUSE):
            st.chat_message("ai").error(error)


def explain_missing_key(provider: Provider) -> None:
    st.info(
        f"**{provider.label} needs an API key.** Paste one in the sidebar (kept only in "
        f"this browser session), or set `{provider.key_variable}` in "
        f"`.streamlit/secrets.toml` or in the environment and reload. "
        f"To try the app without a key, run it with `LLM_PROVIDER=offline`."
    )


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


def render_chat_page() -> None:
    """The whole page, drawn again on every rerun."""
    try:
        settings = load_settings(provider_setting_names=PROVIDER_SETTING_NAMES)
    except SettingsError as error:
        st.error(f"**The app is not configured correctly.** {error}")
        st.stop()
    st.set_page_config(page_title=settings.title, page_icon="💬")
    st.title(settings.title)

    provider = PROVIDERS.get(settings.provider)
    if provider is None:
        choices = ", ".join(f'"{name}"' for name in PROVIDERS)
        st.error(f'**LLM_PROVIDER is "{settings.provider}".** Use one of: {choices}.')
        st.stop()

    history = streamlit_history()
    typed_api_key = render_sidebar(settings, provider, history)
    render_history(settings.greeting, history)

    api_key = configured_api_key(provider) or typed_api_key or None
    if provider.key_variable and not api_key:
        explain_missing_key(provider)
        st.chat_input("Your message", key=QUESTION_INPUT_KEY, disabled=True)
        return

    try:
        chain = shared_chat_chain(settings, settings.provider, api_key)
    except Exception as error:  # e.g. a client rejecting its settings at construction
        st.error(f"**The {provider.label} model could not be set up.** {error}")
        st.stop()
    if question := st.chat_input("Your message", key=QUESTION_INPUT_KEY):
        answer(chain, history, question)
