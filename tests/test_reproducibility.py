"""Reproducibility: one lesson executed twice with the same seed reports identical numbers and
prints identical text, and with another seed its numbers change (so the seed is used).

The lesson is 08_class_imbalance at the smoke profile: the same code path as the workshop
profile (seeding, op determinism, shuffled splits, training, claims), at a fraction of the CI
time. That its claims hold at other seeds is checked where the claims are calibrated: the
committed evidence (workshop seeds 0-4, tests/test_evidence.py) and nbval's re-run of the
committed notebook. Only timings (wall seconds, samples/s) and software versions are left out
of the comparison.
"""

from __future__ import annotations

import configparser
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from coursetools.notebooks import execute_lesson
from coursetools.paths import repo_root
from helpers.results import load_json

# one worker runs this whole module: its fixtures execute lesson 08 three times, once only
pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("reproducibility")]

LESSON = "08_class_imbalance"
NOTEBOOK = repo_root() / "notebooks" / f"{LESSON}.ipynb"
PROFILE = "smoke"
OTHER_SEED = 3
SANITIZE_FILE = Path(__file__).with_name("nbval_sanitize.cfg")

# Fields of the results JSON that measure time, not learning (see RunRecord.to_dict), and the
# top-level fields that describe the machine rather than the results.
TIMING_KEYS = frozenset({"wall_time_s", "samples_per_s", "seconds", "wall_s"})
MACHINE_KEYS = frozenset({"versions"})
# RunRecord.summary(): "<name>: 15 epochs in 3.2 s (12,345 samples/s) — ..."
RUN_SUMMARY_TIME = re.compile(r"in \d+(\.\d+)? s \(([\d,]+|nan) samples/s\)")


@dataclass(frozen=True)
class Execution:
    """One papermill execution of the lesson: the executed notebook and its results JSON."""

    seed: int
    notebook: nbformat.NotebookNode
    results: dict[str, Any]


def _execute(seed: int, folder: Path) -> Execution:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COURSE_OUTPUT_DIR", str(folder / "out"))
        env.setenv("COURSE_PROFILE", PROFILE)
        env.delenv("MNIST_PATH", raising=False)
        env.delenv("MNIST_SKIP_CHECKSUM", raising=False)
        notebook = execute_lesson(
            NOTEBOOK, folder / NOTEBOOK.name, {"PROFILE": PROFILE, "SEED": seed}
        )
    return Execution(seed, notebook, load_json(folder / "out" / f"{LESSON}.json"))


# ---------------------------------------------------------------------------- comparison
def _is_timing(key: str) -> bool:
    return key in TIMING_KEYS or key.endswith(("_seconds", "_time_s"))


def differences(
    a: Any, b: Any, path: str = "", skip: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Any, Any]]:
    """Every ``(path, a_value, b_value)`` where two results structures differ, in document
    order; timing fields, and top-level keys in ``skip``, are left out."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if _is_timing(key) or (not path and key in skip):
                continue
            sub = f"{path}.{key}" if path else key
            if key not in a or key not in b:
                yield sub, a.get(key, "<missing>"), b.get(key, "<missing>")
            else:
                yield from differences(a[key], b[key], sub)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path} (length)", len(a), len(b)
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from differences(x, y, f"{path}[{i}]")
    elif type(a) is not type(b) or a != b:
        yield path, a, b


def _first_difference_message(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    diffs = list(differences(a, b, skip=MACHINE_KEYS))
    if not diffs:
        return None
    where, x, y = diffs[0]
    return f"{len(diffs)} field(s) differ; first: {where}: {x!r} != {y!r}"


# ---------------------------------------------------------------------------- printed output
def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """nbval's sanitize patterns (the file the nbval run uses) plus the run-summary timing."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(SANITIZE_FILE)
    rules = [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]
    return [*rules, (RUN_SUMMARY_TIME, "in T s (N samples/s)")]


def _mask_wall_column(text: str) -> str:
    """Blank the ``wall_s`` column of the runs tables (helpers.results.format_table): its
    values (one decimal) are right-aligned under the header, so they end where it ends."""
    out, edge = [], None
    for line in text.split("\n"):
        header = re.search(r"\bwall_s\b", line)
        if header:
            edge = header.end()
        elif edge is not None and re.search(r"\s(\d+\.\d|nan)$", line[:edge]):
            line = re.sub(r"\s*\S+$", " T", line[:edge]) + line[edge:]
        else:
            edge = None  # the table ended
        out.append(line)
    return "\n".join(out)


def printed_text(notebook: nbformat.NotebookNode) -> list[str]:
    """Per code cell: its stdout and plain-text results, with timing text masked."""
    rules = _sanitizers()
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                parts.append(output.text)
            elif "data" in output:
                parts.append(output.data.get("text/plain", ""))
        text = _mask_wall_column("".join(parts))
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        cells.append(text)
    return cells


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def seed0_twice(tmp_path_factory) -> tuple[Execution, Execution]:
    return (
        _execute(0, tmp_path_factory.mktemp("seed0-first")),
        _execute(0, tmp_path_factory.mktemp("seed0-second")),
    )


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory) -> Execution:
    return _execute(OTHER_SEED, tmp_path_factory.mktemp(f"seed{OTHER_SEED}"))


# ---------------------------------------------------------------------------- tests
def test_comparison_finds_a_changed_metric_and_ignores_timings():
    base = {
        "seed": 0,
        "versions": {"keras": "3.15.1"},
        "runs": [{"name": "a", "wall_time_s": 1.0, "history": {"loss": [0.5, 0.25]}}],
        "claims": [{"key": "k", "holds": True, "measured": {"gain_pts": 8.0}}],
    }
    timing_only = {**base, "versions": {"keras": "9"}, "runs": [{**base["runs"][0]}]}
    timing_only["runs"][0]["wall_time_s"] = 2.0
    assert list(differences(base, timing_only, skip=MACHINE_KEYS)) == []

    changed = {**base, "runs": [{**base["runs"][0], "history": {"loss": [0.5, 0.26]}}]}
    assert list(differences(base, changed)) == [("runs[0].history.loss[1]", 0.25, 0.26)]
    shorter = {**base, "claims": []}
    assert ("claims (length)", 1, 0) in list(differences(base, shorter))
    assert _first_difference_message(base, {**base, "seed": 0.0}) is not None  # int vs float


def test_same_seed_reports_identical_numbers(seed0_twice):
    first, second = seed0_twice
    assert first.results["seed"] == second.results["seed"] == 0
    assert first.results["runs"] and first.results["claims"], "nothing to compare"
    assert all(run["history"]["loss"] for run in first.results["runs"])
    message = _first_difference_message(first.results, second.results)
    assert message is None, f"same seed, different results: {message}"


def test_same_seed_prints_identical_output(seed0_twice):
    first, second = (printed_text(e.notebook) for e in seed0_twice)
    assert len(first) == len(second)
    for index, (a, b) in enumerate(zip(first, second, strict=True)):
        diff = "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=1))
        assert a == b, f"code cell {index} printed different text:\n{diff[:2000]}"


def test_other_seed_changes_the_numbers(other_seed, seed0_twice):
    assert (other_seed.results["profile"], other_seed.results["seed"]) == (PROFILE, OTHER_SEED)
    changed = [
        where
        for where, _, _ in differences(
            seed0_twice[0].results, other_seed.results, skip=MACHINE_KEYS | {"seed"}
        )
    ]
    assert any(".history." in where for where in changed), (
        f"seed {OTHER_SEED} trained exactly like seed 0: the seed is not used ({changed[:5]})"
    )


def test_printed_timings_are_masked_but_numbers_are_not():
    import pandas as pd

    from helpers.results import format_table

    def table(wall, acc):
        df = pd.DataFrame({"run": ["a", "bb"], "val_acc": [0.9, acc], "wall_s": [9.8, wall]})
        return format_table(df) + "\nb: 15 epochs in 3.2 s (12,345 samples/s) — fine\n"

    def masked(text):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell()])
        nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return printed_text(nb)

    assert masked(table(10.25, 0.5)) == masked(table(3.0, 0.5).replace("3.2 s", "13.9 s"))
    assert masked(table(3.0, 0.5)) != masked(table(3.0, 0.51))
