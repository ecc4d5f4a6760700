"""One call to make a run repeatable, and a record of the software that produced it."""

from __future__ import annotations

import os
import platform
import random
from importlib import metadata
from pathlib import Path

import numpy as np

from helpers._tf import keras, tf

_DETERMINISM_ON = False


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras (and TensorFlow) with ``seed`` and turn op determinism on.

    Call it before building a model: the initial weights are drawn at build time. Two runs with
    the same seed then give identical weights and metrics on the same machine and software.
    """
    global _DETERMINISM_ON
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r} ({type(seed).__name__}).")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if not _DETERMINISM_ON:
        tf.config.experimental.enable_op_determinism()
        _DETERMINISM_ON = True


_VERSIONED = (
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "numpy",
    "scikit-learn",
    "mlxtend",
    "keras-tuner",
    "matplotlib",
    "seaborn",
    "papermill",
)


def software_versions() -> dict[str, str]:
    """Versions of Python and the libraries whose behaviour the course's numbers depend on."""
    from helpers._version import __version__

    versions = {"python": platform.python_version(), "helpers": __version__}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    versions["platform"] = f"{platform.system()} {platform.machine()}"
    versions["cpu_count"] = str(os.cpu_count())
    versions["cpu"] = cpu_model()
    return versions


def cpu_model() -> str:
    """The CPU's model name and widest vector unit (float results differ between AVX2 and
    AVX-512 machines, so evidence records which one produced them)."""
    name, flags = platform.processor() or "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    vector = next((f for f in ("avx512f", "avx2", "avx") if f in flags), "")
    return f"{name} ({vector})" if vector else name
