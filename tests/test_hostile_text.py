"""Any text the questions accept renders a valid project that shows and sends it verbatim.

Property-based: hypothesis mixes adversarial fragments (quotes, braces, Jinja and TOML
syntax, backslashes, line breaks where allowed, non-ASCII, invisible characters) with
arbitrary text, and renders the template with it as the project name, description,
author, greeting and system prompt. Rendering takes about a second, so few examples run
per test; the @example cases run every time.
"""

from __future__ import annotations

import compileall
import importlib
import itertools
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from helpers import (
    HOSTILE_SYSTEM_PROMPT,
    app_settings_environment,
    app_test,
    ask_configured_chain,
    generated_fakes,
    imported,
    render,
    run,
    tool,
)

FRAGMENTS = [
    '"', "'", "\\", "\\n", "\\u0041", "{", "}", "{x}", "{0}", "%s", "{{ x }}", "}}", "{{",
    "{% if x %}", "{% raw %}", "{% endraw %}", "{%", "%}", "{#", "#}", "${HOME}", "$(id)",
    "`cmd`", '"""', "'''", "[tool.x]", "key = 1", "# hash", "<script>x</script>", "*bold*",
    "| a | b |", "é", "ß", "中文", "🤖", "\u200b", "\u2028", "\x85", "\ufeff", "\u202e",
]  # fmt: skip
"""Text that breaks naive quoting in Python, TOML, YAML, JSON, Jinja, Markdown or a shell."""

LINE_BREAKS = ["\n", "\n\n", "\t", "  \n", "\n  indented"]

ANY_CHARACTER = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
"""Every character but surrogates and control characters (which the validators reject)."""


def hostile_text(multiline: bool, max_size: int = 12) -> st.SearchStrategy[str]:
    pieces = FRAGMENTS + (LINE_BREAKS if multiline else [])
    part = st.one_of(st.sampled_from(pieces), st.text(ANY_CHARACTER, max_size=20))
    text = st.lists(part, min_size=1, max_size=max_size).map("".join)
    very_long = st.builds(lambda piece, times: piece * times, text, st.integers(50, 400))
    return st.one_of(text, text, very_long).filter(lambda value: value.strip() != "")


ANSWERS = st.fixed_dictionaries(
    {
        "project_name": hostile_text(multiline=False),
        "description": hostile_text(multiline=False).filter(lambda value: len(value) <= 512),
        "author_name": hostile_text(multiline=False, max_size=4),
        "greeting": hostile_text(multiline=True),
        "system_prompt": hostile_text(multiline=True),
    }
)
WORST_CASE = {
    "project_name": '{{ project_name }} "Bot" \\ {% raw %} 中文 🤖',
    "description": "{#- comment -#} 'single' \"double\" \\\\ ${HOME} \u2028 \ufeff",
    "author_name": 'O\'Brien "Zoë" {{ author }} \\',
    "greeting": "Hi {name}!\n\n{{ greeting }} {% endraw %}\t**bold** `code` \\n",
    "system_prompt": HOSTILE_SYSTEM_PROMPT + "{% if x %}{{ y }}{% endif %}\n\n  \n",
}
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    database=None,
    # No shrinking: each example renders a project, so shrinking would take many minutes;
    # a failure reports the example as generated.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

package_names = (f"hostile_app_{number}" for number in itertools.count())
"""Each rendered project gets its own package name: its modules are imported here."""


def render_hostile(tmp_path_factory: pytest.TempPathFactory, answers: dict[str, str]) -> Path:
    destination = tmp_path_factory.mktemp("hostile") / "project"
    return render(destination, package_name=next(package_names), **answers)


@SETTINGS
@given(answers=ANSWERS)
@example(answers=WORST_CASE)
def test_hostile_answers_render_a_valid_project_with_the_exact_values(
    tmp_path_factory: pytest.TempPathFactory, answers: dict[str, str]
) -> None:
    project = render_hostile(tmp_path_factory, answers)

    run(tool("ruff"), "check", "--no-cache", ".", cwd=project)
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=project)
    assert compileall.compile_dir(project, quiet=1, force=True)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == answers["description"]
    assert pyproject["project"]["authors"] == [{"name": answers["author_name"]}]
    app_settings = tomllib.loads((project / "app_settings.toml").read_text(encoding="utf-8"))
    assert app_settings["APP_TITLE"] == answers["project_name"]
    assert app_settings["APP_GREETING"] == answers["greeting"]


def drawn_blocks(part: Any) -> list[tuple[str, str]]:
    """What a part of the page draws by st.html and st.code, top to bottom."""
    return [(node.type, node.value) for node in part if node.type in ("html", "code")]


def as_drawn(blocks: Any) -> list[tuple[str, str]]:
    """The safe drawing's blocks as st.html and st.code hold them (st.code drops one line
    break at each end)."""
    return [
        ("html", block.html)
        if hasattr(block, "html")
        else ("code", block.text.removeprefix("\n").removesuffix("\n"))
        for block in blocks
    ]


def as_streamlit_shows(text: str) -> str:
    """st.title and st.markdown dedent and strip their text (streamlit's clean_text)."""
    return textwrap.dedent(text).strip()


# InMemoryChatMessageHistory is deprecated like RunnableWithMessageHistory, which the app uses.
@pytest.mark.filterwarnings("ignore:The class `InMemoryChatMessageHistory` was deprecated")
@SETTINGS
@given(answers=ANSWERS)
@example(answers=WORST_CASE)
def test_hostile_answers_reach_the_page_and_the_model_verbatim(
    tmp_path_factory: pytest.TempPathFactory, answers: dict[str, str]
) -> None:
    project = render_hostile(tmp_path_factory, answers)

    with app_settings_environment(LLM_PROVIDER="offline"), imported(project) as package:
        app = app_test(project).run()
        assert not app.exception
        assert app.title[0].value == as_streamlit_shows(answers["project_name"])
        greeting = importlib.import_module(f"{package.__name__}.safe_drawing").safe_blocks(
            answers["greeting"]
        )
        assert drawn_blocks(app.chat_message[0]) == as_drawn(greeting)

        model = generated_fakes(project).recording_model("ok")
        ask_configured_chain(package, model, "hi")

    assert model.received[0][0].type == "system"
    assert model.received[0][0].content == answers["system_prompt"]


CONTROL_CHARACTER = st.characters(categories=["Cc"], exclude_characters="\t\n\x85")


@settings(SETTINGS, max_examples=6)
@given(
    before=hostile_text(multiline=True),
    control=CONTROL_CHARACTER.filter(lambda character: character < "\x80"),
    after=hostile_text(multiline=True),
)
def test_control_characters_are_rejected_with_a_clear_value_error(
    tmp_path_factory: pytest.TempPathFactory, before: str, control: str, after: str
) -> None:
    destination = tmp_path_factory.mktemp("rejected") / "project"

    with pytest.raises(ValueError) as rejected:
        render(destination, greeting=before + control + after)

    assert str(rejected.value) == (
        "Validation error for question 'greeting': The greeting must not contain control "
        "characters (tabs and newlines are fine; carriage returns are not)."
    )
    assert not destination.exists()


@settings(SETTINGS, max_examples=6)
@given(before=hostile_text(multiline=False), after=hostile_text(multiline=False))
def test_a_line_break_in_the_project_name_is_rejected_with_a_clear_value_error(
    tmp_path_factory: pytest.TempPathFactory, before: str, after: str
) -> None:
    destination = tmp_path_factory.mktemp("rejected") / "project"

    with pytest.raises(ValueError, match="The project name must be one line of text"):
        render(destination, project_name=f"{before}\n{after}")

    assert not destination.exists()
