"""Every generated project passes its own linters and tests, and `streamlit run` serves it."""

from __future__ import annotations

import subprocess
import urllib.request

import pytest

from helpers import ANSWER_SETS, clean_env, free_port, run, tool, wait_for_health

pytestmark = pytest.mark.parametrize("answer_set", list(ANSWER_SETS))


def test_generated_project_passes_ruff_check(rendered, answer_set: str) -> None:
    run(tool("ruff"), "check", "--no-cache", ".", cwd=rendered(answer_set))


def test_generated_project_is_ruff_formatted(rendered, answer_set: str) -> None:
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=rendered(answer_set))


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
    project = rendered(answer_set)
    port = free_port()
    server = subprocess.Popen(
        [
            tool("streamlit"),
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
        ],
        cwd=project,
        env=clean_env(LLM_PROVIDER="offline"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/_stcore/health") == "ok"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
        assert b"<noscript>" in page
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Traceback" not in output
