"""Per-layer statistics (helpers.layer_stats) on tiny synthetic models and batches."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402
from helpers import layer_stats  # noqa: E402
from helpers._tf import keras  # noqa: E402


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.random((32, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 32)


def test_dead_fraction_counts_units_silent_on_every_example():
    a = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    assert layer_stats.dead_fraction(a) == pytest.approx(0.5)  # units 0 and 3
    assert layer_stats.dead_fraction(a, tol=5.0) == 1.0
    assert layer_stats.dead_fraction(np.zeros((4, 3, 3, 2))) == 1.0  # conv-shaped output
    with pytest.raises(ValueError, match="batch"):
        layer_stats.dead_fraction(np.zeros(5))


def test_unit_spread_is_zero_only_for_identical_units():
    same = np.tile(np.arange(6.0)[:, None], (1, 4))  # 6 inputs, 4 identical units
    assert layer_stats.unit_spread(same) == 0.0
    diff = same.copy()
    diff[2, 1] += 1.0
    assert layer_stats.unit_spread(diff) == pytest.approx(np.std([2.0, 3.0, 2.0, 2.0]))
    assert layer_stats.unit_spread(np.ones((3, 3, 1, 8))) == 0.0  # conv kernel
    with pytest.raises(ValueError, match="units axis"):
        layer_stats.unit_spread(np.ones(4))


def test_activation_stats_one_row_per_hidden_layer(batch):
    x, _ = batch
    helpers.set_seed(0)
    model = helpers.build_mlp((16, 8, 4))
    table = layer_stats.activation_stats(model, x)
    assert list(table["layer"]) == [1, 2, 3]
    assert {"name", "mean", "std", "example_std", "zero_fraction", "dead_fraction"} <= set(
        table.columns
    )
    assert (table["std"] > 0).all() and table["dead_fraction"].between(0, 1).all()
    same = layer_stats.activation_stats(model, np.repeat(x[:1], 8, axis=0))  # 8 equal inputs
    assert (same["example_std"] < 1e-6).all() and (same["std"] > 1e-3).any()
    outs = layer_stats.hidden_outputs(model, x)
    assert [a.shape for _, a in outs] == [(32, 16), (32, 8), (32, 4)]
    assert all(np.all(a >= 0) for _, a in outs)  # ReLU outputs


def test_hidden_outputs_also_finds_fused_activations(batch):
    x, _ = batch
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(3),  # linear: not a hidden non-linearity
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    names = [name for name, _ in layer_stats.hidden_outputs(model, x)]
    assert len(names) == 1
    with pytest.raises(ValueError, match="no hidden activation"):
        layer_stats.hidden_outputs(helpers.build_linear(), x)


def test_scaling_the_init_scales_activations_and_gradients(batch):
    """A bias-free ReLU net is homogeneous: 100× the weights → 100^k × layer k's output."""
    x, y = batch

    def model(stddev):
        helpers.set_seed(0)
        init = keras.initializers.RandomNormal(stddev=stddev, seed=keras.random.SeedGenerator(0))
        return helpers.build_mlp((16, 16, 16), kernel_initializer=init)

    small, large = (layer_stats.activation_stats(model(s), x) for s in (0.01, 1.0))
    ratio = (large["std"] / small["std"]).to_numpy()
    np.testing.assert_allclose(ratio, [100.0, 1e4, 1e6], rtol=1e-3)
    g_small = layer_stats.gradient_norms(model(0.01), x, y)
    g_large = layer_stats.gradient_norms(model(1.0), x, y)
    assert list(g_small["layer"]) == [1, 2, 3, 4]
    assert (g_large["grad_norm"] > 1e3 * g_small["grad_norm"]).all()
    assert g_small["loss"].nunique() == 1


def test_zero_init_gets_zero_gradients_in_every_hidden_layer(batch):
    x, y = batch
    table = layer_stats.gradient_norms(helpers.build_mlp((8, 8), kernel_initializer="zeros"), x, y)
    assert (table["grad_norm"] == 0).all() and (table["weight_norm"] == 0).all()
    assert table["loss"].iloc[0] == pytest.approx(np.log(10), rel=1e-4)


def test_plot_per_layer(batch):
    x, y = batch
    helpers.set_seed(0)
    tables = {
        "a": layer_stats.gradient_norms(helpers.build_mlp((8, 8)), x, y),
        "zeros": layer_stats.gradient_norms(
            helpers.build_mlp((8, 8), kernel_initializer="zeros"), x, y
        ),
    }
    fig = layer_stats.plot_per_layer(tables, "grad_norm", "Gradients", "‖dL/dW‖")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "Gradients"
    assert ax.get_xlabel() and ax.get_ylabel() == "‖dL/dW‖" and len(ax.lines) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="lacks"):
        layer_stats.plot_per_layer(tables, "std", "t", "y")
    with pytest.raises(ValueError, match="at least one"):
        layer_stats.plot_per_layer({}, "std", "t", "y")
