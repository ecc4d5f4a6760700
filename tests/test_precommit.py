"""The pre-commit configuration (local hooks only) and its notebook metadata cleaner."""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from coursetools import clean_notebooks

ROOT = Path(__file__).resolve().parent.parent


def test_every_hook_is_local_and_runs_a_course_tool():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"], "a remote hook needs a download"
    hooks = config["repos"][0]["hooks"]
    assert {h["id"] for h in hooks} >= {"ruff-check", "ruff-format", "clean-notebooks"}
    for hook in hooks:
        assert hook["language"] == "unsupported", hook["id"]  # runs what is installed
        program, *args = hook["entry"].split()
        assert program.startswith(".venv/bin/"), f"{hook['id']} runs {program}, not the course's"
        assert all((ROOT / a).exists() for a in args if a.endswith(".py")), hook["entry"]


def test_the_cleaner_drops_run_metadata_and_keeps_outputs(tmp_path):
    nb = new_notebook(cells=[new_code_cell("print(1)", execution_count=1)])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[0].metadata.update(papermill={"duration": 1.0}, execution={"x": 1}, tags=[])
    nb.metadata["papermill"] = {"parameters": {}}
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)

    assert clean_notebooks.main([str(path)]) == 1  # changed: the hook stops the commit
    cleaned = nbformat.read(path, as_version=4)
    assert "papermill" not in cleaned.metadata
    assert cleaned.cells[0].metadata == {}
    assert cleaned.cells[0].outputs[0]["text"] == "1\n" and cleaned.cells[0].execution_count == 1
    assert clean_notebooks.main([str(path)]) == 0  # already clean: nothing to do


def test_the_committed_notebooks_are_clean():
    # checked in memory: other test workers read these files at the same time
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        clean_notebooks.nbt.clean_run_metadata(nb)
        assert nbformat.writes(nb) == before, f"run metadata in {path.name}"
