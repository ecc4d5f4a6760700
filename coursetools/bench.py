"""Benchmarks: lesson wall time and peak memory per profile, training throughput, speed knobs.

Usage: python -m coursetools.bench [--profiles smoke workshop] [--only 00 08] [--skip-notebooks]
                               [--skip-throughput] [--repeats 3] [--epochs 4]
                               [--baseline REF] [--out build/bench] [--write-reference]

Notebooks: each lesson runs with papermill (cwd notebooks/, kernel python3, PROFILE, SEED=0,
results into <out>/lessons/<profile>-seed0/) inside a fresh child process, so the child's
``RUSAGE_CHILDREN`` peak RSS is the kernel's. Wall time includes the kernel's start.
``full`` runs only when a verified official MNIST is already on this machine.

Before/after: ``--baseline REF`` (a commit, e.g. ``db97c81``) exports that commit's tree with
``git archive`` into <out>/baseline-<REF>/ and runs each of its lessons right next to the
current one (its own notebooks and ``helpers``, through ``PYTHONPATH``; same environment, same
machine, alternating which goes first), so the two totals and their ratio come from one run on
one machine under the same load.

Throughput: the course's path (``helpers.training.train``: validation every epoch, history,
callbacks, inference-mode re-evaluation) against a plain ``model.fit`` written the way the
articles write it (``batch_size=32``, default progress bar, ``validation_data``), and against a
plain fit at the course's batch size; same models (``build_mlp()``, ``build_cnn()``), same data
(the embedded digits split like the lessons: 3,200 train / 800 validation; the test split is
not touched), same epochs, repeats interleaved in one process. Knobs on the course's path:
batch size, tf.data vs arrays, model size, TensorFlow threads (one child process per setting),
and start-up (TF import, kernel start).

Writes <out>/bench.json and <out>/bench.md (earlier ones are kept as bench.<stamp>.prev.*).
``--write-reference`` rewrites the ``seconds``/``measured``/``machine`` parts of
coursetools/reference_timings.json from the notebook timings of this run (lessons not run keep
their old values).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from coursetools.files import keep_previous, write_text_keeping_previous
from coursetools.paths import REFERENCE_TIMINGS, build_dir, lesson_notebooks, repo_root

ROOT = repo_root()

PROFILE_CHOICES = ("smoke", "workshop", "full")
DEFAULT_PROFILES = ("smoke", "workshop")
SEED = 0
FULL_NOT_RUNNABLE = "not runnable: needs the official MNIST — `make data` online"
ARTICLE_BATCH = 32  # the seed articles' fit calls: batch_size=32 (or Keras' default, also 32)
COURSE_BATCH = 128  # helpers.training.train's default
BATCH_SIZES = (32, 64, 128, 256)
RESULT_MARK = "BENCH-RESULT "

# Runs one notebook in a child process and prints its wall time and the kernel's peak RSS.
# papermill's kernel is this child's only child, reaped at shutdown, so RUSAGE_CHILDREN is it.
_NOTEBOOK_RUNNER = r"""
import json, resource, sys, time
args = json.loads(sys.argv[1])
from pathlib import Path
import papermill as pm
from coursetools.notebooks import execute_lesson
start = time.perf_counter()
status = "ok"
try:
    execute_lesson(Path(args["input"]), Path(args["output"]), args["parameters"], Path(args["cwd"]))
except pm.PapermillExecutionError as exc:
    status = f"FAILED: {exc.ename}: {exc.evalue}"
except Exception as exc:  # kernel died, timeout, bad notebook: report, do not crash the bench
    status = f"FAILED: {type(exc).__name__}: {exc}"
seconds = time.perf_counter() - start
scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
print(args["mark"] + json.dumps({"seconds": seconds, "peak_rss_bytes": peak, "status": status}))
"""

_CHILD = "import sys; from coursetools import bench; bench.{fn}(sys.argv[1])"


# --------------------------------------------------------------------------- pure helpers
def median(values: Iterable[float]) -> float | None:
    """Median of the finite values, or None when there are none."""
    finite = [float(v) for v in values if v is not None and v == v]
    return statistics.median(finite) if finite else None


def compare_rates(course: Sequence[float], other: Sequence[float]) -> dict[str, Any]:
    """Summarise interleaved samples/s measurements of two paths.

    ``course[i]`` and ``other[i]`` come from the same round; the headline is the median of the
    per-round ratios (robust to a round slowed by other work on the machine).
    """
    if not course or len(course) != len(other):
        raise ValueError(
            f"need the same non-zero number of measurements, got {len(course)} and {len(other)}."
        )
    ratios = [c / o for c, o in zip(course, other, strict=True) if o > 0]
    return {
        "course_median": median(course),
        "other_median": median(other),
        "ratio_median": median(ratios),
        "ratios": ratios,
    }


def rotated(items: Sequence[Any], shift: int) -> list[Any]:
    """``items`` rotated left by ``shift`` (modulo its length): the order of round ``shift``."""
    if not items:
        return []
    k = shift % len(items)
    return [*items[k:], *items[:k]]


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table; floats get about 3 significant digits (whole numbers
    from 100 up), None is shown as an em dash."""

    def cell(v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, float):
            if abs(v) >= 100:
                return f"{v:,.0f}"
            return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3g}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row {row!r} has {len(row)} cells, expected {len(headers)}.")
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


def write_results(out: Path, payload: dict[str, Any], markdown: str) -> list[Path]:
    """Write ``bench.json`` and ``bench.md`` into ``out``; earlier ones are kept as time-stamped
    generations (``bench.<stamp>.prev.json``). Returns the paths of the kept files."""
    kept = []
    for name, text in (
        ("bench.json", json.dumps(payload, indent=2, default=str) + "\n"),
        ("bench.md", markdown),
    ):
        prev = write_text_keeping_previous(out / name, text)
        if prev:
            kept.append(prev)
    return kept


def select_lessons(names: Sequence[str], only: Sequence[str] | None) -> list[str]:
    """The lesson names whose two-digit prefix is in ``only`` (all when ``only`` is None).

    Raises ValueError naming the bad prefix and the lessons there are."""
    if not only:
        return list(names)
    bad = [p for p in only if not re.fullmatch(r"\d\d", p)]
    if bad:
        raise ValueError(f"--only takes two-digit lesson numbers such as 00 08, got {bad}.")
    unknown = [p for p in only if not any(n.startswith(p) for n in names)]
    if unknown:
        have = " ".join(n[:2] for n in names)
        raise ValueError(f"--only {' '.join(unknown)} matches no lesson (lessons: {have}).")
    return [n for n in names if n[:2] in only]


def reference_update(
    reference: dict[str, Any],
    seconds: dict[str, dict[str, float]],
    machine: dict[str, Any],
    measured: str,
    speed: float | None,
) -> dict[str, Any]:
    """A copy of ``reference`` with the measured lessons' seconds merged in per profile
    (others keep their values), ``measured`` replaced and the machine described. ``speed``
    None keeps the old ``speed_samples_per_s``."""
    new = json.loads(json.dumps(reference))
    block = new.setdefault("seconds", {})
    for profile, lessons in seconds.items():
        block.setdefault(profile, {}).update({k: round(float(v), 1) for k, v in lessons.items()})
    new["measured"] = measured
    old_machine = new.get("machine", {})
    new["machine"] = {
        **old_machine,
        **machine,
        "speed_samples_per_s": old_machine.get("speed_samples_per_s") if speed is None else speed,
    }
    return new


def write_reference(
    path: Path,
    seconds: dict[str, dict[str, float]],
    machine: dict[str, Any],
    measured: str,
    speed: float | None,
) -> dict[str, Any]:
    """Rewrite the reference-timings file at ``path`` with :func:`reference_update`."""
    path = Path(path)
    try:
        reference = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the reference timings {path}: {exc}") from exc
    if not seconds:
        raise ValueError("no lesson ran successfully: nothing to write into the reference.")
    new = reference_update(reference, seconds, machine, measured, speed)
    text = json.dumps(new, indent=2, ensure_ascii=False) + "\n"
    write_text_keeping_previous(path, text, keep=False)  # committed: git keeps its history
    return new


def reference_speed() -> float | None:
    """This machine's speed from ``coursetools.doctor.measure_speed()``; None if the test fails."""
    from coursetools.doctor import measure_speed

    try:
        return round(measure_speed(), 1)
    except Exception as exc:  # a failed speed test must not lose the timings just measured
        print(f"note: speed_samples_per_s left unchanged ({exc})", file=sys.stderr)
        return None


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _child_result(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` and return the JSON it prints after :data:`RESULT_MARK`."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    raise RuntimeError(f"child process failed (exit {proc.returncode}): {' / '.join(tail)}")


def _child_cmd(fn: str, args: dict[str, Any]) -> list[str]:
    code = _CHILD.format(fn=fn)
    return [sys.executable, "-c", code, json.dumps(args)]


# --------------------------------------------------------------------------- notebooks
def full_data_status() -> tuple[bool, str]:
    """Whether a verified official MNIST is on this machine (``MNIST_PATH`` or Keras cache),
    without downloading anything."""
    from helpers.data import DataError, keras_cache_file, load_npz, load_path

    try:
        if os.environ.get("MNIST_PATH"):
            data = load_path(os.environ["MNIST_PATH"], verify=True)
        elif keras_cache_file().exists():
            data = load_npz(keras_cache_file(), verify=True, source="keras-cache")
        else:
            return False, FULL_NOT_RUNNABLE
    except DataError as exc:
        return False, f"{FULL_NOT_RUNNABLE} ({exc})"
    return True, f"{data.description}, verified, at {data.location}"


def run_notebook(
    notebook: Path, output_dir: Path, profile: str, code_root: Path | None = None
) -> dict[str, Any]:
    """Execute ``notebook`` at ``profile`` in a fresh child process; wall seconds (kernel start
    included), the kernel's peak RSS in MiB, status, and the seconds spent in ``train()``.

    ``code_root``: another checkout whose ``helpers`` the kernel imports (a baseline)."""
    args = {
        "input": str(notebook),
        "output": str(output_dir / notebook.name),
        "parameters": {"PROFILE": profile, "SEED": SEED},
        "cwd": str(notebook.parent),
        "mark": RESULT_MARK,
    }
    env = {**os.environ, "COURSE_OUTPUT_DIR": str(output_dir)}
    if code_root is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code_root), env.get("PYTHONPATH")]))
    res = _child_result([sys.executable, "-c", _NOTEBOOK_RUNNER, json.dumps(args)], env=env)
    result = {
        "seconds": round(res["seconds"], 2),
        "peak_rss_mib": round(res["peak_rss_bytes"] / 2**20, 1),
        "status": res["status"],
        "training_s": None,
    }
    record = output_dir / f"{notebook.stem}.json"
    if res["status"] == "ok" and record.exists():
        runs = json.loads(record.read_text()).get("runs", [])
        result["training_s"] = round(sum(r.get("wall_time_s") or 0.0 for r in runs), 2)
        result["runs"] = len(runs)
    return result


def export_baseline(ref: str, out: Path) -> Path:
    """The tree of commit ``ref`` exported (``git archive``) into ``out/baseline-<sha>``."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", f"{ref}^{{commit}}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ValueError(
            f"--baseline {ref!r} is not a commit of this git checkout ({exc}). Give a commit "
            "such as db97c81 or main~3 (`git log --oneline` lists them)."
        ) from None
    target = out / f"baseline-{sha}"
    if target.exists():
        shutil.rmtree(target)  # always a fresh export: a reused folder could hold edits
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def bench_notebooks(
    profiles: Sequence[str],
    notebooks: Sequence[Path],
    out: Path,
    baseline: Path | None = None,
) -> dict:
    """Wall time and peak memory of each notebook at each runnable profile; with ``baseline``
    (an exported checkout) the same lesson of the baseline runs beside each one."""
    results: dict[str, Any] = {"profiles": {}, "not_runnable": {}}
    full_ok, full_why = full_data_status()
    if not full_ok:
        results["not_runnable"]["full"] = full_why
        print(f"full: {full_why}", flush=True)
    elif "full" not in profiles:
        results["not_runnable"]["full"] = f"not requested ({full_why}): add --profiles full"
    for profile in profiles:
        if profile == "full":
            if not full_ok:
                continue
            print(f"full: using {full_why}", flush=True)
        folder = out / "lessons" / f"{profile}-seed{SEED}"
        if folder.exists() and any(folder.iterdir()):
            keep_previous(folder)
        folder.mkdir(parents=True, exist_ok=True)
        rows: dict[str, Any] = {}
        base_rows: dict[str, Any] = {}
        load_before = load_average()
        for i, nb in enumerate(notebooks):
            base_nb = baseline / "notebooks" / nb.name if baseline else None
            jobs = [("current", nb, folder, None)]
            if base_nb is not None and base_nb.exists():
                base_folder = folder / "baseline"
                base_folder.mkdir(exist_ok=True)
                jobs.append(("baseline", base_nb, base_folder, baseline))
                if i % 2:
                    jobs.reverse()  # alternate who goes first: drift hits both sides alike
            for which, path, where, root in jobs:
                row = run_notebook(path, where, profile, root)
                (rows if which == "current" else base_rows)[nb.stem] = row
                print(
                    f"{profile:<9} {nb.stem:<24} {which:<8} {row['seconds']:7.1f} s  "
                    f"{row['peak_rss_mib']:7.1f} MiB  {row['status']}",
                    flush=True,
                )
        block = {
            "lessons": rows,
            "total_s": round(sum(r["seconds"] for r in rows.values()), 1),
            "load_before": load_before,
            "load_after": load_average(),
        }
        if base_rows:
            block["baseline_lessons"] = base_rows
            paired = [n for n in base_rows if n in rows]
            block["baseline_total_s"] = round(sum(base_rows[n]["seconds"] for n in paired), 1)
            current = sum(rows[n]["seconds"] for n in paired)
            block["ratio_to_baseline"] = round(current / block["baseline_total_s"], 3)
        results["profiles"][profile] = block
    if baseline is not None:
        results["baseline"] = str(baseline)
    return results


# --------------------------------------------------------------------------- throughput
def _data():
    from helpers.data import load_mnist
    from helpers.prep import Split, to_images, train_val_split

    data = load_mnist("embedded")
    s = train_val_split(data.x_train, data.y_train, 0.2, SEED)  # as Lesson.split does
    return Split(to_images(s.x_train), s.y_train, to_images(s.x_val), s.y_val)


# name → (builder in helpers.models, keyword arguments); the first two are the lessons' own
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "mlp": ("build_mlp", {}),
    "cnn": ("build_cnn", {}),
    "cnn-16-32": ("build_cnn", {"filters": (16, 32)}),
    "mlp-512-512": ("build_mlp", {"hidden": (512, 512)}),
}


def build_model(name: str):
    """A fresh model from :data:`MODELS`."""
    from helpers import models

    builder, kwargs = MODELS[name]
    return getattr(models, builder)(**kwargs)


def _epoch_clock():
    from helpers.training import EpochClock

    return EpochClock()


def measure(path: str, model: str, split, epochs: int, batch_size: int = COURSE_BATCH) -> dict:
    """Train a fresh ``model`` (seed 0) one way and time it.

    ``path``: ``course`` (helpers.training.train), ``article`` (compile + plain fit as the
    articles write it: progress bar on, into a throwaway buffer), ``plain`` (plain fit,
    ``verbose=0``), ``tfdata`` (plain fit on a shuffled, batched, prefetched tf.data pipeline).
    """
    from helpers._tf import keras, tf
    from helpers.reproducibility import set_seed
    from helpers.training import compile_model, train

    set_seed(SEED)
    net = build_model(model)
    clock = _epoch_clock()
    n = len(split.y_train)
    val = (split.x_val, split.y_val)
    sink = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        if path == "course":
            run = train(net, split, epochs=epochs, batch_size=batch_size, callbacks=[clock])
            val_acc = run.val_acc
            fingerprint = [*run.history["loss"], run.train_loss, run.val_loss]
        else:
            compile_model(net)
            if path == "tfdata":
                x = (
                    tf.data.Dataset.from_tensor_slices((split.x_train, split.y_train))
                    .shuffle(n, seed=SEED)
                    .batch(batch_size)
                    .prefetch(tf.data.AUTOTUNE)
                )
                vx = tf.data.Dataset.from_tensor_slices(val).batch(batch_size)
                kw = {"validation_data": vx, "verbose": 0, "shuffle": False}  # shuffled above
                net.fit(x, epochs=epochs, callbacks=[keras.callbacks.TerminateOnNaN(), clock], **kw)
            else:
                net.fit(
                    split.x_train,
                    split.y_train,
                    epochs=epochs,
                    batch_size=batch_size,
                    validation_data=val,
                    callbacks=[clock],
                    **({"verbose": 0} if path == "plain" else {}),
                )
            val_acc, fingerprint = None, None
    wall = time.perf_counter() - start
    steady = median(clock.durations[1:])
    return {
        "samples_per_s": n * epochs / wall,
        "steady_samples_per_s": n / steady if steady else None,
        "first_epoch_s": clock.durations[0],
        "steady_epoch_s": steady,
        "wall_s": wall,
        "val_acc": val_acc,
        "n_params": int(net.count_params()),
        "fingerprint": fingerprint,
    }


def _rounds(
    variants: dict[str, Callable[[], dict]], repeats: int, label: str
) -> dict[str, list[dict]]:
    """Run each variant once per round and collect the measurements. The order rotates from
    round to round (A B C, B C A, C A B, …) so no variant always runs first or after the same
    one."""
    out: dict[str, list[dict]] = {k: [] for k in variants}
    keys = list(variants)
    for r in range(repeats):
        for key in rotated(keys, r):
            m = variants[key]()
            out[key].append(m)
            print(
                f"  {label} round {r + 1}/{repeats} {key:<16} {m['samples_per_s']:9,.0f} samples/s"
                f"  (first epoch {m['first_epoch_s']:.2f} s)",
                flush=True,
            )
    return out


def _summary(measurements: list[dict]) -> dict[str, Any]:
    keys = ("samples_per_s", "steady_samples_per_s", "first_epoch_s", "steady_epoch_s", "wall_s")
    s = {k: median(m[k] for m in measurements) for k in keys}
    s["val_acc"] = measurements[0]["val_acc"]
    s["n_params"] = measurements[0]["n_params"]
    s["samples_per_s_all"] = [m["samples_per_s"] for m in measurements]
    return s


def bench_throughput(repeats: int, epochs: int) -> dict[str, Any]:
    """Course path vs plain fits, then the knobs, all interleaved in this process."""
    split = _data()
    measure("plain", "mlp", split, 1)  # warm-up: one-time TensorFlow start costs
    result: dict[str, Any] = {
        "n_train": len(split.y_train),
        "n_val": len(split.y_val),
        "epochs": epochs,
        "repeats": repeats,
        "article_fit": f"model.fit(x, y, epochs={epochs}, batch_size={ARTICLE_BATCH}, "
        "validation_data=(x_val, y_val)) — default verbose (progress bar)",
        "models": {},
    }
    for model in ("mlp", "cnn"):
        raw = _rounds(
            {
                "course": lambda m=model: measure("course", m, split, epochs),
                "article": lambda m=model: measure("article", m, split, epochs, ARTICLE_BATCH),
                "plain-128": lambda m=model: measure("plain", m, split, epochs),
            },
            repeats,
            model,
        )
        rates = {k: [m["samples_per_s"] for m in v] for k, v in raw.items()}
        result["models"][model] = {
            "paths": {k: _summary(v) for k, v in raw.items()},
            "course_vs_article": compare_rates(rates["course"], rates["article"]),
            "course_vs_plain_same_batch": compare_rates(rates["course"], rates["plain-128"]),
        }
    knobs: dict[str, Any] = {}
    raw = _rounds(
        {f"batch {b}": lambda b=b: measure("course", "cnn", split, epochs, b) for b in BATCH_SIZES},
        repeats,
        "cnn",
    )
    knobs["batch_size"] = {k: _summary(v) for k, v in raw.items()}
    raw = _rounds(
        {
            "arrays": lambda: measure("plain", "cnn", split, epochs),
            "tf.data": lambda: measure("tfdata", "cnn", split, epochs),
        },
        repeats,
        "cnn",
    )
    knobs["input_pipeline"] = {k: _summary(v) for k, v in raw.items()}
    raw = _rounds(
        {m: lambda m=m: measure("course", m, split, epochs) for m in MODELS}, repeats, "size"
    )
    knobs["model_size"] = {k: _summary(v) for k, v in raw.items()}
    result["knobs"] = knobs
    result["process_peak_rss_mib"] = round(_peak_rss_self() / 2**20, 1)
    return result


def _peak_rss_self() -> int:
    """This process's peak RSS in bytes."""
    import resource

    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def thread_child(args_json: str) -> None:
    """(Child process) set TensorFlow's thread pools, then time the course's path on the CNN."""
    args = json.loads(args_json)
    from helpers._tf import tf

    if args["intra"] is not None:
        tf.config.threading.set_intra_op_parallelism_threads(args["intra"])
        tf.config.threading.set_inter_op_parallelism_threads(args["inter"])
    m = measure("course", "cnn", _data(), args["epochs"])
    print(RESULT_MARK + json.dumps(m))


def bench_threads(repeats: int, epochs: int) -> dict[str, Any]:
    """Each thread setting in its own process (they cannot change once TF has started), in
    rounds; also whether the numbers stay bit-for-bit the same as with TF's defaults."""
    n = os.cpu_count() or 1
    settings = {"TF default": (None, None), "intra 1 inter 1": (1, 1)}
    settings[f"intra {n} inter 1"] = (n, 1)
    settings[f"intra {n} inter {n}"] = (n, n)
    raw: dict[str, list[dict]] = {k: [] for k in settings}
    for r in range(repeats):
        for key in rotated(list(settings), r):
            intra, inter = settings[key]
            args = {"intra": intra, "inter": inter, "epochs": epochs}
            m = _child_result(_child_cmd("thread_child", args))
            raw[key].append(m)
            print(
                f"  threads round {r + 1}/{repeats} {key:<16} "
                f"{m['steady_samples_per_s']:9,.0f} samples/s (steady)",
                flush=True,
            )
    base = raw["TF default"][0]["fingerprint"]
    return {
        k: {**_summary(v), "same_numbers_as_default": v[0]["fingerprint"] == base}
        for k, v in raw.items()
    }


# Models for the training-path levers: the lessons' kinds, from cheapest to costliest step.
LEVER_MODELS = ("linear", "mlp", "mlp-512-512", "cnn", "capstone")


def _lever_model(name: str):
    from helpers import models

    if name == "linear":
        return models.build_linear()
    if name == "capstone":  # lesson 07's network: two convs per block, batch norm, augmentation
        aug = models.augmentation(rotation_degrees=10, translation=0.1, zoom=0.1)
        return models.build_cnn(
            filters=(16, 32), convs_per_block=2, dropout=0.25, batch_norm=True, augment=aug
        )
    return build_model(name)


def lever_child(args_json: str) -> None:
    """(Child process) with oneDNN on or off, train each model with the course's path at
    steps_per_execution 1 and at the course's choice; steady samples/s, CPU use (process CPU
    seconds per wall second: 2.0 = both cores busy) and a fingerprint of the numbers."""
    args = json.loads(args_json)
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = args["onednn"]  # before TensorFlow is imported
    import resource

    from helpers.reproducibility import set_seed
    from helpers.training import steps_per_execution_for, train

    split = _data()
    out = {}
    for model in args["models"]:
        for spe in ("1", "course"):
            set_seed(SEED)
            net = _lever_model(model)
            clock = _epoch_clock()
            steps = 1 if spe == "1" else steps_per_execution_for(net)
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                run = train(
                    net,
                    split,
                    epochs=args["epochs"],
                    callbacks=[clock],
                    steps_per_execution=steps,
                    validation_batch_size=COURSE_BATCH if spe == "1" else 1024,
                )
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            steady = median(clock.durations[1:])
            out[f"{model} spe={steps}"] = {
                "model": model,
                "steps_per_execution": steps,
                "steady_samples_per_s": len(split.y_train) / steady if steady else None,
                "cpu_per_wall": cpu / wall,
                # the weights' trajectory: training losses, validation accuracies and the final
                # losses (evaluated the same way in both); the per-epoch validation loss is left
                # out, its sum order follows the validation batch size
                "fingerprint": [
                    *run.history["loss"],
                    *run.history["val_accuracy"],
                    run.train_loss,
                    run.val_loss,
                ],
            }
    print(RESULT_MARK + json.dumps(out))


def bench_levers(repeats: int, epochs: int) -> dict[str, Any]:
    """What keeps a core idle while the lessons train, and what the course's training path
    does about it: oneDNN kernels on/off (one process each) × steps_per_execution 1 vs the
    course's choice, per model kind, in rounds. Reports the medians and whether the numbers
    stayed the same (spe must never change them; oneDNN may)."""
    settings = ("0", "1")
    raw: dict[str, dict[str, list[dict]]] = {o: {} for o in settings}
    for r in range(repeats):
        for onednn in rotated(list(settings), r):
            args = {"onednn": onednn, "models": list(LEVER_MODELS), "epochs": epochs}
            res = _child_result(_child_cmd("lever_child", args))
            for key, m in res.items():
                raw[onednn].setdefault(key, []).append(m)
                print(
                    f"  levers round {r + 1}/{repeats} oneDNN {'on ' if onednn == '1' else 'off'}"
                    f" {key:<22} {m['steady_samples_per_s']:9,.0f} samples/s (steady), "
                    f"CPU {m['cpu_per_wall']:.2f} cores",
                    flush=True,
                )
    result: dict[str, Any] = {}
    for onednn, block in raw.items():
        for key, ms in block.items():
            model = ms[0]["model"]
            spe1 = block[f"{model} spe=1"][0]["fingerprint"]
            result[f"oneDNN {'on' if onednn == '1' else 'off'}, {key}"] = {
                "steady_samples_per_s": median(m["steady_samples_per_s"] for m in ms),
                "cpu_per_wall": median(m["cpu_per_wall"] for m in ms),
                "same_numbers_as_spe_1": ms[0]["fingerprint"] == spe1,
                "same_numbers_every_round": all(
                    m["fingerprint"] == ms[0]["fingerprint"] for m in ms
                ),
            }
    return result


def startup_child(args_json: str) -> None:
    """(Child process) time importing TensorFlow+Keras, then the rest of helpers."""
    t0 = time.perf_counter()
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    t1 = time.perf_counter()
    import helpers  # noqa: F401

    t2 = time.perf_counter()
    print(RESULT_MARK + json.dumps({"tf_keras_import_s": t1 - t0, "helpers_rest_s": t2 - t1}))


def bench_startup(repeats: int) -> dict[str, Any]:
    """Process start + imports, and a Jupyter kernel's start and first ``import helpers``."""
    from jupyter_client.manager import start_new_kernel

    rows: dict[str, list[float]] = {
        "process_s": [],
        "tf_keras_import_s": [],
        "helpers_rest_s": [],
        "kernel_start_s": [],
        "kernel_import_helpers_s": [],
    }
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for _ in range(repeats):
        t = time.perf_counter()
        res = _child_result(_child_cmd("startup_child", {}), env=env)
        rows["process_s"].append(time.perf_counter() - t)
        rows["tf_keras_import_s"].append(res["tf_keras_import_s"])
        rows["helpers_rest_s"].append(res["helpers_rest_s"])
        t = time.perf_counter()
        km, kc = start_new_kernel(
            kernel_name="python3", cwd=str(ROOT / "notebooks"), stderr=subprocess.DEVNULL
        )
        rows["kernel_start_s"].append(time.perf_counter() - t)
        try:
            t = time.perf_counter()
            kc.execute_interactive("import helpers", timeout=300, output_hook=lambda msg: None)
            rows["kernel_import_helpers_s"].append(time.perf_counter() - t)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    return {k: median(v) for k, v in rows.items()}


# --------------------------------------------------------------------------- report
def machine_info() -> dict[str, Any]:
    """CPU count, platform and the versions the numbers depend on."""
    from helpers.reproducibility import software_versions

    return {
        "cpu_count": os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}",
        "processor": platform.processor() or None,
        "versions": software_versions(),
    }


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def render_markdown(payload: dict[str, Any]) -> str:
    """bench.md: the tables of ``payload`` (the content of bench.json)."""
    m = payload["machine"]
    parts = [
        "# Benchmarks",
        "",
        f"{payload['started']} → {payload['finished']} · {m['cpu_count']} CPUs · {m['platform']}"
        f" · TF {m['versions'].get('tensorflow-cpu') or m['versions'].get('tensorflow')}"
        f" · Keras {m['versions'].get('keras')} · load average before {payload['load_before']},"
        f" after {payload['load_after']}",
        "",
        f"Command: `{payload['command']}`",
    ]
    nbs = payload.get("notebooks")
    if nbs:
        for profile, block in nbs["profiles"].items():
            base = block.get("baseline_lessons")
            if base:
                rows = [
                    [
                        lesson,
                        base[lesson]["seconds"] if lesson in base else None,
                        r["seconds"],
                        r["seconds"] / base[lesson]["seconds"] if lesson in base else None,
                        base[lesson]["peak_rss_mib"] if lesson in base else None,
                        r["peak_rss_mib"],
                    ]
                    for lesson, r in block["lessons"].items()
                ]
                rows.append(
                    [
                        "all",
                        block["baseline_total_s"],
                        block["total_s"],
                        block["ratio_to_baseline"],
                        None,
                        None,
                    ]
                )
                head = [
                    "lesson",
                    "baseline wall s",
                    "current wall s",
                    "current ÷ baseline",
                    "baseline peak MiB",
                    "current peak MiB",
                ]
                parts += [
                    "",
                    f"## `{profile}`: before ({nbs['baseline']}) and after, side by side",
                    "",
                    markdown_table(head, rows),
                ]
            rows = []
            for lesson, r in block["lessons"].items():
                trained = r["training_s"]
                # A run a lesson assembles from others (07's ensemble) repeats their time, so
                # the sum can exceed the wall time; then "other" is unknown, not negative.
                unknown = trained is None or trained > r["seconds"]
                other = None if unknown else r["seconds"] - trained
                rows.append(
                    [lesson, r["seconds"], r["training_s"], other, r["peak_rss_mib"], r["status"]]
                )
            head = ["lesson", "wall s", "in train() s", "other s", "kernel peak MiB", "status"]
            parts += [
                "",
                f"## Notebooks at `{profile}` (total {block['total_s']} s; "
                f"load {block['load_before']} → {block['load_after']})",
                "",
                markdown_table(head, rows),
                "",
                "`in train()` sums the wall time recorded by every run of the lesson; a run built "
                "from other runs (07's two-model average) repeats their time, so its `other` is "
                "left blank.",
            ]
        for profile, why in nbs["not_runnable"].items():
            parts += ["", f"`{profile}`: {why}"]
    tp = payload.get("throughput")
    if tp:
        parts += [
            "",
            f"## Training throughput ({tp['n_train']:,} train / {tp['n_val']} val images, "
            f"{tp['epochs']} epochs, {tp['repeats']} interleaved repeats)",
            "",
            f"Article-style fit: `{tp['article_fit']}`. `plain-128` = plain fit at the course's "
            "batch size, `verbose=0`. samples/s = train images × epochs ÷ wall time of the call "
            "(compile and, for the course, the inference-mode re-evaluation included); "
            "steady = one epoch after the first. Peak RSS of the benchmarking process: "
            f"{tp.get('process_peak_rss_mib')} MiB.",
            "",
        ]
        rows = []
        for model, block in tp["models"].items():
            for key, s in block["paths"].items():
                rows.append(
                    [
                        model,
                        key,
                        s["samples_per_s"],
                        s["steady_samples_per_s"],
                        s["first_epoch_s"],
                        s["steady_epoch_s"],
                        _difference(s["first_epoch_s"], s["steady_epoch_s"]),
                    ]
                )
        head = [
            "model",
            "path",
            "samples/s",
            "steady samples/s",
            "first epoch s",
            "steady epoch s",
            "tracing ≈ first − steady s",
        ]
        parts.append(markdown_table(head, rows))
        rows = [
            [
                model,
                block["course_vs_article"]["ratio_median"],
                block["course_vs_plain_same_batch"]["ratio_median"],
            ]
            for model, block in tp["models"].items()
        ]
        parts += [
            "",
            markdown_table(
                ["model", "course ÷ article fit", "course ÷ plain fit, same batch"], rows
            ),
        ]
        titles = {
            "batch_size": "Batch size (course's path, CNN; val acc after the same epochs)",
            "input_pipeline": "Input pipeline (plain fit, CNN, batch 128)",
            "model_size": "Model size (course's path)",
        }
        for key, title in titles.items():
            rows = [
                [k, s["samples_per_s"], s["steady_samples_per_s"], s["n_params"], s["val_acc"]]
                for k, s in tp["knobs"][key].items()
            ]
            head = ["setting", "samples/s", "steady samples/s", "params", "val acc"]
            parts += ["", f"### {title}", "", markdown_table(head, rows)]
    th = payload.get("threads")
    if th:
        rows = [
            [k, s["samples_per_s"], s["steady_samples_per_s"], s["same_numbers_as_default"]]
            for k, s in th.items()
        ]
        head = ["TF threads", "samples/s", "steady samples/s", "same numbers as default"]
        parts += [
            "",
            "### Threads (course's path, CNN; one process per setting, in rounds)",
            "",
            markdown_table(head, rows),
        ]
    lv = payload.get("levers")
    if lv:
        rows = [
            [
                k,
                s["steady_samples_per_s"],
                s["cpu_per_wall"],
                s["same_numbers_as_spe_1"],
                s["same_numbers_every_round"],
            ]
            for k, s in lv.items()
        ]
        head = [
            "setting",
            "steady samples/s",
            "CPU cores busy",
            "same numbers as spe=1",
            "same every round",
        ]
        parts += [
            "",
            "### Training-path levers (course's path, workshop split; one process per oneDNN "
            "setting, in rounds)",
            "",
            markdown_table(head, rows),
        ]
    st = payload.get("startup")
    if st:
        parts += [
            "",
            "### Start-up (medians)",
            "",
            markdown_table(["step", "seconds"], [[k, v] for k, v in st.items()]),
        ]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- main
def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--profiles", nargs="+", default=list(DEFAULT_PROFILES), choices=PROFILE_CHOICES
    )
    parser.add_argument("--only", nargs="+", default=None, help="lesson numbers, e.g. 00 08")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument(
        "--levers-only",
        action="store_true",
        help="of the throughput section, measure only the training-path levers",
    )
    parser.add_argument("--repeats", type=_positive_int, default=3, help="throughput repeats")
    parser.add_argument("--epochs", type=_positive_int, default=4, help="epochs per fit (≥2)")
    parser.add_argument("--out", default=None, help="output folder (default build/bench)")
    parser.add_argument(
        "--baseline",
        metavar="REF",
        default=None,
        help="also run the lessons of commit REF beside each current one (before/after)",
    )
    parser.add_argument(
        "--write-reference", action="store_true", help=f"rewrite {REFERENCE_TIMINGS.name}"
    )
    return parser


def parse_args(argv: Sequence[str] | None, lesson_names: Sequence[str]) -> argparse.Namespace:
    """Parse and check the options; bad combinations exit with a message (status 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch carries the tracing).")
    if args.skip_notebooks and args.skip_throughput:
        parser.error("--skip-notebooks and --skip-throughput together leave nothing to measure.")
    if args.baseline and args.skip_notebooks:
        parser.error("--baseline compares notebook timings: drop --skip-notebooks.")
    if args.write_reference and args.skip_notebooks:
        parser.error("--write-reference needs the notebook timings: drop --skip-notebooks.")
    try:
        args.lessons = select_lessons(lesson_names, args.only)
    except ValueError as exc:
        parser.error(str(exc))
    args.profiles = list(dict.fromkeys(args.profiles))
    return args


def main(argv: list[str] | None = None) -> int:

    notebooks = {nb.stem: nb for nb in lesson_notebooks()}
    args = parse_args(argv, list(notebooks))
    out = Path(args.out) if args.out else build_dir() / "bench"
    if not out.is_absolute():
        out = ROOT / out
    out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m coursetools.bench", *(sys.argv[1:] if argv is None else argv)])
    payload: dict[str, Any] = {
        "command": command,
        "started": datetime.now().isoformat(timespec="seconds"),
        "load_before": load_average(),
        "machine": machine_info(),
    }
    baseline = None
    if args.baseline:
        try:
            baseline = export_baseline(args.baseline, out)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"Baseline {args.baseline} exported to {baseline}", flush=True)
    if not args.skip_notebooks:
        print(f"Notebooks ({', '.join(args.profiles)}): one fresh process each", flush=True)
        payload["notebooks"] = bench_notebooks(
            args.profiles, [notebooks[n] for n in args.lessons], out, baseline
        )
    if not args.skip_throughput:
        print("Training-path levers: one process per oneDNN setting", flush=True)
        payload["levers"] = bench_levers(args.repeats, args.epochs)
    if not args.skip_throughput and not args.levers_only:
        print(f"Throughput: {args.repeats} interleaved repeats × {args.epochs} epochs", flush=True)
        payload["throughput"] = bench_throughput(args.repeats, args.epochs)
        print("Threads: one process per setting", flush=True)
        payload["threads"] = bench_threads(args.repeats, args.epochs)
        print("Start-up", flush=True)
        payload["startup"] = bench_startup(args.repeats)
    payload["finished"] = datetime.now().isoformat(timespec="seconds")
    payload["load_after"] = load_average()
    kept = write_results(out, payload, render_markdown(payload))
    print(f"Results in {out / 'bench.json'} and {out / 'bench.md'}")
    if kept:
        print(f"Previous results kept as {', '.join(p.name for p in kept)}")
    if args.write_reference:
        seconds = {
            profile: {k: r["seconds"] for k, r in block["lessons"].items() if r["status"] == "ok"}
            for profile, block in payload["notebooks"]["profiles"].items()
        }
        seconds = {p: s for p, s in seconds.items() if s}
        m = payload["machine"]
        measured = (
            f"{date.today().isoformat()}, make bench (papermill wall time, kernel start "
            f"included, seed {SEED}) on {m['cpu_count']} CPUs, load average "
            f"{payload['load_before']} → {payload['load_after']}"
        )
        try:
            write_reference(
                REFERENCE_TIMINGS,
                seconds,
                {"cpu_count": m["cpu_count"], "platform": m["platform"]},
                measured,
                reference_speed(),
            )
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"Reference timings rewritten: {REFERENCE_TIMINGS}")
    failed = [
        f"{p}/{k}"
        for p, block in payload.get("notebooks", {}).get("profiles", {}).items()
        for k, r in block["lessons"].items()
        if r["status"] != "ok"
    ]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
