"""Deliberate handling of two known deprecation notices (see the README's FAQ).

- langchain-community warns on import that it is being sunset; StreamlitChatMessageHistory
  still lives there and works.
- langchain-core warns that RunnableWithMessageHistory is deprecated in favour of LangGraph
  persistence; it works in all of langchain-core 1.x, which pyproject.toml pins below 2.

Only these two exact notices are hidden; every other warning still shows. Set
SHOW_DEPRECATION_WARNINGS=1 to see them again, e.g. when planning an upgrade.
"""

from __future__ import annotations

import os
import warnings

# Importing langchain_core puts LangChain's own "always show deprecations" filter at the
# front of the filter list. It is imported here, before the filters below are added, so
# that they come in front of it and win.
import langchain_core  # noqa: F401

KNOWN_DEPRECATIONS = (
    r"`langchain-community` is being sunset",
    r"RunnableWithMessageHistory is deprecated",
)


def hide_known_deprecations() -> None:
    """Hide the known notices, unless SHOW_DEPRECATION_WARNINGS is set.

    Call it before anything imports langchain_community (its import warns).
    """
    if os.environ.get("SHOW_DEPRECATION_WARNINGS"):
        return
    for message in KNOWN_DEPRECATIONS:
        warnings.filterwarnings("ignore", message=message, category=DeprecationWarning)
