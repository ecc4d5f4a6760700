"""Run one lesson at a profile for several seeds and tabulate its claims' measured numbers.

Usage: python -m coursetools.calibrate notebooks/01_underfitting.ipynb [--seeds 0 1 2 3 4]
       [--profile workshop]

Use it to choose claim thresholds that hold for every seed. Writes
build/calibration/<lesson>/<profile>.json (previous file kept) and prints one row per seed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from coursetools.files import write_text_keeping_previous
from coursetools.notebooks import execute_lesson
from coursetools.paths import build_dir, repo_root

ROOT = repo_root()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--profile", default="workshop")
    args = parser.parse_args(argv)
    import papermill as pm

    lesson = args.notebook.stem
    out_root = build_dir() / "calibration" / lesson
    rows = []
    for seed in args.seeds:
        out = out_root / f"{args.profile}-seed{seed}"
        out.mkdir(parents=True, exist_ok=True)
        os.environ["COURSE_OUTPUT_DIR"] = str(out)
        start = time.perf_counter()
        error = None
        try:
            execute_lesson(
                args.notebook, out / args.notebook.name, {"PROFILE": args.profile, "SEED": seed}
            )
        except pm.PapermillExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue}"[:300]
        seconds = time.perf_counter() - start
        result_file = out / f"{lesson}.json"
        claims = json.loads(result_file.read_text())["claims"] if result_file.exists() else []
        rows.append({"seed": seed, "seconds": round(seconds, 1), "error": error, "claims": claims})
        print(f"seed {seed}: {seconds:.0f} s {'ERROR ' + error if error else ''}", flush=True)
        for c in claims:
            nums = ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in c["measured"].items()
            )
            print(f"   [{'ok' if c['holds'] else 'FAIL'}] {c['key']}: {nums}", flush=True)
    payload = {"lesson": lesson, "profile": args.profile, "rows": rows}
    write_text_keeping_previous(out_root / f"{args.profile}.json", json.dumps(payload, indent=2))
    print(f"Saved {out_root / (args.profile + '.json')}")
    return 0 if all(r["error"] is None for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
