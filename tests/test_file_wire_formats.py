"""Files sent with a question reach each provider in its own wire format.

The content blocks of the generated file_blocks.py (rendered with attachments=both, the
"backend-memory" answer set) are sent by each provider's real LangChain client to the
loopback server of tests/provider_servers.py, which records the request. What the provider
table of copier.yml says each integration takes (`files`) is checked here: an image goes
as OpenAI's `image_url`, Anthropic's `image`, Gemini's `inlineData` and Ollama's `images`;
a PDF as OpenAI's `file` (`file_data`), Anthropic's `document` and Gemini's `inlineData`.
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from helpers import LOOPBACK_NOT_PROXIED, PROVIDERS, imported
from provider_servers import ProviderServer

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
"""Bytes that open like a PDF; only sent, never read (the blocks are built by hand below)."""


@pytest.fixture(scope="module")
def file_blocks(rendered) -> Iterator[Any]:
    with imported(rendered("backend-memory")) as package:
        yield importlib.import_module(f"{package.__name__}.file_blocks")


def content(file_blocks: Any, *, pdf: bool) -> list[Any]:
    """The question's content as the app builds it: an image, and a PDF sent as a file."""
    package = file_blocks.__name__.rpartition(".")[0]
    attachments = importlib.import_module(f"{package}.attachments")
    files = [attachments.Attachment("chart.png", "image/png", PNG)]
    if pdf:
        files.append(attachments.Attachment("report.pdf", "application/pdf", PDF, pages=1, text=""))
    inputs = file_blocks.ModelInputs(images=True, pdf=pdf)
    return file_blocks.question_content("What is this?", files, inputs, "m")


def sent(model: Any, blocks: list[Any], server: ProviderServer) -> str:
    """The body of the chat request the client sent, as JSON text."""
    for _ in model.stream([HumanMessage(content=blocks)]):
        pass
    bodies = [request.body for name, request in server.requests if name is not None]
    assert len(bodies) == 1
    return json.dumps(bodies[0])


def client(name: str, url: str, monkeypatch) -> Any:
    for variable, value in LOOPBACK_NOT_PROXIED.items():
        monkeypatch.setenv(variable, value)
    if name == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model="gpt-4o-mini", base_url=f"{url}/v1", api_key="test-key")
    if name == "anthropic":
        from langchain_anthropic import ChatAnthropic

        return ChatAnthropic(model="claude-haiku-4-5", base_url=url, api_key="test-key")
    if name == "google_genai":
        from langchain_google_genai import ChatGoogleGenerativeAI

        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", url)
        return ChatGoogleGenerativeAI(model="gemini-flash-latest", api_key="test-key")
    from langchain_ollama import ChatOllama

    return ChatOllama(model="llava", base_url=url)


IMAGE_ON_THE_WIRE = {
    "openai": '"image_url": {"url": "data:image/png;base64,' + base64.b64encode(PNG).decode(),
    "anthropic": '"type": "image", "source": {"type": "base64", "media_type": "image/png"',
    "google_genai": '"inlineData": {"data": "' + base64.urlsafe_b64encode(PNG).decode(),
    "ollama": '"images": ["' + base64.b64encode(PNG).decode(),
}
PDF_ON_THE_WIRE = {
    "openai": '"file_data": "data:application/pdf;base64,' + base64.b64encode(PDF).decode(),
    "anthropic": '"type": "document"',
    "google_genai": '"mime_type": "application/pdf"',
}


@pytest.mark.parametrize("name", list(IMAGE_ON_THE_WIRE))
def test_an_image_reaches_the_provider_in_its_wire_format(file_blocks, name, monkeypatch) -> None:
    assert PROVIDERS[name]["files"]["images"] or name == "ollama"  # Ollama: vision models
    with ProviderServer(replies=["A chart."]) as server:
        body = sent(client(name, server.url, monkeypatch), content(file_blocks, pdf=False), server)
    assert IMAGE_ON_THE_WIRE[name] in body, body


@pytest.mark.parametrize("name", list(PDF_ON_THE_WIRE))
def test_a_pdf_reaches_a_provider_that_reads_pdfs_as_a_file(file_blocks, name, monkeypatch) -> None:
    assert PROVIDERS[name]["files"]["pdf"]
    with ProviderServer(replies=["A report."]) as server:
        body = sent(client(name, server.url, monkeypatch), content(file_blocks, pdf=True), server)
    assert PDF_ON_THE_WIRE[name] in body
