"""A Streamlit chat app built on LangChain's StreamlitChatMessageHistory."""

from .deprecations import hide_known_deprecations

# Before anything imports langchain_community or builds RunnableWithMessageHistory.
hide_known_deprecations()
