"""List, then on request delete, the older generations of results the course kept.

Usage: python -m coursetools.prune [--keep 3] [--yes] [FOLDER ...]

Re-running a lesson keeps the previous results and models as time-stamped ``*.prev.*`` files
(and a previous ``make lessons`` folder as ``<folder>.<stamp>.prev``), so nothing a run produced
is ever lost silently. This keeps the newest ``--keep`` generations of each and lists the
rest; only with ``--yes`` are they deleted. Current results are never touched. FOLDER defaults
to build/lessons.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coursetools import files
from coursetools.paths import build_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("folders", nargs="*", type=Path, help="default: build/lessons")
    parser.add_argument("--keep", default="3", help="generations to keep per file (default 3)")
    parser.add_argument("--yes", action="store_true", help="delete (default: only list)")
    args = parser.parse_args(argv)
    if not args.keep.isdigit():
        parser.error(f"--keep must be a non-negative integer, got {args.keep!r}")
    folders = args.folders or [build_dir() / "lessons"]
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        parser.error(f"no such folder: {', '.join(map(str, missing))}")
    doomed = []
    for folder in folders:
        doomed += files.prune_generations(folder, int(args.keep), dry_run=not args.yes)
    verb = "deleted" if args.yes else "would delete"
    for path in doomed:
        print(f"{verb} {path}")
    done = "deleted" if args.yes else "to delete"
    print(
        f"{len(doomed)} older generation(s) {done} (keeping the newest {args.keep} of each)"
        + ("" if args.yes or not doomed else "; run again with --yes (make prune YES=1) to delete")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
