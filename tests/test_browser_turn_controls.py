"""Turn controls and feedback as a person uses them: `streamlit run` of a sqlite project
driven by headless Chromium (issue 20's proof). One server, one browser session per test.
Set UPDATE_SCREENSHOT=1 to rewrite docs/assets/turn-controls.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from helpers import SCRIPT_DONE, TEMPLATE_ROOT, ask, messages, offline_sqlite_app, open_app

pytestmark = pytest.mark.browser

SCREENSHOT = TEMPLATE_ROOT / "docs" / "assets" / "turn-controls.png"


@pytest.fixture(scope="module")
def app_url(rendered, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sqlite project on the offline model, its chats in a file of this module."""
    folder = tmp_path_factory.mktemp("browser-turns")
    with offline_sqlite_app(rendered("backend-sqlite"), folder) as url:
        yield url


@pytest.fixture
def page(browser, app_url: str):
    """A fresh browser session of the app, allowed to use the clipboard."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
    page = context.new_page()
    open_app(page, app_url)
    yield page
    context.close()


def settle(page) -> None:
    """Wait until the run started by a click has ended."""
    page.wait_for_timeout(300)
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)


def click(page, name: str, number: int = -1) -> None:
    buttons = page.get_by_role("button", name=name, exact=True)
    (buttons.last if number == -1 else buttons.nth(number)).click()


def questions(page) -> list[str]:
    """Every question on the page."""
    return messages(page)[1::2]


def reload(page) -> None:
    page.reload()
    page.locator('[data-testid="stChatMessage"]').first.wait_for(timeout=30_000)
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)


def test_edit_first_question_flip_back_and_reload_keep_the_version(page) -> None:
    # The whole chat in view: Streamlit keeps a chat scrolled to its end while it is drawn,
    # which on a busy machine carries the first question's Edit popover out of the window.
    page.set_viewport_size({"width": 1000, "height": 1450})
    for question in ("first question", "second question", "third question"):
        ask(page, question)

    click(page, "Edit", 0)
    edited = page.get_by_label("Your question").first
    edited.fill("first question, edited")
    # Applied first (as Ctrl+Enter does), so that Send is not clicked while the text box's
    # own run moves the popover.
    edited.press("Control+Enter")
    settle(page)
    page.get_by_role("button", name="Send", exact=True).first.click()
    page.get_by_text("2/2").wait_for(timeout=30_000)
    settle(page)
    assert questions(page) == ["first question, edited"]
    assert len(messages(page)) == 3

    click(page, "‹", 0)
    page.get_by_text("1/2").wait_for(timeout=30_000)
    settle(page)
    assert questions(page) == ["first question", "second question", "third question"]

    reload(page)
    assert questions(page) == ["first question", "second question", "third question"]
    assert page.get_by_text("1/2").is_visible()
    if os.environ.get("UPDATE_SCREENSHOT"):
        page.screenshot(path=str(SCREENSHOT))


def test_thumbs_up_survives_a_reload(page) -> None:
    ask(page, "rate this")
    thumbs_up = page.get_by_test_id("stFeedback").last.get_by_role("radio").first
    thumbs_up.click()
    page.get_by_label("Comment (optional)").wait_for(timeout=30_000)  # shown after a thumb
    settle(page)

    reload(page)

    thumbs_up = page.get_by_test_id("stFeedback").last.get_by_role("radio").first
    assert thumbs_up.get_attribute("aria-checked") == "true"


def test_copy_puts_the_reply_markdown_on_the_clipboard(page) -> None:
    ask(page, "copy **this**")
    click(page, "Copy")
    code = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode")
    code.hover()
    code.get_by_role("button").first.click()

    copied = page.evaluate("navigator.clipboard.readText()")

    assert copied.startswith("You said: copy **this**")


def test_controls_are_enabled_again_soon_after_stop_without_a_click(page) -> None:
    ask(page, "short question")
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(" ".join(f"w{n}" for n in range(3000)))  # the offline model echoes it, slowly
    box.press("Enter")
    page.locator('[data-testid="stChatMessage"]').nth(4).filter(has_text="w50").wait_for(
        timeout=30_000
    )
    regenerate = page.get_by_role("button", name="Regenerate", exact=True)
    assert regenerate.is_disabled()  # while the reply streams

    page.get_by_test_id("stChatInputStopButton").click()

    page.get_by_text("You stopped this reply.").wait_for(timeout=30_000)
    settle(page)
    assert regenerate.is_enabled()
