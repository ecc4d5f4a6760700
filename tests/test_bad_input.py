"""Bad input a learner or instructor really produces, each probed the way they would meet it.

Every case checks two things: the error names what was wrong and what to do about it, and
nothing the user had (results, models, executed notebooks, data files) was lost or changed.
The table of cases is in the issue note; each ``test_`` below is one case or one family of
cases (parametrized).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

import helpers
from coursetools import files
from coursetools.notebooks import check_papermill_parameters
from coursetools.parameters import MAX_SEED, ParameterError, check_parameters
from coursetools.paths import lesson_notebooks, repo_root
from helpers.data import DataError, load_mnist
from helpers.lesson import Lesson, start_lesson
from helpers.results import save_json

ROOT = repo_root()
GOOD = {"PROFILE": "smoke", "SEED": 0, "DATA_SOURCE": None}
# A folder nobody may write to, even root: sysfs refuses new entries.
UNWRITABLE = Path("/sys/mnist-course-probe")


def _refused(path: Path) -> bool:
    try:
        path.mkdir()
    except OSError:
        return True
    path.rmdir()
    return False


needs_unwritable = pytest.mark.skipif(
    not _refused(UNWRITABLE), reason="needs a folder nobody can write to (/sys on Linux)"
)


def _script(name: str):
    return importlib.import_module(f"coursetools.{name}")


def _digest(folder: Path) -> dict[str, str]:
    """Content hash of every file under ``folder``: proof that nothing changed."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "changes, names_the_problem, says_what_to_do",
    [
        ({"SEEED": 3}, "'SEEED' (did you mean 'SEED'?)", "This notebook takes"),
        ({"BATCH": 3}, "'BATCH'", "PROFILE (one of smoke, workshop, full)"),
        ({"PROFILE": "Workshop"}, "got 'Workshop'", "one of smoke, workshop, full"),
        ({"PROFILE": None}, "got None", "papermill -p PROFILE smoke"),
        ({"SEED": -1}, "got -1", f"from 0 to {MAX_SEED}"),
        ({"SEED": 2**32}, "got 4294967296", f"from 0 to {MAX_SEED}"),
        ({"SEED": 3.0}, "got 3.0 (float)", "papermill -p SEED 3"),
        ({"SEED": True}, "got True (bool)", "papermill -p SEED 3"),
        ({"SEED": "3"}, "got '3' (str)", "papermill -p SEED 3"),
        ({"DATA_SOURCE": 42}, "got 42 (int)", "'embedded'"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_bad_parameter_values(changes, names_the_problem, says_what_to_do):
    with pytest.raises(ParameterError) as err:
        check_parameters({**GOOD, **changes})
    assert names_the_problem in str(err.value) and says_what_to_do in str(err.value)


def test_parameters_cell_not_run():
    with pytest.raises(ParameterError, match="run the 'parameters' cell first"):
        check_parameters({"SEED": 0})


def test_rerun_from_the_top_in_a_live_kernel(isolated_env):
    """The most common thing learners do: run all, then run the first cells again. The
    lesson's own constants (defined further down) are not misspelt parameters."""
    kernel = dict(GOOD)
    start_lesson("01_underfitting", kernel)
    kernel.update(BATCH_SIZE=128, RARE=(3, 8), LOW_LR=1e-5, N_SEEDS=4)  # later cells ran
    start_lesson("01_underfitting", kernel)  # re-run from the top: no error


def test_rerun_still_catches_a_misspelt_parameter_and_says_how_to_clear_it():
    kernel = {**GOOD, "SEEED": 3, "In": []}  # "In": IPython's history, so a live kernel
    for _ in range(2):  # learner fixes the cell but the name lives on in the kernel
        with pytest.raises(ParameterError) as err:
            check_parameters(kernel)
        assert "restart the kernel (or run `del SEEED`)" in str(err.value)


def test_a_misspelling_typed_after_a_good_run_is_still_caught():
    kernel = {**GOOD, "In": []}
    check_parameters(kernel)
    kernel.update(BATCH_SIZE=128, PROFLE="full")  # a constant, and a typo in the params cell
    with pytest.raises(ParameterError, match="'PROFLE' \\(did you mean 'PROFILE'\\?\\)"):
        check_parameters(kernel)


def test_outside_a_kernel_the_message_does_not_mention_one():
    with pytest.raises(ParameterError) as err:
        check_parameters({**GOOD, "SEEED": 3})
    assert "restart the kernel" not in str(err.value)


def test_papermill_parameter_misspelt():
    notebook = lesson_notebooks()[0]
    with pytest.raises(ParameterError, match="'PROFILES' \\(did you mean 'PROFILE'\\?\\)"):
        check_papermill_parameters(notebook, {"PROFILES": "smoke"})


# ----------------------------------------------------------------------------- data
def test_relative_data_source_says_where_it_looked(isolated_env, monkeypatch):
    monkeypatch.chdir(isolated_env)
    with pytest.raises(DataError) as err:
        load_mnist("data/mnist.npz")
    msg = str(err.value)
    assert f"looked for at {isolated_env / 'data' / 'mnist.npz'}" in msg
    assert "notebook's own folder" in msg and "absolute path" in msg


def test_missing_absolute_path(isolated_env):
    with pytest.raises(DataError) as err:
        load_mnist(str(isolated_env / "nowhere"))
    assert "does not exist" in str(err.value) and "relative" not in str(err.value)
    assert "DATA_SOURCE='embedded'" in str(err.value)


def test_unknown_source_name_lists_the_choices(isolated_env):
    with pytest.raises(ValueError, match="Unknown data source 'kaggle'. Use one of 'auto'"):
        load_mnist("kaggle")


@pytest.mark.parametrize(
    "name, content",
    [
        ("mnist.npz", b""),  # empty download
        ("mnist.npz", b"<html>captive portal login</html>"),  # a proxy's page saved as data
        ("mnist.npz", b"PK\x03\x04 truncated zip"),
    ],
    ids=["empty", "html-page", "truncated-zip"],
)
def test_unreadable_npz_is_a_data_error_and_is_left_alone(isolated_env, name, content):
    path = isolated_env / name
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_mnist(str(path))
    assert str(path) in str(err.value) or name in str(err.value)
    assert path.read_bytes() == content  # the user's file is never deleted or changed


def test_npz_with_the_wrong_arrays(isolated_env):
    path = isolated_env / "mnist.npz"
    np.savez(path, images=np.zeros((3, 28, 28), np.uint8))
    before = path.read_bytes()
    with pytest.raises(DataError, match="x_train"):
        load_mnist(str(path))
    assert path.read_bytes() == before


def test_folder_without_the_idx_files(isolated_env):
    folder = isolated_env / "mnist"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    with pytest.raises(DataError) as err:
        load_mnist(str(folder))
    assert "train-images-idx3-ubyte" in str(err.value)
    assert (folder / "notes.txt").read_text() == "my notes"


def test_garbled_gz_names_the_file(isolated_env):
    folder = isolated_env / "mnist"
    folder.mkdir()
    for stem in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (folder / f"{stem}.gz").write_bytes(gzip.compress(b"\x00" * 64)[:-9])  # cut short
    before = _digest(folder)
    with pytest.raises(DataError) as err:
        load_mnist(str(folder))
    assert "-idx" in str(err.value) and ".gz" in str(err.value)
    assert _digest(folder) == before


# ----------------------------------------------------------------------------- output folders
@needs_unwritable
def test_unwritable_output_folder_fails_before_any_training(isolated_env, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(UNWRITABLE))
    with pytest.raises(files.OutputNotWritable) as err:
        start_lesson("01_underfitting", dict(GOOD))
    msg = str(err.value)
    assert str(UNWRITABLE) in msg and "Nothing has run yet" in msg and "COURSE_BUILD_DIR" in msg


@needs_unwritable
def test_unwritable_at_the_end_says_the_work_is_still_in_memory(isolated_env, monkeypatch):
    lesson = Lesson("01_underfitting", "smoke", 0)  # started fine; then the folder went away
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(UNWRITABLE))
    with pytest.raises(files.OutputNotWritable, match="still in memory: fix this, then run"):
        lesson.finish()


def test_output_folder_below_a_file(isolated_env, monkeypatch):
    blocker = isolated_env / "results"
    blocker.write_text("a file where the output folder should be")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(blocker / "run"))
    with pytest.raises(files.OutputNotWritable, match="a file is in the way"):
        start_lesson("01_underfitting", dict(GOOD))
    assert blocker.read_text().startswith("a file where")


# ----------------------------------------------------------------------------- results files
class NotJson:
    pass


def test_results_that_cannot_be_saved_leave_everything_as_it_was(tmp_path):
    path = tmp_path / "01_underfitting.json"
    save_json(path, {"run": 1})
    save_json(path, {"run": 2})
    before = _digest(tmp_path)
    with pytest.raises(TypeError) as err:
        save_json(path, {"run": 3, "extra": {"model": NotJson()}})
    msg = str(err.value)
    assert "payload['extra']['model'] is a NotJson" in msg and "left as they were" in msg
    assert _digest(tmp_path) == before  # current file, its generation, no stray temp file


def test_every_generation_of_results_is_kept(tmp_path):
    path = tmp_path / "02_overfitting.json"
    for run in range(4):
        save_json(path, {"run": run})
    kept = files.generations(path)
    assert [json.loads(p.read_text())["run"] for p in kept] == [0, 1, 2]
    assert json.loads(path.read_text())["run"] == 3
    assert all(p.name.endswith(".prev.json") for p in kept)  # the ledger skips them


def test_results_files_are_ordinary_files(tmp_path):
    path = tmp_path / "r.json"
    old = os.umask(0o022)
    try:
        save_json(path, {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # mkstemp alone gives 0600


def test_interrupted_write_keeps_the_current_file(tmp_path):
    path = tmp_path / "07_capstone.keras"
    path.write_bytes(b"the model from yesterday")

    def interrupted(tmp: Path) -> None:
        tmp.write_bytes(b"half a mod")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.write_keeping_previous(path, interrupted)
    assert path.read_bytes() == b"the model from yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["07_capstone.keras"]


def test_saved_models_keep_every_generation(isolated_env):
    from helpers._tf import keras

    lesson = Lesson("01_underfitting", "smoke", 0)
    run = type("Run", (), {"model": helpers.build_linear()})()
    for value in (1.0, 2.0, 3.0):  # three different models, saved in turn
        run.model.layers[-1].bias.assign(np.full(10, value, np.float32))
        path = lesson.save_model(run)
    kept = files.generations(path)
    saved = [float(keras.saving.load_model(p).layers[-1].bias.numpy()[0]) for p in [*kept, path]]
    assert saved == [1.0, 2.0, 3.0]  # oldest first, the current one last
    assert stat.S_IMODE(path.stat().st_mode) & 0o044  # readable by others, as umask allows


def test_a_write_that_makes_a_folder_is_refused_cleanly(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"current")
    with pytest.raises(TypeError, match="must create a file, not a folder"):
        files.write_keeping_previous(path, lambda tmp: (tmp.unlink(), tmp.mkdir()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
    assert path.read_bytes() == b"current"


def test_a_generation_name_taken_meanwhile_is_not_overwritten(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text("current")
    taken = files.generation_name(path)
    taken.write_text("another process's generation")
    names = iter([taken, taken.with_name("r.other.prev.json")])  # the race, then a free name
    monkeypatch.setattr(files, "generation_name", lambda p: next(names))
    assert files.keep_previous(path).name == "r.other.prev.json"
    assert taken.read_text() == "another process's generation"


def test_a_rerun_of_a_lesson_keeps_the_earlier_results(isolated_env, capsys):
    for n in range(2):
        lesson = Lesson("01_underfitting", "smoke", 0)
        lesson.extra["run"] = n
        lesson.finish()
    path = isolated_env / "build" / "lessons" / "smoke-seed0" / "01_underfitting.json"
    (kept,) = files.generations(path)
    assert json.loads(kept.read_text())["extra"]["run"] == 0
    assert f"the previous results kept as {kept.name}" in capsys.readouterr().out


def test_prune_lists_first_and_deletes_only_when_asked(tmp_path, capsys):
    prune = _script("prune")
    path = tmp_path / "lessons" / "smoke-seed0" / "03_augmentation.json"
    for run in range(5):
        save_json(path, {"run": run})
        os.utime(path, (time.time() + run, time.time() + run))  # distinct stamps
    before = _digest(tmp_path)
    assert prune.main(["--keep", "2", str(tmp_path / "lessons")]) == 0
    assert "would delete" in capsys.readouterr().out and _digest(tmp_path) == before
    assert prune.main(["--keep", "2", "--yes", str(tmp_path / "lessons")]) == 0
    kept = [json.loads(p.read_text())["run"] for p in files.generations(path)]
    assert kept == [2, 3] and json.loads(path.read_text())["run"] == 4


def test_prune_removes_a_kept_run_folder_as_a_whole(tmp_path, capsys):
    prune = _script("prune")
    run = tmp_path / "lessons" / "smoke-seed0"
    for n in range(3):  # three runs of one lesson, then the folder moved aside
        save_json(run / "01_underfitting.json", {"run": n})
        os.utime(run / "01_underfitting.json", (1e9 + n, 1e9 + n))
    kept_run = files.keep_previous(run, move=True)
    save_json(run / "01_underfitting.json", {"run": "current"})
    assert prune.main(["--keep", "0", str(tmp_path / "lessons")]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == f"would delete {kept_run}" and len(listed) == 2  # once, not its files
    assert prune.main(["--keep", "0", "--yes", str(tmp_path / "lessons")]) == 0
    assert not kept_run.exists()
    assert json.loads((run / "01_underfitting.json").read_text()) == {"run": "current"}


@pytest.mark.parametrize(
    "argv, message", [(["--keep", "-1"], "--keep must be"), (["/no/such/folder"], "no such folder")]
)
def test_prune_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        _script("prune").main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


# ----------------------------------------------------------------------------- make lessons
@pytest.fixture
def run_lessons(isolated_env, monkeypatch):
    """coursetools/run_lessons.py with papermill replaced by a recorder (no kernels started)."""
    module = _script("run_lessons")
    executed: list[tuple[str, str | None]] = []

    def fake_execute(notebook, output, parameters):
        executed.append((Path(notebook).name, os.environ.get("MNIST_PATH")))
        Path(output).write_text(f"executed {Path(notebook).name}")

    monkeypatch.setattr(module, "execute_lesson", fake_execute)
    module.executed = executed
    return module


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seed", "-1"], f"--seed must be an integer from 0 to {MAX_SEED}, got '-1'"),
        (["--seed", "4294967296"], f"from 0 to {MAX_SEED}, got '4294967296'"),
        (["--seed", "three"], "got 'three'"),
        (["--only", "99"], "--only 99: no such lesson. Choose from 00, 01, 02"),
        (["--only", "08", "9"], "--only 9: no such lesson"),
        (["--only"], "--only (nothing): no such lesson"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_run_lessons_bad_arguments(run_lessons, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_lessons.main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not run_lessons.executed


def test_run_lessons_bad_profile(run_lessons, capsys):
    assert run_lessons.main(["--profile", "ful", "--only", "08"]) == 2
    assert "PROFILE must be one of smoke, workshop, full; got 'ful'" in capsys.readouterr().err


def test_run_lessons_keeps_earlier_runs_even_within_one_second(run_lessons, isolated_env):
    out = isolated_env / "runs" / "smoke-seed0"
    for n in range(3):  # three runs in the same second: no name collision, nothing lost
        assert run_lessons.main(["--profile", "smoke", "--out", str(out)]) == 0
        (out / "mine.txt").write_text(f"notes {n}")
        os.utime(out, (1e9, 1e9))  # the same time stamp every time
    kept = files.generations(out)
    assert [(k / "mine.txt").read_text() for k in kept] == ["notes 0", "notes 1"]
    assert sorted(out.parent.iterdir()) == sorted([out, *kept])


@needs_unwritable
def test_run_lessons_into_an_unwritable_folder(run_lessons, capsys):
    assert run_lessons.main(["--only", "08", "--out", str(UNWRITABLE / "run")]) == 2
    err = capsys.readouterr().err
    assert str(UNWRITABLE) in err and "choose another --out" in err and not run_lessons.executed


@needs_unwritable
def test_run_lessons_cannot_move_the_previous_run_aside(run_lessons, capsys):
    # /sys/kernel exists, has entries, and cannot be renamed: the kept-folder step fails
    assert run_lessons.main(["--out", "/sys/kernel"]) == 2
    err = capsys.readouterr().err
    assert "cannot keep the previous run" in err and "--out" in err


def test_run_lessons_resolves_a_relative_mnist_path(run_lessons, isolated_env, monkeypatch):
    monkeypatch.chdir(isolated_env)
    monkeypatch.setenv("MNIST_PATH", "data/mnist")
    run_lessons.main(["--profile", "smoke", "--only", "08", "--out", str(isolated_env / "o")])
    assert run_lessons.executed == [("08_class_imbalance.ipynb", str(isolated_env / "data/mnist"))]


def test_run_lessons_interrupted(run_lessons, isolated_env, monkeypatch, capsys):
    out = isolated_env / "o"
    run_lessons.main(["--profile", "smoke", "--out", str(out)])
    first = _digest(out)

    def interrupted(notebook, output, parameters):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_lessons, "execute_lesson", interrupted)
    assert run_lessons.main(["--profile", "smoke", "--out", str(out)]) == 130
    assert "Interrupted during 00_data_and_baseline.ipynb" in capsys.readouterr().err
    (kept,) = files.generations(out)
    assert _digest(kept) == first


def test_run_lessons_only_adds_to_the_run_and_keeps_what_it_replaces(run_lessons, isolated_env):
    out = isolated_env / "o"
    run_lessons.main(["--profile", "smoke", "--out", str(out)])
    first = _digest(out)
    assert run_lessons.main(["--profile", "smoke", "--only", "07", "--out", str(out)]) == 0
    now = _digest(out)
    replaced = ("07_capstone.ipynb", "timings.json")
    assert all(now[name] == digest for name, digest in first.items() if name not in replaced)
    (kept,) = files.generations(out / "07_capstone.ipynb")
    assert now[kept.name] == first["07_capstone.ipynb"]


def test_run_lessons_relative_out_is_from_the_callers_folder(
    run_lessons, isolated_env, monkeypatch
):
    monkeypatch.chdir(isolated_env)
    run_lessons.main(["--profile", "smoke", "--only", "08", "--out", "mine"])
    assert os.environ["COURSE_OUTPUT_DIR"] == str(isolated_env / "mine")
    assert (isolated_env / "mine" / "08_class_imbalance.ipynb").exists()


def test_make_lessons_only_is_passed_on():
    dry = subprocess.run(
        ["make", "-n", "lessons", "ONLY=00 08"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "coursetools.run_lessons --profile workshop --seed 0 --only 00 08" in dry


@pytest.mark.parametrize(("yes", "deletes"), [("1", True), ("0", False), ("no", False)])
def test_make_prune_deletes_only_when_told_yes(yes, deletes):
    dry = subprocess.run(
        ["make", "-n", "prune", f"YES={yes}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert ("--yes" in dry) is deletes


def test_readme_documents_the_make_variable_not_an_option():
    readme = (ROOT / "README.md").read_text()
    assert "make lessons --only" not in readme and "ONLY=" in readme


def test_kernels_do_not_print_their_transport_warning(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    src = tmp_path / "probe.ipynb"
    nbformat.write(nb, src)
    script = (
        f"from coursetools.notebooks import execute_lesson; "
        f"execute_lesson({str(src)!r}, {str(tmp_path / 'out.ipynb')!r}, {{}})"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "without encryption" not in done.stderr
    assert "hello" in nbformat.read(tmp_path / "out.ipynb", 4).cells[0].outputs[0].text


# ----------------------------------------------------------------------------- KerasTuner
def _tiny_search(build, **tuner_kwargs):
    import keras_tuner

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 28, 28, 1), np.float32), rng.integers(0, 10, 64)
    tuner = keras_tuner.RandomSearch(
        build, objective="val_accuracy", max_trials=2, seed=0, overwrite=True, **tuner_kwargs
    )
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    return tuner


def _build(hp):
    from helpers.training import compile_model

    units = hp.Choice("units", [8, 16])
    return compile_model(helpers.build_mlp(hidden=(units,)), "adam", 1e-3)


def test_keras_tuner_as_documented_runs_every_trial(tmp_path):
    """KerasTuner's default trial imports tensorboard; without it every trial used to fail."""
    tuner = _tiny_search(_build, directory=str(tmp_path))
    trials = tuner.oracle.trials.values()
    assert [t.status for t in trials] == ["COMPLETED", "COMPLETED"]
    assert all(t.score is not None for t in trials)


def test_a_crashed_trial_stops_the_search_loudly(tmp_path):
    import keras_tuner

    class Crashing(keras_tuner.HyperModel):  # what a missing tensorboard did to every trial
        def build(self, hp):
            return _build(hp)

        def fit(self, hp, model, *args, **kwargs):
            raise ModuleNotFoundError("No module named 'tensorboard'")

    # KerasTuner's default gives up only after 3 crashes in a row: 2 trials fail silently
    quiet = _tiny_search(Crashing(), directory=str(tmp_path / "default"))
    assert [t.status for t in quiet.oracle.trials.values()] == ["FAILED", "FAILED"]
    with pytest.raises(
        RuntimeError, match="(?s)consecutive failures.*No module named .tensorboard"
    ):
        _tiny_search(
            Crashing(), directory=str(tmp_path / "strict"), max_consecutive_failed_trials=1
        )


def test_lesson_04_uses_keras_tuner_standard_api():
    source = "\n".join(
        c.source
        for c in nbformat.read(ROOT / "notebooks" / "04_tuning.ipynb", 4).cells
        if c.cell_type == "code"
    )
    assert "def run_trial" not in source
    assert "keras_tuner.HyperModel" in source and "max_consecutive_failed_trials=1" in source
