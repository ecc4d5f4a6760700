"""The Dask sweep: tasks, ordering, failures, retries, an external scheduler, and a real sweep
of two lessons × two seeds at smoke on a LocalCluster of worker processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from coursetools import sweep
from coursetools.sweep import Task, make_tasks, plan_seconds, waits_for

PARAMETERS = 'PROFILE = "workshop"\nSEED = 0\nDATA_SOURCE = None'


def tiny_lessons(folder: Path, **bodies: str) -> Path:
    """Lesson-shaped notebooks (a parameters cell, then ``body``) that start no TensorFlow."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell(PARAMETERS)
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell(body)]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.delenv(sweep.SCHEDULER_ENV, raising=False)
    return tmp_path / "build"


# ----------------------------------------------------------------------------- planning
def tasks_for(*names: str, seeds=(0,)) -> list[Task]:
    return make_tasks([Path(f"{n}.ipynb") for n in names], ["workshop"], list(seeds), Path("b"))


def test_the_capstone_waits_for_the_earlier_lessons_of_its_own_run_folder():
    tasks = tasks_for("00_a", "06_b", "07_capstone", "08_c", seeds=(0, 1))
    capstone = [t for t in tasks if "07" in t.notebook and t.seed == 1][0]
    assert {(Path(t.notebook).stem, t.seed) for t in waits_for(capstone, tasks)} == {
        ("00_a", 1),
        ("06_b", 1),
    }
    assert all(not waits_for(t, tasks) for t in tasks if "07" not in t.notebook)


def test_plan_packs_longest_first_and_respects_the_capstone_order():
    tasks = tasks_for("00_a", "01_b", "07_capstone")
    seconds = dict(zip(tasks, [10.0, 30.0, 50.0], strict=True))
    assert plan_seconds(tasks, seconds, 1) == 90.0
    # two workers: 00 and 01 side by side, 07 only after 01 ends at 30 s
    assert plan_seconds(tasks, seconds, 2) == 80.0
    assert (
        plan_seconds(tasks_for("00_a", "01_b"), dict.fromkeys(tasks_for("00_a", "01_b"), 5.0), 4)
        == 5.0
    )


def test_plan_prints_estimates_from_the_reference_timings(capsys):
    assert (
        sweep.main(["--plan", "--profiles", "workshop", "--seeds", "0", "1", "--workers", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert "18 notebook runs" in out and "1 worker(s)" in out and "2 worker(s)" in out


def test_plan_uses_a_measured_runs_timings_for_a_profile_without_reference(tmp_path, capsys):
    args = ["--plan", "--profiles", "full", "--seeds", "0", "1", "--only", "00", "07"]
    assert sweep.main(args) == 2
    assert "No timings for profile(s) full" in capsys.readouterr().out
    timings = tmp_path / "timings.json"
    seconds = {"00_data_and_baseline.ipynb": 20.0, "07_capstone.ipynb": 300.0}
    timings.write_text(json.dumps({"profile": "full", "seed": 0, "seconds": seconds}))
    assert sweep.main([*args, "--timings", str(timings), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    # two seeds: each 07 waits for its 00; two workers run both chains side by side
    assert "1 worker(s): about 10 min 40 s" in out and "2 worker(s): about 5 min 20 s" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "x"], "--seeds must be integers"),
        (["--only", "42"], "--only 42: no such lesson"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--profiles", "fast"], "invalid choice: 'fast'"),
    ],
)
def test_bad_arguments_are_named(args, message, capsys):
    with pytest.raises(SystemExit):
        sweep.main(args)
    assert message in capsys.readouterr().err


# ----------------------------------------------------------------------------- running
def test_a_failed_notebook_is_reported_kept_and_the_others_finish(build, tmp_path, capsys):
    folder = tiny_lessons(
        tmp_path / "nb", **{"00_ok": "print('fine')", "01_broken": "raise ValueError('on purpose')"}
    )
    args = [
        "--notebooks",
        str(folder),
        "--profiles",
        "smoke",
        "--seeds",
        "0",
        "1",
        "--workers",
        "2",
    ]
    assert sweep.main(args) == 1
    out, err = capsys.readouterr()
    assert len(re.findall(r"00_ok smoke seed \d .* ok$", out, re.M)) == 2
    assert out.count("FAILED: ValueError: on purpose") == 2
    assert "[4/4]" in out and "2/4 ran to the end" in out and "01_broken smoke seed 1" in err
    for seed in (0, 1):
        run = build / "lessons" / f"smoke-seed{seed}"
        assert (run / "00_ok.ipynb").exists() and (run / "01_broken.ipynb").exists()
    # a second sweep keeps the first one's executed notebooks and summary
    assert sweep.main(args) == 1
    assert list((build / "lessons" / "smoke-seed0").glob("00_ok.*.prev.ipynb"))
    summaries = sorted((build / "sweeps").glob("sweep.*.json"))
    assert len(summaries) == 2
    tasks = json.loads(summaries[0].read_text())["tasks"]
    assert {t["error"] is None for t in tasks} == {True, False}


@pytest.fixture
def scheduler(tmp_path):
    """A Dask scheduler and one single-threaded worker, started as separate processes on
    127.0.0.1; yields the scheduler's address."""
    info = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    cli = [sys.executable, "-m"]
    procs = [
        subprocess.Popen(
            [*cli, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0"]
            + ["--no-dashboard", "--scheduler-file", str(info)],
            **quiet,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        worker = [*cli, "distributed.cli.dask_worker", address, "--nthreads", "1"]
        procs.append(subprocess.Popen([*worker, "--no-dashboard"], **quiet))
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)


def test_an_existing_scheduler_is_used_when_its_address_is_given(
    build, tmp_path, scheduler, monkeypatch, capsys
):
    assert scheduler.startswith("tcp://127.0.0.1:")
    folder = tiny_lessons(tmp_path / "nb", **{"00_ok": "print('fine')"})
    monkeypatch.setenv(sweep.SCHEDULER_ENV, scheduler)
    assert sweep.main(["--notebooks", str(folder), "--profiles", "smoke"]) == 0
    out = capsys.readouterr().out
    assert f"Sweep of 1 notebook runs on {scheduler}" in out and "1/1 ran to the end" in out
    assert "up to 3 more time(s)" in out  # Dask's default, which the note explains
    assert (build / "lessons" / "smoke-seed0" / "timings.json").exists()


KILL_WORKER = """import os, pathlib, signal
marker = pathlib.Path(os.environ["COURSE_OUTPUT_DIR"]) / "{name}.died"
if {always} or not marker.exists():
    marker.touch()
    os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent: the Dask worker process
"""


def test_a_task_whose_worker_dies_runs_once_more_and_twice_is_reported(build, tmp_path, capsys):
    folder = tiny_lessons(
        tmp_path / "nb",
        **{
            "00_ok": "print('fine')",
            "01_kills_once": KILL_WORKER.format(name="once", always=False),
            "02_kills_always": KILL_WORKER.format(name="always", always=True),
        },
    )
    assert sweep.main(["--notebooks", str(folder), "--profiles", "smoke", "--workers", "2"]) == 1
    out, err = capsys.readouterr()
    assert re.search(r"01_kills_once smoke seed 0 .* ok$", out, re.M)
    assert re.search(r"00_ok smoke seed 0 .* ok$", out, re.M)
    assert re.search(r"02_kills_always smoke seed 0 .* FAILED: KilledWorker", out, re.M)
    assert "2/3 ran to the end" in out and "02_kills_always smoke seed 0" in err
    summary = json.loads(next((build / "sweeps").glob("sweep.*.json")).read_text())
    lost = [t for t in summary["tasks"] if "KilledWorker" in (t["error"] or "")]
    assert len(lost) == 1 and lost[0]["seconds"] is None


@pytest.mark.notebooks
@pytest.mark.xdist_group("sweep")
def test_a_smoke_sweep_of_two_lessons_and_two_seeds_on_worker_processes(build, capsys):
    args = ["--profiles", "smoke", "--seeds", "0", "1", "--only", "00", "08", "--workers", "2"]
    assert sweep.main(args) == 0
    out = capsys.readouterr().out
    assert "LocalCluster of 2 worker processes" in out and "4/4 ran to the end" in out
    for seed in (0, 1):
        for lesson in ("00_data_and_baseline", "08_class_imbalance"):
            result = json.loads(
                (build / "lessons" / f"smoke-seed{seed}" / f"{lesson}.json").read_text()
            )
            assert result["seed"] == seed and result["profile"] == "smoke"
