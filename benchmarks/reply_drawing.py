"""Benchmark: what drawing a 50 KB reply costs the server, per redraw, before and after
safe_drawing.py.

Before: reply.py's line scanner (`safe_markdown`, read from the git history at --before)
and one st.markdown element. After: safe_drawing.py from this working tree (markdown-it-py,
nh3, st.html and st.code). Both run inside a real Streamlit script run (AppTest), so that
element creation is counted; the browser's side is benchmarks/long_reply_in_browser.py.

Measured for 50 KB replies of mixed Markdown (headings, paragraphs, lists, code blocks,
tables; a code block every 1.5 KB, and a code block every 0.4 KB, where each of the
hundred-odd st.code and st.html elements costs its share) and of plain lines (one long
paragraph: the whole text is its last block):

- a streamed redraw at 50 KB: before, the whole text is scanned and sent again; after, only
  the last top-level block is parsed and drawn again (the blocks above it are drawn once),
  and of a long last paragraph only its last 4,000 characters or so;
- a redraw from the store at a rerun: before, as above; after, cached by text (at most 40
  st.code elements, further code blocks inside the HTML);
- the first draw of a stored reply in a process (after: parsed in one piece, uncached; a
  streamed reply pays this once, at its end, and its reruns find it cached).

Prints a table; compare the ratios, not the milliseconds, since machines are noisy.

    .venv/bin/python benchmarks/reply_drawing.py [--repeats 20] [--before e1a98d9]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from streamlit.testing.v1 import AppTest

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = TEMPLATE_ROOT / "template" / "{{package_name}}"
SIZE = 50_000

PROSE = (
    "Here is a paragraph with **bold**, `code`, a [link](https://example.com/{n}) and $5 and "
    "$10. It runs over several lines, as replies do, and explains the step in some detail so "
    "that the reader knows why it matters.\n\n"
)
SECTION = """## Step {n}

{prose}- first item
- second item with *emphasis*

```python
def step_{n}(x):
    return x * {n}
```

| a | b |
|---|---|
| {n} | two |

"""


def mixed_reply(paragraphs: int) -> str:
    """Sections of headings, paragraphs, a list, a code block and a table."""
    section = SECTION.replace("{prose}", PROSE * paragraphs)
    return "".join(section.format(n=n) for n in range(SIZE // 200))[:SIZE]


def plain_reply() -> str:
    line = "Line {:05d}: the quick brown fox jumps over the lazy dog.\n"
    return "".join(line.format(n) for n in range(SIZE // 58 + 1))[:SIZE]


def measure(folder: str, text: str, repeats: int) -> None:
    """Run inside AppTest: times each way of drawing, into st.session_state["ms"]. The ways
    take turns, repeat after repeat, so that a busy machine weighs on all of them alike."""
    import sys
    import time

    import streamlit as st

    sys.path.insert(0, folder)
    import old_reply
    import safe_drawing

    placeholder = st.empty()

    def streamed_until_just_before_the_end():  # noqa: ANN202
        drawing = safe_drawing.StreamedMarkdown(allow_remote_images=False)
        for end in range(2_000, len(text) - 400, 2_000):
            drawing.draw(text[:end])
        drawing.draw(text[: len(text) - 400])
        return drawing

    ways = {
        "before: any redraw": (
            lambda: None,
            lambda _: placeholder.markdown(old_reply.safe_markdown(text)),
        ),
        "after: streamed redraw": (
            streamed_until_just_before_the_end,
            lambda drawing: drawing.draw(text),
        ),
        "after: redraw from the store": (
            lambda: safe_drawing.draw_markdown(text),  # the cache filled by the draw before
            lambda _: safe_drawing.draw_markdown(text),
        ),
        "after: first draw from the store": (
            safe_drawing.safe_blocks.cache_clear,
            lambda _: safe_drawing.draw_markdown(text),
        ),
    }
    times: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(repeats):
        for way, (setup, draw) in ways.items():
            state = setup()
            started = time.perf_counter()
            draw(state)
            times[way].append(time.perf_counter() - started)
    st.session_state["ms"] = {
        way: sorted(values)[len(values) // 2] * 1000 for way, values in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--before", default="e1a98d9", help="a commit with the line scanner")
    arguments = parser.parse_args()
    old = subprocess.run(
        ["git", "show", f"{arguments.before}:template/{{{{package_name}}}}/reply.py"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "old_reply.py").write_text(old, encoding="utf-8")
        (Path(folder) / "safe_drawing.py").write_text(
            (PACKAGE / "safe_drawing.py").read_text(encoding="utf-8"), encoding="utf-8"
        )
        print(f"Server time per redraw of a {SIZE // 1000} KB reply, median of {arguments.repeats}")
        print("| reply | way of drawing | ms | × before |")
        print("| --- | --- | ---: | ---: |")
        replies = {
            "mixed, a code block per 1.5 KB": mixed_reply(paragraphs=4),
            "mixed, a code block per 0.4 KB": mixed_reply(paragraphs=0),
            "plain lines (one paragraph)": plain_reply(),
        }
        for name, text in replies.items():
            app = AppTest.from_function(
                measure, args=(folder, text, arguments.repeats), default_timeout=600
            )
            app.run()
            if app.exception:
                sys.exit(app.exception[0].value)
            ms = app.session_state["ms"]
            before = ms["before: any redraw"]
            for way, value in ms.items():
                print(f"| {name} | {way} | {value:.1f} | {value / before:.2f} |")


if __name__ == "__main__":
    main()
