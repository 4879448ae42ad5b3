"""What a new user and a platform team do: fresh virtual environments, documented commands.

The first test installs a generated project with pip exactly as its README says (minutes on
a slow mirror); the scripts install with uv when it is on PATH, as it is here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import TEMPLATE_ROOT, clean_env, free_port, render, run, tool, wait_for_health

pytestmark = pytest.mark.slow

PATH_WITH_TOOLS = f"{tool('python').parent}:{os.environ['PATH']}"
"""PATH with this environment's copier and uv first, as a user who installed them has."""


def readme_block(readme: str, heading: str) -> str:
    """The first ```bash block after a heading of the generated README."""
    section = readme.split(f"\n{heading}\n", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1).strip()


def test_readme_install_command_works_in_a_fresh_venv(tmp_path: Path) -> None:
    project = render(tmp_path / "app")
    install = readme_block((project / "README.md").read_text(), "## Install")

    run("bash", "-c", install, cwd=project, env=clean_env())
    result = run(".venv/bin/python", "-m", "pytest", "-q", cwd=project, env=clean_env())

    assert re.search(r"\d+ passed", result.stdout)
    assert "streamlit" in run(".venv/bin/python", "-m", "pip", "list", cwd=project).stdout


def test_smoke_test_recipe_renders_and_tests_an_answers_file(tmp_path: Path) -> None:
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
