"""Fixtures: an isolated git and copier setup, and projects rendered once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import ANSWER_SETS, render

pytest_plugins = ["conftest_servers"]  # real servers: PostgreSQL, an OpenID Connect provider


@pytest.fixture(scope="session", autouse=True)
def isolated_tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No developer's git identity or copier user defaults leak into the renders."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for role in ("AUTHOR", "COMMITTER"):
            patch.setenv(f"GIT_{role}_NAME", "Template Tests")
            patch.setenv(f"GIT_{role}_EMAIL", "tests@example.com")
        settings = home / "copier-settings.yml"
        settings.write_text("{}\n")
        patch.setenv("COPIER_SETTINGS_PATH", str(settings))
        yield


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Render an answer set once per session; later calls return the same project."""
    projects: dict[str, Path] = {}

    def get(name: str, **answers: object) -> Path:
        if name not in projects:
            destination = tmp_path_factory.mktemp(f"project-{name}")
            projects[name] = render(destination, **(ANSWER_SETS.get(name, {}) | answers))
        return projects[name]

    return get


# ---------------------------------------------------------------------------------------
# Time per test file, printed at the end of every run (on xdist's controller too: each
# worker's reports reach pytest_runtest_logreport there, with their durations).
# ---------------------------------------------------------------------------------------
_seconds_per_file: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    _seconds_per_file[path] = _seconds_per_file.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _seconds_per_file or hasattr(terminalreporter.config, "workerinput"):
        return
    terminalreporter.section("time per test file (setup + call + teardown, all workers)")
    width = max(len(path) for path in _seconds_per_file)
    for path, seconds in sorted(_seconds_per_file.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{path:<{width}}  {seconds:8.1f} s")
    total = sum(_seconds_per_file.values())
    terminalreporter.write_line(f"{'total':<{width}}  {total:8.1f} s")
