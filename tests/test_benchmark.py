"""The benchmarks still run and print their tables (their numbers are read, not asserted)."""

from __future__ import annotations

from pathlib import Path

from helpers import TEMPLATE_ROOT, clean_env, run, tool

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
    assert [(row[0], row[1]) for row in chats] == [
        ("documented", "0"),
        ("generated", "0"),
        ("documented", "100"),
        ("generated", "100"),
    ]
    # Each turn sent the system prompt, the history and the question to the loopback model.
    assert all(int(row[4]) >= 2 and int(row[5].replace(",", "")) > 0 for row in chats)
    assert [row[0] for row in table(output, "Cold start")] == ["documented", "generated"]
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
