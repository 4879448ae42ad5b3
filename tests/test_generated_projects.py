"""Every generated project passes its own linters and tests, and `streamlit run` serves it."""

from __future__ import annotations

import urllib.request

import pytest

from helpers import ANSWER_SETS, clean_env, run, streamlit_server, tool

pytestmark = pytest.mark.parametrize("answer_set", list(ANSWER_SETS))


def test_generated_project_passes_ruff_check(rendered, answer_set: str) -> None:
    run(tool("ruff"), "check", "--no-cache", ".", cwd=rendered(answer_set))


def test_generated_project_is_ruff_formatted(rendered, answer_set: str) -> None:
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=rendered(answer_set))


def test_generated_project_passes_mypy_strict(rendered, answer_set: str, tmp_path_factory) -> None:
    # One cache for every project: the libraries are checked once, each package afresh.
    cache = tmp_path_factory.getbasetemp() / "mypy-cache"
    run(tool("python"), "-m", "mypy", "--cache-dir", cache, cwd=rendered(answer_set))


def test_generated_project_passes_its_own_tests(rendered, answer_set: str) -> None:
    result = run(
        tool("python"),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        cwd=rendered(answer_set),
        env=clean_env(),
    )

    assert " passed" in result.stdout and "failed" not in result.stdout


def test_streamlit_run_serves_the_app_offline(rendered, answer_set: str) -> None:
    with streamlit_server(rendered(answer_set), LLM_PROVIDER="offline") as url:
        page = urllib.request.urlopen(url, timeout=10).read()

    assert b"<noscript>" in page
