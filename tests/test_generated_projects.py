"""Generated projects pass ruff, mypy --strict, their own tests, and `streamlit run` serves them.

ruff runs on every answer set (it is cheap). A project's own test suite runs only for the
answer sets that differ in what that suite exercises (OWN_SUITE_ANSWER_SETS), and the
server starts only for SERVED_ANSWER_SETS: the providers differ in files that
test_rendered_files.py and test_providers.py check directly.
"""

from __future__ import annotations

import urllib.request

import pytest

from helpers import (
    ANSWER_SETS,
    OWN_SUITE_ANSWER_SETS,
    OWN_SUITES_OF_LANGGRAPH_AND_SIGN_IN,
    SERVED_ANSWER_SETS,
    own_tests_pass,
    run,
    streamlit_server,
    tool,
)


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_generated_project_passes_ruff_check(rendered, answer_set: str) -> None:
    run(tool("ruff"), "check", "--no-cache", ".", cwd=rendered(answer_set))


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_generated_project_is_ruff_formatted(rendered, answer_set: str) -> None:
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=rendered(answer_set))


@pytest.mark.parametrize(
    "answer_set",
    [name for name in OWN_SUITE_ANSWER_SETS if name not in OWN_SUITES_OF_LANGGRAPH_AND_SIGN_IN],
)
def test_generated_project_passes_its_own_tests(rendered, environment_for, answer_set: str) -> None:
    project = rendered(answer_set)
    own_tests_pass(project, environment_for(project))


@pytest.mark.parametrize("answer_set", SERVED_ANSWER_SETS)
def test_streamlit_run_serves_the_app_offline(rendered, answer_set: str) -> None:
    with streamlit_server(rendered(answer_set), LLM_PROVIDER="offline") as url:
        page = urllib.request.urlopen(url, timeout=10).read()

    assert b"<noscript>" in page
