"""Benchmark: a 200 KB reply streamed in small chunks into the app, in headless Chromium.

Renders the template (OpenAI provider) from this working tree, serves it with
`streamlit run`, points it at tests/faulty_server.py's "long_reply" scenario (28,571
chunks of 4 to 10 characters, sent as fast as the client reads them) and asks one
question in Debian's Chromium. Prints how long the stream took, how many seconds passed
from the last chunk sent until the whole reply was visible, and the server's peak memory.

    .venv/bin/python benchmarks/long_reply_in_browser.py [--wait 180]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE_ROOT / "tests"))

from faulty_server import LONG_REPLY, LONG_REPLY_END, FaultyServer  # noqa: E402
from helpers import (  # noqa: E402
    CHAT_MESSAGES,
    CHROMIUM,
    CHROMIUM_FLAGS,
    clean_env,
    free_port,
    render,
    tool,
    wait_for_health,
)

SHOWN_TEXT = """() => {
    const replies = document.querySelectorAll('[data-testid="stChatMessage"]');
    return replies.length > 2 ? replies[2].innerText : "";
}"""
SCRIPT_STATE = """() => document.querySelector('[data-testid="stApp"]')
    .getAttribute('data-test-script-state')"""


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(project: Path, wait_seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    with FaultyServer("long_reply") as provider:
        port = free_port()
        environment = clean_env(
            LLM_PROVIDER="openai",
            OPENAI_API_KEY="sk-test-not-a-real-key",
            OPENAI_BASE_URL=provider.base_url,
            LLM_TIMEOUT_SECONDS="600",
            NO_PROXY="127.0.0.1",
        )
        command = [tool("streamlit"), "run", "app.py", "--server.headless=true"]
        command += ["--server.address=127.0.0.1", f"--server.port={port}"]
        command += ["--browser.gatherUsageStats=false"]
        server = subprocess.Popen(command, cwd=project, env=environment, text=True)
        try:
            wait_for_health(f"http://127.0.0.1:{port}/_stcore/health")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
                )
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                page.locator(CHAT_MESSAGES).first.wait_for(timeout=30_000)
                box = page.get_by_test_id("stChatInputTextArea")
                box.fill("Write a very long answer")
                asked = time.monotonic()
                box.press("Enter")
                visible = script_done = None
                shown = ""
                while visible is None and time.monotonic() - asked < wait_seconds:
                    shown = page.evaluate(SHOWN_TEXT)
                    state = page.evaluate(SCRIPT_STATE)
                    if script_done is None and state == "notRunning" and shown:
                        script_done = time.monotonic()
                    if LONG_REPLY_END in shown:
                        visible = time.monotonic()
                    time.sleep(0.1)
                browser.close()
        finally:
            memory = peak_memory_mb(server.pid)
            server.terminate()
            server.wait(timeout=30)
        sent = provider.streams_sent[0] if provider.streams_sent else None
        print(f"reply: {len(LONG_REPLY):,} characters in 28,571 chunks")
        if sent is not None:
            print(f"stream sent in {sent - asked:.1f} s after the question")
        if visible is None or sent is None:
            print(f"whole reply NOT visible after {wait_seconds:.0f} s; shown {len(shown):,} chars")
        else:
            print(f"whole reply visible {visible - sent:.1f} s after the last chunk was sent")
            if script_done is not None:
                print(
                    f"(the page showed the app's run as over {script_done - sent:.1f} s after it)"
                )
        print(f"streamlit server peak memory: {memory:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wait", type=float, default=180, help="seconds to wait for the reply")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        project = render(Path(workdir) / "project", model_provider="openai")
        measure(project, arguments.wait)


if __name__ == "__main__":
    main()
