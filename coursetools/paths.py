"""Where the course's files are: the lessons, the reference timings, and ``build/`` (everything
the course writes goes there, never beside the sources)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

BUILD_ENV = "COURSE_BUILD_DIR"
REFERENCE_TIMINGS = Path(__file__).with_name("reference_timings.json")
OUTPUT_ENV = "COURSE_OUTPUT_DIR"


def reference_timings(path: Path | None = None) -> dict[str, Any]:
    """The reference machine's measured lesson timings (``reference_timings.json``, or ``path``),
    as ``make bench --write-reference`` wrote them."""
    return json.loads(Path(path or REFERENCE_TIMINGS).read_text(encoding="utf-8"))


def reference_seconds(profile: str, path: Path | None = None) -> dict[str, float]:
    """Each lesson's wall time at ``profile`` on the reference machine ({} where not measured)."""
    return dict(reference_timings(path)["seconds"].get(profile, {}))


def repo_root() -> Path:
    """The checkout that holds ``coursetools/`` (editable install), else the current folder."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def build_dir() -> Path:
    """``$COURSE_BUILD_DIR`` if set (tests use it), else ``<repo>/build``."""
    env = os.environ.get(BUILD_ENV)
    path = Path(env) if env else repo_root() / "build"
    if not path.is_absolute():
        path = repo_root() / path
    return path


def run_dir(profile: str, seed: int) -> Path:
    """Folder for one profile+seed's executed notebooks, results JSON and saved models (not
    created here: :func:`coursetools.files.ensure_writable` creates and checks it).

    ``$COURSE_OUTPUT_DIR`` overrides it (``make lessons`` sets it to where papermill writes).
    """
    env = os.environ.get(OUTPUT_ENV)
    if not env:
        return build_dir() / "lessons" / f"{profile}-seed{seed}"
    path = Path(env).expanduser()
    return path if path.is_absolute() else repo_root() / path  # as build_dir: not notebooks/


LESSON_NAME = re.compile(r"^\d\d_[A-Za-z0-9_-]+\.ipynb$")


def lesson_notebooks(folder: Path | None = None) -> list[Path]:
    """The numbered lesson notebooks (``NN_name.ipynb``) in ``folder`` (default: the course's
    ``notebooks/``), in order: the one definition of what counts as a lesson. Kept generations
    (``NN_name.<stamp>.prev.ipynb``, left beside a re-run lesson) are not lessons."""
    folder = folder or repo_root() / "notebooks"
    return sorted(p for p in Path(folder).glob("[0-9][0-9]_*.ipynb") if LESSON_NAME.match(p.name))
