"""The generated app as a person sees it: `streamlit run` driven by headless Chromium.

One server (the offline model, no key, no network) serves every test of this module; each
test opens its own browser context, which is a new browser session of the app.
Chromium is Debian's (/usr/bin/chromium); Playwright never downloads a browser here.
Set UPDATE_SCREENSHOT=1 to rewrite docs/assets/screenshot.png from the one-turn test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import (
    CHAT_MESSAGES,
    GREETING,
    REPLY_END,
    SCRIPT_DONE,
    TEMPLATE_ROOT,
    ask,
    messages,
    open_app,
    streamlit_server,
    two_browser_sessions,
)

pytestmark = pytest.mark.browser

SCREENSHOT = TEMPLATE_ROOT / "docs" / "assets" / "screenshot.png"


@pytest.fixture(scope="module")
def app_url(rendered) -> Iterator[str]:
    """The offline project served by `streamlit run` on a free loopback port."""
    with streamlit_server(rendered("offline"), LLM_PROVIDER="offline") as url:
        yield url


@pytest.fixture(scope="module")
def browser_context(browser):
    """One browser profile for the single-session tests: its tabs share the HTTP cache,
    yet each tab is a browser session of its own for Streamlit (its own websocket)."""
    context = browser.new_context(viewport={"width": 1000, "height": 600})
    yield context
    context.close()


@pytest.fixture
def page(browser_context, app_url: str):
    """A new tab with a fresh browser session of the app, its greeting drawn."""
    page = browser_context.new_page()
    open_app(page, app_url)
    yield page
    page.close()


def test_greeting_is_visible(page) -> None:
    assert messages(page) == [GREETING]


def test_question_sent_with_enter_gets_a_reply(page) -> None:
    ask(page, "What is the capital of France?")

    greeting, question, reply = messages(page)
    assert question == "What is the capital of France?"
    assert reply.startswith("You said: What is the capital of France?")
    assert reply.endswith(REPLY_END)


def test_reply_is_streamed_into_the_page(page) -> None:
    # Record every length the newest message's text takes while the reply arrives.
    page.evaluate(
        """(selector) => {
            window.replyLengths = [];
            const sample = () => {
                const all = document.querySelectorAll(selector);
                if (all.length === 3) {
                    const content = all[2].querySelector(
                        '[data-testid="stChatMessageContent"]');
                    const length = content ? content.innerText.trim().length : 0;
                    const lengths = window.replyLengths;
                    if (lengths[lengths.length - 1] !== length) lengths.push(length);
                }
            };
            new MutationObserver(sample).observe(document.body, {
                subtree: true, childList: true, characterData: true,
            });
        }""",
        CHAT_MESSAGES,
    )

    ask(page, "Stream this, please")

    final = len(messages(page)[2])
    lengths = page.evaluate("window.replyLengths")
    partial = sorted({length for length in lengths if 0 < length < final})
    assert len(partial) >= 2, f"reply drawn in one piece: lengths {lengths}, final {final}"
    # The whole reply was drawn (with the controls under it, in the same redraw, when the
    # browser is slow: the text alone then never shows as a length of its own).
    assert max(lengths) >= final


def test_second_turn_shows_both_turns(page) -> None:
    ask(page, "first question")
    ask(page, "second question")

    shown = messages(page)
    assert len(shown) == 5
    assert shown[1] == "first question" and shown[2].startswith("You said: first question")
    assert shown[3] == "second question" and shown[4].startswith("You said: second question")
    assert "and 2 earlier messages" in shown[4]


def test_new_chat_button_clears_the_chat(page) -> None:
    ask(page, "forget me")

    page.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
    page.locator(CHAT_MESSAGES).nth(1).wait_for(state="detached", timeout=30_000)

    assert messages(page) == [GREETING]


def test_page_reload_starts_a_fresh_chat(page) -> None:
    ask(page, "remember me")

    page.reload()
    page.locator(CHAT_MESSAGES).first.wait_for(timeout=30_000)
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)

    assert messages(page) == [GREETING]


def test_two_browser_sessions_do_not_see_each_other(browser, app_url: str) -> None:
    with two_browser_sessions(browser, app_url) as (alice, bob):
        ask(alice, "alice here")
        ask(bob, "bob here")

        alice_sees, bob_sees = messages(alice), messages(bob)
    assert alice_sees[:2] == [GREETING, "alice here"] and len(alice_sees) == 3
    assert bob_sees[:2] == [GREETING, "bob here"] and len(bob_sees) == 3
    # Nor does the model: Bob's question reached it with no earlier messages.
    assert "and 0 earlier messages" in bob_sees[2]


def test_screenshot_of_one_turn_is_a_small_png(page, tmp_path: Path) -> None:
    ask(page, "What can you do?")
    page.get_by_test_id("stChatInputTextArea").blur()
    page.mouse.move(0, 0)

    screenshot = page.screenshot(path=tmp_path / "screenshot.png")

    assert screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(screenshot) < 200_000
    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "screenshot.png", SCREENSHOT)
