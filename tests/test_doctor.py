"""coursetools.doctor: each check's pass and fail paths, the time scaling, and the exit code.

No kernel is started and nothing touches the network; the one TensorFlow run is a short
measure_speed.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from coursetools import doctor
from helpers import data as D

Usage = namedtuple("Usage", "total used free")


def _lock(tmp_path, tf_pin="2.21.0"):
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "# a comment\n"
        f'tensorflow-cpu=={tf_pin} ; python_version >= "3"\n'
        'tensorflow==0.0.1 ; python_version < "3"\n'  # a pin for another platform: ignored
        "keras==3.15.1\n"
        "numpy==2.4.6\n"
    )
    return lock


INSTALLED = {"tensorflow-cpu": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"}


def _installed(extra=None):
    versions = {**INSTALLED, doctor.DISTRIBUTION: doctor._version(), **(extra or {})}
    return versions.get


def _kernelspec(folder, argv0, name="Course kernel"):
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": name,
                "language": "python",
            }
        )
    )
    return spec


@pytest.fixture
def course_kernel(tmp_path, monkeypatch):
    """JUPYTER_PATH (searched first) holds a python3 kernelspec that runs this Python."""
    _kernelspec(tmp_path / "jpath", sys.executable)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jpath"))


# --------------------------------------------------------------------------- python, packages
def test_python_311_passes_and_another_version_fails_with_the_fix():
    assert doctor.check_python((3, 11, 7)).status == doctor.OK
    bad = doctor.check_python((3, 12, 1))
    assert bad.status == doctor.FAIL
    assert "3.12.1" in bad.detail and "make setup" in bad.fix


def test_lock_pins_only_those_for_this_platform(tmp_path):
    pins = doctor.locked_versions(_lock(tmp_path))
    assert pins == {"tensorflow-cpu": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"}


def test_packages_matching_the_lock_pass(tmp_path):
    check = doctor.check_packages(_lock(tmp_path), _installed())
    assert check.status == doctor.OK, check
    assert "tensorflow-cpu 2.21.0" in check.detail and "match requirements.lock" in check.detail


def test_wrong_tensorflow_pin_fails_naming_both_versions(tmp_path):
    check = doctor.check_packages(_lock(tmp_path, tf_pin="2.20.0"), _installed())
    assert check.status == doctor.FAIL
    assert "tensorflow-cpu 2.21.0 (requirements.lock pins 2.20.0)" in check.detail
    assert "make setup" in check.fix


def test_missing_package_and_stale_helpers_install_fail(tmp_path):
    missing = doctor.check_packages(_lock(tmp_path), _installed({"numpy": None}))
    assert missing.status == doctor.FAIL and "numpy missing" in missing.detail
    stale = doctor.check_packages(_lock(tmp_path), _installed({doctor.DISTRIBUTION: "0.0.9"}))
    assert stale.status == doctor.FAIL and "0.0.9" in stale.detail


def test_without_a_lock_versions_are_reported(tmp_path):
    check = doctor.check_packages(tmp_path / "absent.lock", _installed())
    assert check.status == doctor.OK and "no requirements.lock" in check.detail


# --------------------------------------------------------------------------- tensorflow, cpu
def test_tensorflow_quiet_import_and_cpu_run_pass():
    check = doctor.check_tensorflow(lambda: (0, 4.2, ""))
    assert check.status == doctor.OK
    assert "imports quietly in 4.2 s" in check.detail and "runs on CPU" in check.detail


def test_tensorflow_noisy_import_warns_and_broken_import_fails():
    noisy = doctor.check_tensorflow(lambda: (0, 4.2, "oneDNN custom operations are on"))
    assert noisy.status == doctor.WARN and "oneDNN" in noisy.detail
    broken = doctor.check_tensorflow(lambda: (1, 1.0, "Traceback\nImportError: no _pywrap"))
    assert broken.status == doctor.FAIL
    assert "ImportError: no _pywrap" in broken.detail and "make setup" in broken.fix


def test_cpu_cores_warn_below_two_usable():
    assert doctor.check_cpu(cpu_count=8, usable=2).status == doctor.OK
    one = doctor.check_cpu(cpu_count=8, usable=1)
    assert one.status == doctor.WARN and "1 usable" in one.detail and one.fix


# --------------------------------------------------------------------------- data
def test_embedded_data_is_loaded_and_verified(isolated_env):
    (check,) = doctor.check_data(["workshop"])
    assert check.status == doctor.OK and check.name == "data workshop"
    assert "4,000 train / 1,000 test" in check.detail and "verified" in check.detail


def test_corrupt_embedded_file_fails(isolated_env, monkeypatch):
    bad = isolated_env / "mnist_5k.csv.gz"
    bad.write_bytes(b"not the file")
    monkeypatch.setattr(D, "embedded_file", lambda: bad)
    (check,) = doctor.check_data(["smoke"])
    assert check.status == doctor.FAIL and "damaged gzip file" in check.detail


def test_corrupt_mnist_path_fails_with_the_data_error(isolated_env, monkeypatch):
    bad = isolated_env / "mnist.npz"
    bad.write_bytes(b"truncated download")
    monkeypatch.setenv("MNIST_PATH", str(bad))
    (check,) = doctor.check_data(["full"])
    assert check.status == doctor.FAIL
    assert f"MNIST_PATH={bad}" in check.detail and "damaged" in check.detail
    assert "MNIST_PATH" in check.fix


def test_skipped_checksums_warn_and_say_not_verified(isolated_env, monkeypatch):
    npz = isolated_env / "mnist.npz"
    rng = np.random.default_rng(0)
    np.savez(
        npz,
        x_train=rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 30),
        x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 10),
    )
    monkeypatch.setenv("MNIST_PATH", str(npz))
    monkeypatch.setenv("MNIST_SKIP_CHECKSUM", "1")
    checks = {c.name: c for c in doctor.check_data(["full"])}
    assert checks["checksums"].status == doctor.WARN
    assert checks["data full"].status == doctor.WARN
    assert "30 train / 10 test" in checks["data full"].detail
    assert "NOT verified" in checks["data full"].detail


def test_full_profile_uses_a_corrupt_keras_cache_or_would_download(isolated_env):
    (nothing,) = doctor.check_data(["full"])
    assert nothing.status == doctor.OK and "would download" in nothing.detail
    cache = D.keras_cache_file()
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"half a file")
    (corrupt,) = doctor.check_data(["full"])
    assert corrupt.status == doctor.FAIL and str(cache) in corrupt.detail


# --------------------------------------------------------------------------- kernel, disk
def test_kernel_running_this_python_passes(course_kernel):
    check = doctor.check_kernel()
    assert check.status == doctor.OK
    assert "'Course kernel'" in check.detail and doctor.shown(sys.executable) in check.detail


def test_stale_kernelspec_fails(tmp_path, monkeypatch):
    _kernelspec(tmp_path / "jpath", "/opt/old-python/bin/python3")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jpath"))
    check = doctor.check_kernel()
    assert check.status == doctor.FAIL and "/opt/old-python/bin/python3" in check.detail
    assert "jupyter kernelspec" in check.fix and "make setup" in check.fix


def test_user_level_kernelspec_shadowing_the_course_fails(tmp_path, monkeypatch):
    spec = _kernelspec(tmp_path / "user", "/usr/bin/python3.9", name="Old user kernel")
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "user"))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")  # user paths first, as outside a venv
    check = doctor.check_kernel()
    assert check.status == doctor.FAIL
    assert "user-level kernelspec shadows" in check.detail and str(spec) in check.detail
    assert f"removes {spec}" in check.fix


def test_disk_below_one_gb_fails_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(100e9, 99.6e9, 0.4e9))
    low = doctor.check_disk(tmp_path / "build" / "not-yet-created")
    assert low.status == doctor.FAIL and "0.4 GB free" in low.detail
    assert "COURSE_BUILD_DIR" in low.fix
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(100e9, 50e9, 50e9))
    assert doctor.check_disk(tmp_path).status == doctor.OK


# --------------------------------------------------------------------------- times, speed
def _timings(tmp_path, ref_speed=1000.0):
    path = tmp_path / "timings.json"
    path.write_text(
        json.dumps(
            {
                "machine": {"speed_samples_per_s": ref_speed},
                "seconds": {"workshop": {"00_a": 10, "01_b": 30}, "smoke": {"00_a": 4}},
            }
        )
    )
    return path


def test_expected_times_scale_by_reference_over_this_speed(tmp_path):
    times = doctor.expected_times(speed=4000.0, timings=_timings(tmp_path))
    assert times == {
        "workshop": {"00_a": 2.5, "01_b": 7.5},
        "smoke": {"00_a": 1.0, "01_b": None},
    }
    slower = doctor.expected_times(speed=500.0, timings=_timings(tmp_path))
    assert slower["workshop"]["01_b"] == 60.0


def test_expected_times_need_a_reference_speed_and_a_positive_speed(tmp_path):
    with pytest.raises(ValueError, match="speed_samples_per_s"):
        doctor.expected_times(speed=100.0, timings=_timings(tmp_path, ref_speed=None))
    with pytest.raises(ValueError, match="speed must be > 0"):
        doctor.expected_times(speed=0.0, timings=_timings(tmp_path))


def test_time_table_shows_reference_and_total(tmp_path):
    ref = json.loads(_timings(tmp_path).read_text())
    times = doctor.expected_times(speed=2000.0, timings=ref)
    table = "\n".join(doctor.format_times(times, ref["seconds"], 2000.0))
    assert "5 s (10 s)" in table and "15 s (30 s)" in table
    total = next(line for line in table.splitlines() if line.strip().startswith("total"))
    assert "20 s (40 s)" in total and "2 s (4 s)" in total


def test_measure_speed_is_positive_and_leaves_the_random_state_alone():
    from keras.src.backend.common import global_state

    before = (random.getstate(), np.random.get_state()[1].copy())
    names = dict(global_state.get_global_attribute("object_name_uids") or {})
    speed = doctor.measure_speed(seconds=0.2)
    assert speed > 0
    assert random.getstate() == before[0]
    np.testing.assert_array_equal(np.random.get_state()[1], before[1])
    assert dict(global_state.get_global_attribute("object_name_uids") or {}) == names
    with pytest.raises(ValueError, match="seconds must be > 0"):
        doctor.measure_speed(seconds=0)


# --------------------------------------------------------------------------- entry points
@pytest.fixture
def healthy(isolated_env, course_kernel, monkeypatch):
    """A machine where every check passes: fast import probe, plenty of disk."""
    monkeypatch.setattr(doctor, "_import_probe", lambda: (0, 3.0, ""))
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(100e9, 50e9, 50e9))


def test_main_exits_0_when_every_check_passes(healthy, capsys):
    assert doctor.main(["--no-calibrate", "--profile", "workshop"]) == 0
    out = capsys.readouterr().out
    assert "Ready" in out and "FAIL" not in out and "data workshop" in out


def test_main_exits_1_and_prints_the_fix_when_a_check_fails(healthy, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(100e9, 99.9e9, 0.1e9))
    assert doctor.main(["--no-calibrate", "--profile", "smoke"]) == 1
    captured = capsys.readouterr()
    assert "FAIL  disk" in captured.out and "NOT READY" in captured.out
    assert "doctor: disk failed:" in captured.err and "COURSE_BUILD_DIR" in captured.err


def test_check_prints_failures_prominently_and_never_raises(healthy, monkeypatch, capsys):
    monkeypatch.setattr(sys, "version_info", (3, 10, 4, "final", 0))
    report = doctor.check(calibrate=False, profile="smoke")
    out = capsys.readouterr().out
    assert not report.ok and "!! python FAILED" in out and "make setup" in out

    def broken(**kwargs):
        raise RuntimeError("kernelspec folder unreadable")

    monkeypatch.setattr(doctor, "run_checks", broken)
    report = doctor.check()
    assert not report.ok and "kernelspec folder unreadable" in capsys.readouterr().out


def test_paths_are_shown_relative_to_the_course_folder_or_home():
    from coursetools.paths import repo_root

    assert doctor.shown(repo_root() / "build" / "x") == str(Path("build", "x"))
    assert doctor.shown(Path.home() / ".keras" / "mnist.npz").startswith("~")
    outside = Path("/nonexistent-root-folder/data.npz")
    assert doctor.shown(outside) == str(outside)
