"""Collect runs and claims into a table, and save them as JSON beside the executed notebook."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coursetools import formatting
from coursetools.files import is_generation, write_text_keeping_previous
from helpers.training import RunRecord

TABLE_COLUMNS = (
    "run",
    "params",
    "n_train",
    "epochs",
    "train_acc",
    "val_acc",
    "gap",
    "verdict",
    "wall_s",
)


def runs_table(runs: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per run: size, accuracies, train−val gap, verdict and wall time."""
    rows = []
    for r in runs:
        row = {
            "run": r.name,
            "params": r.n_params,
            "n_train": r.n_train,
            "epochs": r.epochs,
            "train_acc": r.train_acc,
            "val_acc": r.val_acc,
            "gap": r.gap,
            "verdict": r.verdict,
            "wall_s": r.wall_time_s,
        }
        if r.test_acc is not None:
            row["test_acc"] = r.test_acc
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[*TABLE_COLUMNS, *(["test_acc"] if any("test_acc" in row for row in rows) else [])],
    )


def format_table(df: pd.DataFrame) -> str:
    """Percentages for accuracy-like columns, one decimal for seconds."""
    fmt = {}
    for col in df.columns:
        if col.endswith("acc") or col == "gap" or col.endswith("_recall"):
            fmt[col] = lambda v: (
                "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"
            )
        elif col.endswith("_s"):
            fmt[col] = lambda v: f"{v:.1f}"
    return df.to_string(index=False, formatters=fmt)


@dataclass
class Claim:
    """A statement the lesson tests, whether it held, the numbers it was judged on and the rule
    (an expression over those numbers, see :mod:`coursetools.rules`) that judged them."""

    key: str
    statement: str
    holds: bool
    measured: dict[str, Any] = field(default_factory=dict)
    rule: str = ""

    def line(self) -> str:
        nums = ", ".join(f"{k}={formatting.number(v)}" for k, v in self.measured.items())
        return f"[{'holds' if self.holds else 'FAILS'}] {self.statement} ({nums})"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _unserialisable(obj: Any, where: str = "payload") -> str | None:
    """Where in ``obj`` (already passed through :func:`_jsonable`) JSON cannot go, if anywhere."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            found = _unserialisable(v, f"{where}[{k!r}]")
            if found:
                return found
        return None
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            found = _unserialisable(v, f"{where}[{i}]")
            if found:
                return found
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return None
    return f"{where} is a {type(obj).__name__}"


def save_json(path: Path, payload: Mapping[str, Any]) -> Path | None:
    """Write ``payload`` to ``path`` as JSON; an existing file is kept as a time-stamped
    ``*.prev.json`` generation (every one, see :mod:`coursetools.files`), so a re-run never drops
    earlier results. Returns the kept generation's path, if there was a file.

    The payload is serialised before any file is touched: if it cannot be (say an object in
    ``lesson.extra``), a TypeError names the value and the current file stays as it was.
    """
    data = _jsonable(payload)
    try:
        text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        where = _unserialisable(data) or "a value"
        raise TypeError(
            f"Cannot save results to {path}: {where}, which JSON cannot store ({exc}). Store "
            "plain numbers, strings, lists or dicts (e.g. float(x), x.tolist()); the results "
            "already in that file were left as they were."
        ) from None
    return write_text_keeping_previous(Path(path), text)


def load_json(path: Path) -> dict[str, Any]:
    """Read a results file written by :func:`save_json`."""
    with open(path) as fh:
        return json.load(fh)


def best_run_per_lesson(
    folder: Path, profile: str, seed: int, pattern: str = "[0-9][0-9]_*.json"
) -> pd.DataFrame:
    """Each lesson's best run by validation accuracy, from the results files in ``folder``
    written at ``profile`` and ``seed`` (other profiles, seeds and kept generations are
    skipped; a lesson not run there is simply missing).

    Columns: ``lesson``, ``best run``, ``n_train``, ``val_acc`` and ``test_acc`` (the lesson's
    best test number, NaN when it tested nothing). Lesson 07 compares itself with 00-06 this way.
    """
    rows = []
    for path in sorted(Path(folder).glob(pattern)):
        if is_generation(path):
            continue
        res = load_json(path)
        if res.get("profile") != profile or res.get("seed") != seed:
            continue
        scored = [r for r in res["runs"] if r.get("val_acc") is not None]
        if not scored:
            continue
        best = max(scored, key=lambda r: r["val_acc"])
        tested = [r["test_acc"] for r in res["runs"] if r.get("test_acc") is not None]
        rows.append(
            {
                "lesson": res["lesson"],
                "best run": best["name"],
                "n_train": best["n_train"],
                "val_acc": best["val_acc"],
                "test_acc": max(tested) if tested else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["lesson", "best run", "n_train", "val_acc", "test_acc"])
