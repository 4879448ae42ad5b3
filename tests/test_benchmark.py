"""The rerun benchmark still runs and prints its table (its numbers are read, not asserted)."""

from __future__ import annotations

from helpers import TEMPLATE_ROOT, clean_env, run, tool


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
