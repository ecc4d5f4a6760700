"""Re-execute lesson notebooks IN PLACE at the workshop profile and clean their metadata.

This is how the committed outputs (which nbval compares) are produced:
    python -m coursetools.refresh_outputs notebooks/01_underfitting.ipynb [...]
Results files go to build/refresh/, not to your own runs. Execution timings, papermill
metadata and widget state are dropped; kernelspec is pinned to python3.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from coursetools import nbtools as nbt
from coursetools.paths import repo_root

ROOT = repo_root()

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def clean(nb: nbformat.NotebookNode) -> None:
    """Drop per-run metadata noise so diffs show only real changes; pin the kernelspec."""
    nbt.clean_run_metadata(nb)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)


def refresh(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_PROFILE"] = "workshop"
    os.environ.setdefault("COURSE_BUILD_DIR", str(ROOT / "build" / "refresh"))
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        record_timing=False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no kernel start-up warnings
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    seconds = time.perf_counter() - start
    clean(nb)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebooks", nargs="+", help="lesson notebooks to re-execute in place")
    paths = parser.parse_args(argv).notebooks
    for p in paths:
        seconds = refresh(Path(p))
        print(f"{p}: executed in {seconds:.1f} s and cleaned", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
