# ruff: noqa: E402
# The benchmark's baseline: the minimal app of LangChain's "Streamlit" chat message history
# page (https://python.langchain.com/docs/integrations/memory/streamlit_chat_message_history/,
# the notebook docs/docs/integrations/memory/streamlit_chat_message_history.ipynb of
# langchain-ai/langchain), its app cells in order, line for line. Left out: the page's first
# two cells, a console demo (`history.add_user_message("hi!")` under another key) that is
# not part of the app. Unchanged, even the model line: ChatOpenAI() reads OPENAI_BASE_URL and
# OPENAI_API_KEY from the environment, which the benchmark points at its loopback server.
# The page's own session key "special_app_key" is kept; the benchmark seeds that key.
# benchmarks/long_chats.py runs this file under AppTest; do not edit it to make it faster.
from langchain_community.chat_message_histories import (
    StreamlitChatMessageHistory,
)

# Optionally, specify your own session_state key for storing messages
msgs = StreamlitChatMessageHistory(key="special_app_key")

if len(msgs.messages) == 0:
    msgs.add_ai_message("How can I help you?")

from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_openai import ChatOpenAI

prompt = ChatPromptTemplate.from_messages(
    [
        ("system", "You are an AI chatbot having a conversation with a human."),
        MessagesPlaceholder(variable_name="history"),
        ("human", "{question}"),
    ]
)

chain = prompt | ChatOpenAI()

chain_with_history = RunnableWithMessageHistory(
    chain,
    lambda session_id: msgs,  # Always return the instance created earlier
    input_messages_key="question",
    history_messages_key="history",
)

import streamlit as st

for msg in msgs.messages:
    st.chat_message(msg.type).write(msg.content)

if prompt := st.chat_input():
    st.chat_message("human").write(prompt)

    # As usual, new messages are added to StreamlitChatMessageHistory when the Chain is called.
    config = {"configurable": {"session_id": "any"}}
    response = chain_with_history.invoke({"question": prompt}, config)
    st.chat_message("ai").write(response.content)
