"""Files in the chat as a person sends them, in headless Chromium (issue 22's proof):
`streamlit run` of two projects that take images and documents, each served once for the
module's tests, one browser session per test:

- the sqlite project on OpenAI, its real client talking to the loopback server of
  tests/provider_servers.py: the files drawn after a reload, the image received in
  OpenAI's wire format, a file over the limit refused;
- the session project ("offline": LangChain's RunnableWithMessageHistory wiring) on the
  offline model, which describes the files it received: the files drawn after a rerun.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfWriter

from helpers import (
    CHAT_MESSAGES,
    SCRIPT_DONE,
    ask,
    messages,
    open_app,
    streamlit_server,
)
from provider_servers import ProviderServer

pytestmark = pytest.mark.browser

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
"""A real 1x1 PNG image."""
FILE_INPUT = '[data-testid="stChatInputFileUploadButton"] input[type="file"]'
"""The chat box's file input (Streamlit 1.67), which a file picker, paste or drop fills."""
UPLOADING = '[data-testid="stFileChipIconSpinner"]'
IMAGES = '[data-testid="stImage"] img'
LOADED_THUMBNAIL = """([messages, at, images]) => {
    const drawn = document.querySelectorAll(messages)[at].querySelectorAll(images);
    return drawn.length === 1 && drawn[0].complete && drawn[0].naturalWidth > 0;
}"""
"""Whether the message at this place of the page shows one image, loaded."""
LOOPBACK_REPLY = "A one-pixel chart."
"""What the loopback OpenAI server answers."""


def one_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def openai_server() -> Iterator[ProviderServer]:
    """The loopback server that the sqlite project's OpenAI client talks to."""
    with ProviderServer(replies=[]) as server:
        yield server


@pytest.fixture(scope="module")
def app_url(
    rendered, openai_server: ProviderServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The sqlite project (which takes images and PDFs: OpenAI's default model does) on
    OpenAI, its client pointed at the loopback server with a dummy key, its chats in a
    file of this module."""
    store = tmp_path_factory.mktemp("browser-files") / "chats.sqlite"
    with streamlit_server(
        rendered("backend-sqlite"),
        LLM_PROVIDER="openai",
        OPENAI_API_KEY="sk-test-not-a-real-key",
        OPENAI_BASE_URL=f"{openai_server.url}/v1",
        LLM_MAX_RETRIES="0",
        CHAT_HISTORY_URL=f"sqlite:///{store}",
    ) as url:
        yield url


@pytest.fixture(scope="module")
def session_app_url(rendered) -> Iterator[str]:
    """The session project ("offline", which takes images and documents) on the offline
    model: its chats live in the browser session only."""
    with streamlit_server(rendered("offline"), LLM_PROVIDER="offline") as url:
        yield url


def new_page(browser, url: str) -> Iterator[Any]:
    """A browser session of the app at url, its first run drawn; closed afterwards."""
    context = browser.new_context(viewport={"width": 1000, "height": 1200})
    page = context.new_page()
    open_app(page, url)
    yield page
    context.close()


@pytest.fixture
def page(browser, app_url: str) -> Iterator[Any]:
    yield from new_page(browser, app_url)


@pytest.fixture
def session_page(browser, session_app_url: str) -> Iterator[Any]:
    yield from new_page(browser, session_app_url)


def attach(page, *files: tuple[str, str, bytes]) -> None:
    """Put files in the chat box, as the file picker does, and wait until they are up."""
    page.locator(FILE_INPUT).set_input_files(
        [{"name": name, "mimeType": mime_type, "buffer": data} for name, mime_type, data in files]
    )
    page.wait_for_timeout(300)
    page.locator(UPLOADING).first.wait_for(state="detached", timeout=30_000)


def assert_image_and_pdf_drawn(
    page, question_at: int, pdf: bytes, reply_says: tuple[str, ...], attempt: str
) -> None:
    """The question at this place of the page is drawn with its image (a thumbnail,
    loaded) and its PDF, and the reply after it says each of `reply_says`."""
    question, reply = messages(page)[question_at : question_at + 2]
    for part in reply_says:
        assert part in reply, attempt
    assert "What are these?" in question, attempt
    assert "chart.png (image/png, 70 bytes)" in question, attempt
    assert f"report.pdf (application/pdf, {len(pdf)} bytes, 1 page)" in question, attempt
    # Waited for: the page may be redrawn after the reply (the image then drawn anew), and
    # the browser may still be fetching it.
    page.wait_for_function(LOADED_THUMBNAIL, arg=[CHAT_MESSAGES, question_at, IMAGES])


def ask_loopback(page, openai_server: ProviderServer, question: str) -> dict[str, Any]:
    """Ask the sqlite project's page a question; the chat request that reached the
    loopback server (its JSON body)."""
    before = len(openai_server.requests)
    openai_server.replies.append(LOOPBACK_REPLY)
    ask(page, question, reply_end=LOOPBACK_REPLY)
    [(wire_format, request)] = openai_server.requests[before:]
    assert wire_format == "openai-chat-completions"
    return request.body


def test_an_image_and_a_pdf_are_drawn_with_the_question_and_reply_and_after_a_reload(
    page, openai_server: ProviderServer
) -> None:
    pdf = one_page_pdf()
    attach(page, ("chart.png", "image/png", PNG), ("report.pdf", "application/pdf", pdf))
    ask_loopback(page, openai_server, "What are these?")

    for attempt in ("sent", "reloaded"):
        assert_image_and_pdf_drawn(page, 1, pdf, (LOOPBACK_REPLY,), attempt)
        page.reload()
        page.locator(CHAT_MESSAGES).nth(2).wait_for(timeout=30_000)
        page.locator(SCRIPT_DONE).wait_for(timeout=30_000)


def test_an_image_reaches_openai_as_an_image_url_with_its_bytes(
    page, openai_server: ProviderServer
) -> None:
    attach(page, ("chart.png", "image/png", PNG))
    body = ask_loopback(page, openai_server, "What is this?")

    question = body["messages"][-1]
    assert question["role"] == "user"
    urls = [part["image_url"]["url"] for part in question["content"] if part["type"] == "image_url"]
    prefix = "data:image/png;base64,"
    assert [url.startswith(prefix) for url in urls] == [True], urls
    assert base64.b64decode(urls[0].removeprefix(prefix)) == PNG


def test_a_file_over_the_limit_is_refused_with_its_name(page) -> None:
    big = PNG + bytes(12 * 1000 * 1000)
    page.locator(FILE_INPUT).set_input_files(
        [{"name": "big-scan.png", "mimeType": "image/png", "buffer": big}]
    )
    chip = page.get_by_test_id("stFileChip").filter(has_text="big-scan.png")
    chip.wait_for(timeout=30_000)
    assert chip.get_by_test_id("stFileChipIconError").count() == 1


def test_in_a_session_chat_an_image_and_a_pdf_are_drawn_with_the_question_and_after_a_rerun(
    session_page,
) -> None:
    pdf = one_page_pdf()
    attach(session_page, ("chart.png", "image/png", PNG), ("report.pdf", "application/pdf", pdf))
    ask(session_page, "What are these?")
    # The offline model's reply lists the files it received.
    described = ("I received 2 file(s)", "chart.png (image/png, 70 bytes)")
    assert_image_and_pdf_drawn(session_page, 1, pdf, described, "sent")

    ask(session_page, "And without files?")  # a rerun: the session's history drawn again
    assert len(messages(session_page)) == 5
    assert_image_and_pdf_drawn(session_page, 1, pdf, described, "after a rerun")
