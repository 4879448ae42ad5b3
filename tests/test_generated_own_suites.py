"""The generated projects with a LangGraph history backend or sign-in pass their own tests.

The other answer sets' own suites run in test_generated_projects.py; they are two files so
that the suite's two workers (which take whole files) share the work.
"""

from __future__ import annotations

import pytest
from test_generated_projects import own_tests_pass

from helpers import OWN_SUITES_OF_LANGGRAPH_AND_SIGN_IN


@pytest.mark.parametrize("answer_set", OWN_SUITES_OF_LANGGRAPH_AND_SIGN_IN)
def test_generated_project_passes_its_own_tests(rendered, environment_for, answer_set: str) -> None:
    project = rendered(answer_set)
    own_tests_pass(project, environment_for(project))
