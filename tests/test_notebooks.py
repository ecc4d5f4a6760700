"""Execute every lesson with papermill at the smoke profile, and check bad parameters fail
inside the notebook with a clear message (papermill itself only warns about unknown names)."""

from __future__ import annotations

import nbformat
import papermill as pm
import pytest

from helpers.notebooks import execute_lesson, lesson_notebooks

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_at_smoke(path, run_env):
    out = run_env / path.name
    _execute(path, out, {"PROFILE": "smoke", "SEED": 1})
    nb = nbformat.read(out, as_version=4)
    last = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
    assert "smoke profile: claims are reported, not asserted" in last
    assert (run_env / "out" / f"{path.stem}.json").exists()


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
