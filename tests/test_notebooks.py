"""Bad parameters fail inside the notebook with a clear message (papermill itself only warns
about unknown names).

Every lesson runs at the smoke profile as its student copy (tests/test_student.py): that run
covers every cell but the solutions, which nbval runs at the workshop profile. Running the
complete notebooks at smoke as well took about 6 minutes of CI for those few cells.
"""

from __future__ import annotations

import papermill as pm
import pytest

from coursetools.notebooks import execute_lesson
from coursetools.paths import lesson_notebooks

NOTEBOOKS = lesson_notebooks()
pytestmark = pytest.mark.notebooks


@pytest.fixture
def run_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("MNIST_PATH", raising=False)
    return tmp_path


def _execute(path, out, parameters):
    return execute_lesson(path, out, parameters)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"PROFLE": "smoke"}, "Unknown parameter 'PROFLE' (did you mean 'PROFILE'?)"),
        ({"PROFILE": "fast"}, "PROFILE must be one of smoke, workshop, full; got 'fast'"),
    ],
)
def test_bad_parameter_fails_with_a_clear_message(params, message, run_env):
    if not NOTEBOOKS:
        pytest.skip("no lessons yet")
    with pytest.raises(pm.PapermillExecutionError) as info:
        _execute(NOTEBOOKS[0], run_env / "bad.ipynb", params)
    assert info.value.ename == "ParameterError"
    assert message in info.value.evalue
