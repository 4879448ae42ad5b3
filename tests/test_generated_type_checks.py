"""Every generated project passes mypy --strict, as its own CI runs it.

Kept apart from test_generated_projects.py so that the two files run on the two workers
side by side (the suite distributes whole files).
"""

from __future__ import annotations

import pytest

from helpers import ANSWER_SETS, run, tool


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_generated_project_passes_mypy_strict(rendered, answer_set: str, tmp_path_factory) -> None:
    # One cache for every project: the libraries are checked once, each package afresh.
    cache = tmp_path_factory.getbasetemp() / "mypy-cache"
    run(tool("python"), "-m", "mypy", "--cache-dir", cache, cwd=rendered(answer_set))
