"""Compile, fit and measure a model in one call, returning a :class:`RunRecord`.

The record holds the curves, the wall time, the throughput and the final accuracies measured
in inference mode (no dropout, no augmentation), plus the diagnosis of the curves. Progress is
one compact line per run (``verbose="summary"``) or per epoch (``"epoch"``), never a Keras
progress bar. Evaluation on another split (e.g. the test split) happens only when asked for.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from helpers._tf import keras
from helpers.diagnosis import Diagnosis, diagnose
from helpers.models import make_optimizer
from helpers.prep import Split

LOSSES = ("crossentropy", "mse")
VERBOSITY = ("quiet", "summary", "epoch")
# An epoch of at least this many training images is long enough (tens of seconds for a CNN on a
# laptop) that "summary" also prints one line per epoch: in practice only at the full profile.
EPOCH_LINES_FROM = 10_000
# Steps per call into TensorFlow for models without convolutions. Their steps are so small that
# Keras's per-step Python work left one core idle; a loop of 32 steps inside TensorFlow keeps
# both busy (make bench: "levers"). The numbers are the same step for step.
DENSE_STEPS_PER_EXECUTION = 32
VALIDATION_BATCH = 1024  # inference only: bigger batches are faster and change no weight


@dataclass
class RunRecord:
    """Everything measured about one training run (the model itself is kept but not saved)."""

    name: str
    history: dict[str, list[float]]
    epochs: int
    n_train: int
    n_params: int
    wall_time_s: float
    samples_per_s: float
    train_acc: float
    train_loss: float
    val_acc: float | None
    val_loss: float | None
    best_val_acc: float | None
    best_epoch: int | None
    stopped_early: bool
    diagnosis: Diagnosis
    config: dict[str, Any] = field(default_factory=dict)
    test_acc: float | None = None
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def gap(self) -> float | None:
        """Train accuracy minus validation accuracy (positive = overfitting gap)."""
        return None if self.val_acc is None else self.train_acc - self.val_acc

    @property
    def verdict(self) -> str:
        return self.diagnosis.verdict

    def summary(self) -> str:
        val = "" if self.val_acc is None else f", val {self.val_acc:.1%}"
        return (
            f"{self.name}: {self.epochs} epochs in {self.wall_time_s:.1f} s "
            f"({self.samples_per_s:,.0f} samples/s) — train {self.train_acc:.1%}{val} "
            f"→ {self.diagnosis.verdict}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no model; diagnosis flattened)."""
        # not dataclasses.asdict: it would deep-copy the attached Keras model
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "model"}
        d["history"] = {k: list(v) for k, v in self.history.items()}
        d["config"] = dict(self.config)
        d["diagnosis"] = {
            "verdict": self.diagnosis.verdict,
            "reason": self.diagnosis.reason,
            "numbers": self.diagnosis.numbers,
        }
        d["gap"] = self.gap
        return d


class EpochClock(keras.callbacks.Callback):
    """Times each epoch (validation included; the first carries the tracing) into
    ``durations``; with ``seconds``, stops training once that much time has passed, after at
    least ``min_epochs``. Used by ``make doctor``'s speed test and ``make bench``."""

    def __init__(self, seconds: float | None = None, min_epochs: int = 3):
        super().__init__()
        self.seconds, self.min_epochs = seconds, min_epochs
        self.durations: list[float] = []
        self._start = self._epoch_start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        self.durations.append(now - self._epoch_start)
        if (
            self.seconds is not None
            and len(self.durations) >= self.min_epochs
            and now - self._start >= self.seconds
        ):
            self.model.stop_training = True


class _EpochLine(keras.callbacks.Callback):
    """Prints one short line per epoch instead of a progress bar (with the seconds so far when
    ``clock``: for long runs, where a learner wants to know it is moving)."""

    def __init__(self, name: str, epochs: int, clock: bool = False):
        super().__init__()
        self.name, self.epochs, self.clock = name, epochs, clock
        self._start = time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        parts = [f"{self.name} epoch {epoch + 1:>3}/{self.epochs}"]
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if key in logs:
                v = logs[key]
                parts.append(f"{key} {v:.2%}" if "acc" in key else f"{key} {v:.4f}")
        if self.clock:
            parts.append(f"({time.perf_counter() - self._start:.0f} s)")
        print("  ".join(parts), flush=True)


def has_convolutions(model: keras.Model) -> bool:
    """Whether ``model`` (or a model nested in it) contains a convolution layer."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            return True
        if isinstance(layer, keras.Model) and has_convolutions(layer):
            return True
    return False


def steps_per_execution_for(model: keras.Model) -> int:
    """Training steps per call into TensorFlow: :data:`DENSE_STEPS_PER_EXECUTION` for models
    without convolutions, 1 for convolutional ones (a loop of conv steps ran slower here)."""
    return 1 if has_convolutions(model) else DENSE_STEPS_PER_EXECUTION


def _targets(y: np.ndarray, loss: str) -> np.ndarray:
    return keras.utils.to_categorical(y, 10) if loss == "mse" else y


def compile_model(
    model: keras.Model,
    optimizer="adam",
    learning_rate: float | None = None,
    loss: str = "crossentropy",
    steps_per_execution: int | None = None,
) -> keras.Model:
    """Compile with a fresh optimizer (by name or instance) and an accuracy metric.

    ``loss="crossentropy"`` uses integer labels; ``loss="mse"`` uses one-hot targets (the
    mistake lesson 01 measures). Metrics are passed by keyword: the third positional argument
    of Keras 3's ``compile`` is ``loss_weights``. ``steps_per_execution`` None picks
    :func:`steps_per_execution_for` the model.
    """
    if steps_per_execution is None:
        steps_per_execution = steps_per_execution_for(model)
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r}; choose one of {', '.join(LOSSES)}.")
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, learning_rate)
    elif learning_rate is not None:
        raise ValueError("Pass learning_rate only with an optimizer name, not an instance.")
    if loss == "mse":
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.MeanSquaredError(),
            metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
            steps_per_execution=steps_per_execution,
        )
    else:
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            steps_per_execution=steps_per_execution,
        )
    return model


def train(
    model: keras.Model,
    split: Split,
    *,
    epochs: int,
    batch_size: int = 128,
    optimizer: Any = "adam",
    learning_rate: float | None = None,
    loss: str = "crossentropy",
    early_stopping: int | None = None,
    restore_best_weights: bool = True,
    class_weight: dict[int, float] | None = None,
    verbose: str = "summary",
    name: str | None = None,
    callbacks: list | None = None,
    steps_per_execution: int | None = None,
    validation_batch_size: int = VALIDATION_BATCH,
    validate_each_epoch: bool = True,
) -> RunRecord:
    """Fit ``model`` on ``split.x_train`` with ``split.x_val`` as validation, then measure it.

    Args:
        epochs: maximum number of epochs.
        optimizer: a name from :data:`helpers.models.OPTIMIZERS` or a Keras optimizer.
        early_stopping: patience in epochs on the validation loss (None: off); with
            ``restore_best_weights`` the best epoch's weights are kept.
        verbose: "quiet", "summary" (one line at the end; also one per epoch when an epoch has
            :data:`EPOCH_LINES_FROM` images or more) or "epoch" (one line per epoch).
        steps_per_execution: steps per call into TensorFlow (None: the course's choice for
            this model, :func:`steps_per_execution_for`); it changes speed, not the numbers.
        validation_batch_size: batch size of the per-epoch validation pass (inference only).
        validate_each_epoch: False measures the validation split once, after training, instead
            of after every epoch: the same weights and scores, without the validation curve
            (and so without early stopping); on 12,000 validation digits it saves an inference
            pass per epoch.

    Training stops if the loss becomes NaN (a diverged run). Train accuracy is re-measured
    after fitting in inference mode.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}.")
    if verbose not in VERBOSITY:
        raise ValueError(f"verbose must be one of {', '.join(VERBOSITY)}, got {verbose!r}.")
    if early_stopping is not None and not validate_each_epoch:
        raise ValueError(
            "early_stopping watches the validation loss after every epoch: "
            "it needs validate_each_epoch=True."
        )
    name = name or model.name
    compile_model(model, optimizer, learning_rate, loss, steps_per_execution)
    cbs = [keras.callbacks.TerminateOnNaN(), *(callbacks or [])]
    if early_stopping is not None:
        cbs.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=int(early_stopping),
                restore_best_weights=restore_best_weights,
            )
        )
    long_epochs = len(split.y_train) >= EPOCH_LINES_FROM
    if verbose == "epoch" or (verbose == "summary" and long_epochs):
        cbs.append(_EpochLine(name, epochs, clock=long_epochs))
    has_val = split.x_val is not None and len(split.x_val) > 0
    val_data = (split.x_val, _targets(split.y_val, loss)) if has_val else None
    if not validate_each_epoch:
        val_data = None  # measured once below, after training

    start = time.perf_counter()
    hist = model.fit(
        split.x_train,
        _targets(split.y_train, loss),
        epochs=epochs,
        batch_size=batch_size,
        validation_data=val_data,
        validation_batch_size=validation_batch_size,
        class_weight=class_weight,
        callbacks=cbs,
        verbose=0,
        shuffle=True,
    )
    wall = time.perf_counter() - start
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    epochs_run = len(history.get("loss", []))

    train_m = evaluate(model, split.x_train, split.y_train, loss=loss)
    val_m = evaluate(model, split.x_val, split.y_val, loss=loss) if has_val else None
    val_curve = history.get("val_accuracy")
    best_epoch = int(np.nanargmax(val_curve)) + 1 if val_curve else None
    record = RunRecord(
        name=name,
        history=history,
        epochs=epochs_run,
        n_train=len(split.y_train),
        n_params=int(model.count_params()),
        wall_time_s=wall,
        samples_per_s=len(split.y_train) * epochs_run / wall if wall > 0 else math.nan,
        train_acc=train_m["accuracy"],
        train_loss=train_m["loss"],
        val_acc=val_m["accuracy"] if val_m else None,
        val_loss=val_m["loss"] if val_m else None,
        best_val_acc=max(val_curve) if val_curve else None,
        best_epoch=best_epoch,
        stopped_early=epochs_run < epochs,
        diagnosis=diagnose(history, train_m["accuracy"], val_m["accuracy"] if val_m else None),
        config={
            "epochs": epochs,
            "batch_size": batch_size,
            "loss": loss,
            "optimizer": optimizer if isinstance(optimizer, str) else type(optimizer).__name__,
            "learning_rate": learning_rate,
            "early_stopping": early_stopping,
        },
        model=model,
    )
    if verbose != "quiet":
        print(record.summary(), flush=True)
    return record


def evaluate(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    loss: str = "crossentropy",
    batch_size: int = 1024,
) -> dict[str, float]:
    """Loss and accuracy of ``model`` on ``(x, y)`` in inference mode."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        compile_model(model, loss=loss)
    values = model.evaluate(
        x, _targets(y, loss), batch_size=batch_size, verbose=0, return_dict=True
    )
    return {"loss": float(values["loss"]), "accuracy": float(values["accuracy"])}


def predict_proba(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities, shape (N, 10)."""
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def evaluate_on_test(run: RunRecord, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Accuracy on the test split, stored in ``run.test_acc``. Call once, after every choice
    about the model is made: the test split must never choose a model."""
    if run.model is None:
        raise ValueError(f"run {run.name!r} has no model attached.")
    run.test_acc = evaluate(run.model, x_test, y_test, loss=run.config.get("loss", "crossentropy"))[
        "accuracy"
    ]
    return run.test_acc
