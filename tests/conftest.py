"""Shared fixtures for the unit tests (the nbval stderr rule is in the root conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def tiny_images():
    """200 synthetic 28×28 'digits': class k has a bright k-th row band, plus noise."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 20)
    x = rng.integers(0, 40, size=(200, 28, 28)).astype(np.uint8)
    for i, k in enumerate(y):
        x[i, 2 * k + 3 : 2 * k + 6, 4:24] = 255
    order = rng.permutation(200)
    return x[order], y[order].astype(np.int64)


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """No MNIST_PATH, an empty Keras home and build folder inside tmp_path."""
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.delenv("MNIST_SKIP_CHECKSUM", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.delenv("COURSE_OUTPUT_DIR", raising=False)
    return tmp_path
