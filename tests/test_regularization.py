"""helpers.regularization on tiny synthetic data: penalty-free cross-entropy and loss gap, the
early-stopping replay, and the early-stopping report of a real (tiny) run."""

from __future__ import annotations

import math
import types

import numpy as np
import pandas as pd
import pytest

import helpers
from helpers import regularization as reg
from helpers.prep import to_images, train_val_split


@pytest.fixture
def split(tiny_images):
    x, y = tiny_images
    return train_val_split(to_images(x), y, 0.2, seed=0)


class _Fixed:
    """A stand-in model whose predict() returns fixed probabilities."""

    def __init__(self, proba):
        self.proba = np.asarray(proba, dtype=np.float32)

    def predict(self, x, batch_size=None, verbose=0):
        return self.proba[: len(x)]


def test_crossentropy_is_the_mean_negative_log_probability():
    proba = np.full((2, 10), 0.05)
    proba[0, 3], proba[1, 7] = 0.55, 0.05  # image 0 right and fairly sure, image 1 not
    ce = reg.crossentropy(_Fixed(proba), np.zeros((2, 28, 28, 1)), np.array([3, 7]))
    assert ce == pytest.approx(-(math.log(0.55) + math.log(0.05)) / 2, rel=1e-5)


def test_crossentropy_clips_zero_probabilities_and_checks_labels():
    proba = np.zeros((1, 10))
    proba[0, 0] = 1.0
    ce = reg.crossentropy(_Fixed(proba), np.zeros((1, 28, 28, 1)), np.array([5]))
    assert ce == pytest.approx(-math.log(1e-7), rel=1e-5)
    with pytest.raises(ValueError, match="as many labels"):
        reg.crossentropy(_Fixed(proba), np.zeros((2, 28, 28, 1)), np.array([5]))
    with pytest.raises(ValueError, match="labels must be"):
        reg.crossentropy(_Fixed(proba), np.zeros((1, 28, 28, 1)), np.array([10]))


def test_loss_gap_leaves_out_the_l2_penalty(split):
    run = helpers.train(
        helpers.build_mlp((16,), l2=0.05), split, epochs=2, verbose="quiet", name="l2"
    )
    gap = reg.loss_gap(run, split)
    # evaluate() adds the (same) penalty to both splits; the penalty-free losses are lower
    assert gap.val_loss < run.val_loss and gap.train_loss < run.train_loss
    assert gap.gap == pytest.approx(gap.val_loss - gap.train_loss)
    assert gap.to_dict()["gap"] == pytest.approx(gap.gap)
    with pytest.raises(ValueError, match="no model"):
        reg.loss_gap(types.SimpleNamespace(name="x", model=None), split)


@pytest.mark.parametrize(
    ("losses", "patience", "expected"),
    [
        ([1.0, 0.8, 0.9, 0.95, 0.7], 2, (4, 2)),  # two epochs without a new low: stop at 4
        ([1.0, 0.8, 0.9, 0.95, 0.7], 3, (5, 5)),  # epoch 5 is a new low: never stops
        ([1.0, 0.8, 0.8, 0.8], 1, (3, 2)),  # equal is not better
        ([0.5, 0.6, 0.7], 0, (2, 1)),  # patience 0 stops at the first non-improvement
    ],
)
def test_would_stop_replays_keras_early_stopping(losses, patience, expected):
    assert reg.would_stop(losses, patience) == expected


def test_would_stop_agrees_with_keras(split):
    helpers.set_seed(0)
    run = helpers.train(
        helpers.build_mlp((64,)), split, epochs=30, early_stopping=2, verbose="quiet"
    )
    epochs_run, best_epoch = reg.would_stop(run.history["val_loss"], 2)
    assert epochs_run == run.epochs
    assert best_epoch == int(np.argmin(run.history["val_loss"])) + 1


def test_would_stop_errors():
    with pytest.raises(ValueError, match="patience"):
        reg.would_stop([1.0], -1)
    with pytest.raises(ValueError, match="empty"):
        reg.would_stop([], 3)


def test_early_stopping_report_of_a_run(split):
    helpers.set_seed(0)
    run = helpers.train(
        helpers.build_mlp((64,)), split, epochs=40, early_stopping=2, verbose="quiet"
    )
    rep = reg.early_stopping_report(run)
    assert rep.max_epochs == 40 and rep.epochs_run == run.epochs
    assert rep.best_val_loss == min(run.history["val_loss"])
    assert rep.restored_val_loss == pytest.approx(rep.best_val_loss, rel=1e-3, abs=1e-4)
    assert rep.epochs_saved == 40 - run.epochs
    assert rep.epochs_after_best == run.epochs - rep.best_epoch
    assert rep.to_dict()["stopped_early"] == rep.stopped_early


def test_early_stopping_report_needs_validation_history():
    run = types.SimpleNamespace(name="x", history={"loss": [1.0]}, config={}, val_loss=None)
    with pytest.raises(ValueError, match="no validation loss"):
        reg.early_stopping_report(run)


def test_gap_table_adds_losses_and_changes_against_the_baseline():
    table = pd.DataFrame(
        {
            "run": ["base", "drop"],
            "epochs": [10, 10],
            "train_acc": [1.0, 0.99],
            "val_acc": [0.90, 0.92],
            "gap": [0.10, 0.07],
            "verdict": ["overfitting", "overfitting"],
        }
    )
    gaps = {"base": reg.LossGap(0.01, 0.41), "drop": reg.LossGap(0.05, 0.30)}
    out = reg.gap_table(table, gaps, baseline="base")
    assert out["loss_gap"].tolist() == pytest.approx([0.40, 0.25])
    assert out["d_val_acc"].tolist() == pytest.approx([0.0, 0.02])
    assert out["d_gap"].tolist() == pytest.approx([0.0, -0.03])
    assert out["d_loss_gap"].tolist() == pytest.approx([0.0, -0.15])
    text = reg.format_gap_table(out)
    assert "−3.0" in text and "−0.150" in text and "92.0%" in text
    assert "d_val_acc" not in reg.gap_table(table, gaps).columns
    with pytest.raises(ValueError, match="no loss gap"):
        reg.gap_table(table, {"base": gaps["base"]})
    with pytest.raises(ValueError, match="baseline 'x'"):
        reg.gap_table(table, gaps, baseline="x")


def test_weight_norm_counts_kernels_only():
    model = helpers.build_mlp((4,), batch_norm=True)
    for w in model.weights:
        w.assign(np.ones(w.shape, dtype="float32"))
    # kernels: 784×4 + 4×10 ones; biases and batch-norm weights are left out
    assert reg.weight_norm(model) == pytest.approx(math.sqrt(784 * 4 + 4 * 10))
    with pytest.raises(ValueError, match="no kernels"):
        reg.weight_norm(helpers._tf.keras.Sequential([helpers._tf.keras.Input((3,))]))
