"""The course's figures, too long to inline into notebook cells.

Every figure has a title and labelled axes. A run keeps one colour across all plots of a
lesson (:class:`RunColors`); training curves are solid, validation curves dashed. Functions
return the matplotlib Figure; notebooks end the cell with ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns


class RunColors:
    """A stable colour per run name, handed out in order from seaborn's ``tab10`` palette."""

    def __init__(self, palette: str = "tab10"):
        self._palette = sns.color_palette(palette, 10)
        self._assigned: dict[str, tuple] = {}

    def color(self, name: str) -> tuple:
        if name not in self._assigned:
            self._assigned[name] = self._palette[len(self._assigned) % len(self._palette)]
        return self._assigned[name]


_DEFAULT_COLORS = RunColors()


def learning_curves(
    runs: Iterable,
    metric: str = "accuracy",
    colors: RunColors | None = None,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Training (solid) and validation (dashed) ``metric`` per epoch for each run."""
    if metric not in ("accuracy", "loss"):
        raise ValueError(f"metric must be 'accuracy' or 'loss', got {metric!r}.")
    colors = colors or _DEFAULT_COLORS
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    fig = ax.figure
    for run in runs:
        c = colors.color(run.name)
        h = run.history
        epochs = np.arange(1, len(h[metric]) + 1)
        ax.plot(epochs, h[metric], color=c, label=f"{run.name} (train)")
        if f"val_{metric}" in h:
            ax.plot(
                epochs,
                h[f"val_{metric}"],
                color=c,
                linestyle="--",
                label=f"{run.name} (validation)",
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if metric == "loss":
        ax.set_yscale("log")
    ax.set_title(title or f"Learning curves: {metric} (solid = train, dashed = validation)")
    ax.legend(fontsize="small", loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    title: str = "Confusion matrix",
    normalize: bool = False,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Counts (or row-normalised rates) of true vs predicted digits (scikit-learn)."""
    from sklearn.metrics import confusion_matrix as sk_cm

    cm = sk_cm(y_true, y_pred, labels=range(10), normalize="true" if normalize else None)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    sns.heatmap(
        cm,
        annot=True,
        fmt=".2f" if normalize else "d",
        cmap="Blues",
        cbar=False,
        ax=ax,
        annot_kws={"fontsize": 8},
    )
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def digit_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    title: str = "Digits",
    cell: float = 1.0,
) -> plt.Figure:
    """Show images (N×28×28 or N×28×28×1) in a grid, each with an optional caption."""
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    n = len(images)
    if n == 0:
        raise ValueError("digit_grid needs at least one image.")
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell * ncols, cell * nrows * 1.15), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i < n:
            ax.imshow(images[i], cmap="gray_r")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
        else:
            ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def digits_per_class(
    x: np.ndarray, y: np.ndarray, per_class: int = 8, title: str = "Examples of each digit"
) -> plt.Figure:
    """A grid with one row per digit 0–9 and ``per_class`` examples in each row."""
    picks = []
    for digit in range(10):
        idx = np.flatnonzero(y == digit)[:per_class]
        if len(idx) < per_class:
            raise ValueError(f"only {len(idx)} examples of digit {digit}, need {per_class}.")
        picks.extend(idx)
    return digit_grid(
        x[picks], [str(int(y[i])) for i in picks], ncols=per_class, title=title, cell=0.8
    )


def worst_mistakes(
    x: np.ndarray,
    y_true: np.ndarray,
    proba: np.ndarray,
    n: int = 16,
    ncols: int = 8,
    title: str = "Most confident mistakes",
) -> plt.Figure:
    """The ``n`` wrong predictions the model was most sure of, captioned
    'true→predicted (confidence)'."""
    pred = proba.argmax(axis=1)
    wrong = np.flatnonzero(pred != y_true)
    if len(wrong) == 0:
        raise ValueError("the model made no mistakes on these examples.")
    order = wrong[np.argsort(-proba[wrong, pred[wrong]])][:n]
    titles = [f"{y_true[i]}→{pred[i]} ({proba[i, pred[i]]:.0%})" for i in order]
    return digit_grid(x[order], titles, ncols=min(ncols, len(order)), title=title, cell=1.2)


def comparison_bars(
    table: pd.DataFrame,
    x: str = "run",
    metrics: Sequence[str] = ("train_acc", "val_acc"),
    title: str = "Accuracy by run",
    ylabel: str = "accuracy",
    ylim: tuple[float, float] | None = None,
) -> plt.Figure:
    """Grouped bars of ``metrics`` for each row of ``table`` (seaborn)."""
    missing = [m for m in [x, *metrics] if m not in table.columns]
    if missing:
        raise ValueError(f"table lacks column(s) {missing}; it has {list(table.columns)}.")
    long = table.melt(id_vars=[x], value_vars=list(metrics), var_name="metric", value_name="value")
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(table) + 2), 4))
    sns.barplot(data=long, x=x, y="value", hue="metric", ax=ax)
    ax.set_title(title)
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.tick_params(axis="x", rotation=20)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
