"""Untrusted text drawn so that it cannot reach out of the page.

A model's reply is untrusted: a prompt injection in a pasted document can make the model
write anything, and the classic leak is an image whose URL carries the user's data. So no
reply, stored message or greeting is handed to Streamlit's own Markdown drawing (which
also draws Mermaid diagrams, math and `:help[...]` tooltips). Instead, safe by construction:

1. markdown-it-py parses the text (CommonMark with tables and strikethrough, raw HTML off);
   a link or image whose target is not an absolute http(s) or mailto URL stays text;
2. an image is drawn as a link to it (or, with ALLOW_REMOTE_IMAGES, as an http(s) image);
3. nh3 (Rust's ammonia) sanitizes the HTML with an allow-list of tags, attributes and
   URL schemes, whatever the parser produced;
4. st.html draws that HTML (it interprets no Markdown), and each top-level code block is
   drawn by st.code (highlighting and a copy button; the first CODE_ELEMENTS_PER_TEXT).

Text that is not Markdown at all (a provider's error message) is drawn by `show_error` as
plain text under a title of our own.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit

import nh3
import streamlit as st
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from streamlit.delta_generator import DeltaGenerator

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
TAGS = frozenset(
    {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li"}
    | {"pre", "code", "em", "strong", "s", "a", "table", "thead", "tbody", "tr", "th", "td"}
)
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
IMAGE_ATTRIBUTES = {"img": {"src", "alt", "title"}}


STYLE = """<style>
.stHtml table { border-collapse: collapse; margin-bottom: 1rem; }
.stHtml th, .stHtml td { border: 1px solid rgba(128, 128, 128, 0.35); padding: 0.25rem 0.75rem; }
.stHtml blockquote { border-left: 3px solid rgba(128, 128, 128, 0.5); margin: 0 0 1rem;
  padding-left: 1rem; }
.stHtml code { background: rgba(128, 128, 128, 0.15); border-radius: 0.25rem;
  padding: 0.1em 0.25em; font-size: 0.875em; }
.stHtml pre code { display: block; padding: 0.75rem; overflow-x: auto; }
</style>"""
"""Tables, quotes and code in the drawn HTML styled much as Streamlit's Markdown is (our
own constant: the sanitized HTML itself carries no style)."""


@dataclass(frozen=True)
class Code:
    """A top-level code block: drawn by st.code."""

    text: str
    language: str | None


@dataclass(frozen=True)
class Html:
    """Sanitized HTML of the blocks between two code blocks: drawn by st.html."""

    html: str


def is_allowed_url(url: str, schemes: frozenset[str] = LINK_SCHEMES) -> bool:
    """Whether url is absolute and of one of these schemes (http(s) with a host)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    return scheme in schemes and (scheme == "mailto" or bool(parts.netloc))


def image_as_link(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image drawn as a link to it, or as an image if remote images are allowed."""
    token = tokens[idx]
    source = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if env.get("allow_remote_images") and is_allowed_url(source, IMAGE_SCHEMES):
        return f'<img src="{escapeHtml(source)}" alt="{escapeHtml(alt)}">'
    label = f"image: {alt}" if alt else "image"
    return f'<a href="{escapeHtml(source)}">{escapeHtml(label)}</a>'


@cache
def parser() -> MarkdownIt:
    """CommonMark with tables and strikethrough; no raw HTML; only http(s)/mailto targets."""
    markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    markdown.validateLink = is_allowed_url  # type: ignore[method-assign]
    markdown.add_render_rule("image", image_as_link)
    return markdown


def keep_allowed_url(tag: str, attribute: str, value: str) -> str | None:
    """nh3's last word on every attribute: URLs only absolute http(s)/mailto ones."""
    if attribute == "src":
        return value if is_allowed_url(value, IMAGE_SCHEMES) else None
    if attribute == "href":
        return value if is_allowed_url(value) else None
    return value


@cache
def sanitizer(allow_remote_images: bool) -> nh3.Cleaner:
    """An allow-list sanitizer; <img> only when remote images are allowed."""
    return nh3.Cleaner(
        tags=set(TAGS | {"img"} if allow_remote_images else TAGS),
        attributes=ATTRIBUTES | (IMAGE_ATTRIBUTES if allow_remote_images else {}),
        attribute_filter=keep_allowed_url,
        url_schemes=set(LINK_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


Block = Code | Html

CODE_ELEMENTS_PER_TEXT = 40
"""At most this many top-level code blocks of one text are drawn by st.code (highlighting
and a copy button); any further ones are drawn verbatim inside the HTML around them. Each
st.code is an element of its own, and hundreds of them would make every rerun slow."""
PARAGRAPH_PART_CHARACTERS = 4_000
"""While a reply streams, a paragraph longer than this is drawn in parts cut at line ends
(see StreamedMarkdown), so that a redraw parses no more than about this much."""


def blocks_of(
    tokens: Sequence[Token],
    allow_remote_images: bool,
    code_elements: int = CODE_ELEMENTS_PER_TEXT,
) -> list[Block]:
    """Parsed Markdown as the blocks to draw: top-level code blocks (the first
    `code_elements` of them), sanitized HTML between."""
    markdown = parser()
    env = {"allow_remote_images": allow_remote_images}
    clean = sanitizer(allow_remote_images).clean
    blocks: list[Block] = []
    run: list[Token] = []

    def close_run() -> None:
        if run and (html := clean(markdown.renderer.render(run, markdown.options, env)).strip()):
            blocks.append(Html(html))
        run.clear()

    for token in tokens:
        if token.level == 0 and token.type in ("fence", "code_block") and code_elements > 0:
            close_run()
            code_elements -= 1
            language = token.info.split()[0] if token.info.strip() else None
            blocks.append(Code(token.content, language))
        else:
            run.append(token)
    close_run()
    return blocks


@lru_cache(maxsize=256)
def safe_blocks(text: str, *, allow_remote_images: bool = False) -> tuple[Block, ...]:
    """Markdown as the blocks to draw. Cached: a page draws the same replies at every rerun."""
    tokens = parser().parse(text, {"allow_remote_images": allow_remote_images})
    return tuple(blocks_of(tokens, allow_remote_images))


def safe_html(text: str, *, allow_remote_images: bool = False) -> str:
    """The whole text as sanitized HTML, code blocks included (for checks and tests)."""
    html = parser().render(text, {"allow_remote_images": allow_remote_images})
    return sanitizer(allow_remote_images).clean(html)


def draw_blocks(blocks: Iterable[Block]) -> None:
    for block in blocks:
        if isinstance(block, Code):
            st.code(block.text, language=block.language)
        else:
            st.html(block.html)


def draw_markdown(text: str, *, allow_remote_images: bool = False) -> None:
    """Draw untrusted Markdown into the current container, safely."""
    draw_blocks(safe_blocks(text, allow_remote_images=allow_remote_images))


class StreamedMarkdown:
    """Untrusted Markdown drawn as it streams, at a cost that does not grow with its length.

    Every top-level block but the last can no longer change as text is added (CommonMark
    reads blocks top to bottom), so it is drawn once, into `settled` (a container in the
    placeholder `parts`); at each redraw only the text from the last block on is parsed
    again, and drawn as the one element of `last`. A last block that is a paragraph longer
    than PARAGRAPH_PART_CHARACTERS is settled in parts cut at line ends, each parsed and
    sanitized like any text; `finish` draws it again in one piece. (A link to a reference
    defined further down shows as text until the reply is drawn again from the store,
    parsed in one piece.)
    """

    def __init__(self, allow_remote_images: bool) -> None:
        self.allow_remote_images = allow_remote_images
        self.placeholder = st.empty()
        self.parts: DeltaGenerator | None = None
        self.settled: DeltaGenerator | None = None
        self.last: DeltaGenerator | None = None
        self.drawn_up_to = 0
        """How many characters of the text are drawn for good (in `settled`)."""
        self.code_elements = CODE_ELEMENTS_PER_TEXT
        """How many more top-level code blocks may be drawn by st.code."""
        self.drawn_in_parts = False
        """Whether a paragraph was settled in parts: `finish` then draws the text again."""

    def draw(self, text: str) -> None:
        if self.settled is None or self.last is None:
            box = self.placeholder.container()
            self.parts, self.last = box.empty(), box.empty()
            self.settled = self.parts.container()
        tokens = self.settle(normalized(text), self.settled)
        # One top-level block: at most one element, so that it replaces the one before.
        blocks = blocks_of(tokens, self.allow_remote_images, self.code_elements)
        block = blocks[0] if blocks else None
        if isinstance(block, Code):
            self.last.code(block.text, language=block.language)
        elif isinstance(block, Html):
            self.last.html(block.html)
        else:
            self.last.empty()

    def settle(self, text: str, settled_box: DeltaGenerator) -> list[Token]:
        """Draw for good every top-level block but the last, and all but the last
        PARAGRAPH_PART_CHARACTERS or so of a long last paragraph; the tokens of the rest."""
        env = {"allow_remote_images": self.allow_remote_images}
        rest = text[self.drawn_up_to :]
        tokens = parser().parse(rest, env)
        while True:
            starts = [
                i for i, token in enumerate(tokens) if token.level == 0 and token.nesting >= 0
            ]
            if len(starts) > 1:
                settled, tokens = tokens[: starts[-1]], tokens[starts[-1] :]
                end = offset_of_line(rest, (tokens[0].map or [0])[0])
            elif (
                tokens
                and tokens[0].type == "paragraph_open"
                and (cut := rest.rfind("\n", 0, len(rest) - PARAGRAPH_PART_CHARACTERS)) > 0
            ):
                settled, end = parser().parse(rest[:cut], env), cut + 1
                tokens = parser().parse(rest[end:], env)
                self.drawn_in_parts = True
            else:
                return tokens
            blocks = blocks_of(settled, self.allow_remote_images, self.code_elements)
            self.code_elements -= sum(isinstance(block, Code) for block in blocks)
            with settled_box:
                draw_blocks(blocks)
            self.drawn_up_to += end
            rest = rest[end:]

    def finish(self, text: str) -> None:
        """The whole text, once complete: parsed in one piece into the cache that redraws
        from the store read, and drawn again from it if a paragraph was drawn in parts."""
        blocks = safe_blocks(text, allow_remote_images=self.allow_remote_images)
        if self.drawn_in_parts and self.parts is not None and self.last is not None:
            # A container drawn where one was keeps its elements; an element does not.
            self.parts.empty()
            with self.last.container():
                draw_blocks(blocks)


def offset_of_line(text: str, line: int) -> int:
    """Where a line starts, counting only \\n as a line end, as the parser does."""
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


def normalized(text: str) -> str:
    """Line ends as the parser sees them (it reads \r\n and \r as \n)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def style_drawn_markdown() -> None:
    """Add STYLE to the page (once per run; a style-only st.html takes no space)."""
    st.html(STYLE)


def as_markdown_literal(text: str) -> str:
    """One line of untrusted text for a place where Streamlit draws Markdown and nothing
    else will do (a button's label, a name inside a message of ours): every ASCII
    punctuation character backslash-escaped, which CommonMark defines to stand for itself,
    so no Markdown syntax can form."""
    return "".join(
        f"\\{character}" if character in string.punctuation else character
        for character in " ".join(text.split())
    )


def show_error(title: str, detail: str | None = None) -> None:
    """An error: `title` is our own Markdown; `detail` (a provider's or a library's
    message, whatever it contains) is shown as plain text under it."""
    st.error(title)
    if detail:
        show_plain_text(detail)


def show_plain_text(text: str) -> None:
    """Text that is not ours (a provider's or a database's message) as plain text."""
    st.code(text, language=None, wrap_lines=True)
