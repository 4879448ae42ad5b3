"""Fixtures: an isolated git and copier setup, and projects rendered once per session."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import (
    ANSWER_SETS,
    declared_requirements,
    environment_constraints,
    make_environment,
    render,
)

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


@pytest.fixture(scope="session", autouse=True)
def components_scanned_once() -> Iterator[None]:
    """Streamlit scans the metadata of every installed distribution for components each
    time an AppTest runs first: about 0.6 s in this environment, and most of the time of
    the in-process AppTests. Nothing is installed while the tests run, so scan once (the
    generated projects' conftest.py does the same)."""
    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as patch:
        scan = functools.cache(manifest_scanner.scan_component_manifests)
        patch.setattr(manifest_scanner, "scan_component_manifests", scan)
        yield


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run shared by its processes: under xdist, the workers' common
    parent folder; otherwise the session's temporary folder."""
    basetemp = tmp_path_factory.getbasetemp()
    return basetemp.parent if "PYTEST_XDIST_WORKER" in os.environ else basetemp


def made_once(folder: Path, name: str, recipe: str, make: Callable[[Path], object]) -> Path:
    """folder/NAME, made by make(folder/NAME) by the first process of the run to ask for it;
    the others wait for it (a lock per name) and find it made. `recipe` says what NAME is
    made of: asking for one name with another recipe is a mistake of the tests."""
    destination = folder / name
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = folder / f"{name}.made"  # written once destination is complete
        if made.exists():
            assert made.read_text() == recipe, (
                f"{name} asked for as {recipe}, made as {made.read_text()}"
            )
            return destination
        shutil.rmtree(destination, ignore_errors=True)  # what a failed attempt left
        make(destination)
        made.write_text(recipe)
    return destination


@pytest.fixture(scope="session")
def rendered(run_folder: Path) -> Callable[..., Path]:
    """Render an answer set once per run; later calls return the same project.

    The workers of a run share the renders (made_once). No test changes a rendered
    project: those that edit one copy it first.
    """
    folder = run_folder / "rendered"
    folder.mkdir(exist_ok=True)

    def get(name: str, **answers: object) -> Path:
        recipe = repr(sorted((ANSWER_SETS.get(name, {}) | answers).items()))
        return made_once(
            folder,
            f"project-{name}",
            recipe,
            lambda destination: render(destination, **(ANSWER_SETS.get(name, {}) | answers)),
        )

    return get


@pytest.fixture(scope="session")
def environment_for(run_folder: Path) -> Callable[[Path], Path]:
    """The Python of an environment holding what a generated project declares, at the
    versions of this environment (make_environment): one per set of declared
    requirements, made once per run and shared by the workers."""
    folder = run_folder / "environments"
    folder.mkdir(exist_ok=True)
    constraints = made_once(folder, "constraints.txt", "", environment_constraints)

    def get(project: Path) -> Path:
        requirements = declared_requirements(project)
        digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
        environment = made_once(
            folder,
            f"venv-{digest}",
            "\n".join(requirements),
            lambda destination: make_environment(destination, project, constraints),
        )
        return environment / "bin" / "python"

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


# ---------------------------------------------------------------------------------------
# The slowest files first. `scripts/test` hands whole files to its two workers in the
# order collected (--no-loadscope-reorder): a long file started last would leave one
# worker running it alone at the end. Seconds from the table of docs/benchmarks.md; a file
# not listed runs after these, in its usual order.
# ---------------------------------------------------------------------------------------
SLOWEST_FILES = [
    "test_generated_own_suites.py",
    "test_generated_type_checks.py",
    "test_browser_replies.py",
    "test_new_user.py",
    "test_update.py",
    "test_sign_in.py",
    "test_browser_hostile_replies.py",
    "test_browser.py",
    "test_browser_turn_controls.py",
    "test_benchmark.py",
    "test_browser_files.py",
    "test_browser_replicas.py",
    "test_postgres_chat_store.py",
    "test_update_history_backend.py",
    "test_questions.py",
    "test_history_backends.py",
    "test_hostile_text.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOWEST_FILES.index(name) if name in SLOWEST_FILES else len(SLOWEST_FILES)

    items.sort(key=rank)  # stable: each file's tests keep their order
