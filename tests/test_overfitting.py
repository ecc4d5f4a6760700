"""helpers.overfitting on tiny synthetic data: loss turn, gap table and plot, epoch predictions,
and the selection-bias measurement."""

from __future__ import annotations

import types

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402
from helpers import overfitting as ov  # noqa: E402
from helpers.prep import to_images, train_val_split  # noqa: E402


def test_loss_turn_finds_the_minimum_and_the_rise():
    turn = ov.loss_turn({"val_loss": [1.0, 0.5, 0.4, 0.45, 0.6]})
    assert (turn.min_epoch, turn.epochs) == (3, 5)
    assert turn.turned_up
    assert turn.ratio == pytest.approx(1.5)
    flat = ov.loss_turn({"loss": [0.9, 0.5, 0.2]}, key="loss")
    assert flat.min_epoch == 3 and not flat.turned_up and flat.ratio == pytest.approx(1.0)


def test_loss_turn_errors():
    with pytest.raises(ValueError, match="no 'val_loss'"):
        ov.loss_turn({"loss": [1.0]})
    with pytest.raises(ValueError, match="NaN"):
        ov.loss_turn({"val_loss": [1.0, float("nan")]})


def _run(name, n, train_acc, val_acc):
    return types.SimpleNamespace(
        name=name,
        n_train=n,
        epochs=3,
        train_acc=train_acc,
        val_acc=val_acc,
        gap=None if val_acc is None else train_acc - val_acc,
    )


def test_gap_by_size_sorts_by_size_and_plots():
    runs = [_run("b", 1000, 1.0, 0.9), _run("a", 250, 1.0, 0.8), _run("c", 4000, 0.99, 0.95)]
    table = ov.gap_by_size(runs)
    assert list(table["n_train"]) == [250, 1000, 4000]
    assert table["gap"].tolist() == pytest.approx([0.2, 0.1, 0.04])
    fig = ov.plot_gap_vs_size(table)
    left, right = fig.axes
    assert left.get_xscale() == "log" and right.get_xscale() == "log"
    assert right.get_xlabel() and right.get_ylabel() and right.get_title()
    with pytest.raises(ValueError, match="validation accuracy"):
        ov.gap_by_size([_run("x", 10, 1.0, None)])
    with pytest.raises(ValueError, match="lacks"):
        ov.plot_gap_vs_size(table.drop(columns="gap"))


def test_selection_bias_is_zero_without_choice_and_positive_with_many_noisy_candidates():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 40)
    # 50 candidates that are all right 90% of the time, independently: any differences between
    # them on a half are luck, so the half that chooses flatters its pick.
    correct = rng.random((50, len(y))) < 0.9
    preds = np.where(correct, y, (y + 1) % 10)
    bias = ov.selection_bias(preds, y, n_repeats=200, seed=0)
    assert bias.n_candidates == 50 and bias.half_size == 200
    assert bias.optimism == pytest.approx(bias.chooser_acc - bias.judge_acc)
    assert bias.optimism > 0.02 and bias.share_flattered > 0.9
    assert abs(bias.fixed_optimism) < 0.01
    assert bias.judge_acc == pytest.approx(0.9, abs=0.02) and bias.judge_acc < bias.chooser_acc
    one = ov.selection_bias(preds[:1], y, n_repeats=50)
    assert one.optimism == pytest.approx(one.fixed_optimism)
    assert set(bias.to_dict()) >= {"optimism", "judge_acc", "chooser_acc"}


def test_selection_bias_errors():
    y = np.arange(10).repeat(2)
    with pytest.raises(ValueError, match="shape"):
        ov.selection_bias(np.zeros((3, 5)), y)
    with pytest.raises(ValueError, match="n_repeats"):
        ov.selection_bias(np.zeros((3, 20)), y, n_repeats=0)


def test_epoch_predictions_records_one_row_per_epoch(tiny_images):
    x, y = tiny_images
    split = train_val_split(to_images(x), y, 0.2, seed=0)
    callback = ov.EpochPredictions(split.x_val)
    with pytest.raises(ValueError, match="no epochs"):
        callback.labels  # noqa: B018
    helpers.set_seed(0)
    run = helpers.train(
        helpers.build_mlp((16,)), split, epochs=3, verbose="quiet", callbacks=[callback]
    )
    labels = callback.labels
    assert labels.shape == (3, len(split.y_val))
    assert labels.min() >= 0 and labels.max() <= 9
    assert (labels[-1] == split.y_val).mean() == pytest.approx(run.val_acc)
    with pytest.raises(ValueError, match="at least one"):
        ov.EpochPredictions(split.x_val[:0])
