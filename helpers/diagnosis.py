"""Read a run's learning curves and name what is wrong, with the numbers behind the verdict.

Rules, checked in this order (thresholds are arguments, defaults tuned on MNIST):

1. **diverged** — the training loss became NaN/inf, or ended above where it started.
2. **stuck at chance** — training accuracy at most ``chance_margin`` above 1/10.
3. **overfitting** — train accuracy exceeds validation accuracy by more than ``max_gap``, or
   the validation loss climbed ``val_loss_rise`` above its minimum while training loss fell.
4. **not yet converged** — training accuracy below ``good_train_acc`` and the training loss
   still falling fast over the last fifth of the epochs: train longer or faster.
5. **underfitting** — training accuracy below ``good_train_acc`` and the curve has flattened:
   the model (or its inputs/loss) cannot fit the data.
6. **good fit** — otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DIVERGED = "diverged"
CHANCE = "stuck at chance"
OVERFITTING = "overfitting"
NOT_CONVERGED = "not yet converged"
UNDERFITTING = "underfitting"
GOOD_FIT = "good fit"
VERDICTS = (DIVERGED, CHANCE, OVERFITTING, NOT_CONVERGED, UNDERFITTING, GOOD_FIT)
UNDERFIT_VERDICTS = (CHANCE, NOT_CONVERGED, UNDERFITTING)

ADVICE = {
    DIVERGED: "lower the learning rate; check inputs are scaled",
    CHANCE: "check labels, loss and initialisation; lower the learning rate",
    OVERFITTING: "more data, augmentation, dropout/L2, or stop earlier",
    NOT_CONVERGED: "train for more epochs or raise the learning rate",
    UNDERFITTING: "use a bigger model, a better loss, or scaled inputs",
    GOOD_FIT: "nothing to fix here",
}


@dataclass(frozen=True)
class Diagnosis:
    """A verdict (one of :data:`VERDICTS`), the reason in words, and the numbers used."""

    verdict: str
    reason: str
    numbers: dict = field(default_factory=dict)

    @property
    def underfit(self) -> bool:
        """True for every flavour of underfitting: chance, not converged, underfitting."""
        return self.verdict in UNDERFIT_VERDICTS

    @property
    def advice(self) -> str:
        return ADVICE[self.verdict]

    def __str__(self) -> str:
        return f"{self.verdict}: {self.reason}"


def _finite(values: Sequence[float]) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


# The default for ``still_falling``: a loss that fell by more than this share over the last
# epochs is "still falling" (lesson 01 prints it before a learner changes it).
STILL_FALLING = 0.04


def diagnose(
    history: Mapping[str, Sequence[float]],
    train_acc: float | None = None,
    val_acc: float | None = None,
    *,
    n_classes: int = 10,
    good_train_acc: float = 0.97,
    max_gap: float = 0.04,
    val_loss_rise: float = 0.25,
    still_falling: float = STILL_FALLING,
    chance_margin: float = 0.05,
) -> Diagnosis:
    """Diagnose a Keras-style history (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``).

    ``train_acc``/``val_acc`` override the history's last values: pass the accuracy measured
    after training in inference mode (the history's training accuracy is averaged over the
    epoch with dropout and augmentation on).
    """
    loss = list(history.get("loss", []))
    if not loss:
        raise ValueError("history has no 'loss' values: was the model trained?")
    acc = list(history.get("accuracy", []))
    val_loss = list(history.get("val_loss", []))
    if train_acc is None:
        train_acc = acc[-1] if acc else float("nan")
    if val_acc is None and history.get("val_accuracy"):
        val_acc = history["val_accuracy"][-1]
    n = len(loss)
    numbers: dict = {"epochs": n, "train_acc": train_acc, "val_acc": val_acc}

    if not _finite(loss) or (n > 1 and loss[-1] > loss[0] * 1.05):
        numbers.update(first_loss=loss[0], last_loss=loss[-1])
        return Diagnosis(
            DIVERGED, f"training loss went from {loss[0]:.3g} to {loss[-1]:.3g}", numbers
        )

    chance = 1.0 / n_classes
    if not math.isnan(train_acc) and train_acc <= chance + chance_margin:
        return Diagnosis(
            CHANCE, f"train accuracy {train_acc:.1%} is at chance level ({chance:.0%})", numbers
        )

    if val_acc is not None and not math.isnan(train_acc):
        gap = train_acc - val_acc
        numbers["gap"] = gap
        if gap > max_gap:
            return Diagnosis(
                OVERFITTING,
                f"train {train_acc:.1%} vs validation {val_acc:.1%}: a gap of "
                f"{gap * 100:.1f} points (> {max_gap * 100:.0f})",
                numbers,
            )
    if len(val_loss) >= 4 and _finite(val_loss):
        best = min(val_loss)
        best_epoch = val_loss.index(best) + 1
        rise = val_loss[-1] / best - 1.0 if best > 0 else 0.0
        numbers.update(best_val_loss_epoch=best_epoch, val_loss_rise=rise)
        if rise > val_loss_rise and best_epoch < n and loss[-1] < loss[best_epoch - 1]:
            return Diagnosis(
                OVERFITTING,
                f"validation loss bottomed at epoch {best_epoch} and has risen {rise:.0%} since, "
                "while training loss kept falling",
                numbers,
            )

    window = max(1, round(0.2 * n))
    start = loss[-window - 1] if n > window else loss[0]
    recent_drop = (start - loss[-1]) / start if n > 1 and start > 0 else float("inf")
    numbers["recent_loss_drop"] = recent_drop
    if not math.isnan(train_acc) and train_acc < good_train_acc:
        if n == 1 or recent_drop > still_falling:
            drop = (
                "only one epoch"
                if n == 1
                else f"loss fell {recent_drop:.0%} in the last {window} epoch(s)"
            )
            return Diagnosis(
                NOT_CONVERGED,
                f"train accuracy {train_acc:.1%} and still improving ({drop})",
                numbers,
            )
        return Diagnosis(
            UNDERFITTING,
            f"train accuracy {train_acc:.1%} < {good_train_acc:.0%} and the curve has flattened",
            numbers,
        )
    gap_txt = f", gap {numbers['gap'] * 100:.1f} points" if "gap" in numbers else ""
    return Diagnosis(GOOD_FIT, f"train accuracy {train_acc:.1%}{gap_txt}", numbers)
