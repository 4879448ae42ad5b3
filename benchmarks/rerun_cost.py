"""Benchmark: what caching the model and chain saves on every Streamlit rerun.

Renders the template (OpenAI provider, a placeholder key: no request is ever sent), then
times reruns of the real app under AppTest in one process: with the chain cached by
st.cache_resource (what the app does) and with the cache cleared before every rerun (what
an app that builds its model on each interaction pays). Prints a table; compare the ratio,
not the milliseconds, since machines are noisy.

    .venv/bin/python benchmarks/rerun_cost.py [--reruns 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import copier

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent

MEASURE = r"""
import json, statistics, sys, time
import streamlit as st
from streamlit.testing.v1 import AppTest

reruns = int(sys.argv[1])
secrets = {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "benchmark-placeholder-key"}

def timed_reruns(clear_cache: bool) -> list[float]:
    st.cache_resource.clear()
    app = AppTest.from_file("app.py", default_timeout=60)
    app.secrets.update(secrets)
    app.run()
    times = []
    for _ in range(reruns):
        if clear_cache:
            st.cache_resource.clear()
        start = time.perf_counter()
        app.run()
        times.append((time.perf_counter() - start) * 1000)
        assert not app.exception, app.exception
    return times

results = {}
for _ in range(2):  # interleave the scenarios so drift hits both alike
    for name, clear in (("cached chain (the app)", False), ("rebuilt every rerun", True)):
        results.setdefault(name, []).extend(timed_reruns(clear))
print(json.dumps(results))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=30, help="reruns per scenario and round")
    reruns = parser.parse_args().reruns

    with tempfile.TemporaryDirectory() as workdir:
        project = Path(workdir) / "app"
        copier.run_copy(
            str(TEMPLATE_ROOT),
            project,
            data={"model_provider": "openai"},
            defaults=True,
            vcs_ref="HEAD",
            quiet=True,
        )
        output = subprocess.run(
            [sys.executable, "-c", MEASURE, str(reruns)],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    results = json.loads(output.strip().splitlines()[-1])
    baseline = statistics.median(results["cached chain (the app)"])
    print(f"{'scenario':<26} {'reruns':>6} {'median ms':>10} {'p90 ms':>8} {'x cached':>9}")
    for name, times in results.items():
        times.sort()
        median = statistics.median(times)
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"{name:<26} {len(times):>6} {median:>10.1f} {p90:>8.1f} {median / baseline:>9.2f}")


if __name__ == "__main__":
    main()
