"""Every Markdown file renders as written: the template's own (README, CHANGELOG, docs) and
every Markdown file of every answer set's render (README.md, system_prompt.md, ...).

"As written" is what the file's author means, read line by line: a line starting with a
code fence (``` or ~~~) opens a code block and the next fence of the same kind closes it;
a line starting with `#` outside code blocks is a heading. The file is then parsed as
CommonMark (markdown-it-py, what GitHub and most viewers follow), and the two must agree on
every code block (where it opens and closes) and every heading. A closing fence that carries
text, say, leaves CommonMark's block open: the headings after it are drawn as code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from helpers import ANSWER_SETS, TEMPLATE_ROOT, template_files

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
HEADING = re.compile(r"^#{1,6}(?:[ \t]|$)")
NOT_THE_PROJECT = {".git", ".venv", "node_modules"}

Block = tuple[int, int | None]
"""A code block: the index of its opening line, and of its closing line (None: never closed)."""


def lines_of(text: str) -> list[str]:
    """The lines as CommonMark sees them: split at line endings only (not at U+2028...)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def as_written(text: str) -> tuple[list[Block], list[int]]:
    """(code blocks, heading lines) as the author means them (see the module docstring).
    A fence line closes the open block whatever follows the fence on that line: the
    author's intent, which CommonMark does not share."""
    blocks: list[Block] = []
    headings: list[int] = []
    opened: tuple[int, str] | None = None
    for number, line in enumerate(lines_of(text)):
        fence = FENCE.match(line)
        if opened is None and fence:
            opened = (number, fence.group(1))
        elif opened is not None and fence:
            start, opening = opened
            if fence.group(1)[0] == opening[0] and len(fence.group(1)) >= len(opening):
                blocks.append((start, number))
                opened = None
        elif opened is None and HEADING.match(line):
            headings.append(number)
    if opened is not None:
        blocks.append((opened[0], None))
    return blocks, headings


def as_parsed(text: str) -> tuple[list[Block], list[int]]:
    """(code blocks, heading lines) as CommonMark parses the text. A block that runs to the
    end of the document (or of its list item) without a closing fence counts as never
    closed."""
    lines = lines_of(text)
    blocks: list[Block] = []
    headings: list[int] = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type not in ("fence", "heading_open"):
            continue
        assert token.map is not None, token
        start, end = token.map
        if token.type == "fence":
            closing = lines[end - 1].strip()
            closed = end - 1 > start and set(closing) == {token.markup[0]}
            blocks.append((start, end - 1 if closed else None))
        elif token.type == "heading_open":
            headings.append(start)
    return blocks, headings


def differences(name: str, text: str) -> list[str]:
    """Where the author's reading and CommonMark's differ, one line each (1-based)."""
    lines = lines_of(text)
    (written_blocks, written_headings), (parsed_blocks, parsed_headings) = (
        as_written(text),
        as_parsed(text),
    )

    def block(blocks: list[Block]) -> str:
        return ", ".join(
            f"{start + 1}-{'unclosed' if end is None else end + 1}" for start, end in blocks
        )

    found = []
    if written_blocks != parsed_blocks:
        found.append(
            f"{name}: code blocks as written (lines) {block(written_blocks)}; "
            f"as CommonMark reads them {block(parsed_blocks)} (a closing fence "
            "must be alone on its line)"
        )
    for number in sorted(set(written_headings) - set(parsed_headings)):
        found.append(f"{name}:{number + 1}: not a heading in CommonMark: {lines[number]!r}")
    for number in sorted(set(parsed_headings) - set(written_headings)):
        found.append(f"{name}:{number + 1}: a heading not written as one: {lines[number]!r}")
    return found


def markdown_files(project: Path) -> list[Path]:
    return sorted(
        path
        for path in project.rglob("*.md")
        if path.is_file() and not NOT_THE_PROJECT & set(path.relative_to(project).parts)
    )


@pytest.mark.parametrize("name", [name for name in template_files() if name.endswith(".md")])
def test_template_markdown_file_renders_as_written(name: str) -> None:
    text = (TEMPLATE_ROOT / name).read_text(encoding="utf-8")

    assert not differences(name, text), "\n".join(differences(name, text))


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_rendered_markdown_files_render_as_written(rendered, answer_set: str) -> None:
    # The renders are shared with the other tests of the session (`rendered`).
    project = rendered(answer_set)
    files = markdown_files(project)

    found = [
        difference
        for path in files
        for difference in differences(
            path.relative_to(project).as_posix(), path.read_text(encoding="utf-8")
        )
    ]

    assert {"README.md", "system_prompt.md"} <= {path.name for path in files}
    assert not found, "\n".join(found)


def test_a_closing_fence_with_text_after_it_is_found() -> None:
    # The bug this file was written for: the block stays open, `## Run` is drawn as code.
    text = "# Title\n\n```bash\nuv lock\n``` Then run it.\n\n## Run\n\n```bash\nrun\n```\n"

    assert differences("README.md", text)
    assert not differences("README.md", text.replace("``` Then", "```\n\nThen"))
