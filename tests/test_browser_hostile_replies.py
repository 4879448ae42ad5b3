"""Hostile replies in headless Chromium: the page fetches nothing and links nothing live.

One `streamlit run` of the offline app with a SQLite store serves every reply. The offline
model echoes the question ("You said: ..."), so each hostile text below is drawn twice
per turn, as the question and inside the reply: while it streams, and again from the
store after a reload. Each text names the URL of a loopback logger (a tiny HTTP server on
127.0.0.1, tagged by route); the logger must receive no request at all, and no link in
the page may be a live data:, javascript: or vbscript: one.

Run on the code before safe_drawing.py (a line scanner before st.markdown, questions drawn
by st.markdown as they are), it failed: the browser fetched the logger's URL for "image",
"reference-image", "tab-fence", "indented-fence", "bom-fence", "line-end-2028",
"line-end-0085" and "list-fence" (drawn as images in the questions, and in the replies too
for "tab-fence", "line-end-2028" and "line-end-0085"), and the question of "links" left a
live data: link.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helpers import CHAT_MESSAGES, REPLY_END, SCRIPT_DONE, open_app, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

HOSTILE = {
    "image": "See ![x]({url}?image) here.",
    "reference-image": "![a][r] and ![r]\n\n[r]: {url}?reference-image",
    "tab-fence": "```\ncode\n\t```\n![x]({url}?tab-fence)\n```\n![y]({url}?tab-fence)",
    "indented-fence": " ```\ncode\n  ```\n![y]({url}?indented-fence)\n```\n![z]({url}?indented)",
    "bom-fence": "\ufeff```\ncode\n```\n![y]({url}?bom-fence)",
    "line-end-2028": "Intro\u2028```\n![x]({url}?line-end-2028)\n```\n![y]({url}?line-end-2028)",
    "line-end-0085": "Intro\x85```\n![x]({url}?line-end-0085)\n```\n![y]({url}?line-end-0085)",
    "list-fence": "1. item\n\n   ```\n   ![a]({url}?list-fence)\n   ```\n\n![c]({url}?list-fence)",
    "help-directive": ":help[![x]({url}?help-directive)] and :help[[d](data:text/html,x)]",
    "mermaid": "```mermaid\ngraph TD\n  A[\"<img src='{url}?mermaid'>\"] --> B\n```",
    "math": "$\\rule{{3000px}}{{3000px}}$ and $\\includegraphics{{{url}?math}}$",
    "raw-html": '<img src={url}?raw-html> <a href="javascript:alert(1)">x</a>',
    "links": "[a](javascript:alert(1)) [b](&#x6A;avascript:x) <data:text/html,x> [c](vbscript:x)",
}
"""A sample of the generated suite's hostile replies (test_safe_drawing.py), by route."""


class Logger(ThreadingHTTPServer):
    """Records every request it receives; answers each with an empty 204."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), LoggerHandler)
        self.requests: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/leak"


class LoggerHandler(BaseHTTPRequestHandler):
    server: Logger

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the test reads `requests`."""

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.requests.append(self.path)
        self.send_response(204)
        self.end_headers()

    do_POST = do_HEAD = do_GET  # noqa: N815


@pytest.fixture(scope="module")
def logger() -> Iterator[Logger]:
    server = Logger()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app_url(rendered, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    project: Path = rendered(
        "browser-hostile",
        model_provider="offline",
        history_backend="sqlite",
        package_name="hostile_replies_app",
    )
    store = tmp_path_factory.mktemp("hostile-store") / "chats.sqlite"
    with streamlit_server(
        project, LLM_PROVIDER="offline", CHAT_HISTORY_URL=f"sqlite:///{store}"
    ) as url:
        yield url


LIVE_LINKS = """(root) => Array.from(root.querySelectorAll('[href], [src], [srcset]'))
    .flatMap(node => ['href', 'src', 'srcset'].map(name => node.getAttribute(name) || ''))
    .filter(value => /^\\s*(javascript|data|vbscript):/i.test(value))"""


def hover_everything(page, messages) -> None:
    """Hover whatever shows a tooltip in these messages (a tooltip may draw its label
    again). Should the page draw the messages again meanwhile (it does so once more
    after a turn), their tooltips are hovered again once that run has ended."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _attempt in range(3):
        try:
            for target in messages.locator("[data-testid*='Tooltip']").all():
                if target.is_visible():
                    target.hover(timeout=5_000)
                    time.sleep(0.1)
            return
        except PlaywrightTimeout:  # the target was drawn again while being hovered
            page.locator(SCRIPT_DONE).wait_for(timeout=30_000)
    raise AssertionError("the messages' tooltips were drawn again at every attempt")


def live_links(page) -> list[str]:
    return page.locator(CHAT_MESSAGES).evaluate_all(
        f"messages => messages.flatMap(message => ({LIVE_LINKS})(message))"
    )


def test_hostile_replies_make_the_browser_fetch_nothing_streamed_or_redrawn(
    browser, app_url: str, logger: Logger
) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    open_app(page, app_url)
    for number, text in enumerate(HOSTILE.values()):
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("\n\n" + text.format(url=logger.url))
        box.press("Enter")
        reply = page.locator(CHAT_MESSAGES).nth(2 + 2 * number)
        reply.filter(has_text=REPLY_END).wait_for(timeout=30_000)
        page.locator(SCRIPT_DONE).wait_for(timeout=30_000)
        hover_everything(page, page.locator(CHAT_MESSAGES).nth(1 + 2 * number))  # the question
        hover_everything(page, reply)
    streamed = {"requests": list(logger.requests), "live links": live_links(page)}

    page.reload()  # drawn again, from the store
    page.locator(CHAT_MESSAGES).nth(2 * len(HOSTILE)).wait_for(timeout=30_000)
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)
    hover_everything(page, page.locator(CHAT_MESSAGES))
    time.sleep(1)  # time for any fetch the drawing set off
    redrawn = {
        "requests": logger.requests[len(streamed["requests"]) :],
        "live links": live_links(page),
    }
    context.close()

    assert streamed == {"requests": [], "live links": []}
    assert redrawn == {"requests": [], "live links": []}
