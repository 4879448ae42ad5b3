"""Helpers shared by the template's tests: answer sets, renders, copier's CLI, commands,
template repos and tree comparison for updates, app sessions and servers.

What the tests know of the generated project's insides (file names, lines they edit, how
its model is built) is kept here, in the constants after ANSWER_SETS and in
build_configured_model, so that a change of the template is followed in one place."""

from __future__ import annotations

import atexit
import contextlib
import difflib
import functools
import importlib
import importlib.util
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import copier
import pytest
import yaml

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent

PROVIDERS: dict[str, dict[str, Any]] = yaml.safe_load(
    (TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8")
)["providers"]["default"]

HOSTILE_SYSTEM_PROMPT = (
    'You are "Bot" {name} {{ jinja }} {% raw %} }} {0} \\n \\ backslash\n'
    "  indented line with trailing spaces   \n"
    "Ünïcödé ✓ — 中文 — emoji 🤖\n"
    'Reply in JSON like {"a": [1, 2]}.\n'
)

PACKAGE_NAME_MAX_LENGTH = 50
"""The longest package name copier.yml accepts (and derives from a long project name)."""


def longest_package_name(start: str) -> str:
    """A package name that begins with `start` and is as long as copier.yml allows, so that
    the generated lines importing it are checked by ruff at their longest."""
    return f"{start}_{'x' * PACKAGE_NAME_MAX_LENGTH}"[:PACKAGE_NAME_MAX_LENGTH]


ANSWER_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "offline": {"model_provider": "offline"},
    "custom": {
        "project_name": "Ünïcode Support Bot",
        "package_name": longest_package_name("support_bot"),
        "session_key": "chat_history",
        "python_version": "3.13",
        "temperature": 0.0,
        "history_max_tokens": 500,
        "model_name": "gpt-4.1-mini",
        "system_prompt": HOSTILE_SYSTEM_PROMPT,
        "greeting": 'Hi {name}! Ask me *anything* — "quotes", \\ and {{ braces }}.',
        "description": 'A "quoted" description with \\ and {{ braces }}',
        "author_name": "Zoë O'Brien",
        "dockerfile": False,
    },
    "oidc": {"authentication": "oidc"},
}
ANSWER_SETS["oidc-custom"] = ANSWER_SETS["custom"] | {
    "authentication": "oidc",
    "model_provider": "azure_openai",
    "package_name": longest_package_name("signed_in_support_bot"),
}
ANSWER_SETS |= {
    f"oidc-{name}": {
        "authentication": "oidc",
        "history_backend": name,
        "package_name": longest_package_name(f"signed_in_{name}_chats"),
    }
    for name in ("memory", "sqlite", "postgres")
}
"""Sign-in in front of each kind of history: "oidc" (session: no chat list), and each
LangGraph backend, where every user has a list of their own chats."""
ANSWER_SETS |= {f"provider-{name}": {"model_provider": name} for name in PROVIDERS}
HISTORY_BACKENDS = ("memory", "sqlite", "postgres")
"""The LangGraph history backends (the default, session, is LangChain's documented wiring)."""
ANSWER_SETS |= {
    f"backend-{name}": {"history_backend": name, "package_name": f"{name}_chats"}
    for name in HISTORY_BACKENDS
}
ANSWER_SETS["no-chat-features"] = {
    "chat_features": [],
    "history_backend": "sqlite",
    "package_name": "plain_sqlite_chats",
}
ANSWER_SETS["offline"]["attachments"] = "both"
ANSWER_SETS["backend-memory"]["attachments"] = "both"
ANSWER_SETS["backend-sqlite"]["attachments"] = "both"
ANSWER_SETS["oidc-custom"]["attachments"] = "images"
ANSWER_SETS["oidc-sqlite"]["attachments"] = "documents"
"""Answer sets rendered by the `rendered` fixture; each is linted with ruff. Each LangGraph
backend has its own package name, so that in-process AppTests can import them side by side.
"offline", "backend-memory" and "backend-sqlite" also take files (attachments=both; the
browser tests send files to "backend-sqlite" and to "offline", the session's chat),
"oidc-custom" images (files in the session's chat) and "oidc-sqlite" documents (files in
a signed-in user's stored chats), so that their own suites, ruff and mypy check the file
modules without renders of their own."""

OWN_SUITE_ANSWER_SETS = [
    *(f"backend-{name}" for name in HISTORY_BACKENDS),
    "oidc-custom",
    "oidc-sqlite",
]
"""The answer sets whose own test suite runs here: those that differ in what it exercises
(each LangGraph history backend, whose modules and tests differ; sign-in in front of a
provider with follow-up settings, every text answer changed; sign-in with per-user chat
lists kept in SQLite). "oidc-custom" covers concerns that do not interact in one suite:
the text answers reach the page, settings and prompt whatever the sign-in, and Azure
OpenAI's own settings (endpoint, deployment, API version) are asked for and tested there.

The session backend's suite (LangChain's documented wiring) runs in test_new_user.py, in
fresh venvs installed as a user does: the smoke-test recipe's (an OpenAI project) whole,
the README's install command's in part. It is not run a third time here: the offline
model's suite differed from it only in leaving out the three tests of a missing key (and,
since "offline" takes files for the browser tests, in its files tests, which "oidc-custom"
runs on the session backend with images; the session backend's PDF tests run in none).
What differs between the other providers is checked on their rendered files
(test_rendered_files.py) and built models (test_providers.py). Of the other sign-in sets,
"oidc-memory" is served in test_sign_in.py and "oidc-postgres"'s owners are tried on a
real server in test_postgres_user_chats.py; "custom" and "oidc" are checked by ruff and
mypy, and served or read by other tests."""

SERVED_ANSWER_SETS = ["defaults", "custom"]
"""The answer sets served by a real `streamlit run` in test_generated_projects.py (the browser
tests serve "offline")."""


# ---------------------------------------------------------------------------------------
# What the tests know of the generated project's insides. When the template moves a file
# or rewords a line, re-point these constants rather than the tests.
# ---------------------------------------------------------------------------------------
CHAT_PAGE_MODULE = "page.py"
"""A module of the generated package that the update tests change, in the template and in
the project (template/{{package_name}}/page.py.jinja, rendered as page.py)."""
CHAT_PAGE_IN_TEMPLATE = Path("template") / "{{package_name}}" / f"{CHAT_PAGE_MODULE}.jinja"
CHAT_PAGE_TEXT = '"Your message"'
"""Text that occurs CHAT_PAGE_TEXT_COUNT times in that module (the chat input's placeholder)."""
CHAT_PAGE_TEXT_COUNT = 2
CHAIN_MODULE = "chain.py"
"""The generated module holding the LangChain wiring and the session key."""
DEPENDENCY_LINE = '    "streamlit>=1.59,<2",  # st.chat_input(submit_mode="stop")\n'
"""A line of the generated pyproject.toml's dependencies; the update tests add one after it."""


def render(
    destination: Path, *, template: Path | None = None, vcs_ref: str | None = None, **answers: Any
) -> Path:
    """Render a template with copier's API: by default this one's working tree (uncommitted
    changes included: see working_tree_copy); or a template git repo at vcs_ref."""
    copier.run_copy(
        str(template or working_tree_copy()),
        destination,
        data=answers,
        defaults=True,
        vcs_ref=vcs_ref,
        quiet=True,
        unsafe=False,
    )
    return destination


@functools.cache
def working_tree_copy() -> Path:
    """This template's working tree, copied once per test process into a plain folder.

    copier renders a plain folder as it is, where it first clones a git checkout (and
    commits its uncommitted changes): a render takes a third of the time. The files are
    those `copier copy --vcs-ref HEAD` renders; the answers file has no `_commit`. Tests of
    what copier does with versions render git repos instead (make_template_repo).
    """
    destination = Path(tempfile.mkdtemp(prefix="template-working-tree-"))
    atexit.register(shutil.rmtree, destination, ignore_errors=True)
    return copy_working_tree(destination)


def copier_cli(
    command: str,
    *arguments: str | Path,
    data: dict[str, object] | None = None,
    cwd: Path,
    env: dict[str, str] | None = None,
    expect_failure: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`copier COMMAND --defaults [-d NAME=VALUE]... ARGUMENTS...`, as a user types it,
    with this environment's copier. Fails unless copier exits as expected (non-zero when
    expect_failure). Copying this checkout as it is takes `"--vcs-ref", "HEAD"`."""
    command_line: list[str | Path] = [tool("copier"), command, "--defaults"]
    for name, value in (data or {}).items():
        command_line += ["-d", f"{name}={value}"]
    command_line += arguments
    if not expect_failure:
        return run(*command_line, cwd=cwd, env=env, timeout=300)
    result = subprocess.run(
        [str(part) for part in command_line],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert result.returncode != 0, f"copier {command} succeeded:\n{result.stdout}"
    return result


def run(
    *command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, raise with its whole output so that pytest shows it."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def tool(name: str) -> Path:
    """A console script of the environment running the tests (ruff, copier, streamlit)."""
    return PYTHON_BIN / name


def read_answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def package_file(project: Path, name: str) -> Path:
    """A module of a generated project's package (named by its package_name answer)."""
    return project / read_answers(project)["package_name"] / name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def random_png(size: int) -> bytes:
    """A PNG of random pixels of about `size` bytes: random pixels do not compress, and
    Pillow decodes it as a real image (the benchmarks' uploads and stored images)."""
    from PIL import Image

    side = int((size / 3) ** 0.5)
    buffer = io.BytesIO()
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any model setting or key, plus overrides."""
    names = {"LLM_PROVIDER", "LLM_MODEL", "APP_TITLE", "APP_GREETING"}
    names |= {p["key_variable"] for p in PROVIDERS.values() if p["key_variable"]}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(overrides)
    return env


def template_files() -> list[str]:
    """The template's files as git sees them: tracked, plus untracked ones not ignored."""
    listed = run("git", "ls-files", "-co", "--exclude-standard", cwd=TEMPLATE_ROOT).stdout
    return [name for name in listed.splitlines() if (TEMPLATE_ROOT / name).is_file()]


def copy_working_tree(destination: Path) -> Path:
    """Copy this template's files as git sees them (see template_files) into destination."""
    for name in template_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((TEMPLATE_ROOT / name).read_bytes())
    return destination


def make_template_repo(destination: Path, tag: str) -> Path:
    """A throwaway git copy of this template's working tree, committed and tagged.

    If destination already is such a repo (say, at an older release), the working tree
    replaces its files in a new commit, as a template release does.
    """
    if (destination / ".git").exists():
        run("git", "rm", "-rq", "--ignore-unmatch", ".", cwd=destination)
    copy_working_tree(destination)
    commit_all(destination, f"Template {tag}")
    run("git", "tag", tag, cwd=destination)
    return destination


RELEASE_HEADING = re.compile(r"(v\d+\.\d+\.\d+)(?: \(\d{4}-\d{2}-\d{2}\))?")
"""A release's heading in CHANGELOG.md, after `## `: `v0.2.0 (2026-12-03)` (v0.1.0 has no date)."""
UNRELEASED = re.compile(r"^## Unreleased$(.*?)^## v", re.MULTILINE | re.DOTALL)


def version_key(tag: str) -> tuple[int, ...]:
    return tuple(map(int, tag.removeprefix("v").split(".")))


def release_tags(changelog: str) -> list[str]:
    """The releases a CHANGELOG.md lists, oldest first. Every `## ` heading must be
    `Unreleased` or a release (RELEASE_HEADING): a heading in another form fails here
    rather than hide its release from the tests."""
    headings = re.findall(r"^## (.*)$", changelog, re.MULTILINE)
    odd = [h for h in headings if h != "Unreleased" and not RELEASE_HEADING.fullmatch(h)]
    assert not odd, f"CHANGELOG.md headings neither 'Unreleased' nor 'vX.Y.Z (YYYY-MM-DD)': {odd}"
    tags = [match.group(1) for h in headings if (match := RELEASE_HEADING.fullmatch(h))]
    assert tags, "CHANGELOG.md has no release heading (## vX.Y.Z (YYYY-MM-DD))"
    return sorted(tags, key=version_key)


def changelog_entry(changelog: str, tag: str) -> str | None:
    """A release's section of a CHANGELOG.md, from its heading to the next `## ` heading
    (None when it has none)."""
    for section in re.split(r"^(?=## )", changelog, flags=re.MULTILINE):
        heading = RELEASE_HEADING.fullmatch(section.split("\n", 1)[0].removeprefix("## "))
        if section.startswith("## ") and heading and heading.group(1) == tag:
            return section
    return None


def release_commit(tag: str, repo: Path = TEMPLATE_ROOT) -> str:
    """The commit of a release, found in a template's history rather than in its tags (a
    clone may have none), as docs/updating.md makes one: a commit moves the Unreleased
    entries of CHANGELOG.md under the release's heading, and that commit is tagged.

    So, going through the commits that change CHANGELOG.md, oldest first: the release is
    the last commit with the release's entry and nothing under Unreleased, before an entry
    lands under Unreleased again. Later commits do not move it, whatever they do to
    CHANGELOG.md (add entries, or revert them all). Commits without the release's heading
    (branches merged later that started before it) are passed over.
    """
    log = run(
        "git", "log", "--reverse", "--topo-order", "--format=%H", "--", "CHANGELOG.md", cwd=repo
    ).stdout.split()
    found: str | None = None
    for commit in log:
        text = run("git", "show", f"{commit}:CHANGELOG.md", cwd=repo).stdout
        if changelog_entry(text, tag) is None:
            continue
        unreleased = UNRELEASED.search(text)
        if unreleased and unreleased.group(1).strip():
            assert found, (
                f"{commit[:12]} adds the heading of {tag} to CHANGELOG.md but leaves entries "
                "under Unreleased: a release moves them all (docs/updating.md)"
            )
            return found
        found = commit
    assert found, (
        f"no commit in this clone's history releases {tag} (CHANGELOG.md with its heading and "
        "nothing under Unreleased): a shallow clone? `git fetch --unshallow` fetches it"
    )
    return found


def next_version(tag: str) -> str:
    major, minor, patch = version_key(tag)
    return f"v{major}.{minor}.{patch + 1}"


def make_release_repo(destination: Path, tag: str) -> tuple[Path, str]:
    """A throwaway template repo holding a release of this template (rebuilt from the git
    history: release_commit), tagged with its version, then its working tree, tagged with
    the version after the newest release.

    Returns (repo, the working tree's tag).
    """
    destination.mkdir(parents=True, exist_ok=True)
    archive = destination.parent / f"{destination.name}-{tag}.tar"
    run("git", "archive", "--format=tar", "-o", archive, release_commit(tag), cwd=TEMPLATE_ROOT)
    run("tar", "-xf", archive, cwd=destination)
    archive.unlink()
    commit_all(destination, f"Template {tag}")
    run("git", "tag", tag, cwd=destination)
    changelog = (TEMPLATE_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    following = next_version(release_tags(changelog)[-1])
    return make_template_repo(destination, following), following


def project_at_v1(workdir: Path, **answers: Any) -> tuple[Path, Path]:
    """A template repo tagged v1.0.0 and a project rendered from it and committed.

    Returns (template, project), both in workdir: the starting point of an update test.
    """
    template = make_template_repo(workdir / "template", "v1.0.0")
    project = render(workdir / "project", template=template, vcs_ref="v1.0.0", **answers)
    commit_all(project, "Generated from the template")
    return template, project


def commit_all(repo: Path, message: str) -> None:
    """Commit everything in repo (a git repo is created on first use)."""
    if not (repo / ".git").exists():
        run("git", "init", "-q", "-b", "main", cwd=repo)
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-q", "--allow-empty", "-m", message, cwd=repo)


NOT_THE_PROJECT = {
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".mypy_cache",
}
"""Folders that are not part of a generated project's content: git's, and tools' caches."""
VERSION_ANSWERS = ("_commit:", "_src_path:")
"""Answers naming the template version and copy a project came from, not the project."""


def project_files(project: Path) -> dict[str, str]:
    """Every file of a project (path relative to it, with /) and its text, without
    NOT_THE_PROJECT, and the answers file without VERSION_ANSWERS."""
    files: dict[str, str] = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if not path.is_file() or NOT_THE_PROJECT & set(relative.parts):
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        if relative.as_posix() == ".copier-answers.yml":
            lines = text.splitlines(keepends=True)
            text = "".join(line for line in lines if not line.startswith(VERSION_ANSWERS))
        files[relative.as_posix()] = text
    return files


def assert_same_files(actual: Path, expected: Path, ignore: Collection[str] = ()) -> None:
    """actual holds the same files as expected, with the same text (see project_files),
    except the paths in ignore. On failure, the message is the diff from expected to actual."""
    have, want = project_files(actual), project_files(expected)
    diff: list[str] = []
    for name in sorted((have.keys() | want.keys()) - set(ignore)):
        if have.get(name) != want.get(name):
            diff += difflib.unified_diff(
                want.get(name, "").splitlines(keepends=True),
                have.get(name, "").splitlines(keepends=True),
                f"expected/{name}" if name in want else "/dev/null",
                f"actual/{name}" if name in have else "/dev/null",
            )
    assert not diff, f"{actual} differs from {expected}:\n" + "".join(diff)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a file, failing loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not found {count} time(s) in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def wait_for_health(url: str, seconds: float = 60) -> str:
    """Poll a server's health endpoint until it answers; return what it says."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5).read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@contextmanager
def app_settings_environment(**overrides: str) -> Iterator[pytest.MonkeyPatch]:
    """os.environ for an in-process AppTest: no app setting or provider key of this shell
    (LLM_*, APP_*, HISTORY_*, *_API_KEY, *_BASE_URL), no proxy for 127.0.0.1, plus overrides.
    Yields the MonkeyPatch, for more changes undone at the end."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("LLM_", "APP_", "HISTORY_")) or name.endswith(
                ("_API_KEY", "_BASE_URL")
            ):
                patch.delenv(name)
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        for name, value in overrides.items():
            patch.setenv(name, value)
        yield patch


OFFLINE_AT_ONCE = {"LLM_PROVIDER": "offline", "OFFLINE_SECONDS_PER_WORD": "0"}
"""The settings of a generated app under test: the offline model, answering at once."""


def app_test(project: Path, **secrets: str) -> AppTest:
    """The generated project's app.py under Streamlit's AppTest, in this process, not yet run.

    Give each project driven this way its own package_name: its modules are imported into
    this process. Setting secrets keeps AppTest from reading .streamlit/secrets.toml. The
    offline model answers without its pause before each word (OFFLINE_SECONDS_PER_WORD).
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()  # a chain cached by another app or test must not answer
    app = AppTest.from_file(str(project / "app.py"), default_timeout=60)
    for name, value in (OFFLINE_AT_ONCE | secrets).items():
        app.secrets[name] = value
    return app


@contextmanager
def two_sessions(
    project: Path, environment: dict[str, str] | None = None, **secrets: str
) -> Iterator[tuple[AppTest, AppTest]]:
    """Two browser sessions of one generated app at the same time, under AppTest: each
    drawn once, in app_settings_environment(**environment), with the same secrets."""
    with app_settings_environment(**(environment or {})):
        first, second = app_test(project, **secrets), app_test(project, **secrets)
        first.run()
        second.run()
        yield first, second


CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
"""Debian's Chromium; CHROMIUM_PATH names another installed one (e.g. Chrome on GitHub)."""
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Headless Chromium as root on a closed network: no sandbox, no background connections."""
CHAT_MESSAGES = '[data-testid="stChatMessage"]'
"""Every chat message on a page of a served app (Streamlit's test ids)."""
SCRIPT_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
"""The page once the app's script run has ended."""
GREETING = "How can I help you?"
"""The default answers' greeting, the first chat message of a new chat."""
REPLY_END = "to talk to a real model."
"""How every reply of the offline model ends."""


MESSAGE_CONTROLS = ", ".join(
    f'[data-testid="{test_id}"]'
    for test_id in ("stButton", "stPopover", "stFeedback", "stTextInput", "stCaptionContainer")
)
"""The widgets a chat message may hold under its text (Edit, versions, Regenerate, Copy,
thumbs, a comment, Send it again): not part of the message's text."""


MESSAGE_TEXTS = """(controls) => {
    const nodes = [...document.querySelectorAll(
        '[data-testid="stChatMessage"] [data-testid="stChatMessageContent"]'
    )];
    const hidden = nodes.flatMap((node) => [...node.querySelectorAll(controls)]);
    const display = hidden.map((element) => element.style.display);
    hidden.forEach((element) => { element.style.display = "none"; });
    const texts = nodes.map((node) => node.innerText.trim());
    hidden.forEach((element, i) => { element.style.display = display[i]; });
    return texts;
}"""
"""The text of every chat message on the page, the controls under it hidden while read."""


def messages(page) -> list[str]:
    """The text of every chat message on a served app's page, top to bottom (avatars and
    the controls under a message left out).

    Streamlit loads the code that draws st.html only when a page first needs it, and on a
    busy machine the messages stand empty until it arrives: every message has text, so
    this waits (up to 30 s) until none is empty, then reads them.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # then the texts read show what is wrong
        page.wait_for_function(
            f"(controls) => ({MESSAGE_TEXTS})(controls).every((text) => text !== '')",
            arg=MESSAGE_CONTROLS,
            timeout=30_000,
        )
    return page.evaluate(MESSAGE_TEXTS, MESSAGE_CONTROLS)


def shown(part: Any) -> str:
    """The text that a chat message (or any part of an AppTest page) shows of the Markdown
    drawn in it (by st.html and st.code): the HTML without its tags, one line per paragraph."""
    import html

    import nh3

    texts = []
    for node in in_sight(part):
        if node.type == "html":
            texts.append(html.unescape(nh3.clean(node.value, tags=set())))
        elif node.type == "code":
            texts.append(node.value)
    return "\n".join(texts).strip()


def in_sight(node: Any) -> Iterator[Any]:
    """An AppTest node and all it holds, but not what a popover holds (a reply's Copy
    control holds its Markdown source: shown once the popover is opened)."""
    from streamlit.testing.v1.element_tree import Block

    if node.type == "popover":
        return
    yield node
    if isinstance(node, Block):
        for child in node.children.values():
            yield from in_sight(child)


def ask(page, question: str, reply_end: str = REPLY_END) -> None:
    """Type a question, press Enter, and wait until the reply is complete (the offline
    model's, or one ending with `reply_end`) and the app's run has ended."""
    turns_before = len(messages(page))
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.locator(CHAT_MESSAGES).nth(turns_before + 1).filter(has_text=reply_end).wait_for(
        timeout=30_000
    )
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)


def chat_id_of(app: Any) -> str:
    """The chat an AppTest of a LangGraph app shows: the id in its URL (a list once the
    page has set it)."""
    value = app.query_params["chat"]
    return value if isinstance(value, str) else value[-1]


def open_app(page: Any, url: str) -> None:
    """Load a served app in a Playwright page and wait until its first run is drawn."""
    page.goto(url)
    page.locator(CHAT_MESSAGES).first.wait_for(timeout=30_000)
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)


@contextmanager
def two_browser_sessions(browser: Any, url: str) -> Iterator[tuple[Any, Any]]:
    """Two browser sessions of one served app at the same time: a page each, in browser
    contexts of their own (no shared cookies or storage), the app drawn in both."""
    contexts = [browser.new_context(), browser.new_context()]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            open_app(page, url)
        yield pages[0], pages[1]
    finally:
        for context in contexts:
            context.close()


@contextmanager
def imported(project: Path) -> Iterator[ModuleType]:
    """A generated project's package, imported into this process and forgotten afterwards
    (so that another project with the same package name can be imported next)."""
    name = read_answers(project)["package_name"]
    sys.path.insert(0, str(project))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(project))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def build_configured_model(project: Path, api_key: str | None) -> Any:
    """The chat model that a generated project's settings (environment, st.secrets,
    app_settings.toml) configure, built in this process as its app builds it."""
    with imported(project) as package:
        providers = importlib.import_module(f"{package.__name__}.providers")
        settings = importlib.import_module(f"{package.__name__}.settings").load_settings(project)
        return providers.PROVIDERS[settings.LLM_PROVIDER].build(settings, api_key)


def ask_configured_chain(package: ModuleType, model: Any, question: str) -> Any:
    """Ask the chain of an imported generated package (see imported) one question, with
    the system prompt its settings configure, a fresh in-memory history and this model."""
    from langchain_core.chat_history import InMemoryChatMessageHistory

    project = Path(package.__file__).parent.parent
    system_prompt = importlib.import_module(f"{package.__name__}.settings").read_system_prompt(
        project
    )
    chain = importlib.import_module(f"{package.__name__}.chain").build_chat_chain(
        model, system_prompt, 4000, lambda _: InMemoryChatMessageHistory()
    )
    return chain.invoke({"question": question}, config={"configurable": {"session_id": "test"}})


LOOPBACK_NOT_PROXIED = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@contextmanager
def streamlit_server(
    project: Path,
    output: list[str] | None = None,
    *,
    port: int | None = None,
    **environment: str,
) -> Iterator[str]:
    """Serve a generated project (or another folder's app.py) with a real `streamlit run` on a
    loopback port: a free one, or `port` when the app must know it beforehand (a sign-in
    redirect URI names it).

    Yields the app's URL once its health endpoint answers; on exit, stops the server and
    fails if it logged a traceback. What the server printed is appended to `output`.
    """
    port = port or free_port()
    server = subprocess.Popen(
        [
            tool("streamlit"),
            "run",
            "app.py",
            "--server.headless=true",
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--browser.gatherUsageStats=false",
        ],
        cwd=project,
        # The app's own calls to servers on this machine (a sign-in provider) go direct.
        env=clean_env(**(LOOPBACK_NOT_PROXIED | environment)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/_stcore/health") == "ok"
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        printed, _ = server.communicate(timeout=30)
        if output is not None:
            output.append(printed)
    assert "Traceback" not in printed, printed


@contextmanager
def offline_sqlite_app(project: Path, folder: Path) -> Iterator[str]:
    """The project served on the offline model, its chats in folder/chats.sqlite: the URL."""
    url = f"sqlite:///{folder / 'chats.sqlite'}"
    with streamlit_server(project, LLM_PROVIDER="offline", CHAT_HISTORY_URL=url) as served:
        yield served


def template_fakes() -> ModuleType:
    """The fake chat models of tests/fakes.py, as every generated project has it (the
    template's file, copied verbatim): no project needs rendering first."""
    return generated_fakes(TEMPLATE_ROOT / "template")


def generated_fakes(project: Path) -> ModuleType:
    """The generated project's tests/fakes.py (its recording chat model), imported here:
    the template's tests and the generated tests share one fake model."""
    spec = importlib.util.spec_from_file_location("generated_fakes", project / "tests" / "fakes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the model's annotations through it
    spec.loader.exec_module(module)
    return module


def own_tests_pass(project: Path, python: Path) -> None:
    """Run a generated project's own test suite, as its README says (`pytest`), with the
    Python of an environment holding what the project declares (see make_environment)."""
    pool = bytecode_pool(python)
    borrow_bytecode(pool, site_packages(python))
    result = run(
        python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=clean_env()
    )
    lend_bytecode(site_packages(python), pool)

    assert " passed" in result.stdout and "failed" not in result.stdout


def site_packages(python: Path) -> Path:
    """The site-packages folder of a virtual environment, given its Python."""
    return next((python.parent.parent / "lib").glob("python3.*/site-packages"))


def bytecode_pool(python: Path) -> Path:
    """Where the environments made by make_environment (side by side in one folder) share
    the modules their Python compiled: see lend_bytecode."""
    return python.parent.parent.parent / "bytecode"


def compiled_modules(site: Path) -> dict[Path, Path]:
    """The compiled modules (.pyc) that Python keeps for a site-packages folder, each by its
    path relative to that folder's bytecode (beside the sources in __pycache__ folders, or
    under PYTHONPYCACHEPREFIX, as scripts/test sets it)."""
    folder = bytecode_folder(site)
    return {path.relative_to(folder): path for path in folder.rglob("*.pyc")}


def bytecode_folder(site: Path) -> Path:
    """Where Python writes the bytecode of the modules under `site`."""
    if sys.pycache_prefix:
        return Path(sys.pycache_prefix) / site.relative_to(site.anchor)
    return site


def lend_bytecode(site: Path, pool: Path) -> None:
    """Hard-link the compiled modules (.pyc) of an environment's site-packages into the pool.

    uv installs every environment of a run from its cache by hard links, so a library's
    source files are the same files in each, and a .pyc compiled in one (which records its
    source's size and time) is valid in all: a suite in a new environment then imports its
    libraries without compiling them again (about 10 s of CPU per suite). Python checks each
    .pyc against its source and compiles afresh any that does not match.
    """
    for relative, compiled in compiled_modules(site).items():
        shared = pool / relative
        shared.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.link(compiled, shared)


def borrow_bytecode(pool: Path, site: Path) -> None:
    """Hard-link the pool's compiled modules into an environment's bytecode, where the
    environment has their package and no .pyc of its own yet (see lend_bytecode)."""
    if not pool.is_dir():
        return
    folder = bytecode_folder(site)
    for shared in pool.rglob("*.pyc"):
        relative = shared.relative_to(pool)
        package = (
            relative.parent.parent if relative.parent.name == "__pycache__" else relative.parent
        )
        compiled = folder / relative
        if (site / package).is_dir() and not compiled.exists():
            compiled.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.link(shared, compiled)


def declared_requirements(project: Path) -> list[str]:
    """What a generated project's pyproject.toml declares: its dependencies, then its
    test extra (pytest, ruff, mypy)."""
    declared = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*declared["dependencies"], *declared["optional-dependencies"]["test"]]


def make_environment(destination: Path, project: Path, constraints: Path) -> Path:
    """A virtual environment at destination with what `project` declares (not the project
    itself: its suite imports the package from the project folder), at the versions of the
    constraints file; returns its Python.

    Only what a user's install has, not the 180 distributions of the tests' own
    environment: Streamlit's AppTest scans every installed distribution's metadata for
    components when it starts an app, so a generated suite runs a third faster here. uv
    installs from its cache (filled by `scripts/test`), from the package index otherwise.
    """
    uv = str(tool("uv"))
    python = destination / "bin" / "python"
    run(uv, "venv", "--quiet", "--python", sys.executable, destination, cwd=project)
    install = [uv, "pip", "install", "--quiet", "--python", python]
    install += ["-r", "pyproject.toml", "--extra", "test", "-c", constraints]
    offline = subprocess.run(
        [str(part) for part in install],
        cwd=project,
        env=os.environ | {"UV_OFFLINE": "1"},
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    if offline.returncode != 0:  # a package missing from uv's cache: fetch it
        run(*install, cwd=project)
    return python


def environment_constraints(destination: Path) -> Path:
    """The versions installed in the environment running the tests, as a constraints file
    for make_environment (`uv pip freeze`)."""
    frozen = run(
        tool("uv"),
        "pip",
        "freeze",
        "--exclude-editable",
        "--python",
        sys.executable,
        cwd=TEMPLATE_ROOT,
    )
    destination.write_text(frozen.stdout, encoding="utf-8")
    return destination
