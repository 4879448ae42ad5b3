"""Benchmark: the server's memory while a chat takes ten 9.5 MB images, in headless Chromium.

Renders the template from this working tree (history_backend=sqlite, or --backend session;
attachments=both),
serves it with `streamlit run` on the offline model and, in Debian's Chromium, asks ten
questions in one chat, each with one PNG image of 9.5 MB (random pixels: it does not
compress), just under the 10 MB default limit. After each turn it reads the server's
resident memory (VmRSS) and its peak during the turn (VmHWM, started afresh before each
turn) from /proc.

Prints one row per turn: the memory before it, the peak while the image uploads
(Streamlit's own endpoint) and while the turn runs (this app: the question checked,
stored, sent with the images of earlier turns within the history budget, the reply
streamed and stored), and the memory after it. The summary says how many copies of an
upload the server keeps once its turn is over (issue 22: at most two per upload).

The server runs as the Dockerfile runs it, with glibc's MALLOC_MMAP_THRESHOLD_ fixed
(freed blocks of files go back to the system at once); --glibc-defaults leaves glibc's
dynamic threshold, as a plain `streamlit run` has it.

    .venv/bin/python benchmarks/upload_memory.py [--images 10] [--megabytes 9.5]
        [--backend session] [--glibc-defaults]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE_ROOT / "tests"))

from helpers import (  # noqa: E402
    CHAT_MESSAGES,
    CHROMIUM,
    CHROMIUM_FLAGS,
    REPLY_END,
    SCRIPT_DONE,
    clean_env,
    free_port,
    random_png,
    render,
    tool,
    wait_for_health,
)

FILE_INPUT = '[data-testid="stChatInputFileUploadButton"] input[type="file"]'
UPLOADING = '[data-testid="stFileChipIconSpinner"]'
MB = 1024 * 1024


def memory_mb(pid: int) -> tuple[float, float]:
    """The process's resident memory now and its peak so far (VmRSS, VmHWM), in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def reset_peak(pid: int) -> None:
    """Start the process's peak memory (VmHWM) afresh from its memory now (Linux)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


IMAGE_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "131072"}
"""The allocator setting of the generated Dockerfile (with attachments on)."""


def measure(project: Path, images: int, megabytes: float, allocator: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    store = project / "chats.sqlite"
    environment = clean_env(
        LLM_PROVIDER="offline", CHAT_HISTORY_URL=f"sqlite:///{store}", **allocator
    )
    command = [tool("streamlit"), "run", "app.py", "--server.headless=true"]
    command += ["--server.address=127.0.0.1", f"--server.port={port}"]
    command += ["--browser.gatherUsageStats=false"]
    server = subprocess.Popen(command, cwd=project, env=environment)
    try:
        wait_for_health(f"http://127.0.0.1:{port}/_stcore/health")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(CHAT_MESSAGES).first.wait_for(timeout=60_000)
            page.locator(SCRIPT_DONE).wait_for(timeout=60_000)
            started, _ = memory_mb(server.pid)
            print(f"server after the first page: {started:.0f} MB resident\n")
            print(f"{'turn':>4}  {'file MB':>7}  {'before MB':>9}  {'upload peak MB':>14}  "
                  f"{'turn peak MB':>12}  {'after MB':>8}  "
                  f"{'turn peak rise, in files':>24}")  # fmt: skip
            rises = []
            for turn in range(1, images + 1):
                image = random_png(int(megabytes * MB))
                reset_peak(server.pid)
                before, _ = memory_mb(server.pid)
                page.locator(FILE_INPUT).set_input_files(
                    [{"name": f"photo-{turn}.png", "mimeType": "image/png", "buffer": image}]
                )
                page.wait_for_timeout(300)
                page.locator(UPLOADING).first.wait_for(state="detached", timeout=120_000)
                # The upload (Streamlit's own endpoint) and the turn (this app) apart.
                uploaded, upload_peak = memory_mb(server.pid)
                reset_peak(server.pid)
                box = page.get_by_test_id("stChatInputTextArea")
                box.fill(f"What is in photo {turn}?")
                box.press("Enter")
                reply = page.locator(CHAT_MESSAGES).nth(2 * turn)
                reply.filter(has_text=REPLY_END).wait_for(timeout=120_000)
                page.locator(SCRIPT_DONE).wait_for(timeout=120_000)
                after, peak = memory_mb(server.pid)
                rise = (peak - uploaded) / (len(image) / MB)
                rises.append(rise)
                print(f"{turn:>4}  {len(image) / MB:>7.1f}  {before:>9.0f}  {upload_peak:>14.0f}  "
                      f"{peak:>12.0f}  {after:>8.0f}  {rise:>24.1f}")  # fmt: skip
            browser.close()
        final, _ = memory_mb(server.pid)
        print(
            f"\nafter {images} images {final:.0f} MB resident, "
            f"{final - started:.0f} MB more than after the first page: "
            f"{(final - started) / (images * megabytes):.1f} copies kept per upload; "
            f"the largest rise of the peak in one turn: {max(rises):.1f} files"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10, help="turns, one image each")
    parser.add_argument("--megabytes", type=float, default=9.5, help="size of each image")
    parser.add_argument("--backend", choices=["sqlite", "session"], default="sqlite")
    parser.add_argument("--glibc-defaults", action="store_true", help="no MALLOC_MMAP_THRESHOLD_")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = render(
            Path(folder) / "app",
            history_backend=options.backend,
            attachments="both",
            model_provider="offline",
            package_name="upload_memory_app",
        )
        allocator = {} if options.glibc_defaults else IMAGE_ALLOCATOR
        measure(project, options.images, options.megabytes, allocator)


if __name__ == "__main__":
    main()
