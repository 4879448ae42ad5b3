"""Copier's `attachments` question: files sent with a question (docs/files.md).

The file modules' own behaviour is tested by the generated project's
tests/test_attachments.py, which the "backend-memory" answer set (attachments=both) runs in
test_generated_own_suites.py; ruff and mypy check that render like every other."""

from __future__ import annotations

import tomllib

from helpers import PROVIDERS, package_file

FILE_MODULES = ("attachments.py", "file_blocks.py")
FILE_SETTINGS = ("ATTACHMENT_MAX_MB", "ATTACHMENT_MAX_TEXT_CHARS", "MODEL_TAKES_IMAGES")


def test_without_attachments_the_project_has_no_trace_of_files(rendered) -> None:
    project = rendered("defaults")

    for module in FILE_MODULES:
        assert not package_file(project, module).exists()
    assert not (project / "tests" / "test_attachments.py").exists()
    dependencies = (project / "pyproject.toml").read_text()
    assert "pypdf" not in dependencies and "filetype" not in dependencies
    settings = (project / "app_settings.toml").read_text()
    assert not any(name in settings for name in (*FILE_SETTINGS, "MODEL_READS_PDF"))
    assert "file_blocks" not in package_file(project, "offline_model.py").read_text()


def test_with_attachments_the_limits_and_model_inputs_are_settings(rendered) -> None:
    project = rendered("backend-memory")  # attachments=both, OpenAI

    for module in FILE_MODULES:
        assert package_file(project, module).exists()
    settings = tomllib.loads((project / "app_settings.toml").read_text())
    assert settings["ATTACHMENT_MAX_MB"] == 10
    assert settings["ATTACHMENT_MAX_TEXT_CHARS"] == 20000
    assert settings["MODEL_TAKES_IMAGES"] is PROVIDERS["openai"]["files"]["images"] is True
    assert settings["MODEL_READS_PDF"] is PROVIDERS["openai"]["files"]["pdf"] is True
    dependencies = (project / "pyproject.toml").read_text()
    assert "pypdf" in dependencies and "filetype" in dependencies


def test_every_provider_says_what_it_takes_of_files() -> None:
    for name, provider in PROVIDERS.items():
        assert set(provider["files"]) == {"images", "pdf"}, name
        assert all(isinstance(value, bool) for value in provider["files"].values()), name
