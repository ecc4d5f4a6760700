"""Drop run metadata (papermill, execution timings, widget state) from lesson notebooks in
place, keeping their outputs: the notebook metadata cleaner of .pre-commit-config.yaml.

    python -m coursetools.clean_notebooks notebooks/01_underfitting.ipynb [...]

Exits 1 when it changed a file (so a pre-commit hook stops the commit for a re-add), else 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from coursetools import nbtools as nbt


def clean_file(path: Path) -> bool:
    """Clean one notebook in place; True when it changed."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    nbt.clean_run_metadata(nb)
    after = nbformat.writes(nb)
    if after == before:
        return False
    path.write_text(after + ("" if after.endswith("\n") else "\n"), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebooks", nargs="*", help="notebooks to clean in place")
    paths = parser.parse_args(argv).notebooks
    changed = [p for p in paths if clean_file(Path(p))]
    for p in changed:
        print(f"{p}: run metadata removed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
