"""Helpers shared by the template's tests: render the template, run a command, read answers."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import copier
import pytest
import yaml

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent

PROVIDERS: dict[str, dict[str, Any]] = yaml.safe_load(
    (TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8")
)["providers"]["default"]

HOSTILE_SYSTEM_PROMPT = (
    'You are "Bot" {name} {{ jinja }} {% raw %} }} {0} \\n \\ backslash\n'
    "  indented line with trailing spaces   \n"
    "Ünïcödé ✓ — 中文 — emoji 🤖\n"
    'Reply in JSON like {"a": [1, 2]}.\n'
)

ANSWER_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "offline": {"model_provider": "offline"},
    "custom": {
        "project_name": "Ünïcode Support Bot",
        "package_name": "support_bot",
        "session_key": "chat_history",
        "python_version": "3.13",
        "temperature": 0.0,
        "history_max_tokens": 500,
        "model_name": "gpt-4.1-mini",
        "system_prompt": HOSTILE_SYSTEM_PROMPT,
        "greeting": 'Hi {name}! Ask me *anything* — "quotes", \\ and {{ braces }}.',
        "description": 'A "quoted" description with \\ and {{ braces }}',
        "author_name": "Zoë O'Brien",
        "dockerfile": False,
    },
}
ANSWER_SETS |= {f"provider-{name}": {"model_provider": name} for name in PROVIDERS}
"""Answer sets rendered and checked in full: a few mixes, and every provider by itself."""


def render(destination: Path, **answers: Any) -> Path:
    """Render the working tree of this template (uncommitted changes included)."""
    copier.run_copy(
        str(TEMPLATE_ROOT),
        destination,
        data=answers,
        defaults=True,
        vcs_ref="HEAD",
        quiet=True,
        unsafe=False,
    )
    return destination


def run(
    *command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, raise with its whole output so that pytest shows it."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def tool(name: str) -> Path:
    """A console script of the environment running the tests (ruff, copier, streamlit)."""
    return PYTHON_BIN / name


def read_answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any model setting or key, plus overrides."""
    names = {"LLM_PROVIDER", "LLM_MODEL", "APP_TITLE", "APP_GREETING"}
    names |= {p["key_variable"] for p in PROVIDERS.values() if p["key_variable"]}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(overrides)
    return env


def template_files() -> list[str]:
    """The template's files as git sees them: tracked, plus untracked ones not ignored."""
    listed = run("git", "ls-files", "-co", "--exclude-standard", cwd=TEMPLATE_ROOT).stdout
    return [name for name in listed.splitlines() if (TEMPLATE_ROOT / name).is_file()]


def make_template_repo(destination: Path, tag: str) -> Path:
    """A throwaway git copy of this template's working tree, committed and tagged."""
    for name in template_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((TEMPLATE_ROOT / name).read_bytes())
    commit_all(destination, f"Template {tag}")
    run("git", "tag", tag, cwd=destination)
    return destination


def project_at_v1(workdir: Path, **answers: Any) -> tuple[Path, Path]:
    """A template repo tagged v1.0.0 and a project rendered from it and committed.

    Returns (template, project), both in workdir: the starting point of an update test.
    """
    template = make_template_repo(workdir / "template", "v1.0.0")
    project = workdir / "project"
    copier.run_copy(
        str(template), project, data=answers, defaults=True, vcs_ref="v1.0.0", quiet=True
    )
    commit_all(project, "Generated from the template")
    return template, project


def commit_all(repo: Path, message: str) -> None:
    """Commit everything in repo (a git repo is created on first use)."""
    if not (repo / ".git").exists():
        run("git", "init", "-q", "-b", "main", cwd=repo)
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-q", "--allow-empty", "-m", message, cwd=repo)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a file, failing loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not found {count} time(s) in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def wait_for_health(url: str, seconds: float = 60) -> str:
    """Poll a server's health endpoint until it answers; return what it says."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5).read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@contextmanager
def app_settings_environment(**overrides: str) -> Iterator[None]:
    """os.environ for an in-process AppTest: no app setting or provider key of this shell
    (LLM_*, APP_*, HISTORY_*, *_API_KEY, *_BASE_URL), no proxy for 127.0.0.1, plus overrides."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("LLM_", "APP_", "HISTORY_")) or name.endswith(
                ("_API_KEY", "_BASE_URL")
            ):
                patch.delenv(name)
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        for name, value in overrides.items():
            patch.setenv(name, value)
        yield


def app_test(project: Path, **secrets: str) -> AppTest:
    """The generated project's app.py under Streamlit's AppTest, in this process, not yet run.

    Give each project driven this way its own package_name: its modules are imported into
    this process. Setting secrets keeps AppTest from reading .streamlit/secrets.toml.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()  # a chain cached by another app or test must not answer
    app = AppTest.from_file(str(project / "app.py"), default_timeout=60)
    for name, value in ({"LLM_PROVIDER": "offline"} | secrets).items():
        app.secrets[name] = value
    return app


def generated_fakes(project: Path) -> ModuleType:
    """The generated project's tests/fakes.py (its recording chat model), imported here."""
    spec = importlib.util.spec_from_file_location("generated_fakes", project / "tests" / "fakes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the model's annotations through it
    spec.loader.exec_module(module)
    return module


def ruff_and_own_tests_pass(project: Path) -> subprocess.CompletedProcess[str]:
    """Run a generated project's own checks: ruff lint, ruff format and its test suite."""
    run(tool("ruff"), "check", "--no-cache", ".", cwd=project)
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=project)
    return run(
        tool("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=clean_env()
    )


@contextmanager
def streamlit_server(
    project: Path, output: list[str] | None = None, **environment: str
) -> Iterator[str]:
    """Serve a generated project with a real `streamlit run` on a free loopback port.

    Yields the app's URL once its health endpoint answers; on exit, stops the server and
    fails if it logged a traceback. What the server printed is appended to `output`.
    """
    port = free_port()
    server = subprocess.Popen(
        [
            tool("streamlit"),
            "run",
            "app.py",
            "--server.headless=true",
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--browser.gatherUsageStats=false",
        ],
        cwd=project,
        env=clean_env(**environment),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/_stcore/health") == "ok"
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        printed, _ = server.communicate(timeout=30)
        if output is not None:
            output.append(printed)
    assert "Traceback" not in printed, printed
