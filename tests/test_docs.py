"""The documentation site builds strictly and covers every question the template asks."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from helpers import TEMPLATE_ROOT, run, tool

DOCS = TEMPLATE_ROOT / "docs"


def asked_questions() -> list[str]:
    """Every question of copier.yml a user can be asked (computed values left out)."""
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return [
        name
        for name, spec in config.items()
        if not name.startswith("_") and not (isinstance(spec, dict) and spec.get("when") is False)
    ]


def test_docs_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"

    env = os.environ | {"NO_MKDOCS_2_WARNING": "1"}
    run(tool("mkdocs"), "build", "--strict", "--quiet", "-d", site, cwd=TEMPLATE_ROOT, env=env)

    for page in ["index", "quickstart", "questions", "generated-project", "deploy", "faq"]:
        path = "index.html" if page == "index" else f"{page}/index.html"
        assert (site / path).is_file(), path
    assert (site / "assets" / "screenshot.png").is_file()


def test_every_question_is_explained() -> None:
    questions_page = (DOCS / "questions.md").read_text(encoding="utf-8")

    missing = [name for name in asked_questions() if f"`{name}`" not in questions_page]

    assert asked_questions() and not missing, f"not explained in docs/questions.md: {missing}"


def test_home_page_shows_the_browser_screenshot() -> None:
    screenshot = DOCS / "assets" / "screenshot.png"

    assert "](assets/screenshot.png)" in (DOCS / "index.md").read_text(encoding="utf-8")
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert screenshot.stat().st_size < 200_000


def install_lines(text: str) -> list[str]:
    """The lines of text that install a generated project with its test extras, in order."""
    return [line.strip() for line in text.splitlines() if '-e ".[test]"' in line]


def test_template_readme_and_quickstart_install_a_project_as_its_readme_does() -> None:
    # uv first, pip alone as the fallback: as the generated README and copier's message.
    generated = install_lines((TEMPLATE_ROOT / "template" / "README.md.jinja").read_text())
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))

    assert generated[0].startswith("uv ") and " pip install " in generated[1]
    assert install_lines(config["_message_after_copy"])[0] == generated[0]
    for page in [TEMPLATE_ROOT / "README.md", DOCS / "quickstart.md"]:
        assert install_lines(page.read_text(encoding="utf-8"))[:2] == generated[:2], page.name
