"""Model builders, training records, and reproducibility (tiny synthetic data)."""

from __future__ import annotations

import numpy as np
import pytest

import helpers
from helpers import models, training
from helpers.diagnosis import VERDICTS
from helpers.models import build_cnn, build_linear, build_mlp
from helpers.prep import Split, to_images, train_val_split
from helpers.reproducibility import set_seed
from helpers.training import train


@pytest.fixture
def split(tiny_images):
    x, y = tiny_images
    return train_val_split(to_images(x), y, 0.2, seed=0)


def test_linear_and_mlp_shapes():
    assert helpers.build_linear().count_params() == 7850
    mlp = helpers.build_mlp((32, 16), dropout=0.2, l2=1e-4, batch_norm=True)
    assert mlp.output_shape == (None, 10)
    kinds = [type(layer).__name__ for layer in mlp.layers]
    assert kinds.count("Dense") == 3 and "BatchNormalization" in kinds and "Dropout" in kinds
    assert mlp.layers[1].kernel_regularizer is not None


def test_default_initializer_is_glorot_uniform():
    dense = helpers.build_mlp((8,)).layers[1]
    assert type(dense.kernel_initializer).__name__ == "GlorotUniform"
    he = helpers.build_mlp((8,), kernel_initializer="he_normal").layers[1]
    assert type(he.kernel_initializer).__name__ == "HeNormal"


def test_cnn_and_augmentation_front_end():
    aug = helpers.augmentation(
        rotation_degrees=10, translation=0.1, zoom=0.1, shear=0.1, elastic=0.5
    )
    assert [type(layer).__name__ for layer in aug.layers] == [
        "RandomRotation",
        "RandomTranslation",
        "RandomZoom",
        "RandomShear",
        "RandomElasticTransform",
    ]
    assert all(layer.fill_mode == "constant" for layer in aug.layers)
    cnn = helpers.build_cnn((8, 16), dense=32, augment=aug, batch_norm=True)
    assert cnn.output_shape == (None, 10)
    x = np.zeros((2, 28, 28, 1), np.float32)
    x[:, 10:18, 12:16] = 1.0
    out = np.asarray(aug(x, training=True))
    assert out.shape == x.shape and out.min() >= 0.0 and out.max() <= 1.0 + 1e-6
    np.testing.assert_allclose(np.asarray(aug(x, training=False)), x)  # identity at inference
    with pytest.raises(ValueError, match="at least one"):
        helpers.augmentation()


def test_builder_argument_errors():
    with pytest.raises(ValueError, match="dropout"):
        helpers.build_mlp((8,), dropout=1.0)
    with pytest.raises(ValueError, match="positive widths"):
        helpers.build_mlp(())
    with pytest.raises(ValueError, match="l2"):
        helpers.build_mlp((8,), l2=-1)
    with pytest.raises(ValueError, match="Unknown optimizer 'adma'.*adam"):
        helpers.make_optimizer("adma")
    assert type(helpers.make_optimizer("momentum")).__name__ == "SGD"


def test_train_returns_a_full_record(split, capsys):
    helpers.set_seed(0)
    run = helpers.train(helpers.build_mlp((32,)), split, epochs=3, batch_size=32, name="m")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "m: 3 epochs" in out
    assert run.epochs == 3 and run.n_train == 160 and len(run.history["val_accuracy"]) == 3
    assert 0 <= run.val_acc <= 1 and run.samples_per_s > 0 and run.wall_time_s > 0
    assert run.diagnosis.verdict in VERDICTS
    d = run.to_dict()
    assert "model" not in d and d["diagnosis"]["verdict"] == run.verdict
    assert d["gap"] == pytest.approx(run.train_acc - run.val_acc)
    assert run.test_acc is None  # the test split is only touched when asked


def test_epoch_lines_and_quiet(split, capsys):
    helpers.set_seed(0)
    helpers.train(helpers.build_linear(), split, epochs=2, verbose="epoch", name="lin")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("lin epoch   1/2")
    helpers.train(helpers.build_linear(), split, epochs=1, verbose="quiet")
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose"):
        helpers.train(helpers.build_linear(), split, epochs=1, verbose="loud")
    with pytest.raises(ValueError, match="epochs"):
        helpers.train(helpers.build_linear(), split, epochs=0)


def test_mse_loss_and_early_stopping(split):
    helpers.set_seed(0)
    run = helpers.train(helpers.build_mlp((16,)), split, epochs=2, loss="mse", verbose="quiet")
    assert run.config["loss"] == "mse" and 0 <= run.train_acc <= 1
    # validation labels that contradict the training labels: validation loss rises at once
    noisy = Split(split.x_train, split.y_train, split.x_val, (split.y_val + 1) % 10)
    run = helpers.train(
        helpers.build_mlp((16,)), noisy, epochs=50, early_stopping=2, verbose="quiet"
    )
    assert run.stopped_early and run.epochs < 50
    with pytest.raises(ValueError, match="Unknown loss"):
        helpers.train(helpers.build_linear(), split, epochs=1, loss="hinge")


def test_diverging_run_stops_and_is_diagnosed(split):
    x = split.x_train * 1e4  # huge unscaled inputs and a huge learning rate
    bad = Split(x, split.y_train, split.x_val * 1e4, split.y_val)
    helpers.set_seed(0)
    run = helpers.train(
        helpers.build_mlp((16,)),
        bad,
        epochs=5,
        optimizer="sgd",
        learning_rate=10.0,
        verbose="quiet",
    )
    assert run.verdict in ("diverged", "stuck at chance")


def test_same_seed_same_weights_other_seed_differs(split):
    def weights(seed):
        helpers.set_seed(seed)
        run = helpers.train(helpers.build_mlp((16,)), split, epochs=2, verbose="quiet")
        return run.model.get_weights()[0], run.history["loss"]

    w0, l0 = weights(0)
    w0b, l0b = weights(0)
    w1, _ = weights(1)
    np.testing.assert_array_equal(w0, w0b)
    assert l0 == l0b
    assert not np.array_equal(w0, w1)


def test_set_seed_rejects_bad_values():
    with pytest.raises(TypeError, match="non-negative int"):
        helpers.set_seed(-1)
    with pytest.raises(TypeError, match="non-negative int"):
        helpers.set_seed("3")


def test_evaluate_and_predict(split):
    helpers.set_seed(0)
    run = helpers.train(helpers.build_linear(), split, epochs=1, verbose="quiet")
    m = helpers.evaluate(run.model, split.x_val, split.y_val)
    assert m["accuracy"] == pytest.approx(run.val_acc)
    p = helpers.predict_proba(run.model, split.x_val)
    assert p.shape == (40, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    acc = training.evaluate_on_test(run, split.x_val, split.y_val)
    assert run.test_acc == acc


def test_software_versions_lists_the_stack():
    v = helpers.software_versions()
    assert {"python", "helpers", "keras", "numpy"} <= set(v)
    assert v["keras"].startswith("3.")


def test_optimizer_names_cover_the_lessons():
    for name in models.OPTIMIZERS:
        assert helpers.make_optimizer(name, 1e-3).learning_rate is not None


def test_steps_per_execution_is_a_speed_knob_not_a_numbers_knob(tiny_images):
    """The course runs dense models 32 steps per call into TensorFlow; the weights must come out
    exactly as with one step per call (dropout included), and conv nets keep 1."""
    from helpers.training import DENSE_STEPS_PER_EXECUTION, steps_per_execution_for

    x, y = tiny_images
    split = train_val_split(to_images(x), y, 0.25, seed=0)
    weights = {}
    for spe in (1, None):
        set_seed(0)
        model = build_mlp((32,), dropout=0.2)
        run = train(model, split, epochs=2, batch_size=16, verbose="quiet", steps_per_execution=spe)
        weights[spe] = [w.copy() for w in run.model.get_weights()]
        if spe is None:
            assert steps_per_execution_for(model) == DENSE_STEPS_PER_EXECUTION
    for a, b in zip(weights[1], weights[None], strict=True):
        np.testing.assert_array_equal(a, b)
    assert steps_per_execution_for(build_cnn((4,), dense=8)) == 1


def test_long_epochs_print_one_line_each(tiny_images, capsys, monkeypatch):
    from helpers import training

    x, y = tiny_images
    split = train_val_split(to_images(x), y, 0.25, seed=0)
    set_seed(0)
    train(build_linear(), split, epochs=2, verbose="summary", name="short")
    assert capsys.readouterr().out.count("\n") == 1  # small epochs: the summary line only
    monkeypatch.setattr(training, "EPOCH_LINES_FROM", 100)
    set_seed(0)
    train(build_linear(), split, epochs=2, verbose="summary", name="long")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines[:2]] == ["long epoch   1/2"[:10]] * 2
    assert "1/2" in lines[0] and "2/2" in lines[1]
    assert lines[0].endswith(" s)") and lines[2].startswith("long: 2 epochs")


def test_validating_once_at_the_end_gives_the_same_model_and_scores(split):
    """validate_each_epoch=False skips the per-epoch validation pass; the validation split is
    measured once after training. Augmentation and dropout draw the same random numbers, so the
    weights and every score are the same; only the validation curve is missing."""
    runs = {}
    for each in (True, False):
        set_seed(0)
        model = build_cnn(
            (4,), dense=8, dropout=0.25, batch_norm=True, augment=helpers.augmentation(10, 0.1)
        )
        runs[each] = train(model, split, epochs=2, verbose="quiet", validate_each_epoch=each)
    for a, b in zip(runs[True].model.get_weights(), runs[False].model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert runs[True].val_acc == runs[False].val_acc
    assert runs[True].train_acc == runs[False].train_acc
    assert "val_loss" in runs[True].history and "val_loss" not in runs[False].history
    with pytest.raises(ValueError, match="needs validate_each_epoch=True"):
        train(build_mlp((8,)), split, epochs=1, early_stopping=2, validate_each_epoch=False)


def test_array_pipeline_without_autotune_is_a_speed_knob_not_a_numbers_knob(split, monkeypatch):
    """helpers turns tf.data's autotuning off in Keras's pipeline for arrays (its tuning thread
    stalled every epoch); batches, augmentation and dropout must come out exactly as with it on,
    so the weights and scores are the same."""
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    from helpers._tf import disable_array_autotune

    assert disable_array_autotune() is True  # already done on import; doing it again is a no-op
    patched = ArrayDataAdapter.get_tf_dataset
    dataset = ArrayDataAdapter(split.x_train, split.y_train, batch_size=8, shuffle=True)
    assert dataset.get_tf_dataset().options().autotune.enabled is False
    runs = {}
    for autotune in (False, True):
        if autotune:
            monkeypatch.setattr(ArrayDataAdapter, "get_tf_dataset", patched.__wrapped__)
            ds = ArrayDataAdapter(split.x_train, split.y_train, batch_size=8, shuffle=True)
            assert ds.get_tf_dataset().options().autotune.enabled is not False
        set_seed(0)
        model = build_cnn(
            (4,), dense=8, dropout=0.25, batch_norm=True, augment=helpers.augmentation(10, 0.1)
        )
        runs[autotune] = train(model, split, epochs=2, batch_size=16, verbose="quiet")
    for a, b in zip(runs[False].model.get_weights(), runs[True].model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert runs[False].history == runs[True].history
    assert runs[False].val_acc == runs[True].val_acc
