"""Fast checks on the committed notebooks (no kernel): the structure every lesson promises."""

from __future__ import annotations

import re

import nbformat
import papermill
import pytest

from coursetools.notebooks import check_papermill_parameters
from coursetools.parameters import PARAMETERS, ParameterError
from coursetools.paths import lesson_notebooks

NOTEBOOKS = lesson_notebooks()
NBVAL_MARKERS = {
    "# NBVAL_IGNORE_OUTPUT",
    "# NBVAL_CHECK_OUTPUT",
    "# NBVAL_SKIP",
    "# NBVAL_RAISES_EXCEPTION",
}
# A cell tagged so may run a legacy API to show, caught and printed, how the articles' code fails.
LEGACY_DEMO = "legacy-demo"
LEGACY = [
    r"ImageDataGenerator\s*\(",
    r"keras\.wrappers\.scikit_learn",
    r"^\s*import kerastuner",
    r"^\s*from kerastuner",
    r"scikeras",
    r"validation_data\s*=\s*\(\s*x_?test",
]


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_lessons():
    assert len(NOTEBOOKS) >= 1, "notebooks/ holds no NN_name.ipynb lesson"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_structure(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "papermill" not in nb.metadata, "commit the source, not a papermill output"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0].cell_type == "code", "exactly one parameters cell"
    declared = papermill.inspect_notebook(str(path))
    assert set(declared) == set(PARAMETERS), f"parameters cell declares {sorted(declared)}"
    assert 'os.environ.get("COURSE_PROFILE", "workshop")' in params[0].source
    assert "Symptom" in nb.cells[0].source, "a lesson opens with the symptom"
    sources = "\n".join(c.source for c in _code(nb))
    assert "helpers.check_version(" in sources and "start_lesson(" in sources
    assert "lesson.finish()" in _code(nb)[-1].source, "the last code cell is 'What we measured'"
    assert "What we measured" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


# A cell makes one point; a longer one moves its logic into the lesson's helper module or splits.
MAX_CELL_LINES = 30


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_are_short(path):
    nb = nbformat.read(path, as_version=4)
    long = {
        i: len(c.source.splitlines())
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and len(c.source.splitlines()) > MAX_CELL_LINES
    }
    assert not long, f"code cells over {MAX_CELL_LINES} lines (cell index: lines): {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_outputs(path):
    """nbval never compares a cell with no execution_count: a stripped notebook checks nothing."""
    nb = nbformat.read(path, as_version=4)
    unrun = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.source.strip() and c.execution_count is None
    ]
    assert not unrun, f"code cells {unrun} have no execution_count: run `make outputs NB={path}`"
    errors = [i for i, c in enumerate(_code(nb)) for o in c.outputs if o.output_type == "error"]
    assert not errors, f"code cells {errors} have error outputs"
    counts = [c.execution_count for c in _code(nb) if c.source.strip()]
    assert counts == sorted(counts), "cells were not executed top to bottom"
    assert not any("execution" in c.metadata for c in nb.cells), "timing metadata committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_have_solutions(path):
    nb = nbformat.read(path, as_version=4)
    solutions = [i for i, c in enumerate(nb.cells) if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) >= 2, "at least two exercises, each followed by a solution cell"
    for i in solutions:
        before = nb.cells[i - 1]
        assert before.cell_type == "markdown" and "Exercise" in before.source, (
            f"cell {i} is tagged solution but does not follow an 'Exercise' markdown cell"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_conventions(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(_code(nb)):
        for line in cell.source.splitlines():
            if line.strip().startswith("# NBVAL"):
                assert line.strip() in NBVAL_MARKERS, f"cell {i}: nbval ignores {line.strip()!r}"
        if LEGACY_DEMO in cell.metadata.get("tags", []):  # shows the old API failing
            assert "except" in cell.source, f"cell {i}: a legacy demo catches what it shows"
            continue
        for pattern in LEGACY:
            assert not re.search(pattern, cell.source, re.M | re.I), f"cell {i}: {pattern}"
        assert "verbose=1" not in cell.source, f"cell {i}: no Keras progress bars"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for out in cell.outputs:
                text = out.get("text", "")
                assert "━━" not in text, f"cell {i}: a Keras progress bar is committed"
                assert "absl::InitializeLog" not in text and "oneDNN custom" not in text, (
                    f"cell {i}: TensorFlow start-up logs are committed (re-run `make outputs`)"
                )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"PROFLE": "smoke"}, "did you mean 'PROFILE'"),
        ({"PROFILE": "quick"}, "PROFILE must be one of smoke, workshop, full"),
        ({"SEED": "three"}, "SEED must be an int from 0 to 2147483647"),
    ],
)
def test_runner_rejects_bad_parameters_before_starting_a_kernel(params, message):
    if not NOTEBOOKS:
        pytest.skip("no lessons yet")
    with pytest.raises(ParameterError, match=message):
        check_papermill_parameters(NOTEBOOKS[0], params)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_teaching_structure_objectives_first_key_points_last_instructor_notes(path):
    """Issue 13: learning objectives at the top, key points at the end, instructor notes (which
    student copies leave out) in between, each a markdown cell with its tag."""
    cells = nbformat.read(path, as_version=4).cells
    tagged = {
        tag: [i for i, c in enumerate(cells) if tag in c.metadata.get("tags", [])]
        for tag in ("objectives", "keypoints", "instructor")
    }
    assert tagged["objectives"] == [1], f"{path.name}: objectives cell at {tagged['objectives']}"
    assert tagged["keypoints"] == [len(cells) - 1], f"{path.name}: {tagged['keypoints']}"
    assert 1 <= len(tagged["instructor"]) <= 5, f"{path.name}: {tagged['instructor']}"
    for tag, where in tagged.items():
        for i in where:
            assert cells[i].cell_type == "markdown", f"{path.name} cell {i} ({tag})"
    assert cells[1].source.startswith("### Learning objectives")
    assert cells[-1].source.startswith("### Key points")
    for i in tagged["instructor"]:
        assert cells[i].source.startswith("> **Instructor note.**"), f"{path.name} cell {i}"
