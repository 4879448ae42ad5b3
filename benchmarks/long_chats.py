"""Benchmark: long chats, the generated app against LangChain's documented minimal app.

One run measures, side by side and in one process where it can:

- rerun time (a script run with no input) and full-turn time (a question answered and
  stored) at 0, 100, 1,000 and 5,000 earlier exchanges of about 60 words a message, and the
  messages and characters each turn sends to the model, for every variant: the documented
  app (benchmarks/documented_app.py, the baseline), the app this template generates
  (default answers, provider openai: history_backend session, the row "generated") and the
  same app with each LangGraph history backend (rows memory, sqlite and postgres; postgres
  on a throwaway server from Debian's postgresql package). All run under Streamlit's
  AppTest in this process and talk to the same loopback OpenAI-compatible server
  (benchmarks/loopback_openai.py, its own process) through the real ChatOpenAI client. The
  same messages are seeded before the first run: into AppTest's session_state, or for a
  LangGraph app directly into a new chat of its store (its transcript, and the newest
  messages within the token budget as its graph state), opened through ?chat=<id>;
- cold start of each variant: a fresh Python process that imports AppTest and runs the app
  once, from process start to the first page drawn;
- the chat exported as Markdown and JSON at the largest size, for every generated app,
  as a click on its download buttons builds them (the whole chat read through the app's
  own Chats, then written by its chat_export.py): seconds and peak memory (tracemalloc);
- `copier copy --defaults` of this template (vcs_ref HEAD) against a one-file template
  (copier's own floor);
- with --suite-report, the template's test suite by test file, from a JUnit XML file
  (`./scripts/test --junitxml=suite.xml`) or a `--durations=0` log: the suite is not run here.

Prints the tables with the targets of issue 13 as pass/fail columns (read, never asserted),
writes a plot and, on a full run, the results section of docs/benchmarks.md. Medians of
--repeats runs (three times as many below 1,000 exchanges, where runs are cheap); compare
ratios rather than milliseconds, since machines are noisy.

    .venv/bin/python benchmarks/long_chats.py            # full run, a few minutes
    .venv/bin/python benchmarks/long_chats.py --quick    # 0 and 100 exchanges, one repeat,
                                                         # no postgres row
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

BENCHMARKS = Path(__file__).resolve().parent
TEMPLATE_ROOT = BENCHMARKS.parent
sys.path.insert(0, str(TEMPLATE_ROOT / "tests"))

from helpers import app_settings_environment, chat_id_of, clean_env, render, tool  # noqa: E402

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from streamlit.testing.v1 import AppTest

FULL_SIZES = (0, 100, 1_000, 5_000)
QUICK_SIZES = (0, 100)
PLOT_FILE = TEMPLATE_ROOT / "docs" / "assets" / "long-chats.png"
DOCS_PAGE = TEMPLATE_ROOT / "docs" / "benchmarks.md"
RESULTS_START = "<!-- long_chats results: written by benchmarks/long_chats.py -->"
RESULTS_END = "<!-- end of long_chats results -->"
API_KEY = "benchmark-placeholder-key"
WORDS_PER_MESSAGE = 60
APP_TIMEOUT = 600.0
"""Seconds an AppTest run may take: a turn at 5,000 exchanges on a busy machine is slow."""

# Issue 13's targets, shown as pass/fail columns.
SPEEDUP_TARGET = 10.0
FLAT_TOLERANCE = 0.20
RENDER_TARGET = 1.5


# ---------------------------------------------------------------------------------------
# Variants: an app under test, how to seed its history and how to drive it
# ---------------------------------------------------------------------------------------


def rerun(app: AppTest) -> None:
    """A rerun with no input, as after any click that is not a question."""
    app.run(timeout=APP_TIMEOUT)


def ask(app: AppTest, question: str) -> None:
    """A full turn: a question typed into the chat input, answered and stored."""
    app.chat_input[0].set_value(question).run(timeout=APP_TIMEOUT)


def session_state_history(key: str) -> tuple[Callable[..., None], Callable[..., int]]:
    """Seed and count functions for an app keeping its messages in st.session_state[key]."""

    def seed(app: AppTest, messages: list[BaseMessage]) -> None:
        app.session_state[key] = list(messages)  # each app appends to its own list

    def stored(app: AppTest) -> int:
        return len(app.session_state[key]) if key in app.session_state else 0

    return seed, stored


@dataclass(frozen=True)
class Variant:
    """One app measured by the benchmark: a row of every table.

    A new variant (e.g. the generated app with a LangGraph history backend) is a rendered
    project plus how to seed N exchanges into its history (seed: the AppTest not yet run
    and the messages) and how many messages it holds (stored); rerun and turn default to
    a plain run and a question in the chat input.
    """

    name: str
    script: Path
    """The Streamlit script, run under AppTest."""
    seed: Callable[[AppTest, list[BaseMessage]], None]
    stored: Callable[[AppTest], int]
    secrets: dict[str, str] = field(default_factory=dict)
    """Set on the AppTest before its first run."""
    environment: dict[str, str] = field(default_factory=dict)
    """Extra environment for the app, beside OPENAI_BASE_URL and OPENAI_API_KEY."""
    rerun: Callable[[AppTest], None] = rerun
    turn: Callable[[AppTest, str], None] = ask
    baseline: bool = False
    """The variant every other one is compared with (the documented app)."""
    export: Callable[[AppTest], tuple[str, str]] | None = None
    """Build the chat's Markdown and JSON exports as its download buttons do (after a
    run); None for an app without them."""
    seed_versions: Callable[[AppTest, list[BaseMessage]], None] | None = None
    """Seed the same exchanges, every VERSIONS_EVERY-th turn with an earlier version kept
    beside it, through the app's own version store (the case "with versions")."""

    def open(self) -> AppTest:
        """The app under AppTest, not yet run, with a clean st.cache_resource."""
        import streamlit as st
        from streamlit.testing.v1 import AppTest

        st.cache_resource.clear()  # another variant's cached chain must not answer
        app = AppTest.from_file(str(self.script), default_timeout=APP_TIMEOUT)
        app.secrets.update(self.secrets)
        return app


VERSIONS_EVERY = 10
"""The case "with versions": every tenth turn has one earlier version (10 % of turns)."""


def project_module(project: Path, package: str, name: str) -> Any:
    """A module of a rendered project's package, imported into this process."""
    import importlib

    if str(project) not in sys.path:
        sys.path.insert(0, str(project))
    return importlib.import_module(f"{package}.{name}")


def earlier_version(message: BaseMessage) -> BaseMessage:
    """The earlier version of a seeded message: the same length, other words."""
    return message.model_copy(update={"content": f"earlier {message.text}", "id": None})


def versioned_turns(messages: list[BaseMessage]) -> Iterator[tuple[bool, list[BaseMessage]]]:
    """The seeded exchanges by turn, fresh copies: (has an earlier version, [question, answer])."""
    for index in range(0, len(messages), 2):
        pair = [message.model_copy() for message in messages[index : index + 2]]
        yield (index // 2) % VERSIONS_EVERY == 0, pair


def session_versions_seed(project: Path, key: str) -> Callable[..., None]:
    """Seed a session app: the history list shows the newest versions; its MessageTree
    (message_tree.py, in st.session_state beside the history) keeps the earlier ones."""
    package = yaml_answers(project)["package_name"]

    def seed(app: AppTest, messages: list[BaseMessage]) -> None:
        tree = project_module(project, package, "message_tree").MessageTree()
        path: list[BaseMessage] = []
        for versioned, pair in versioned_turns(messages):
            if versioned:
                path += [earlier_version(message) for message in pair]
                tree.register(path)
                tree.cut_before(path, path[-2].id)  # what keep_turn(replacing=...) does
            path += pair
            tree.register(path)
        app.session_state[key] = path
        app.session_state[f"{key}_versions"] = tree

    return seed


def yaml_answers(project: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def documented_variant() -> Variant:
    seed, stored = session_state_history("special_app_key")
    return Variant(
        "documented",
        BENCHMARKS / "documented_app.py",
        seed,
        stored,
        baseline=True,
    )


def package_module(project: Path, package: str, name: str) -> Any:
    """A module of a rendered project's package, imported into this process."""
    import importlib

    if str(project) not in sys.path:
        sys.path.insert(0, str(project))
    return importlib.import_module(f"{package}.{name}")


def build_exports(export_module: Any, messages: list[BaseMessage]) -> tuple[str, str]:
    """The Markdown and JSON a click on the download buttons writes."""
    when = datetime.datetime.now(datetime.UTC)
    markdown = export_module.to_markdown("Benchmark", messages, when)
    return markdown, export_module.to_json("Benchmark", messages, when)


def generated_variant(project: Path) -> Variant:
    """The app rendered with the template's default answers (provider openai)."""
    seed, stored = session_state_history("langchain_messages")

    def export(app: AppTest) -> tuple[str, str]:
        # SessionChats.recent is this list, sliced.
        messages = list(app.session_state["langchain_messages"])
        return build_exports(package_module(project, "my_chat_app", "chat_export"), messages)

    return Variant(
        "generated",
        project / "app.py",
        seed,
        stored,
        secrets={"LLM_PROVIDER": "openai", "OPENAI_API_KEY": API_KEY},
        export=export,
        seed_versions=session_versions_seed(project, "langchain_messages"),
    )


LANGGRAPH_BACKENDS = ("memory", "sqlite", "postgres")
"""The template's LangGraph history backends, a row each (the default, session, is
"generated")."""
QUICK_BACKENDS = ("memory", "sqlite")
"""--quick leaves out postgres: its server, render and cold start cost ~10 s more."""


versions_seeds: dict[str, Callable[..., None]] = {}
"""Package name -> its seed of the case "with versions" (set by graph_store_history)."""


def graph_store_history(
    project: Path, package: str, url: str, resources: ExitStack
) -> tuple[Callable[..., None], Callable[..., int], Callable[[AppTest], tuple[str, str]]]:
    """Seed and count functions for a LangGraph app (history_backend memory, sqlite or
    postgres) keeping its chats in the database `url` names.

    Seeding goes through the rendered project's own store, the very one its page uses:
    chat_store.shared_chat_store is an st.cache_resource, shared by AppTest's runs in this
    process. A new chat (a uuid4, as the page makes) gets the messages in its transcript
    (ChatDatabase.append_messages, one transaction) and, as its graph state, what a long chat's
    checkpoint holds: the newest messages within HISTORY_MAX_TOKENS (trimming.py's
    latest_within_budget). The AppTest opens the chat through its link, ?chat=<id>.
    """
    import tomllib

    settings = tomllib.loads((project / "app_settings.toml").read_text(encoding="utf-8"))
    max_tokens = int(settings["HISTORY_MAX_TOKENS"])
    folder = str(project.resolve())  # app.py's APP_FOLDER, part of the cached store's key
    opened: dict[int, Any] = {}
    """Each store opened (one per AppTest: Variant.open clears st.cache_resource), closed
    at the end of the run, before the PostgreSQL server stops."""

    @resources.callback
    def close_stores() -> None:
        for database in opened.values():
            database.close()

    def module(name: str) -> Any:
        import importlib

        if str(project) not in sys.path:
            sys.path.insert(0, str(project))
        return importlib.import_module(f"{package}.{name}")

    def store() -> Any:
        chats = module("chat_store").shared_chat_store(url, folder)
        opened.setdefault(id(chats.database), chats.database)
        return chats

    def seed(app: AppTest, messages: list[BaseMessage]) -> None:
        chats = store()
        chat_id = module("chat_link").new_chat_id()
        app.query_params["chat"] = chat_id
        if not messages:
            return
        chats.database.append_messages(chat_id, *messages)
        remember(chats, chat_id, messages)

    def remember(chats: Any, chat_id: str, messages: list[BaseMessage]) -> None:
        """The graph state of a long chat: the newest messages within the budget."""
        window = module("trimming").latest_within_budget(messages, max_tokens)
        # The graph's model is never called by update_state: none is built.
        graph = module("graph").build_chat_graph(None, "", max_tokens, chats.database.checkpointer)
        config = {"configurable": {"thread_id": chat_id}}
        state = {"messages": [message.model_copy() for message in window]}  # ids are set
        graph.update_state(config, state, as_node="model")

    def seed_versions(app: AppTest, messages: list[BaseMessage]) -> None:
        """The exchanges, every VERSIONS_EVERY-th turn written twice: an earlier version,
        then the one shown, as the page's Regenerate does (ChatDatabase.append_version)."""
        chats = store()
        database = chats.database
        chat_id = module("chat_link").new_chat_id()
        app.query_params["chat"] = chat_id
        pending: list[BaseMessage] = []
        for versioned, pair in versioned_turns(messages):
            if not versioned:
                pending += pair
                continue
            if pending:
                database.append_messages(chat_id, *pending)
                pending = []
            database.append_messages(chat_id, *[earlier_version(message) for message in pair])
            (earlier, _) = database.last_messages(chat_id, 2)
            database.append_version(chat_id, str(earlier.id), *pair)
        if pending:
            database.append_messages(chat_id, *pending)
        remember(chats, chat_id, messages)

    def stored(app: AppTest) -> int:
        return int(store().count(chat_id_of(app)))

    def export(app: AppTest) -> tuple[str, str]:
        messages = module("chat_files").whole_chat(store(), chat_id_of(app))
        return build_exports(module("chat_export"), messages)

    versions_seeds[package] = seed_versions
    return seed, stored, export


def langgraph_variant(project: Path, backend: str, url: str, resources: ExitStack) -> Variant:
    """The app rendered with history_backend=backend (LangGraph), chats in `url`."""
    package = f"bench_{backend}_chats"
    seed, stored, export = graph_store_history(project, package, url, resources)
    return Variant(
        backend,
        project / "app.py",
        seed,
        stored,
        secrets={"LLM_PROVIDER": "openai", "OPENAI_API_KEY": API_KEY, "CHAT_HISTORY_URL": url},
        export=export,
        seed_versions=versions_seeds[package],
    )


def build_variants(
    workdir: Path, resources: ExitStack, backends: Sequence[str] = LANGGRAPH_BACKENDS
) -> list[Variant]:
    """Every app of the tables, the baseline first: add a row here (render its project into
    workdir with helpers.render and the answers it needs). resources holds what must live
    as long as the run (the PostgreSQL server)."""
    with phase("rendering the generated app"):
        generated = render(workdir / "generated", model_provider="openai")
    variants = [documented_variant(), generated_variant(generated)]
    for backend in backends:
        with phase(f"rendering the generated app with history_backend={backend}"):
            project = render(
                workdir / backend,
                model_provider="openai",
                history_backend=backend,
                package_name=f"bench_{backend}_chats",
            )
        if backend == "memory":
            url = "memory"
        elif backend == "sqlite":
            url = f"sqlite:///{workdir / 'chats.sqlite'}"  # an absolute path: sqlite:////...
        else:
            from postgres_server import postgres_cluster

            with phase("starting a throwaway PostgreSQL server"):
                server = resources.enter_context(postgres_cluster())
            url = server.url
        variants.append(langgraph_variant(project, backend, url, resources))
    return variants


# ---------------------------------------------------------------------------------------
# The chat: seeded exchanges and the loopback model
# ---------------------------------------------------------------------------------------

VOCABULARY_TEXT = (
    "the a model answer question history message chat session stream token budget reply "
    "user assistant context window prompt system server client request response page rerun "
    "draw store trim keep send long short fast slow small large first last every each new "
    "old earlier later time cost memory list text word line number value key setting file "
    "test check run build render template project update change version release provider "
    "python streamlit langchain copier graph thread state sqlite postgres cache chain step"
)
VOCABULARY = VOCABULARY_TEXT.split()


def sentence(index: int, words: int = WORDS_PER_MESSAGE) -> str:
    """Deterministic filler text of `words` words, different for each index."""
    state = index * 2654435761 % 2**32 or 1
    picked = []
    for _ in range(words - 1):
        state = (state * 1103515245 + 12345) % 2**31
        picked.append(VOCABULARY[state % len(VOCABULARY)])
    return f"{index}: " + " ".join(picked) + "."


def exchanges(count: int) -> list[BaseMessage]:
    """count earlier exchanges: a question and an answer of about 60 words each."""
    from langchain_core.messages import AIMessage, HumanMessage

    messages: list[BaseMessage] = []
    for index in range(count):
        messages.append(HumanMessage(content=sentence(2 * index)))
        messages.append(AIMessage(content=sentence(2 * index + 1)))
    return messages


@contextmanager
def loopback_model() -> Iterator[str]:
    """Start benchmarks/loopback_openai.py; yield its base URL (for OPENAI_BASE_URL)."""
    server = subprocess.Popen(
        [sys.executable, str(BENCHMARKS / "loopback_openai.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the loopback server did not start: {url!r}")
        yield url
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def model_stats(base_url: str) -> dict[str, Any]:
    """What the last chat request sent: requests so far, messages and characters."""
    url = base_url.removesuffix("/v1") + "/stats"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------


@dataclass
class ChatResult:
    """One variant at one history length."""

    variant: str
    exchanges: int
    rerun_s: list[float] = field(default_factory=list)
    turn_s: list[float] = field(default_factory=list)
    messages_sent: int = 0
    chars_sent: int = 0

    @property
    def rerun(self) -> float:
        return statistics.median(self.rerun_s)

    @property
    def turn(self) -> float:
        return statistics.median(self.turn_s)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def check(app: AppTest, variant: Variant, what: str) -> None:
    if app.exception:
        raise RuntimeError(f"{variant.name} raised on {what}: {app.exception[0].value}")


@dataclass
class ExportResult:
    variant: str
    exchanges: int
    seconds: list[float] = field(default_factory=list)
    """Reading the whole chat and writing both files, per click."""
    peak_mb: float = 0.0
    """The most memory allocated at once while doing so (tracemalloc)."""
    size_mb: float = 0.0
    """Markdown and JSON together."""


def measure_export(
    variant: Variant, app: AppTest, exchanges: int, repeats: int
) -> ExportResult | None:
    """Both downloads of the chat the app shows, built as a click builds them."""
    import tracemalloc

    if variant.export is None:
        return None
    result = ExportResult(variant.name, exchanges)
    for _ in range(repeats):
        result.seconds.append(timed(lambda: variant.export(app)))  # type: ignore[misc]
    tracemalloc.start()
    markdown, json_text = variant.export(app)
    result.peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    result.size_mb = (len(markdown.encode()) + len(json_text.encode())) / 1e6
    return result


def export_table(exports: list[ExportResult]) -> Table:
    return Table(
        "Export of a long chat (Markdown and JSON, as a click builds them; goal under 2 s)",
        ["app", "exchanges", "median s", "peak MB", "files MB", "result"],
        [
            [
                e.variant,
                f"{e.exchanges:,}",
                f"{statistics.median(e.seconds):.2f}",
                f"{e.peak_mb:.0f}",
                f"{e.size_mb:.1f}",
                "pass" if statistics.median(e.seconds) < EXPORT_TARGET_SECONDS else "FAIL",
            ]
            for e in exports
        ],
        left=1,
    )


EXPORT_TARGET_SECONDS = 2.0


def measure_chat(
    variant: Variant,
    history: list[BaseMessage],
    repeats: int,
    base_url: str,
    exports: list[ExportResult] | None = None,
) -> ChatResult:
    """Reruns and turns of a chat of `history`; with `exports`, also its downloads (after
    the reruns, before the turns)."""
    result = ChatResult(variant.name, len(history) // 2)
    app = variant.open()
    variant.seed(app, history)
    variant.rerun(app)  # the first page of the session: builds and caches what the app caches
    check(app, variant, "its first run")
    before = model_stats(base_url)["requests"]
    for _ in range(repeats):
        result.rerun_s.append(timed(lambda: variant.rerun(app)))
        check(app, variant, "a rerun")
    if model_stats(base_url)["requests"] != before:
        raise RuntimeError(f"{variant.name} called the model on a rerun with no input")
    if exports is not None and (export := measure_export(variant, app, len(history) // 2, repeats)):
        exports.append(export)
    for turn in range(repeats):
        stored = variant.stored(app)
        question = sentence(10_000_000 + turn)
        result.turn_s.append(timed(lambda q=question: variant.turn(app, q)))
        check(app, variant, "a turn")
        if variant.stored(app) != stored + 2:
            raise RuntimeError(
                f"{variant.name}: a turn stored {variant.stored(app) - stored} messages, not 2"
            )
        stats = model_stats(base_url)
        if stats["requests"] != before + turn + 1:
            raise RuntimeError(f"{variant.name}: a turn made {stats['requests']} requests")
        if turn == 0:  # the turn after exactly N exchanges; later ones follow N + 1, N + 2...
            result.messages_sent, result.chars_sent = stats["messages"], stats["chars"]
    return result


COLD_START = r"""
import json, sys, time, warnings
started = time.perf_counter()
warnings.simplefilter("ignore")
from streamlit.testing.v1 import AppTest
imported = time.perf_counter()
app = AppTest.from_file(sys.argv[1], default_timeout=120)
app.secrets.update(json.loads(sys.argv[2]))
app.run()
assert not app.exception, app.exception
assert app.chat_input, "no chat input drawn"
print(json.dumps({"first_run_s": time.perf_counter() - imported}))
"""


@dataclass
class ColdStart:
    variant: str
    process_s: list[float] = field(default_factory=list)
    """From process start to the first page drawn: interpreter, streamlit, the app."""
    first_run_s: list[float] = field(default_factory=list)
    """The app's own first run (its imports and first page), after streamlit is imported."""


def measure_cold_starts(
    variants: list[Variant], repeats: int, base_url: str, warm_up: bool
) -> list[ColdStart]:
    """Start a fresh process per run, variants interleaved. With warm_up, a first round
    (compiling bytecode caches, filling the OS file cache) is not counted."""
    env = clean_env(OPENAI_BASE_URL=base_url, OPENAI_API_KEY=API_KEY, NO_PROXY="127.0.0.1")
    results = {v.name: ColdStart(v.name) for v in variants}
    for round_ in range(0 if warm_up else 1, repeats + 1):
        for variant in variants:
            command = [sys.executable, "-c", COLD_START, str(variant.script)]
            command.append(json.dumps(variant.secrets))
            start = time.perf_counter()
            done = subprocess.run(
                command,
                cwd=variant.script.parent,
                env=env | variant.environment,
                capture_output=True,
                text=True,
                timeout=300,
            )
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                raise RuntimeError(f"cold start of {variant.name} failed:\n{done.stderr}")
            if round_ > 0:
                results[variant.name].process_s.append(elapsed)
                first_run = json.loads(done.stdout.strip().splitlines()[-1])["first_run_s"]
                results[variant.name].first_run_s.append(first_run)
    return list(results.values())


@dataclass
class RenderTimes:
    template_s: list[float] = field(default_factory=list)
    floor_s: list[float] = field(default_factory=list)


def trivial_template(directory: Path) -> Path:
    """A one-question, one-file copier template in a git repo: copier's own floor."""
    directory.mkdir(parents=True)
    (directory / "copier.yml").write_text("name:\n  type: str\n  default: world\n")
    (directory / "hello.txt.jinja").write_text("Hello {{ name }}!\n")
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "A trivial template"],
    ):
        subprocess.run(command, cwd=directory, check=True, capture_output=True)
    return directory


def measure_renders(workdir: Path, repeats: int) -> RenderTimes:
    """`copier copy --defaults --vcs-ref HEAD` of this template and of the trivial one,
    interleaved; the whole CLI process is timed (copier's start-up is in the floor too)."""
    floor = trivial_template(workdir / "trivial-template")
    times = RenderTimes()
    for round_ in range(repeats):
        for source, into in ((TEMPLATE_ROOT, times.template_s), (floor, times.floor_s)):
            destination = workdir / f"copy-{source.name}-{round_}"
            command = [tool("copier"), "copy", "--quiet", "--defaults", "--vcs-ref", "HEAD"]
            start = time.perf_counter()
            subprocess.run(
                [*command, str(source), str(destination)],
                check=True,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=300,
            )
            into.append(time.perf_counter() - start)
    return times


@dataclass
class SuiteFile:
    path: str
    tests: int
    seconds: float


def test_file_of(name: str) -> str:
    """tests/test_x.py from a JUnit classname like tests.test_x.TestClass."""
    parts = name.split(".")
    for index, part in enumerate(parts):
        if part.startswith("test_") or part.endswith("_test"):
            return "/".join(parts[: index + 1]) + ".py"
    return name


def read_suite_report(path: Path) -> tuple[list[SuiteFile], float | None]:
    """Per-file totals of a JUnit XML report or a pytest --durations log, slowest first;
    and the run's wall time when the report has it (JUnit's testsuite time)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    seconds: dict[str, float] = defaultdict(float)
    tests: dict[str, set[str]] = defaultdict(set)
    wall: float | None = None
    if text.lstrip().startswith("<"):
        root = ElementTree.fromstring(text)
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        wall = sum(float(s.get("time", 0)) for s in suites) or None
        for case in root.iter("testcase"):
            name = case.get("file") or test_file_of(case.get("classname", ""))
            seconds[name] += float(case.get("time", 0))
            tests[name].add(f"{case.get('classname')}::{case.get('name')}")
    else:  # "12.34s call     tests/test_x.py::test_y[param]" lines of --durations=0
        line = re.compile(r"^\s*([\d.]+)s\s+(?:call|setup|teardown)\s+(\S+?\.py)::(\S+)")
        for match in filter(None, map(line.match, text.splitlines())):
            seconds[match[2]] += float(match[1])
            tests[match[2]].add(match[3])
        if wall_match := re.search(r"in ([\d.]+)s(?: \([\d:]+\))? =+\s*$", text, re.MULTILINE):
            wall = float(wall_match[1])
    files = [SuiteFile(name, len(tests[name]), total) for name, total in seconds.items()]
    return sorted(files, key=lambda f: f.seconds, reverse=True), wall


# ---------------------------------------------------------------------------------------
# Output: tables, targets, plot, docs page
# ---------------------------------------------------------------------------------------


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    left: int = 1
    """How many leading columns are text (left-aligned); the rest are numbers."""

    def text(self) -> str:
        cells = [self.headers, *self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]

        def line(row: list[str]) -> str:
            return "  ".join(
                cell.ljust(width) if i < self.left else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([self.title, line(self.headers), rule, *map(line, self.rows)])

    def markdown(self) -> str:
        aligns = [":---" if i < self.left else "---:" for i in range(len(self.headers))]
        lines = [self.headers, aligns, *self.rows]
        return "\n".join("| " + " | ".join(row) + " |" for row in lines)


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ratio(baseline: float, value: float) -> str:
    return f"{baseline / value:.2f}" if value else "-"


def chat_table(results: list[ChatResult], baseline: str) -> Table:
    by_key = {(r.variant, r.exchanges): r for r in results}
    rows = []
    for r in results:
        base = by_key[(baseline, r.exchanges)]
        compare = r.variant != baseline
        rows.append(
            [
                r.variant,
                f"{r.exchanges:,}",
                ms(r.rerun),
                ms(r.turn),
                f"{r.messages_sent:,}",
                f"{r.chars_sent:,}",
                ratio(base.rerun, r.rerun) if compare else "",
                ratio(base.turn, r.turn) if compare else "",
                ratio(base.chars_sent, r.chars_sent) if compare else "",
            ]
        )
    return Table(
        "Long chats (medians; x = documented / this app, higher is better)",
        [
            "app",
            "exchanges",
            "rerun ms",
            "turn ms",
            "messages sent",
            "chars sent",
            "rerun x",
            "turn x",
            "chars x",
        ],
        rows,
    )


def versions_table(results: list[ChatResult], plain: list[ChatResult], baseline: str) -> Table:
    """The case "with versions": each app's chat with an earlier version on 10 % of its
    turns, next to the documented app's chat of as many exchanges (no versions: it has
    none), measured in the same run."""
    by_key = {(r.variant, r.exchanges): r for r in plain}
    rows = []
    for r in results:
        base = by_key[(baseline, r.exchanges)]
        rerun_x, turn_x = base.rerun / r.rerun, base.turn / r.turn
        rows.append(
            [
                r.variant,
                f"{r.exchanges:,}",
                ms(r.rerun),
                ms(r.turn),
                f"{rerun_x:.2f}",
                f"{turn_x:.2f}",
                "pass" if min(rerun_x, turn_x) >= SPEEDUP_TARGET else "FAIL",
            ]
        )
    return Table(
        f"With versions on {100 // VERSIONS_EVERY} % of turns (medians; x = documented / "
        f"this app, goal >= {SPEEDUP_TARGET:.0f})",
        ["app", "exchanges", "rerun ms", "turn ms", "rerun x", "turn x", "result"],
        rows,
    )


def cold_start_table(cold: list[ColdStart], baseline: str) -> Table:
    base = next(c for c in cold if c.variant == baseline)
    rows = [
        [
            c.variant,
            ms(statistics.median(c.process_s)),
            ms(statistics.median(c.first_run_s)),
            str(len(c.process_s)),
            ""
            if c.variant == baseline
            else ratio(statistics.median(base.process_s), statistics.median(c.process_s)),
        ]
        for c in cold
    ]
    return Table(
        "Cold start (a new process: import AppTest, run the app once; median)",
        ["app", "process ms", "app's first run ms", "runs", "x"],
        rows,
    )


def render_table(renders: RenderTimes) -> Table:
    floor = statistics.median(renders.floor_s)
    rows = [
        [name, ms(median), str(len(times)), f"{median / floor:.2f}"]
        for name, times in (
            ("this template", renders.template_s),
            ("one-file template (floor)", renders.floor_s),
        )
        for median in [statistics.median(times)]
    ]
    return Table(
        "copier copy --defaults --vcs-ref HEAD (whole CLI process; median)",
        ["template", "ms", "runs", "x floor"],
        rows,
    )


def suite_table(files: list[SuiteFile], wall: float | None) -> Table:
    rows = [[f.path, str(f.tests), f"{f.seconds:,.1f}"] for f in files]
    rows.append(
        [
            "all files (sum of test times)",
            str(sum(f.tests for f in files)),
            f"{sum(f.seconds for f in files):,.1f}",
        ]
    )
    if wall is not None:
        rows.append(["the run's wall time (per the report)", "", f"{wall:,.1f}"])
    title = "Test suite by file (from --suite-report; slowest first)"
    return Table(title, ["file", "tests", "s"], rows)


def targets_table(
    results: list[ChatResult],
    cold: list[ColdStart],
    renders: RenderTimes,
    variants: list[Variant],
) -> Table:
    baseline = next(v.name for v in variants if v.baseline)
    by_key = {(r.variant, r.exchanges): r for r in results}
    rows: list[list[str]] = []

    def row(target: str, app: str, measured: float | None, goal: str, ok: bool) -> None:
        if measured is None:
            rows.append([target, app, "not measured", goal, "n/a"])
        else:
            rows.append([target, app, f"{measured:.2f}", goal, "pass" if ok else "FAIL"])

    cold_by = {c.variant: statistics.median(c.process_s) for c in cold}
    for variant in (v for v in variants if not v.baseline):
        name = variant.name
        base, this = by_key.get((baseline, 5_000)), by_key.get((name, 5_000))
        for label, get in (("rerun", lambda r: r.rerun), ("turn", lambda r: r.turn)):
            speedup = get(base) / get(this) if base and this else None
            row(
                f"{label} at 5,000: documented / app",
                name,
                speedup,
                f">= {SPEEDUP_TARGET:.0f}",
                speedup is not None and speedup >= SPEEDUP_TARGET,
            )
        at_1000, at_5000 = by_key.get((name, 1_000)), by_key.get((name, 5_000))
        growth = at_5000.chars_sent / at_1000.chars_sent if at_1000 and at_5000 else None
        row(
            "chars sent per turn, 5,000 / 1,000",
            name,
            growth,
            f"{1 - FLAT_TOLERANCE:.1f} to {1 + FLAT_TOLERANCE:.1f}",
            growth is not None and abs(growth - 1) <= FLAT_TOLERANCE,
        )
        if name in cold_by and baseline in cold_by:
            speedup = cold_by[baseline] / cold_by[name]
            row("cold start: documented / app", name, speedup, ">= 1.00", speedup >= 1.0)
    growth = statistics.median(renders.template_s) / statistics.median(renders.floor_s)
    row(
        "copier copy: template / floor",
        "template",
        growth,
        f"<= {RENDER_TARGET}",
        growth <= RENDER_TARGET,
    )
    return Table(
        "Targets of issue 13 (read, not asserted)",
        ["target", "app", "measured", "goal", "result"],
        rows,
        left=2,
    )


def plot(results: list[ChatResult], variants: list[Variant], machine: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    sizes = sorted({r.exchanges for r in results})
    positions = range(len(sizes))
    figure, axes = plt.subplots(1, 3, figsize=(11, 4), dpi=100)
    panels = (
        ("Rerun (no input), ms", lambda r: r.rerun * 1000),
        ("Full turn, ms", lambda r: r.turn * 1000),
        ("Characters sent per turn", lambda r: r.chars_sent),
    )
    by_key = {(r.variant, r.exchanges): r for r in results}
    markers = "osD^vP*X"
    for axis, (title, value) in zip(axes, panels, strict=True):
        for number, variant in enumerate(variants):
            points = [value(by_key[(variant.name, size)]) for size in sizes]
            style = "--" if variant.baseline else "-"
            # Rows that coincide (the characters sent by every generated app) stay visible:
            # each later row is drawn thinner, with a smaller marker of its own shape, on top.
            axis.plot(
                positions,
                points,
                style,
                marker=markers[number % len(markers)],
                markersize=max(9 - 1.2 * number, 3),
                linewidth=max(2.4 - 0.35 * number, 0.8),
                label=variant.name,
                zorder=2 + number,
            )
        axis.set_title(title, fontsize=10)
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.set_xticks(list(positions), [f"{s:,}" for s in sizes])
        axis.set_xlabel("earlier exchanges", fontsize=9)
        axis.grid(True, which="major", alpha=0.3)
        axis.tick_params(labelsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    figure.suptitle(f"Long chats, median of each app ({machine})", fontsize=10)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def machine_description() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load": load,
    }


def write_docs(
    tables: list[Table], machine: dict[str, str], load_after: str, note: str, command: str
) -> None:
    """Replace the results section of docs/benchmarks.md."""
    today = datetime.date.today().isoformat()
    lines = [
        RESULTS_START,
        "",
        f"Run on {today} with `{command}`: {machine['cpus']} CPUs ({machine['cpu']}), "
        f"Python {machine['python']}, {machine['system']}; load average "
        f"{machine['load']} at the start and {load_after} at the end (1, 5 and 15 minutes).",
    ]
    if note:
        lines += ["", f'!!! note "This run"\n    {note}']
    lines += ["", f"![Rerun, turn and characters sent by chat length](assets/{PLOT_FILE.name})", ""]
    for table in tables:
        lines += [f"**{table.title}**", "", table.markdown(), ""]
    lines.append(RESULTS_END)
    page = DOCS_PAGE.read_text(encoding="utf-8")
    start, end = page.index(RESULTS_START), page.index(RESULTS_END) + len(RESULTS_END)
    DOCS_PAGE.write_text(page[:start] + "\n".join(lines) + page[end:], encoding="utf-8")


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Print how long a part of the benchmark took, to follow a long run."""
    start = time.perf_counter()
    yield
    print(f"  {name}: {time.perf_counter() - start:.1f} s", flush=True)


@contextmanager
def isolated_tools(workdir: Path) -> Iterator[None]:
    """No git identity or copier user defaults of this machine leak into the renders."""
    settings = workdir / "copier-settings.yml"
    settings.write_text("{}\n")
    overrides = {
        "GIT_CONFIG_GLOBAL": str(workdir / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "COPIER_SETTINGS_PATH": str(settings),
    }
    for role in ("AUTHOR", "COMMITTER"):
        overrides |= {f"GIT_{role}_NAME": "Benchmark", f"GIT_{role}_EMAIL": "bench@example.com"}
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="0 and 100 exchanges, one repeat; no docs page, no plot unless --plot",
    )
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        help="earlier exchanges, e.g. 0,100,1000 (default 0,100,1000,5000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="runs per median (default 3, and 3 times as many below 1,000 exchanges; --quick: 1)",
    )
    parser.add_argument(
        "--plot", type=Path, help=f"PNG to write (default {PLOT_FILE.relative_to(TEMPLATE_ROOT)})"
    )
    parser.add_argument(
        "--no-docs",
        action="store_true",
        help=f"leave the results in {DOCS_PAGE.relative_to(TEMPLATE_ROOT)} alone",
    )
    parser.add_argument(
        "--suite-report",
        type=Path,
        metavar="PATH",
        help="JUnit XML (pytest --junitxml) or --durations=0 log of the suite",
    )
    parser.add_argument(
        "--backends",
        type=lambda s: [x for x in s.split(",") if x],
        help="LangGraph history backends with a row, e.g. memory,sqlite (default: all; "
        "--quick: memory,sqlite). postgres starts a throwaway server from Debian's "
        "postgresql package (about 10 s more, a cold start included); tests/test_benchmark.py "
        "measures it in-process",
    )
    parser.add_argument(
        "--versions",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also measure each app at the largest size with an earlier version on 10 %% of "
        "its turns (default: on, --quick: off)",
    )
    parser.add_argument("--note", default="", help="a sentence about this run for the docs page")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write raw timings as JSON")
    options = parser.parse_args(argv)
    options.sizes = options.sizes or list(QUICK_SIZES if options.quick else FULL_SIZES)
    options.repeats = options.repeats or (1 if options.quick else 3)
    if options.backends is None:
        options.backends = list(QUICK_BACKENDS if options.quick else LANGGRAPH_BACKENDS)
    if unknown := set(options.backends) - set(LANGGRAPH_BACKENDS):
        parser.error(f"unknown --backends {', '.join(sorted(unknown))}")
    if options.plot is None and not options.quick:
        options.plot = PLOT_FILE
    options.docs = not (options.quick or options.no_docs)
    if options.versions is None:
        options.versions = not options.quick
    return options


def main(argv: list[str] | None = None) -> None:
    options = parse_arguments(argv)
    import langchain_core.runnables.history  # noqa: F401  (sets LangChain's warning filters)

    warnings.simplefilter("ignore")  # LangChain's deprecation notices, on every rerun
    # AppTest and its session_state, used outside a script run, log "missing ScriptRunContext".
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True
    machine = machine_description()
    print(
        f"Machine: {machine['cpus']} CPUs ({machine['cpu']}), Python {machine['python']}, "
        f"load average {machine['load']}",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory(prefix="long-chats-") as tmp,
        loopback_model() as url,
        ExitStack() as resources,
    ):
        workdir = Path(tmp)
        with isolated_tools(workdir):
            variants = build_variants(workdir, resources, options.backends)
            with phase("copier copy, template and floor"):
                renders = measure_renders(workdir, options.repeats)
        baseline = next(v.name for v in variants if v.baseline)
        with phase("cold starts"):
            cold = measure_cold_starts(variants, options.repeats, url, not options.quick)

        # One turn of each app first, not counted: the first request of a process imports
        # and sets up what later ones reuse (the streaming path, the HTTP client).
        with phase("warming up every app in this process"):
            for variant in variants:
                env = {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": API_KEY} | variant.environment
                with app_settings_environment(**env):
                    measure_chat(variant, exchanges(1), 1, url)

        results: list[ChatResult] = []
        exports: list[ExportResult] = []
        for size in options.sizes:
            history = exchanges(size)
            for variant in variants:
                env = {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": API_KEY} | variant.environment
                with app_settings_environment(**env):
                    repeats = options.repeats * (1 if options.quick or size >= 1_000 else 3)
                    largest = size == max(options.sizes)
                    result = measure_chat(
                        variant, history, repeats, url, exports if largest else None
                    )
                results.append(result)
                print(
                    f"  {variant.name} at {size:,} exchanges: rerun {ms(result.rerun)} ms, "
                    f"turn {ms(result.turn)} ms",
                    flush=True,
                )

        versioned: list[ChatResult] = []
        size = max(options.sizes)
        if options.versions and size > 0:
            history = exchanges(size)
            for variant in (v for v in variants if v.seed_versions):
                env = {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": API_KEY} | variant.environment
                with_versions = replace(
                    variant, name=f"{variant.name} +versions", seed=variant.seed_versions
                )
                with app_settings_environment(**env):
                    result = measure_chat(with_versions, history, options.repeats, url)
                result.exchanges = size
                versioned.append(result)
                print(
                    f"  {with_versions.name} at {size:,} exchanges: rerun {ms(result.rerun)} "
                    f"ms, turn {ms(result.turn)} ms",
                    flush=True,
                )

    tables = [
        chat_table(results, baseline),
        cold_start_table(cold, baseline),
        render_table(renders),
        targets_table(results, cold, renders, variants),
        export_table(exports),
    ]
    if versioned:
        tables.insert(1, versions_table(versioned, results, baseline))
    if options.suite_report:
        tables.append(suite_table(*read_suite_report(options.suite_report)))
    print()
    print("\n\n".join(table.text() for table in tables))

    load_after = machine_description()["load"]
    label = f"{machine['cpus']} CPUs {machine['cpu']}, Python {machine['python']}"
    if options.plot:
        plot(results, variants, label, options.plot)
        print(f"\nPlot: {options.plot}")
    if options.docs:
        arguments = argv if argv is not None else sys.argv[1:]
        if "--note" in arguments:  # the note is shown on its own, not in the command
            at = arguments.index("--note")
            arguments = arguments[:at] + arguments[at + 2 :]
        command = " ".join([".venv/bin/python benchmarks/long_chats.py", *arguments])
        write_docs(tables, machine, load_after, options.note, command)
        print(f"Results written to {DOCS_PAGE.relative_to(TEMPLATE_ROOT)}")
    if options.json:
        raw = {
            "machine": machine,
            "load_after": load_after,
            "chats": [r.__dict__ for r in results],
            "chats_with_versions": [r.__dict__ for r in versioned],
            "cold_starts": [c.__dict__ for c in cold],
            "renders": renders.__dict__,
        }
        options.json.write_text(json.dumps(raw, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
