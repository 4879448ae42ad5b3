"""The generated projects pass their own tests (OWN_SUITE_ANSWER_SETS: the answer sets whose
suites differ in what they exercise).

Kept apart from test_generated_projects.py so that the suite's two workers (which take
whole files) share the work.
"""

from __future__ import annotations

import pytest

from helpers import OWN_SUITE_ANSWER_SETS, own_tests_pass


@pytest.mark.parametrize("answer_set", OWN_SUITE_ANSWER_SETS)
def test_generated_project_passes_its_own_tests(rendered, environment_for, answer_set: str) -> None:
    project = rendered(answer_set)
    own_tests_pass(project, environment_for(project))
