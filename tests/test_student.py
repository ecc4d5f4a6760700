"""coursetools/student.py: fast tests on tiny synthetic notebooks, plus one test (marked
`notebooks`) that executes the student copies of every lesson at the smoke profile."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursetools import nbtools as nbt
from coursetools import student as make_student
from coursetools.paths import lesson_notebooks

ROOT = Path(__file__).resolve().parent.parent

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def solution(source: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source, execution_count=3)
    cell.metadata["tags"] = ["solution"]
    cell.metadata["papermill"] = {"duration": 1.2}
    cell.metadata["execution"] = {"iopub.execute_input": "2026-11-22T10:00:00Z"}
    cell.outputs = [new_output("stream", name="stdout", text="the answer is 42\n")]
    return cell


def lesson(*later: str) -> nbformat.NotebookNode:
    """Parameters, a setup cell, one exercise with its solution, then ``later`` code cells."""
    params = new_code_cell("PROFILE = 'workshop'\nSEED = 0", execution_count=1)
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell("# Parameters\nPROFILE = 'smoke'\n", execution_count=2)
    injected.metadata["tags"] = ["injected-parameters"]
    setup = new_code_cell("import math\nbase = 40\nprint(base)", execution_count=2)
    setup.outputs = [new_output("stream", name="stdout", text="40\n")]
    setup.metadata["tags"] = []  # as papermill leaves every cell
    cells = [
        new_markdown_cell("# 00 · A tiny lesson"),
        params,
        injected,
        setup,
        new_markdown_cell("### Exercise 1 — add two"),
        solution("answer = base + 2  # the trick\nprint(f'the answer is {answer}')\n\nprint(base)"),
        *(new_code_cell(src, execution_count=4 + i) for i, src in enumerate(later)),
    ]
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    nb.metadata["papermill"] = {"parameters": {"PROFILE": "smoke"}}
    return nb


def write(folder: Path, name: str, nb: nbformat.NotebookNode) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder


# ----------------------------------------------------------------------------- transformation
def test_solutions_become_exercise_stubs_and_everything_run_related_goes():
    original = lesson("print(base * 2)")
    student, stubs = make_student.to_student(original)
    assert stubs == 1
    stub = next(c for c in student.cells if "exercise" in nbt.tags(c))
    assert stub.cell_type == "code" and "solution" not in nbt.tags(stub)
    assert stub.source == make_student.STUB and "write your answer here" in stub.source
    exec(compile(stub.source, "<stub>", "exec"), {})  # valid Python that does nothing
    assert not any("injected-parameters" in nbt.tags(c) for c in student.cells)
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata
        assert cell.metadata.get("tags", ["none"]) != []
    assert "papermill" not in student.metadata
    nbformat.validate(student)
    # the original is untouched
    assert nbt.is_solution(original.cells[5]) and original.cells[5].outputs
    assert "papermill" in original.metadata


def test_the_discussion_of_a_solution_is_replaced_too():
    original = lesson("print(base * 2)")
    discussion = new_markdown_cell("The answer is 42 because 40 + 2 is 42.")
    discussion.metadata["tags"] = ["answer"]
    original.cells.insert(6, discussion)
    student, _ = make_student.to_student(original)
    texts = [c.source for c in student.cells]
    assert discussion.source not in texts
    assert make_student.ANSWER_STUB in texts
    assert texts.index(make_student.ANSWER_STUB) == texts.index(make_student.STUB) + 1
    assert original.cells[6].source == discussion.source  # the original is untouched


def test_instructor_notes_are_left_out_and_objectives_kept():
    original = lesson("print(base * 2)")
    note = new_markdown_cell("> **Instructor note.** Pause here while the CNN trains.")
    note.metadata["tags"] = ["instructor"]
    goals = new_markdown_cell("### Learning objectives\n\n- read a learning curve")
    goals.metadata["tags"] = ["objectives"]
    original.cells[1:1] = [goals, note]
    student, _ = make_student.to_student(original)
    texts = [c.source for c in student.cells]
    assert note.source not in texts and goals.source in texts
    assert texts.index(goals.source) == 1


def test_answer_tags_in_the_lessons_sit_right_after_a_solution():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            if "answer" in nbt.tags(cell):
                assert cell.cell_type == "markdown", f"{path.name} cell {i}"
                assert i > 0 and nbt.is_solution(cells[i - 1]), f"{path.name} cell {i}"


def test_no_distinctive_solution_line_is_left():
    original = lesson("print(base)")
    lines = nbt.distinctive_solution_lines(original)
    # 'print(base)' also occurs outside the solution and the comment-only/blank lines are ignored
    assert set(lines) == {
        "answer = base + 2  # the trick",
        "print(f'the answer is {answer}')",
    }
    student, _ = make_student.to_student(original)
    assert nbt.leaked_solution_lines(original, student) == []
    student.cells[-1].source = "answer = base + 2  # the trick"
    assert nbt.leaked_solution_lines(original, student) == ["answer = base + 2  # the trick"]


# ----------------------------------------------------------------------------- leak check
@pytest.mark.parametrize(
    ("later", "leaked"),
    [
        (["print(answer)"], ["answer"]),
        (["def report():\n    return answer\n", "report()"], ["answer"]),
        (["answer = 1\nprint(answer)"], []),  # defined again before use: fine
        (["def f(answer):\n    return answer\n"], []),  # a parameter, not the global
        (["print(base)", "!echo magic\nx = [answer for _ in range(2)]"], ["answer"]),
        (["print(math.pi)"], []),
    ],
)
def test_names_only_a_solution_defines_are_found(later, leaked):
    leaks = nbt.solution_leaks(lesson(*later))
    assert [leak.name for leak in leaks] == leaked
    for leak in leaks:
        assert leak.solution_cell == 5 and leak.used_in_cell >= 6


@pytest.mark.parametrize(
    ("later", "leaked"),
    [
        (["results['answer'] > 0"], ["results['answer']"]),
        (["results['answer'] = 1", "print(results['answer'])"], []),  # set again outside
        (["print(results['other'])"], []),
    ],
)
def test_results_only_a_solution_stores_are_found(later, leaked):
    nb = lesson(*later)
    nb.cells[3].source += "\nresults = {}"
    nb.cells[5].source += "\nresults['answer'] = answer"
    leaks = [leak for leak in nbt.solution_leaks(nb) if leak.kind == "item"]
    assert [leak.name for leak in leaks] == leaked
    assert all("KeyError" in leak.describe("00_tiny.ipynb") for leak in leaks)


def test_a_leak_fails_the_build_naming_notebook_and_cells(tmp_path, capsys):
    source = write(tmp_path / "src", "00_tiny.ipynb", lesson("print(base)", "print(answer)"))
    out = tmp_path / "student"
    assert make_student.main(["--from", str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "00_tiny.ipynb: cell 7 uses 'answer', which only the solution in cell 5 sets" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_a_lesson_without_solution_cells_is_an_error(tmp_path, capsys):
    nb = lesson()
    nb.cells[5].metadata["tags"] = []
    source = write(tmp_path / "src", "00_tiny.ipynb", nb)
    assert make_student.main(["--from", str(source), "--out", str(tmp_path / "out")]) == 1
    assert "no code cell is tagged `solution`" in capsys.readouterr().err


# ----------------------------------------------------------------------------- learner's work
@pytest.fixture
def generated(tmp_path):
    source = write(tmp_path / "src", "00_tiny.ipynb", lesson("print(base)"))
    out = tmp_path / "student"
    assert make_student.main(["--from", str(source), "--out", str(out)]) == 0
    return source, out


def test_writes_copies_and_a_readme(generated):
    _, out = generated
    assert sorted(p.name for p in out.iterdir()) == [
        ".generated.json",
        "00_tiny.ipynb",
        "README.md",
    ]
    assert "`00_tiny.ipynb` — 00 · A tiny lesson (1 exercises)" in (out / "README.md").read_text()
    student = nbformat.read(out / "00_tiny.ipynb", as_version=4)
    assert any("exercise" in nbt.tags(c) for c in student.cells)


def test_running_again_changes_nothing(generated, capsys):
    source, out = generated
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert make_student.main(["--from", str(source), "--out", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert "0 new, 0 updated, 2 unchanged" in capsys.readouterr().out


def test_an_edited_student_copy_is_kept(generated, capsys):
    source, out = generated
    path = out / "00_tiny.ipynb"
    fresh = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    nb.cells[4].source = "answer = base + 2"  # the learner's own answer
    nb.cells[4].execution_count = 5
    nbformat.write(nb, path)
    edited = path.read_bytes()
    assert make_student.main(["--from", str(source), "--out", str(out)]) == 0
    kept = [p for p in out.glob("00_tiny.*.ipynb")]
    assert len(kept) == 1 and kept[0].read_bytes() == edited
    assert path.read_bytes() == fresh
    assert f"your edited copy was kept as {kept[0].name}" in capsys.readouterr().out


def test_an_unedited_copy_is_updated_when_the_lesson_changes(generated, capsys):
    source, out = generated
    nb = nbformat.read(source / "00_tiny.ipynb", as_version=4)
    nb.cells[3].source += "\nprint('new line in the lesson')"
    nbformat.write(nb, source / "00_tiny.ipynb")
    assert make_student.main(["--from", str(source), "--out", str(out)]) == 0
    assert "new line in the lesson" in (out / "00_tiny.ipynb").read_text()
    assert not list(out.glob("00_tiny.*.ipynb"))
    assert "1 updated" in capsys.readouterr().out


def test_a_copy_of_unknown_origin_is_kept(generated):
    source, out = generated
    (out / ".generated.json").unlink()
    (out / "00_tiny.ipynb").write_text(json.dumps({"not": "what we wrote"}))
    assert make_student.main(["--from", str(source), "--out", str(out)]) == 0
    kept = list(out.glob("00_tiny.*.ipynb"))
    assert len(kept) == 1 and json.loads(kept[0].read_text()) == {"not": "what we wrote"}


def test_the_lessons_define_nothing_only_in_a_solution():
    """The committed lessons: every name a later cell uses is defined outside the solutions."""
    leaks = [
        leak.describe(path.name)
        for path in lesson_notebooks(ROOT / "notebooks")
        for leak in nbt.solution_leaks(nbt.read(path))
    ]
    assert leaks == []


# ----------------------------------------------------------------------------- execution
LESSONS = lesson_notebooks(ROOT / "notebooks")


@pytest.fixture(scope="module")
def student_copies(tmp_path_factory):
    """The student copy of every lesson, made one by one (so that a lesson whose copy cannot
    run fails alone, here, instead of stopping make_student for all of them)."""
    out = tmp_path_factory.mktemp("student")
    for path in LESSONS:
        student, _ = make_student.to_student(nbt.read(path))
        nbformat.write(student, out / path.name)
    return out


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson_path", LESSONS, ids=lambda p: p.stem)
def test_student_copy_runs_at_smoke_without_its_solutions(
    lesson_path, student_copies, tmp_path, monkeypatch
):
    from coursetools.notebooks import execute_lesson

    copy = student_copies / lesson_path.name
    student = nbformat.read(copy, as_version=4)
    original = nbt.read(lesson_path)
    assert nbt.leaked_solution_lines(original, student) == []
    assert sum("exercise" in nbt.tags(c) for c in student.cells) >= 2
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("MNIST_PATH", raising=False)
    executed = tmp_path / lesson_path.name
    # the kernel runs where the learner's would: in the student copies' folder
    execute_lesson(copy, executed, {"PROFILE": "smoke", "SEED": 1}, cwd=student_copies)
    last = [c for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"][-1]
    assert "lesson.finish()" in last.source
    assert "smoke profile: claims are reported, not asserted" in nbt.stream_text(last)
    assert (tmp_path / "out" / f"{lesson_path.stem}.json").exists()
