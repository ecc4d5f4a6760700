"""Turn MNIST arrays into model inputs, and carve out validation splits and subsets.

All splits are shuffled and stratified (scikit-learn), so every digit is represented in the
same proportion on both sides. Nothing here touches the test split.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split


def to_images(x: np.ndarray, scale: bool = True) -> np.ndarray:
    """(N, 28, 28) uint8 → (N, 28, 28, 1) float32, divided by 255 when ``scale``.

    Every model builder in :mod:`helpers.models` takes this shape (MLPs flatten inside).
    """
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(f"expected images of shape (N, 28, 28), got {x.shape}.")
    x = x.astype(np.float32)
    return x / 255.0 if scale else x


def to_flat(x: np.ndarray, scale: bool = True) -> np.ndarray:
    """(N, 28, 28) → (N, 784) float32, divided by 255 when ``scale`` (for scikit-learn)."""
    return to_images(x, scale).reshape(len(x), -1)


def sort_by_label(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reorder so all 0s come first, then all 1s, ... (as some datasets ship)."""
    order = np.argsort(y, kind="stable")
    return x[order], y[order]


@dataclass(frozen=True)
class Split:
    """A training part and a validation part carved from the training data."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    def __repr__(self) -> str:
        return (
            f"Split(train={len(self.y_train):,} × {self.x_train.shape[1:]}, "
            f"val={len(self.y_val):,} × {self.x_val.shape[1:]})"
        )


def _check_xy(x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}.")


def train_val_split(
    x: np.ndarray, y: np.ndarray, val_fraction: float = 0.2, seed: int = 0
) -> Split:
    """Shuffled, stratified split of the training data into train and validation parts."""
    _check_xy(x, y)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}.")
    x_tr, x_val, y_tr, y_val = train_test_split(
        x, y, test_size=val_fraction, stratify=y, random_state=seed
    )
    return Split(x_tr, y_tr, x_val, y_val)


def stratified_subset(
    x: np.ndarray, y: np.ndarray, size: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` examples drawn without replacement, keeping the class proportions."""
    _check_xy(x, y)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an int, got {type(size).__name__}.")
    n_classes = len(np.unique(y))
    if size == len(y):
        order = np.random.default_rng(seed).permutation(len(y))
        return x[order], y[order]
    if not n_classes <= size < len(y):
        raise ValueError(
            f"size must be between {n_classes} (one per class) and {len(y)}, got {size}."
        )
    x_sub, _, y_sub, _ = train_test_split(x, y, train_size=size, stratify=y, random_state=seed)
    return x_sub, y_sub


def imbalanced_subset(
    x: np.ndarray,
    y: np.ndarray,
    rare_classes: Iterable[int],
    keep_fraction: float,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep only ``keep_fraction`` of the examples of each class in ``rare_classes``.

    The other classes are untouched; the result is shuffled. At least one example of each
    rare class is kept so the class still exists.
    """
    _check_xy(x, y)
    rare = sorted({int(c) for c in rare_classes})
    unknown = [c for c in rare if c not in set(np.unique(y).tolist())]
    if unknown:
        raise ValueError(f"rare_classes {unknown} do not occur in y.")
    if not 0.0 < keep_fraction <= 1.0:
        raise ValueError(f"keep_fraction must be in (0, 1], got {keep_fraction}.")
    rng = np.random.default_rng(seed)
    keep = np.ones(len(y), dtype=bool)
    for c in rare:
        idx = np.flatnonzero(y == c)
        n_keep = max(1, int(round(keep_fraction * len(idx))))
        drop = rng.choice(idx, size=len(idx) - n_keep, replace=False)
        keep[drop] = False
    order = rng.permutation(np.flatnonzero(keep))
    return x[order], y[order]


def oversample(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Repeat examples of the smaller classes (with replacement) until every class is as
    large as the largest one; the result is shuffled."""
    _check_xy(x, y)
    rng = np.random.default_rng(seed)
    labels, counts = np.unique(y, return_counts=True)
    parts = []
    for c, n in zip(labels, counts, strict=True):
        idx = np.flatnonzero(y == c)
        extra = rng.choice(idx, size=counts.max() - n, replace=True)
        parts.append(np.concatenate([idx, extra]))
    order = rng.permutation(np.concatenate(parts))
    return x[order], y[order]


def class_weights(y: np.ndarray) -> dict[int, float]:
    """Keras ``class_weight`` dict that makes every class count equally (sklearn 'balanced')."""
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.unique(y)
    weights = compute_class_weight("balanced", classes=labels, y=y)
    return {int(c): float(w) for c, w in zip(labels, weights, strict=True)}
