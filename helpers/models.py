"""Builders for the course's models: linear (softmax), MLP and small CNN.

Every builder takes images of shape (28, 28, 1) (see :func:`helpers.prep.to_images`) so the same
arrays feed every model; MLPs flatten inside. Options cover the knobs the lessons turn: width,
depth, activation, initializer, dropout, L2, batch norm and an augmentation front end.
Builders only build; :func:`helpers.training.train` compiles and fits.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpers._tf import keras

INPUT_SHAPE = (28, 28, 1)
N_CLASSES = 10


def augmentation(
    rotation_degrees: float = 0.0,
    translation: float = 0.0,
    zoom: float = 0.0,
    shear: float = 0.0,
    elastic: float = 0.0,
    seed: int | None = None,
    name: str = "augment",
) -> keras.Sequential:
    """Random transforms applied only while training (Keras 3 preprocessing layers).

    Args:
        rotation_degrees: rotate by up to ± this many degrees (``RandomRotation`` takes a
            fraction of a full turn; this converts).
        translation: shift by up to ± this fraction of height and width.
        zoom: zoom in or out by up to ± this fraction.
        shear: shear by up to ± this factor along x and y.
        elastic: strength of an elastic distortion (0 = off).
        seed: seed for the random transforms (None: drawn from the global seed).

    Empty space is filled with black (``fill_mode="constant"``), like the digits' background;
    the Keras default ``"reflect"`` would mirror strokes into the border.
    """
    layers: list[keras.layers.Layer] = []
    common = {"fill_mode": "constant", "fill_value": 0.0, "seed": seed}
    if rotation_degrees:
        layers.append(keras.layers.RandomRotation(rotation_degrees / 360.0, **common))
    if translation:
        layers.append(keras.layers.RandomTranslation(translation, translation, **common))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, zoom, **common))
    if shear:
        layers.append(keras.layers.RandomShear(x_factor=shear, y_factor=shear, **common))
    if elastic:
        layers.append(
            keras.layers.RandomElasticTransform(
                factor=elastic, scale=1.0, value_range=(0.0, 1.0), **common
            )
        )
    if not layers:
        raise ValueError("augmentation() needs at least one non-zero transform.")
    return keras.Sequential(layers, name=name)


def _regularizer(l2: float):
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}.")
    return keras.regularizers.L2(l2) if l2 else None


def _dense_kwargs(kernel_initializer, l2: float) -> dict:
    kwargs: dict = {"kernel_regularizer": _regularizer(l2)}
    if kernel_initializer is not None:  # None keeps Keras's own default (glorot_uniform)
        kwargs["kernel_initializer"] = kernel_initializer
    return kwargs


def _front(augment: keras.layers.Layer | None) -> list:
    layers: list = [keras.Input(shape=INPUT_SHAPE)]
    if augment is not None:
        layers.append(augment)
    return layers


def build_linear(
    augment: keras.layers.Layer | None = None,
    kernel_initializer=None,
    output_activation: str = "softmax",
    name: str = "linear",
) -> keras.Sequential:
    """Multinomial logistic regression: flatten → Dense(10, softmax). 7,850 parameters."""
    return keras.Sequential(
        [
            *_front(augment),
            keras.layers.Flatten(),
            keras.layers.Dense(
                N_CLASSES, activation=output_activation, **_dense_kwargs(kernel_initializer, 0)
            ),
        ],
        name=name,
    )


def build_mlp(
    hidden: Sequence[int] = (128,),
    activation: str = "relu",
    kernel_initializer=None,
    dropout: float = 0.0,
    l2: float = 0.0,
    batch_norm: bool = False,
    augment: keras.layers.Layer | None = None,
    output_activation: str = "softmax",
    name: str = "mlp",
) -> keras.Sequential:
    """Flatten → [Dense(width) → (BatchNorm) → activation → (Dropout)] per hidden layer → Dense(10).

    ``kernel_initializer=None`` keeps Keras's default, which is ``glorot_uniform``.
    """
    if not hidden or any(int(w) < 1 for w in hidden):
        raise ValueError(f"hidden must be a non-empty list of positive widths, got {hidden!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    layers = [*_front(augment), keras.layers.Flatten()]
    for width in hidden:
        layers.append(keras.layers.Dense(int(width), **_dense_kwargs(kernel_initializer, l2)))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation(activation))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(
        keras.layers.Dense(
            N_CLASSES, activation=output_activation, **_dense_kwargs(kernel_initializer, l2)
        )
    )
    return keras.Sequential(layers, name=name)


def build_cnn(
    filters: Sequence[int] = (32, 64),
    dense: int = 128,
    kernel_size: int = 3,
    activation: str = "relu",
    dropout: float = 0.5,
    l2: float = 0.0,
    batch_norm: bool = False,
    convs_per_block: int = 1,
    augment: keras.layers.Layer | None = None,
    kernel_initializer=None,
    name: str = "cnn",
) -> keras.Sequential:
    """Conv blocks ([Conv → (BN) → act] × convs_per_block → MaxPool) → Flatten → Dense → Dense(10).

    Dropout (if any) sits before each dense layer.
    """
    if not filters:
        raise ValueError("filters must name at least one conv block, e.g. (32, 64).")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    layers = _front(augment)
    for n_filters in filters:
        for _ in range(convs_per_block):
            layers.append(
                keras.layers.Conv2D(
                    int(n_filters),
                    kernel_size,
                    padding="same",
                    **_dense_kwargs(kernel_initializer, l2),
                )
            )
            if batch_norm:
                layers.append(keras.layers.BatchNormalization())
            layers.append(keras.layers.Activation(activation))
        layers.append(keras.layers.MaxPooling2D())
    layers.append(keras.layers.Flatten())
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    if dense:
        layers.append(keras.layers.Dense(int(dense), **_dense_kwargs(kernel_initializer, l2)))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation(activation))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(
        keras.layers.Dense(N_CLASSES, activation="softmax", **_dense_kwargs(kernel_initializer, l2))
    )
    return keras.Sequential(layers, name=name)


OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
DEFAULT_LEARNING_RATES = {
    "sgd": 0.01,
    "momentum": 0.01,
    "nesterov": 0.01,
    "rmsprop": 0.001,
    "adam": 0.001,
    "adamw": 0.001,
}


def make_optimizer(name: str = "adam", learning_rate: float | None = None, **kwargs):
    """A fresh Keras optimizer: sgd, momentum (SGD + 0.9), nesterov, rmsprop, adam, adamw."""
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        choices = ", ".join(OPTIMIZERS)
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {choices}.")
    name = name.lower()
    lr = DEFAULT_LEARNING_RATES[name] if learning_rate is None else float(learning_rate)
    if lr <= 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}.")
    opt = keras.optimizers
    if name == "sgd":
        return opt.SGD(learning_rate=lr, **kwargs)
    if name in ("momentum", "nesterov"):
        kwargs.setdefault("momentum", 0.9)
        return opt.SGD(learning_rate=lr, nesterov=name == "nesterov", **kwargs)
    return {"rmsprop": opt.RMSprop, "adam": opt.Adam, "adamw": opt.AdamW}[name](
        learning_rate=lr, **kwargs
    )
