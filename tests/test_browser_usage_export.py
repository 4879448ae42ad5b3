"""Usage and export as a person sees them: `streamlit run` (SQLite chats, offline model)
driven by headless Chromium. Two turns; the sidebar's total is the sum of the captions;
the Markdown download holds both turns; the JSON download, opened again, is a new chat
showing the same turns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import CHAT_MESSAGES, SCRIPT_DONE, ask, messages, offline_sqlite_app, open_app

pytestmark = pytest.mark.browser

FIRST, SECOND = "First question, about ## headings", "Second question"


@pytest.fixture(scope="module")
def app_url(rendered, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("usage-export-store")
    with offline_sqlite_app(rendered("backend-sqlite"), folder) as url:
        yield url


def tokens(caption: str) -> tuple[int, int]:
    """(in, out) of a caption such as "1,234 in · 56 out · US$0.00"."""
    found = re.search(r"([\d,]+) in · ([\d,]+) out", caption)
    assert found, caption
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


def download(page, label: str, folder: Path) -> Path:
    with page.expect_download(timeout=30_000) as started:
        page.get_by_test_id("stSidebar").get_by_role("button", name=label, exact=True).click()
    path = folder / started.value.suggested_filename
    started.value.save_as(path)
    return path


def test_two_turns_totals_downloads_and_the_export_opened_again(
    browser, app_url: str, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    open_app(page, app_url)
    ask(page, FIRST)
    ask(page, SECOND)
    page.reload()  # every caption and the total drawn again from the store
    open_app(page, page.url)
    chat_url, turns = page.url, messages(page)

    captions = [
        page.locator(CHAT_MESSAGES).nth(n).get_by_test_id("stCaptionContainer").inner_text()
        for n in (2, 4)
    ]
    total = page.get_by_test_id("stSidebar").get_by_text("This chat:").inner_text()
    markdown = download(page, "Markdown", tmp_path).read_text(encoding="utf-8")
    exported = download(page, "JSON", tmp_path)

    page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(exported)
    page.get_by_text("The export was opened as a new chat.").wait_for(timeout=30_000)
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)
    opened_url, opened = page.url, messages(page)
    context.close()

    ins, outs = zip(*(tokens(caption) for caption in captions), strict=True)
    assert tokens(total) == (sum(ins), sum(outs))
    assert f"## You\n\n```text\n{FIRST}\n```" in markdown
    assert f"## You\n\n```text\n{SECOND}\n```" in markdown
    assert markdown.count("## Assistant") == 2
    assert opened_url != chat_url
    assert opened == turns
