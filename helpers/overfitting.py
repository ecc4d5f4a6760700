"""Measure overfitting: where the validation loss turns up, how the train/validation gap shrinks
as the training set grows, and how much a score flatters the model it was used to choose.

Lesson 02 uses it. The last part is the reason the test split must not choose the model: pick
the best of many candidates by their accuracy on some images, and that accuracy overstates
how the pick does on images it has not seen. :func:`selection_bias` measures the effect on
the validation split alone (cut in two halves many times: one half chooses, the other
judges), so the test split is never spent on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedShuffleSplit

from helpers._tf import keras


class EpochPredictions(keras.callbacks.Callback):
    """Record the predicted digit for every image in ``x`` at the end of each epoch.

    Predictions are made in inference mode (no dropout). Pass the validation images; after
    training, :attr:`labels` is an (epochs, N) array: one row per epoch's model, so each
    epoch counts as a candidate model that early stopping could have kept.
    """

    def __init__(self, x: np.ndarray, batch_size: int = 1024):
        super().__init__()
        if len(x) == 0:
            raise ValueError("EpochPredictions needs at least one image.")
        self.x = x
        self.batch_size = int(batch_size)
        self._rows: list[np.ndarray] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._rows = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        parts = [
            np.asarray(self.model(self.x[i : i + self.batch_size], training=False)).argmax(axis=1)
            for i in range(0, len(self.x), self.batch_size)
        ]
        self._rows.append(np.concatenate(parts))

    @property
    def labels(self) -> np.ndarray:
        """Predicted digits, shape (epochs, N)."""
        if not self._rows:
            raise ValueError("no epochs recorded yet: pass the callback to training first.")
        return np.stack(self._rows)


@dataclass(frozen=True)
class LossTurn:
    """Where a loss curve reached its minimum and how far it ended above it."""

    min_epoch: int
    epochs: int
    min_loss: float
    final_loss: float

    @property
    def ratio(self) -> float:
        """Final loss divided by the minimum (1.0: the curve ended at its lowest point)."""
        return self.final_loss / self.min_loss if self.min_loss > 0 else float("nan")

    @property
    def turned_up(self) -> bool:
        """True when the minimum came before the last epoch."""
        return self.min_epoch < self.epochs


def loss_turn(history: Mapping[str, Sequence[float]], key: str = "val_loss") -> LossTurn:
    """The epoch (1-based) of the lowest ``history[key]``, that value and the final one."""
    values = np.asarray(history.get(key, []), dtype=float)
    if values.size == 0:
        raise ValueError(f"history has no {key!r} values; it has {sorted(history)}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{key!r} contains NaN or inf: the run diverged.")
    best = int(np.argmin(values))
    return LossTurn(best + 1, int(values.size), float(values[best]), float(values[-1]))


def gap_by_size(runs: Iterable) -> pd.DataFrame:
    """One row per run (sorted by training-set size): n_train, train/val accuracy, gap."""
    rows = [
        {
            "run": r.name,
            "n_train": r.n_train,
            "epochs": r.epochs,
            "train_acc": r.train_acc,
            "val_acc": r.val_acc,
            "gap": r.gap,
        }
        for r in runs
    ]
    if not rows:
        raise ValueError("gap_by_size needs at least one run.")
    if any(row["val_acc"] is None for row in rows):
        raise ValueError("every run needs a validation accuracy.")
    return pd.DataFrame(rows).sort_values("n_train", ignore_index=True)


def plot_gap_vs_size(table: pd.DataFrame, title: str | None = None) -> plt.Figure:
    """Left: train and validation accuracy against training-set size; right: the gap (points).
    Both x axes are logarithmic (each size is about double the one before)."""
    missing = [c for c in ("n_train", "train_acc", "val_acc", "gap") if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks column(s) {missing}; make it with gap_by_size().")
    n = table["n_train"].to_numpy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(n, 100 * table["train_acc"], "o-", color="C0", label="training")
    left.plot(n, 100 * table["val_acc"], "o--", color="C1", label="validation")
    left.set_ylabel("accuracy (%)")
    left.set_title("Accuracy after training")
    left.legend(loc="lower right")
    right.plot(n, 100 * table["gap"], "o-", color="C3")
    for x, g in zip(n, table["gap"], strict=True):
        right.annotate(
            f"{100 * g:.1f}",
            (x, 100 * g),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    right.set_ylabel("train − validation (points)")
    right.set_title("Overfitting gap")
    right.set_ylim(bottom=0, top=100 * float(table["gap"].max()) * 1.2)
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(n, [f"{int(v):,}" for v in n])
        ax.minorticks_off()
        ax.set_xlabel("training images (log scale)")
        ax.grid(alpha=0.3)
    fig.suptitle(title or "More training data, smaller gap")
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class SelectionBias:
    """Averages over many random halvings of one labelled set (see :func:`selection_bias`)."""

    n_candidates: int
    n_repeats: int
    half_size: int
    chooser_acc: float  # mean accuracy of the pick on the half that chose it
    judge_acc: float  # mean accuracy of the same pick on the other half
    optimism: float  # chooser_acc - judge_acc
    share_flattered: float  # fraction of halvings where the choosing half scored the pick higher
    fixed_optimism: float  # the same difference for a candidate fixed in advance (about 0)

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def selection_bias(
    predictions: np.ndarray,
    y: np.ndarray,
    n_repeats: int = 500,
    seed: int = 0,
    fixed: int = -1,
) -> SelectionBias:
    """How much choosing the best candidate by its score on some images flatters that score.

    Args:
        predictions: (candidates, N) predicted labels, one row per candidate model (e.g. every
            epoch of several runs, from :class:`EpochPredictions`).
        y: the N true labels.
        n_repeats: random stratified halvings of the N images. In each, half A picks the
            candidate with the highest accuracy on A (the first one on ties); half B, which
            played no part in the choice, scores the same candidate.
        fixed: a candidate chosen in advance (row index), scored the same way as a control:
            with no choice involved, the two halves agree on average.
    """
    predictions = np.asarray(predictions)
    y = np.asarray(y)
    if predictions.ndim != 2 or predictions.shape[1] != len(y):
        raise ValueError(
            f"predictions must have shape (candidates, {len(y)}), got {predictions.shape}."
        )
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be >= 1, got {n_repeats}.")
    correct = (predictions == y[np.newaxis, :]).astype(np.float64)
    halves = StratifiedShuffleSplit(n_splits=n_repeats, test_size=0.5, random_state=seed)
    chooser, judge, fixed_diff = [], [], []
    for a, b in halves.split(np.zeros(len(y)), y):
        acc_a = correct[:, a].mean(axis=1)
        acc_b = correct[:, b].mean(axis=1)
        pick = int(np.argmax(acc_a))
        chooser.append(acc_a[pick])
        judge.append(acc_b[pick])
        fixed_diff.append(acc_a[fixed] - acc_b[fixed])
    chooser_arr, judge_arr = np.array(chooser), np.array(judge)
    return SelectionBias(
        n_candidates=int(predictions.shape[0]),
        n_repeats=int(n_repeats),
        half_size=int(len(y) // 2),
        chooser_acc=float(chooser_arr.mean()),
        judge_acc=float(judge_arr.mean()),
        optimism=float((chooser_arr - judge_arr).mean()),
        share_flattered=float((chooser_arr > judge_arr).mean()),
        fixed_optimism=float(np.mean(fixed_diff)),
    )
