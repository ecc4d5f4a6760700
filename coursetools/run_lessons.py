"""Run every lesson notebook with papermill at a profile, into build/lessons/<profile>-seed<N>/.

Usage: python -m coursetools.run_lessons [--profile workshop] [--seed 0] [--only 01 03]

A previous run's folder is kept (renamed ``<folder>.<time stamp>.prev``), never overwritten;
with ``--only`` the folder is added to instead, and each executed notebook, results file or
model it replaces is kept as ``<name>.<time stamp>.prev<suffix>``. Prints the wall time of each
notebook (kernel start included) and writes timings.json beside them. A relative
``MNIST_PATH`` or ``--out`` is made absolute here, because the kernels run in notebooks/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from coursetools.files import (
    OutputNotWritable,
    ensure_writable,
    keep_previous,
    write_text_keeping_previous,
)
from coursetools.notebooks import check_papermill_parameters, execute_lesson
from coursetools.parameters import MAX_SEED, ParameterError
from coursetools.paths import build_dir, lesson_notebooks, repo_root
from coursetools.profiles import PROFILES

ROOT = repo_root()


def default_out(profile: str, seed: int) -> Path:
    """build/lessons/<profile>-seed<N>: where a lesson run at this profile and seed saves."""
    return build_dir() / "lessons" / f"{profile}-seed{seed}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--profile", default="workshop", help=f"one of {', '.join(PROFILES)}")
    parser.add_argument("--seed", default="0", help=f"integer seed from 0 to {MAX_SEED}")
    parser.add_argument("--only", nargs="*", default=None, help="lesson number prefixes")
    parser.add_argument("--out", default=None, help="output folder (default build/lessons/...)")
    args = parser.parse_args(argv)
    if not args.seed.isdigit() or int(args.seed) > MAX_SEED:
        parser.error(f"--seed must be an integer from 0 to {MAX_SEED}, got {args.seed!r}")
    seed = int(args.seed)
    notebooks = lesson_notebooks()
    if args.only is not None:
        choices = [nb.name[:2] for nb in notebooks]
        unknown = [o for o in args.only if o not in choices]
        if unknown or not args.only:
            parser.error(
                f"--only {' '.join(unknown) or '(nothing)'}: no such lesson. Choose from "
                f"{', '.join(choices)} (e.g. --only 00 08, or make lessons ONLY='00 08')"
            )
        notebooks = [nb for nb in notebooks if nb.name[:2] in args.only]
    params = {"PROFILE": args.profile, "SEED": seed}
    try:
        for nb in notebooks:
            check_papermill_parameters(nb, params)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if os.environ.get("MNIST_PATH"):  # the kernels run in notebooks/, not here
        os.environ["MNIST_PATH"] = str(Path(os.environ["MNIST_PATH"]).expanduser().absolute())

    import papermill as pm

    out = Path(args.out).expanduser().absolute() if args.out else default_out(args.profile, seed)
    try:
        # a full run moves the previous one aside whole; a run of some lessons (--only) adds to
        # it, so the other lessons' results stay (each replaced file is kept as a generation)
        if args.only is None and out.exists() and any(out.iterdir()):
            print(f"Previous run kept in {keep_previous(out)}")
        ensure_writable(out, "the executed notebooks and results", "choose another --out")
    except OutputNotWritable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"error: cannot keep the previous run in {out} aside ({exc.strerror or exc}); "
            f"nothing was changed. Choose another folder with --out, or make {out.parent} "
            "writable.",
            file=sys.stderr,
        )
        return 2
    os.environ["COURSE_OUTPUT_DIR"] = str(out)
    timings, failed = {}, []
    for nb in notebooks:
        start = time.perf_counter()
        kept = keep_previous(out / nb.name, move=True)  # papermill rewrites it in place
        if kept:
            print(f"Previous {nb.name} kept as {kept.name}")
        try:
            execute_lesson(nb, out / nb.name, params)
            status = "ok"
        except pm.PapermillExecutionError as exc:
            status = f"FAILED: {exc.ename}: {exc.evalue}"
            failed.append(nb.name)
        except KeyboardInterrupt:
            print(
                f"\nInterrupted during {nb.name}. Its partly executed copy and the finished "
                f"lessons' results are in {out}; nothing else was touched.",
                file=sys.stderr,
            )
            return 130
        timings[nb.name] = round(time.perf_counter() - start, 1)
        print(f"{nb.name:<32} {timings[nb.name]:7.1f} s  {status}", flush=True)
    write_text_keeping_previous(
        out / "timings.json",
        json.dumps(
            {
                "profile": args.profile,
                "seed": seed,
                "cpu_count": os.cpu_count(),
                "seconds": timings,
            },
            indent=2,
        )
        + "\n",
    )
    print(f"Executed notebooks, results and timings are in {out}")
    if failed:
        print(
            f"{len(failed)} lesson(s) failed: {', '.join(failed)} (open the executed copy to "
            "see the error)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
