"""The course's figures, too long to inline into notebook cells, and how lessons show them.

Every figure has a title and labelled axes. A run keeps one colour across all plots of a
lesson (:class:`RunColors`); training curves are solid, validation curves dashed, so the two
are told apart without colour. Colours come from seaborn's colour-blind-safe ``colorblind``
palette (:data:`PALETTE`); importing this module also makes it matplotlib's default colour
cycle, so ``"C0"``…``"C9"`` and un-coloured lines use it too.

Functions return the matplotlib Figure. A lesson shows it with :func:`show`, never
``plt.show()``: ``plots.show(fig, alt="...")`` displays the figure as a PNG with its
alternative text (what is plotted, on which axes, and the point it makes) in the output's
metadata, ``{"image/png": {"alt": ...}}``, which the handouts and the course website write into
the page's ``<img alt="...">`` for screen readers. :func:`describe_curves` words the
what-is-plotted part of a learning-curve figure from its runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

# Seaborn's colour-blind-safe qualitative palette: ten colours, like matplotlib's tab10 it
# replaces (so a lesson's runs keep their order of colours: blue, orange, green, vermillion...).
PALETTE = "colorblind"
plt.rcParams["axes.prop_cycle"] = plt.cycler(color=sns.color_palette(PALETTE, 10).as_hex())


class RunColors:
    """A stable colour per run name, handed out in order from :data:`PALETTE`."""

    def __init__(self, palette: str = PALETTE):
        self._palette = sns.color_palette(palette, 10)
        self._assigned: dict[str, tuple] = {}

    def color(self, name: str) -> tuple:
        if name not in self._assigned:
            self._assigned[name] = self._palette[len(self._assigned) % len(self._palette)]
        return self._assigned[name]


def show(fig: plt.Figure, *, alt: str | None = None) -> None:
    """Display ``fig`` as ``plt.show()`` does in a notebook, with alternative text, and close it.

    The output is the PNG and the ``<Figure size ...>`` text that ``plt.show()`` gives, plus
    ``alt`` in its metadata (``{"image/png": {"alt": alt}}``, the key IPython's ``Image(alt=)``
    and nbconvert use): the handouts and the website render it as ``<img alt="...">``. Closing
    the figure keeps the notebook from showing it a second time at the end of the cell.

    ``alt`` says what the figure shows — what is plotted, on which axes, and the point it
    makes — in a sentence or two; a missing or empty one, or one that only repeats the title, is
    refused with a ValueError, and the figure is closed without being shown.
    """
    from IPython.display import display

    if not isinstance(fig, plt.Figure):
        raise TypeError(f"plots.show needs a matplotlib Figure, got {type(fig).__name__}.")
    titles = {
        t.strip().rstrip(".") for t in [fig.get_suptitle(), *map(plt.Axes.get_title, fig.axes)]
    }
    problem = None
    if not isinstance(alt, str) or not alt.strip():
        problem = (
            'plots.show needs alt="...": a sentence or two saying what the figure shows (what '
            "is plotted, on which axes, and the point it makes) for readers who cannot see it."
        )
    elif alt.strip().rstrip(".") in titles:
        problem = (
            f"alt only repeats the figure's title ({alt.strip()!r}): say what the figure shows "
            "(what is plotted, on which axes, and the point it makes)."
        )
    if problem:
        plt.close(fig)  # not shown at the end of the cell either, without its text
        raise ValueError(problem)
    display(fig, metadata={"image/png": {"alt": alt.strip()}})
    plt.close(fig)


def _quoted(name: str) -> str:
    """A run name as alt text reads it: in quotes if it holds a comma ("MLP, raw 0-255")."""
    return f"“{name}”" if "," in name else name


def _names(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    names = [_quoted(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def describe_curves(runs: Iterable, metric: str = "accuracy") -> str:
    """Alternative text for :func:`learning_curves` of ``runs``: what is plotted, and where
    each run's training and validation curve ends. A lesson adds the point it makes.

    The values are the curves' last points: the training curve is averaged over its last epoch
    with dropout and augmentation on, so it differs from the training accuracy a run reports
    after training (measured in inference mode), and an early-stopped run reports the kept
    epoch's scores, not the last epoch's; the text says "curve" to keep the two apart."""
    if metric not in ("accuracy", "loss"):
        raise ValueError(f"metric must be 'accuracy' or 'loss', got {metric!r}.")
    runs = list(runs)
    if not runs:
        raise ValueError("describe_curves needs at least one run.")
    scale = ", log scale" if metric == "loss" else ""
    value = "{:.1%}".format if metric == "accuracy" else "{:.3g}".format
    epochs = {len(run.history[metric]) for run in runs}
    parts = []
    for run in runs:
        h = run.history
        end = f"{_quoted(run.name)} training curve {value(h[metric][-1])}"
        if f"val_{metric}" in h:
            end += f", validation curve {value(h[f'val_{metric}'][-1])}"
        parts.append(end if len(epochs) == 1 else f"{end} after {len(h[metric])} epochs")
    last = (
        f"Where the curves end, after {epochs.pop()} epochs"
        if len(epochs) == 1
        else "Where the curves end"
    )
    return (
        f"Line chart of {metric} (y axis{scale}) against epoch (x axis): training and "
        f"validation curves for {_names([run.name for run in runs])}. {last}: "
        f"{'; '.join(parts)}."
    )


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
