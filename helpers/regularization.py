"""Measure what a regulariser changed: the loss gap without the penalty, and early stopping.

Lesson 06 uses it. Two things the training record does not give directly:

- :func:`loss_gap` — the cross-entropy on the training and validation images, measured in
  inference mode and *without* the L2 penalty. ``model.evaluate`` adds the penalty to the loss
  it reports, so a model trained with ``l2=...`` looks worse than it is; the penalty is the
  same on both splits, so the gap between them is unchanged but the levels are not.
- :func:`weight_norm` — how large the weights grew (what L2 and weight decay hold back).
- :func:`gap_table` — the lesson's results table with both gaps side by side, and the change of
  each against a baseline run.
- :func:`early_stopping_report` — where a run with ``early_stopping=patience`` stopped, which
  epoch's weights it kept, and whether the kept weights really have the lower validation loss.
  :func:`would_stop` replays Keras's ``EarlyStopping`` rule on any finished history, so a
  learner can ask "where would patience 3 have stopped?" without training again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from coursetools import formatting
from helpers.prep import Split
from helpers.training import predict_proba


def crossentropy(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> float:
    """Mean cross-entropy of ``model`` on ``(x, y)`` in inference mode, without any penalty.

    Probabilities are clipped at 1e-7, as Keras does, so one hopeless image cannot make the
    mean infinite.
    """
    y = np.asarray(y).astype(int)
    if len(y) == 0 or len(x) != len(y):
        raise ValueError(f"need as many labels as images (got {len(x)} images, {len(y)} labels).")
    proba = predict_proba(model, x, batch_size=batch_size)
    if proba.shape != (len(y), proba.shape[1]) or y.max() >= proba.shape[1] or y.min() < 0:
        raise ValueError(f"labels must be 0..{proba.shape[1] - 1} for {proba.shape} outputs.")
    p = np.clip(proba[np.arange(len(y)), y], 1e-7, 1.0)
    return float(-np.mean(np.log(p)))


def weight_norm(model: Any) -> float:
    """Euclidean norm of all the model's kernels together (biases and batch-norm scales left
    out): the quantity an L2 penalty or weight decay keeps small."""
    kernels = [w for w in model.weights if w.name == "kernel" or w.path.endswith("/kernel")]
    if not kernels:
        raise ValueError("the model has no kernels (Dense or Conv weights) to measure.")
    return float(math.sqrt(sum(float(np.sum(np.square(np.asarray(w)))) for w in kernels)))


@dataclass(frozen=True)
class LossGap:
    """Cross-entropy (no penalty) on the training and validation images, and their difference."""

    train_loss: float
    val_loss: float

    @property
    def gap(self) -> float:
        """Validation minus training cross-entropy (larger = more over-confident on new digits)."""
        return self.val_loss - self.train_loss

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "gap": self.gap}


def loss_gap(run: Any, split: Split) -> LossGap:
    """:class:`LossGap` of a trained run (a :class:`helpers.training.RunRecord` with its model)."""
    model = getattr(run, "model", None)
    if model is None:
        raise ValueError(f"run {getattr(run, 'name', run)!r} has no model attached.")
    return LossGap(
        crossentropy(model, split.x_train, split.y_train),
        crossentropy(model, split.x_val, split.y_val),
    )


def would_stop(val_loss: Sequence[float], patience: int) -> tuple[int, int]:
    """Replay Keras ``EarlyStopping(monitor="val_loss", patience=patience)`` on a history.

    Returns ``(epochs_run, best_epoch)``, both counted from 1: how many epochs training would
    have run before stopping (all of them if it never stops) and the epoch with the lowest
    validation loss so far, whose weights ``restore_best_weights=True`` keeps.
    """
    if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
        raise ValueError(f"patience must be a non-negative int, got {patience!r}.")
    losses = [float(v) for v in val_loss]
    if not losses:
        raise ValueError("val_loss is empty: was the model trained with validation data?")
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, value in enumerate(losses):
        wait += 1
        if value < best:
            best, best_epoch, wait = value, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return epoch + 1, best_epoch + 1
    return len(losses), best_epoch + 1


@dataclass(frozen=True)
class EarlyStop:
    """What early stopping did in one run (epochs counted from 1)."""

    max_epochs: int
    epochs_run: int
    best_epoch: int
    best_val_loss: float
    last_val_loss: float
    restored_val_loss: float

    @property
    def stopped_early(self) -> bool:
        return self.epochs_run < self.max_epochs

    @property
    def epochs_saved(self) -> int:
        """Epochs not run because training stopped."""
        return self.max_epochs - self.epochs_run

    @property
    def epochs_after_best(self) -> int:
        """Epochs trained after the best one (the patience that was used up)."""
        return self.epochs_run - self.best_epoch

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "stopped_early": self.stopped_early,
            "epochs_saved": self.epochs_saved,
            "epochs_after_best": self.epochs_after_best,
        }


def early_stopping_report(run: Any) -> EarlyStop:
    """Read an early-stopped run: its history's best and last validation loss, and the loss of
    the weights it ended with (``run.val_loss``, measured after training)."""
    history: Mapping[str, Sequence[float]] = run.history
    val_loss = list(history.get("val_loss", []))
    if not val_loss:
        raise ValueError(f"run {run.name!r} has no validation loss history.")
    max_epochs = (getattr(run, "config", None) or {}).get("epochs") or len(val_loss)
    best = int(np.argmin(val_loss))
    return EarlyStop(
        max_epochs=int(max_epochs),
        epochs_run=len(val_loss),
        best_epoch=best + 1,
        best_val_loss=float(val_loss[best]),
        last_val_loss=float(val_loss[-1]),
        restored_val_loss=float(run.val_loss),
    )


def gap_table(
    table: pd.DataFrame, loss_gaps: Mapping[str, LossGap], baseline: str | None = None
) -> pd.DataFrame:
    """Add the penalty-free losses to a runs table (``lesson.table(...)``), and, with
    ``baseline``, each run's change against that run: ``d_val_acc`` (validation accuracy),
    ``d_gap`` (accuracy gap) and ``d_loss_gap`` (loss gap). Negative gap changes = narrower."""
    missing = [name for name in table["run"] if name not in loss_gaps]
    if missing:
        raise ValueError(f"no loss gap measured for run(s) {missing}; use loss_gap(run, split).")
    out = table[["run", "epochs", "train_acc", "val_acc", "gap"]].copy()
    out["train_ce"] = [loss_gaps[n].train_loss for n in out["run"]]
    out["val_ce"] = [loss_gaps[n].val_loss for n in out["run"]]
    out["loss_gap"] = [loss_gaps[n].gap for n in out["run"]]
    if baseline is not None:
        base = out.loc[out["run"] == baseline]
        if base.empty:
            raise ValueError(f"baseline {baseline!r} is not in the table ({list(out['run'])}).")
        row = base.iloc[0]
        out["d_val_acc"] = out["val_acc"] - row["val_acc"]
        out["d_gap"] = out["gap"] - row["gap"]
        out["d_loss_gap"] = out["loss_gap"] - row["loss_gap"]
    return out


def format_gap_table(df: pd.DataFrame) -> str:
    """Accuracies and accuracy gaps in percent (changes in signed points), losses to 3 places."""

    def points(v: float) -> str:
        return formatting.signed_points(100 * v)

    def loss(v: float) -> str:
        return f"{v:.3f}"

    def signed_loss(v: float) -> str:
        return f"{v:+.3f}".replace("-", formatting.MINUS)

    fmt = {}
    for col in df.columns:
        if col in ("train_acc", "val_acc", "gap"):
            fmt[col] = formatting.pct
        elif col in ("d_val_acc", "d_gap"):
            fmt[col] = points
        elif col in ("train_ce", "val_ce", "loss_gap"):
            fmt[col] = loss
        elif col == "d_loss_gap":
            fmt[col] = signed_loss
    return df.to_string(index=False, formatters=fmt)
