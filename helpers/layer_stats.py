"""Look inside a network, layer by layer, on one batch: activations, gradients, dead units.

Why a module: lesson 05 asks the same questions of many models — how large is each hidden
layer's output, how large is the gradient each layer's weights receive, how many ReLU units
never switch on, are the units of a layer still copies of each other — and the loops that
answer them (run the layers one by one; one ``tf.GradientTape`` pass) are too long to inline
into notebook cells.

Every function works on a built Keras model (``helpers.build_mlp`` / ``build_cnn`` or any
``keras.Sequential``) and plain NumPy arrays, and returns NumPy values or a pandas DataFrame
with one row per layer, so results print as tables and plot with :func:`plot_per_layer`.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers._tf import keras, tf
from helpers.plots import RunColors

__all__ = [
    "hidden_outputs",
    "activation_stats",
    "gradient_norms",
    "dead_fraction",
    "unit_spread",
    "plot_per_layer",
]


def _is_nonlinear(layer: keras.layers.Layer) -> bool:
    """True for a layer that applies a non-identity activation (a hidden layer's output)."""
    if isinstance(layer, keras.layers.Activation):
        return True
    act = getattr(layer, "activation", None)
    return act is not None and getattr(act, "__name__", "") not in ("linear", "")


def hidden_outputs(model: keras.Model, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The output of every hidden non-linearity of ``model`` on the batch ``x``.

    The layers are run one after the other in inference mode (no dropout); after each layer
    that applies an activation (an ``Activation`` layer, or a ``Dense``/``Conv`` layer with a
    non-linear ``activation``) its output is kept. The model's last layer (the softmax) is not
    a hidden layer and is left out.

    Returns:
        ``[(layer_name, array of shape (batch, units...)), ...]`` from input to output.
    """
    layers = getattr(model, "layers", None)
    if not layers:
        raise ValueError("hidden_outputs needs a Sequential-style model with .layers.")
    h = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    out: list[tuple[str, np.ndarray]] = []
    for layer in layers[:-1]:
        h = layer(h, training=False)
        if _is_nonlinear(layer):
            out.append((layer.name, np.asarray(h)))
    h = layers[-1](h, training=False)  # run it too, so a broken model fails here, not later
    if not out:
        raise ValueError(f"model {model.name!r} has no hidden activation layers.")
    return out


def dead_fraction(activations: np.ndarray, tol: float = 0.0) -> float:
    """Fraction of units whose output is ``<= tol`` in magnitude for EVERY example of the batch.

    ``activations`` has the batch on axis 0; every other axis indexes a unit (for a conv
    layer, a unit is one channel at one position). For a ReLU layer such a unit is "dead" on
    this batch: it passes no signal forward and, since ReLU's slope is 0 there, receives no
    gradient either, so nothing in training can revive it.
    """
    a = np.asarray(activations)
    if a.ndim < 2 or a.shape[0] == 0:
        raise ValueError(f"expected (batch, units...) with a non-empty batch, got {a.shape}.")
    silent = np.all(np.abs(a) <= tol, axis=0)
    return float(np.mean(silent))


def activation_stats(model: keras.Model, x: np.ndarray) -> pd.DataFrame:
    """One row per hidden layer: how large its outputs are on the batch ``x``.

    Columns: ``layer`` (1 = first hidden layer), ``name``, ``mean``, ``std`` (over all
    examples and units), ``example_std`` (how much a unit's output changes from example to
    example: each unit's standard deviation across the batch, averaged over the units),
    ``zero_fraction`` (share of outputs exactly 0) and ``dead_fraction`` (share of units that
    are 0 for every example, see :func:`dead_fraction`).

    ``std`` and ``example_std`` differ when units sit at different, nearly constant levels
    (sigmoid units near 0.5, for instance): ``std`` is then large, but ``example_std`` — the
    part of the output that tells one input from another — can be tiny.
    """
    rows = []
    for i, (name, a) in enumerate(hidden_outputs(model, x), start=1):
        rows.append(
            {
                "layer": i,
                "name": name,
                "mean": float(np.mean(a)),
                "std": float(np.std(a)),
                "example_std": float(np.mean(np.std(a, axis=0))),
                "zero_fraction": float(np.mean(a == 0)),
                "dead_fraction": dead_fraction(a),
            }
        )
    return pd.DataFrame(rows)


def gradient_norms(
    model: keras.Model, x: np.ndarray, y: np.ndarray, training: bool = False
) -> pd.DataFrame:
    """One row per weight layer: the norm of ``dL/dW`` for its kernel on the batch ``(x, y)``.

    ``L`` is the mean sparse categorical cross-entropy of the model's softmax output against
    the integer labels ``y`` — the loss the course trains with — and the gradient is what one
    training step on this batch would start from. ``training=False`` (the default) keeps
    dropout off so the numbers are repeatable.

    Columns: ``layer`` (1 = first weight layer), ``name``, ``weight_norm`` (Frobenius norm of
    the kernel), ``grad_norm`` (Frobenius norm of its gradient) and ``loss`` (the batch loss,
    the same on every row).
    """
    kernels = [
        (layer.name, layer.kernel)
        for layer in model.layers
        if getattr(layer, "kernel", None) is not None
    ]
    if not kernels:
        raise ValueError(f"model {model.name!r} has no layer with a kernel.")
    xt = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    yt = tf.convert_to_tensor(np.asarray(y))
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(yt, model(xt, training=training))
    grads = tape.gradient(loss, [k for _, k in kernels])
    rows = []
    for i, ((name, kernel), g) in enumerate(zip(kernels, grads, strict=True), start=1):
        rows.append(
            {
                "layer": i,
                "name": name,
                "weight_norm": float(np.linalg.norm(np.asarray(kernel))),
                "grad_norm": 0.0 if g is None else float(np.linalg.norm(np.asarray(g))),
                "loss": float(loss),
            }
        )
    return pd.DataFrame(rows)


def unit_spread(kernel: np.ndarray) -> float:
    """How different the units of one layer are: the largest, over inputs, of the standard
    deviation across units of that input's weight.

    ``kernel`` is a Dense kernel of shape ``(inputs, units)`` (a conv kernel is reshaped so its
    last axis indexes the units). 0 means every unit has exactly the same weights — the units
    are copies of each other and the layer behaves like a single unit.
    """
    k = np.asarray(kernel)
    if k.ndim < 2:
        raise ValueError(f"expected a kernel with a units axis, got shape {k.shape}.")
    k = k.reshape(-1, k.shape[-1])
    return float(np.max(np.std(k, axis=1)))


def plot_per_layer(
    tables: Mapping[str, pd.DataFrame],
    column: str,
    title: str,
    ylabel: str,
    colors: RunColors | None = None,
    ax: plt.Axes | None = None,
    log: bool = True,
    legend_loc: str | None = "best",
) -> plt.Figure:
    """One line per model of ``column`` against ``layer`` (log y-axis by default).

    ``tables`` maps a run name to a table from :func:`activation_stats` or
    :func:`gradient_norms`; ``colors`` keeps each run's colour from the lesson's other plots.
    Zeros are left out of a log axis (they have no logarithm); ``legend_loc`` is passed to
    matplotlib's ``legend(loc=...)``; ``None`` draws no legend (e.g. for a second panel).
    """
    if not tables:
        raise ValueError("plot_per_layer needs at least one table.")
    for name, t in tables.items():
        if column not in t.columns or "layer" not in t.columns:
            raise ValueError(f"table {name!r} lacks {column!r} or 'layer'; has {list(t.columns)}.")
    colors = colors or RunColors()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for name, t in tables.items():
        values = t[column].to_numpy(dtype=float)
        if log:
            values = np.where(values > 0, values, np.nan)
        ax.plot(t["layer"], values, marker="o", color=colors.color(name), label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_xticks(sorted({int(v) for t in tables.values() for v in t["layer"]}))
    if legend_loc is not None:
        ax.legend(fontsize="small", loc=legend_loc)
    ax.grid(alpha=0.3, which="both")
    ax.figure.tight_layout()
    return ax.figure
