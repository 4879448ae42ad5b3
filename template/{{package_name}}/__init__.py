"""A Streamlit chat app built on LangChain; app.py draws the page from these modules."""
