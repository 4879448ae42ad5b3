"""The benchmarks still run and print their tables (their numbers are read, not asserted)."""

from __future__ import annotations

import importlib.util
import sys
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType

from helpers import (
    TEMPLATE_ROOT,
    app_settings_environment,
    clean_env,
    imported,
    render,
    run,
    tool,
)
from postgres_server import PostgresCluster

JUNIT_REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" time="7.5">
<testcase classname="tests.test_update" name="test_a" time="4.0"/>
<testcase classname="tests.test_update.TestMore" name="test_b" time="1.5"/>
<testcase classname="tests.test_docs" name="test_c" time="0.5"/>
</testsuite></testsuites>
"""


def test_rerun_benchmark_prints_a_table_of_both_scenarios() -> None:
    result = run(
        tool("python"),
        TEMPLATE_ROOT / "benchmarks" / "rerun_cost.py",
        "--reruns",
        "2",
        cwd=TEMPLATE_ROOT,
        env=clean_env(),
    )

    header, *rows = result.stdout.strip().splitlines()
    assert header.split() == ["scenario", "reruns", "median", "ms", "p90", "ms", "x", "cached"]
    assert [row.split()[0] for row in rows] == ["cached", "rebuilt"]


def table(output: str, title: str) -> list[list[str]]:
    """The rows of the printed table whose title starts with title, split on spaces."""
    lines = output[output.index("\n" + title) + 1 :].splitlines()
    rows = []
    for line in lines[3:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_long_chats_benchmark_runs_quick_and_prints_every_table(tmp_path: Path) -> None:
    report = tmp_path / "suite.xml"
    report.write_text(JUNIT_REPORT)
    docs_page = (TEMPLATE_ROOT / "docs" / "benchmarks.md").read_text()

    result = run(
        tool("python"),
        TEMPLATE_ROOT / "benchmarks" / "long_chats.py",
        "--quick",
        "--plot",
        tmp_path / "plot.png",
        "--suite-report",
        report,
        cwd=TEMPLATE_ROOT,
        env=clean_env(),
    )
    output = result.stdout

    chats = table(output, "Long chats")
    # --quick leaves out postgres (a server of its own): the test below measures it.
    apps = ["documented", "generated", "memory", "sqlite"]
    assert [(row[0], row[1]) for row in chats] == [
        (app, size) for size in ("0", "100") for app in apps
    ]
    # Each turn sent the system prompt, the history and the question to the loopback model.
    assert all(int(row[4]) >= 2 and int(row[5].replace(",", "")) > 0 for row in chats)
    assert [row[0] for row in table(output, "Cold start")] == apps
    # The seeded history reached the model through each LangGraph app's graph state.
    at_100 = {row[0]: row[4:6] for row in chats if row[1] == "100"}
    assert at_100["memory"] == at_100["sqlite"] == at_100["generated"]
    assert [row[0] for row in table(output, "copier copy")] == ["this", "one-file"]
    targets = table(output, "Targets of issue 13")
    assert all(row[-1] in {"pass", "FAIL", "n/a"} for row in targets)
    assert table(output, "Test suite by file")[:2] == [
        ["tests/test_update.py", "2", "5.5"],
        ["tests/test_docs.py", "1", "0.5"],
    ]
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")
    # --quick leaves the committed results alone.
    assert (TEMPLATE_ROOT / "docs" / "benchmarks.md").read_text() == docs_page


def benchmark_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TEMPLATE_ROOT / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_long_chats_benchmark_measures_the_postgres_backend(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    """The postgres row, left out of --quick, measured as a full run does (in this process)."""
    long_chats = benchmark_module("long_chats")
    project = render(
        tmp_path / "postgres",
        model_provider="openai",
        history_backend="postgres",
        package_name="bench_postgres_chats",
    )
    url = postgres.create_database("long_chats")
    with ExitStack() as resources, long_chats.loopback_model() as base_url:
        variant = long_chats.langgraph_variant(project, "postgres", url, resources)
        environment = {"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": long_chats.API_KEY}
        with app_settings_environment(**environment):
            # Each raises if a turn did not store exactly two messages or a rerun asked the model.
            empty, long = (
                long_chats.measure_chat(variant, long_chats.exchanges(size), 1, base_url)
                for size in (0, 100)
            )

    assert empty.messages_sent == 2  # the system prompt and the question
    # The seeded chat's graph state reached the model: the newest turns within the budget.
    assert long.messages_sent > 10
    assert long.chars_sent > 10 * empty.chars_sent


def test_chat_store_growth_benchmark_times_reads_and_turns_of_a_seeded_chat(
    rendered, tmp_path: Path
) -> None:
    """Its timing part (a transcript seeded through the database, then real turns), on
    SQLite at a small size; the storage part is what tests/test_postgres_chat_store.py and
    the generated tests check."""
    growth = benchmark_module("chat_store_growth")
    with imported(rendered("backend-sqlite")) as package:
        url = f"sqlite:///{tmp_path / 'chats.sqlite'}"
        read, turn = growth.timings(url, package.__name__, 25)

    assert 0 < read < turn
