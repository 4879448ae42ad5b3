"""Files in the chat as a person sends them: `streamlit run` of the sqlite project (which
takes images and documents) on the offline model, driven by headless Chromium (issue 22's
proof). One server, one browser session per test."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest
from pypdf import PdfWriter

from helpers import (
    CHAT_MESSAGES,
    SCRIPT_DONE,
    ask,
    messages,
    offline_sqlite_app,
    open_app,
)

pytestmark = pytest.mark.browser

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
"""A real 1x1 PNG image."""
FILE_INPUT = '[data-testid="stChatInputFileUploadButton"] input[type="file"]'
"""The chat box's file input (Streamlit 1.67), which a file picker, paste or drop fills."""
UPLOADING = '[data-testid="stFileChipIconSpinner"]'
IMAGES = '[data-testid="stImage"] img'


def one_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def app_url(rendered, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sqlite project on the offline model, its chats in a file of this module."""
    folder = tmp_path_factory.mktemp("browser-files")
    with offline_sqlite_app(rendered("backend-sqlite"), folder) as url:
        yield url


@pytest.fixture
def page(browser, app_url: str):
    context = browser.new_context(viewport={"width": 1000, "height": 1200})
    page = context.new_page()
    open_app(page, app_url)
    yield page
    context.close()


def attach(page, *files: tuple[str, str, bytes]) -> None:
    """Put files in the chat box, as the file picker does, and wait until they are up."""
    page.locator(FILE_INPUT).set_input_files(
        [{"name": name, "mimeType": mime_type, "buffer": data} for name, mime_type, data in files]
    )
    page.wait_for_timeout(300)
    page.locator(UPLOADING).first.wait_for(state="detached", timeout=30_000)


def test_an_image_and_a_pdf_are_drawn_with_the_question_and_reply_and_after_a_reload(
    page,
) -> None:
    pdf = one_page_pdf()
    attach(page, ("chart.png", "image/png", PNG), ("report.pdf", "application/pdf", pdf))
    ask(page, "What are these?")

    for attempt in ("sent", "reloaded"):
        *_, question, reply = messages(page)
        assert "What are these?" in question, attempt
        assert "chart.png (image/png, 70 bytes)" in question, attempt
        assert f"report.pdf (application/pdf, {len(pdf)} bytes, 1 page)" in question, attempt
        assert "I received 2 file(s)" in reply, attempt
        assert "chart.png (image/png, 70 bytes)" in reply, attempt
        thumbnail = page.locator(CHAT_MESSAGES).nth(-2).locator(IMAGES)
        assert thumbnail.count() == 1, attempt
        assert thumbnail.evaluate("(image) => image.complete && image.naturalWidth") == 1
        page.reload()
        page.locator(CHAT_MESSAGES).nth(2).wait_for(timeout=30_000)
        page.locator(SCRIPT_DONE).wait_for(timeout=30_000)


def test_a_file_over_the_limit_is_refused_with_its_name(page) -> None:
    big = PNG + bytes(12 * 1000 * 1000)
    page.locator(FILE_INPUT).set_input_files(
        [{"name": "big-scan.png", "mimeType": "image/png", "buffer": big}]
    )
    chip = page.get_by_test_id("stFileChip").filter(has_text="big-scan.png")
    chip.wait_for(timeout=30_000)
    assert chip.get_by_test_id("stFileChipIconError").count() == 1
