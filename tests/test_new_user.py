"""What a new user and a platform team do: fresh virtual environments, documented commands.

Every install here is done by uv (`scripts/test` installs it into .venv) from its persistent
cache (~/.cache/uv): the first run downloads the packages, later runs take seconds. The
generated README's install command is uv's, first, and is run as written.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import TEMPLATE_ROOT, clean_env, free_port, run, tool, wait_for_health

pytestmark = pytest.mark.slow

PATH_WITH_TOOLS = f"{tool('python').parent}:{os.environ['PATH']}"
"""PATH with this environment's copier and uv first, as a user who installed them has."""


def readme_block(readme: str, heading: str) -> str:
    """The first ```bash block after a heading of the generated README."""
    section = readme.split(f"\n{heading}\n", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1).strip()


def uv_install_command(install: str) -> str:
    """The README's install command (uv first, as the README gives it), from uv's cache
    alone when that holds every package (no network), else from the package index."""
    assert install.startswith("uv venv --allow-existing .venv") and "uv pip install" in install
    return f"(export UV_OFFLINE=1; {install}) 2>/dev/null || {install}"


def test_readme_install_command_works_in_a_fresh_venv(rendered, tmp_path: Path) -> None:
    # The page's tests prove that the declared dependencies are all the page needs; the
    # whole suite of a project like this one runs in the smoke test's fresh venv below.
    project = shutil.copytree(rendered("defaults"), tmp_path / "app")
    install = readme_block((project / "README.md").read_text(), "## Install")

    run("bash", "-c", uv_install_command(install), cwd=project, env=clean_env(PATH=PATH_WITH_TOOLS))
    page_tests = ("-m", "pytest", "-q", "tests/test_chat_page.py")
    result = run(".venv/bin/python", *page_tests, cwd=project, env=clean_env())

    assert re.search(r"\d+ passed", result.stdout)


def test_smoke_test_recipe_renders_and_tests_an_answers_file(tmp_path: Path) -> None:
    # The session backend's whole suite runs only here (see OWN_SUITE_ANSWER_SETS), in a
    # fresh venv holding only what the project declares.
    result = run(
        TEMPLATE_ROOT / "scripts" / "smoke-test",
        TEMPLATE_ROOT / "examples" / "answers-openai.yml",
        tmp_path / "app",
        cwd=tmp_path,
        env=clean_env(PATH=PATH_WITH_TOOLS),
    )

    assert "smoke test passed" in result.stdout
    assert (tmp_path / "app" / "support_assistant" / "chain.py").is_file()


def test_smoke_test_recipe_explains_its_usage_when_called_wrongly(tmp_path: Path) -> None:
    result = subprocess.run(
        [TEMPLATE_ROOT / "scripts" / "smoke-test", tmp_path / "missing.yml"],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert result.stderr.startswith("usage: scripts/smoke-test ANSWERS_FILE")


def test_stress_script_names_the_answer_sets_when_given_an_unknown_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [tool("python"), TEMPLATE_ROOT / "scripts" / "stress-own-suites", "no-such-set"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )

    assert result.returncode == 1
    assert "'no-such-set' is neither an answers file nor an answer set" in result.stderr
    assert "backend-sqlite" in result.stderr


def quickstart(destination: Path) -> str:
    """Run scripts/quickstart until the app answers its health check; return its output."""
    port = free_port()
    server = subprocess.Popen(
        [TEMPLATE_ROOT / "scripts" / "quickstart", destination],
        env=clean_env(
            STREAMLIT_SERVER_PORT=str(port),
            STREAMLIT_SERVER_ADDRESS="127.0.0.1",
            PATH=PATH_WITH_TOOLS,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/_stcore/health", seconds=420) == "ok"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    return output


def test_quickstart_renders_the_defaults_and_serves_the_offline_app(tmp_path: Path) -> None:
    output = quickstart(tmp_path / "my-chat-app")

    assert "Serving" in output and "offline model" in output
    assert (tmp_path / "my-chat-app" / "app.py").is_file()

    # Run a second time: the project and its .venv are reused, the app served again.
    output = quickstart(tmp_path / "my-chat-app")

    assert "exists already: serving it as it is" in output
    assert "Serving" in output and "offline model" in output
