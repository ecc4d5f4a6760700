"""helpers.diagnose on constructed histories: each verdict, and the numbers behind it."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import diagnosis as dg


def hist(loss, acc, val_loss=None, val_acc=None):
    h = {"loss": list(loss), "accuracy": list(acc)}
    if val_loss is not None:
        h["val_loss"] = list(val_loss)
    if val_acc is not None:
        h["val_accuracy"] = list(val_acc)
    return h


E = np.arange(1, 21)


def test_good_fit():
    d = dg.diagnose(hist(1 / E, 1 - 0.2 / E, 1.1 / E, 0.99 - 0.2 / E))
    assert d.verdict == dg.GOOD_FIT and not d.underfit
    assert d.numbers["gap"] == pytest.approx(0.01)


def test_overfitting_by_gap():
    d = dg.diagnose(hist(1 / E, 1 - 0.1 / E, 0.5 + 0 * E, 0.90 + 0 * E))
    assert d.verdict == dg.OVERFITTING and "gap" in d.reason
    assert d.numbers["gap"] == pytest.approx(0.095)


def test_overfitting_by_rising_validation_loss():
    val_loss = np.r_[np.linspace(1.0, 0.3, 8), np.linspace(0.32, 0.5, 12)]
    d = dg.diagnose(hist(1 / E, 0.98 + 0 * E, val_loss, 0.965 + 0 * E))
    assert d.verdict == dg.OVERFITTING and d.numbers["best_val_loss_epoch"] == 8


def test_underfitting_flat_curve():
    loss = 0.6 + 0.4 / E**2
    d = dg.diagnose(hist(loss, 0.90 + 0 * E, loss, 0.89 + 0 * E))
    assert d.verdict == dg.UNDERFITTING and d.underfit


def test_not_converged_still_falling():
    loss = np.linspace(2.0, 0.8, 20)
    d = dg.diagnose(hist(loss, np.linspace(0.3, 0.8, 20), loss, np.linspace(0.3, 0.8, 20)))
    assert d.verdict == dg.NOT_CONVERGED and d.underfit
    assert d.numbers["recent_loss_drop"] > 0.04


def test_single_epoch_is_not_converged():
    d = dg.diagnose(hist([0.5], [0.85], [0.45], [0.86]))
    assert d.verdict == dg.NOT_CONVERGED and "one epoch" in d.reason


def test_chance_and_diverged():
    assert dg.diagnose(hist([2.30] * 5, [0.11] * 5)).verdict == dg.CHANCE
    assert dg.diagnose(hist([2.3, 5.0, float("nan")], [0.1] * 3)).verdict == dg.DIVERGED
    assert dg.diagnose(hist([2.3, 9.0, 14.0], [0.3] * 3)).verdict == dg.DIVERGED


def test_measured_accuracy_overrides_history():
    h = hist(1 / E, 0.90 + 0 * E, 1 / E, 0.97 + 0 * E)  # dropout-lowered train curve
    assert dg.diagnose(h, train_acc=0.99, val_acc=0.97).verdict == dg.GOOD_FIT


def test_thresholds_are_arguments():
    h = hist(1 / E, 1 - 0.1 / E, 0.5 + 0 * E, 0.97 + 0 * E)
    assert dg.diagnose(h).verdict == dg.GOOD_FIT
    assert dg.diagnose(h, max_gap=0.01).verdict == dg.OVERFITTING


def test_empty_history_is_an_error():
    with pytest.raises(ValueError, match="no 'loss'"):
        dg.diagnose({})
