"""Run one lesson at a profile for several seeds (a sweep) and tabulate its claims' numbers.

Usage: python -m coursetools.calibrate notebooks/01_underfitting.ipynb [--seeds 0 1 2 3 4]
       [--profile workshop] [--workers 1] [--scheduler tcp://HOST:8786]

Use it to choose claim thresholds that hold for every seed. The runs are a
:mod:`coursetools.sweep` (results in build/lessons/<profile>-seed<N>/, as ``make lessons``
writes them); then this prints one block per seed and writes
build/calibration/<lesson>/<profile>.json (a previous file is kept). One worker by default:
lessons side by side on a 2-core machine slow each other, and some claims measure speed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from coursetools import formatting, sweep
from coursetools.files import write_text_keeping_previous
from coursetools.paths import build_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--seeds", nargs="+", default=["0", "1", "2", "3", "4"])
    parser.add_argument("--profile", default="workshop")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--scheduler", default=None, help="address of an existing cluster")
    args = parser.parse_args(argv)
    notebook = args.notebook.expanduser().absolute()
    if not notebook.is_file():
        parser.error(f"{args.notebook}: no such notebook (e.g. notebooks/01_underfitting.ipynb)")
    lesson = notebook.stem
    rc = sweep.main(
        ["--profiles", args.profile, "--seeds", *args.seeds, "--only", lesson[:2]]
        + ["--workers", args.workers, "--notebooks", str(notebook.parent)]
        + (["--scheduler", args.scheduler] if args.scheduler else [])
    )
    if rc == 2:  # bad arguments or an unusable cluster: nothing ran
        return rc
    rows = []
    for seed in args.seeds:
        result = build_dir() / "lessons" / f"{args.profile}-seed{seed}" / f"{lesson}.json"
        claims = json.loads(result.read_text())["claims"] if result.exists() else []
        rows.append({"seed": int(seed), "claims": claims})
        print(f"seed {seed}:" + ("" if claims else " no results (the run failed)"))
        for c in claims:
            nums = ", ".join(f"{k}={formatting.number(v)}" for k, v in c["measured"].items())
            print(f"   [{'ok' if c['holds'] else 'FAIL'}] {c['key']}: {nums}", flush=True)
    out = build_dir() / "calibration" / lesson / f"{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"lesson": lesson, "profile": args.profile, "rows": rows}
    write_text_keeping_previous(out, json.dumps(payload, indent=2) + "\n")
    print(f"Saved {out}")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
