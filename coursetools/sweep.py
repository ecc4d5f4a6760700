"""Run lessons × seeds × profiles as tasks on Dask distributed, one notebook execution per task.

Usage: python -m coursetools.sweep [--profiles workshop] [--seeds 0 1 2 3 4] [--only 00 04]
       [--scheduler tcp://HOST:8786] [--workers N] [--record] [--plan]

Without a scheduler address (``--scheduler`` or Dask's ``DASK_SCHEDULER_ADDRESS``) the sweep
starts a ``LocalCluster`` on this machine: one single-threaded worker process per core (a
lesson keeps about one core busy). Each task executes one notebook into
``build/lessons/<profile>-seed<N>/``, where ``make lessons`` puts it; a file it replaces is kept
as a time-stamped generation, so a second sweep never overwrites the first. A failed notebook
is reported with its error and kept (the partly executed copy), and the other tasks go on; a
task whose worker is lost is retried once. Lesson 07 starts after lessons 00-06 of its profile
and seed, because it compares itself with their results. ``--record`` then records the
workshop and full results as evidence and rebuilds the claims ledger from it. ``--plan``
prints what the sweep would take on N workers, from the reference timings, and runs nothing.
Workers of an existing cluster need this checkout at the same path (a shared file system),
the course installed, and ``--nthreads 1``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from coursetools.files import keep_previous, write_text_keeping_previous
from coursetools.formatting import duration
from coursetools.notebooks import check_papermill_parameters, execute_lesson
from coursetools.parameters import MAX_SEED, ParameterError
from coursetools.paths import build_dir, lesson_notebooks, reference_timings
from coursetools.profiles import PROFILES

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: environment the notebooks read, passed to every task (a remote worker has its own)
PASSED_ENV = ("COURSE_BUILD_DIR", "MNIST_PATH", "KERAS_HOME")
CAPSTONE = "07"  # runs after 00-06 of the same profile and seed


@dataclass(frozen=True)
class Task:
    """One notebook execution: which lesson, at which profile and seed, into which folder."""

    notebook: str
    profile: str
    seed: int
    out: str

    @property
    def label(self) -> str:
        return f"{Path(self.notebook).stem} {self.profile} seed {self.seed}"


@dataclass(frozen=True)
class Outcome:
    """How one task ended: its wall time (kernel start included), error (None: it ran to the
    end) and the machine that ran it."""

    task: Task
    seconds: float | None  # None: the worker was lost, the time is unknown
    error: str | None
    host: str


def run_task(task: Task, env: Mapping[str, str], *after: Any) -> Outcome:
    """Execute ``task``'s notebook (on a worker). ``after`` only orders it behind other tasks.

    Errors in the notebook, a kernel that dies or a timeout are returned as the outcome's
    error, so the other tasks go on; only a lost worker makes Dask run the task again. The
    worker's environment is restored afterwards (a long-lived cluster serves many sweeps)."""
    saved = dict(os.environ)
    os.environ.update(env)
    os.environ["COURSE_OUTPUT_DIR"] = task.out  # the kernel inherits it: one task per process
    notebook, out = Path(task.notebook), Path(task.out)
    start = time.perf_counter()
    error = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        # a failed run must not leave the previous run's results looking like its own
        for old in (out / notebook.name, out / f"{notebook.stem}.json"):
            keep_previous(old, move=True)
        execute_lesson(notebook, out / notebook.name, {"PROFILE": task.profile, "SEED": task.seed})
    except Exception as exc:  # reported with the outcome: the sweep goes on
        ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", exc)
        error = f"{ename}: {evalue}"
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Outcome(task, time.perf_counter() - start, error, socket.gethostname())


def make_tasks(
    notebooks: Sequence[Path], profiles: Sequence[str], seeds: Sequence[int], root: Path
) -> list[Task]:
    """One task per notebook, profile and seed, writing to ``root/lessons/<profile>-seed<N>``."""
    tasks = [
        Task(
            str(Path(nb).absolute()), profile, seed, str(root / "lessons" / f"{profile}-seed{seed}")
        )
        for profile in profiles
        for seed in seeds
        for nb in notebooks
    ]
    return list(dict.fromkeys(tasks))  # a profile or seed named twice runs once


def waits_for(task: Task, tasks: Sequence[Task]) -> list[Task]:
    """The tasks ``task`` must wait for: for lesson 07, lessons 00-06 of its run folder."""
    if not Path(task.notebook).name.startswith(CAPSTONE):
        return []
    return [t for t in tasks if t.out == task.out and Path(t.notebook).name[:2] < CAPSTONE]


def plan_seconds(tasks: Sequence[Task], seconds: Mapping[Task, float], workers: int) -> float:
    """Wall time of ``tasks`` on ``workers`` workers, each task taking ``seconds[task]``, when
    each free worker takes the longest task whose predecessors have finished (what the sweep
    submits first) — an estimate that ignores scheduling overhead and load."""
    done_at: dict[Task, float] = {}
    free = [0.0] * max(1, workers)
    pending = sorted(tasks, key=lambda t: -seconds[t])
    while pending:
        start = heapq.heappop(free)
        ready = [
            t
            for t in pending
            if all(done_at.get(p, math.inf) <= start for p in waits_for(t, tasks))
        ]
        if not ready:  # this worker idles until the next scheduled predecessor ends
            ends = [d for d in done_at.values() if d > start]
            heapq.heappush(free, min(ends))
            continue
        task = ready[0]
        done_at[task] = start + seconds[task]
        pending.remove(task)
        heapq.heappush(free, done_at[task])
    return max(done_at.values(), default=0.0)


def reference_seconds(task: Task, measured: Path | None = None) -> float | None:
    """``task``'s lesson's wall time at its profile: from ``measured`` (a ``timings.json`` that
    ``make lessons`` wrote) if it has one, else from the reference machine, if measured."""
    timings = reference_timings()["seconds"]
    if measured is not None:
        run = json.loads(Path(measured).read_text())
        ran = {Path(k).stem: v for k, v in run["seconds"].items()}
        timings = timings | {run["profile"]: timings.get(run["profile"], {}) | ran}
    return timings.get(task.profile, {}).get(Path(task.notebook).stem)


def has_dashboard() -> bool:
    """Whether Dask's dashboard can be served here (it needs bokeh, which the course does not
    install: ``pip install bokeh`` adds it)."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


@contextmanager
def connect(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A Dask client, closed (with its LocalCluster) on leaving: to ``scheduler`` if given,
    else to a new LocalCluster of ``workers`` single-threaded worker processes on which a
    task whose worker dies is run once more (and at most one task waits on each worker, so
    a worker's death blames only the task it was running)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="20s") as client:
            yield client
        return
    local = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(local):  # read while the scheduler is built; not left behind
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # never the default 8787 another cluster may hold
            host="127.0.0.1",
        )
    with cluster, Client(cluster) as client:
        yield client


def check_workers(client: Any, scheduler: str | None) -> int:
    """The number of workers, after checking that each runs one task at a time (tasks set the
    kernel's environment) and, on an existing cluster, warning when a lost worker's task is
    retried more or less than once."""
    client.wait_for_workers(1, timeout=60)
    workers = client.scheduler_info()["workers"].values()
    threaded = [w["id"] for w in workers if w.get("nthreads", 1) > 1]
    if threaded:
        raise SweepError(
            f"worker(s) {', '.join(map(str, threaded))} run several tasks at once; start them "
            "with `dask worker ADDRESS --nthreads 1` (each task sets its kernel's environment)"
        )
    if scheduler:
        retries = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
        if retries != 1:
            print(
                f"note: this scheduler runs a task whose worker died up to {retries} more "
                "time(s), not once (start it with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1)"
            )
    return len(workers)


class SweepError(RuntimeError):
    """The cluster cannot run the sweep as asked."""


def sweep(tasks: Sequence[Task], client: Any) -> list[Outcome]:
    """Submit every task (longest first, by the reference timings; 07 after its lessons) and
    print one line per finished task with its time and a running count."""
    from distributed import as_completed

    env = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
    token = uuid.uuid4().hex[:8]  # two sweeps on one scheduler never share a task
    futures: dict[Task, Any] = {}
    order = sorted(tasks, key=lambda t: (bool(waits_for(t, tasks)), -(reference_seconds(t) or 0)))
    for rank, task in enumerate(order):
        after = [futures[t] for t in waits_for(task, tasks)]
        futures[task] = client.submit(
            run_task, task, env, *after, key=f"lesson-{task.label}-{token}", priority=-rank
        )
    by_future = {f.key: t for t, f in futures.items()}
    outcomes = []
    for n, future in enumerate(as_completed(futures.values()), start=1):
        task = by_future[future.key]
        try:
            outcome = future.result()
        except Exception as exc:  # the worker died twice, or the task could not start
            outcome = Outcome(task, None, f"{type(exc).__name__}: {exc}", "?")
        outcomes.append(outcome)
        status = "ok" if outcome.error is None else f"FAILED: {outcome.error[:300]}"
        print(
            f"[{n}/{len(tasks)}] {task.label:<40} {duration(outcome.seconds):>10}  {status}",
            flush=True,
        )
    return outcomes


def save_summary(outcomes: Sequence[Outcome], wall: float, workers: int, root: Path) -> Path:
    """Write the sweep's outcomes to ``root/sweeps/sweep.<time stamp>.json`` (never reused)."""
    folder = root / "sweeps"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sweep.{time.strftime('%Y%m%d-%H%M%S')}.json"
    n = 1
    while path.exists():  # two sweeps in the same second: neither overwrites the other
        n += 1
        path = folder / f"sweep.{time.strftime('%Y%m%d-%H%M%S')}-{n}.json"
    payload = {
        "wall_s": round(wall, 1),
        "workers": workers,
        "tasks": [
            asdict(o) | {"seconds": None if o.seconds is None else round(o.seconds, 1)}
            for o in outcomes
        ],
    }
    write_text_keeping_previous(path, json.dumps(payload, indent=2) + "\n")
    return path


def save_timings(outcomes: Sequence[Outcome], workers: int) -> None:
    """Write each run folder's ``timings.json`` (as ``make lessons`` does; the previous file is
    kept), noting how many notebooks ran side by side."""
    folders: dict[str, list[Outcome]] = {}
    for o in outcomes:
        folders.setdefault(o.task.out, []).append(o)
    for out, done in folders.items():
        payload = {
            "profile": done[0].task.profile,
            "seed": done[0].task.seed,
            "cpu_count": os.cpu_count(),
            "workers": workers,
            "seconds": {
                Path(o.task.notebook).name: round(o.seconds, 1)
                for o in done
                if o.seconds is not None
            },
        }
        write_text_keeping_previous(
            Path(out) / "timings.json", json.dumps(payload, indent=2) + "\n"
        )


def record(tasks: Sequence[Task]) -> int:
    """Record the workshop and full folders of the sweep as evidence, then rebuild the ledger."""
    from coursetools import record_evidence, report

    folders = sorted({t.out for t in tasks if t.profile in ("workshop", "full")})
    if not folders:
        print("Nothing to record: only workshop and full runs are evidence.")
        return 0
    return record_evidence.main(folders) or report.main([])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--profiles", nargs="+", default=["workshop"], choices=list(PROFILES))
    parser.add_argument("--seeds", nargs="+", default=["0"], help=f"integers 0 to {MAX_SEED}")
    parser.add_argument("--only", nargs="+", default=None, help="lesson number prefixes")
    parser.add_argument("--scheduler", default=os.environ.get(SCHEDULER_ENV), help="address")
    parser.add_argument("--workers", type=int, default=usable_cores())
    parser.add_argument("--notebooks", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--record", action="store_true", help="record evidence, rebuild ledger")
    parser.add_argument("--plan", action="store_true", help="estimate only, run nothing")
    parser.add_argument(
        "--timings", type=Path, default=None, help="a run's timings.json for --plan"
    )
    args = parser.parse_args(argv)
    bad = [s for s in args.seeds if not s.isdigit() or int(s) > MAX_SEED]
    if bad:
        parser.error(f"--seeds must be integers from 0 to {MAX_SEED}, got {' '.join(bad)}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    notebooks = lesson_notebooks(args.notebooks)
    if args.only:
        choices = [nb.name[:2] for nb in notebooks]
        unknown = [o for o in args.only if o not in choices]
        if unknown:
            parser.error(f"--only {' '.join(unknown)}: no such lesson; choose from {choices}")
        notebooks = [nb for nb in notebooks if nb.name[:2] in args.only]
    tasks = make_tasks(notebooks, args.profiles, [int(s) for s in args.seeds], build_dir())
    if args.plan:
        return print_plan(tasks, args.workers, args.timings)
    try:
        for nb in notebooks:
            for profile in args.profiles:
                check_papermill_parameters(nb, {"PROFILE": profile, "SEED": int(args.seeds[0])})
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if os.environ.get("MNIST_PATH"):  # the kernels run in notebooks/, not here
        os.environ["MNIST_PATH"] = str(Path(os.environ["MNIST_PATH"]).expanduser().absolute())
    start = time.perf_counter()
    try:
        with connect(args.scheduler, args.workers) as client:
            n_workers = check_workers(client, args.scheduler)
            processes = "worker process" + ("es" if n_workers > 1 else "")
            where = args.scheduler or f"a LocalCluster of {n_workers} {processes}"
            print(f"Sweep of {len(tasks)} notebook runs on {where}")
            if args.scheduler and workers_given(argv):
                print("note: --workers is ignored on an existing cluster (it has its own)")
            if has_dashboard():
                print(f"Dashboard: {client.dashboard_link}")
            outcomes = sweep(tasks, client)
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\nInterrupted: the sweep's tasks were cancelled. Finished lessons' results and "
            f"partly executed copies are in {build_dir() / 'lessons'}.",
            file=sys.stderr,
        )
        return 130
    wall = time.perf_counter() - start
    summary = save_summary(outcomes, wall, n_workers, build_dir())
    save_timings(outcomes, n_workers)
    failed = [o for o in outcomes if o.error is not None]
    busy = sum(o.seconds for o in outcomes if o.seconds is not None)
    print(
        f"{len(outcomes) - len(failed)}/{len(outcomes)} ran to the end in {duration(wall)} "
        f"({duration(busy)} of notebook time); summary in {summary}"
    )
    if failed:
        print(
            f"{len(failed)} failed: {', '.join(o.task.label for o in failed)} (their executed "
            "copies show the error)",
            file=sys.stderr,
        )
    rc = record(tasks) if args.record else 0
    return 1 if failed else rc


def usable_cores() -> int:
    """The cores this process may use (a container or ``taskset`` may allow fewer than the
    machine has): one LocalCluster worker each."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def workers_given(argv: list[str] | None) -> bool:
    return any(a.startswith("--workers") for a in (sys.argv[1:] if argv is None else argv))


def print_plan(tasks: Sequence[Task], workers: int, measured: Path | None = None) -> int:
    """Print the estimated wall time of ``tasks`` on 1, 2, 4, ... ``workers`` workers."""
    seconds = {t: reference_seconds(t, measured) for t in tasks}
    missing = sorted({f"{t.profile}" for t, s in seconds.items() if s is None})
    if missing:
        print(
            f"No timings for profile(s) {', '.join(missing)}: cannot estimate. Pass a run's "
            "timings.json with --timings (make lessons writes one beside the notebooks)."
        )
        return 2
    known = {t: float(s) for t, s in seconds.items() if s is not None}
    print(f"{len(tasks)} notebook runs, {duration(sum(known.values()))} of notebook time")
    for n in sorted({1, 2, 4, 8, 16, workers}):
        if n <= max(workers, 1) or n in (1, 2):
            print(f"  {n:>3} worker(s): about {duration(plan_seconds(tasks, known, n))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
