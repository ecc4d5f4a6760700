"""helpers.prep: shapes, scaling, stratified splits, subsets, imbalance."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import prep


def test_to_images_and_flat(tiny_images):
    x, _ = tiny_images
    img = prep.to_images(x)
    assert img.shape == (200, 28, 28, 1) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() == pytest.approx(1.0)
    assert prep.to_images(x, scale=False).max() == 255
    assert prep.to_flat(x).shape == (200, 784)
    with pytest.raises(ValueError, match="expected images of shape"):
        prep.to_images(np.zeros((3, 10, 10)))


def test_train_val_split_is_stratified_and_seeded(tiny_images):
    x, y = tiny_images
    a = prep.train_val_split(x, y, 0.2, seed=1)
    b = prep.train_val_split(x, y, 0.2, seed=1)
    c = prep.train_val_split(x, y, 0.2, seed=2)
    assert len(a.y_val) == 40 and len(a.y_train) == 160
    assert np.bincount(a.y_val).tolist() == [4] * 10
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.y_val, c.y_val)
    with pytest.raises(ValueError, match="val_fraction"):
        prep.train_val_split(x, y, 1.5)
    with pytest.raises(ValueError, match="x has 200 rows but y has 3"):
        prep.train_val_split(x, y[:3])


def test_sort_by_label(tiny_images):
    x, y = tiny_images
    xs, ys = prep.sort_by_label(x, y)
    assert (np.diff(ys) >= 0).all() and len(xs) == len(x)


def test_stratified_subset(tiny_images):
    x, y = tiny_images
    xs, ys = prep.stratified_subset(x, y, 50, seed=0)
    assert len(ys) == 50 and np.bincount(ys).tolist() == [5] * 10
    xs_all, ys_all = prep.stratified_subset(x, y, 200, seed=0)
    assert sorted(ys_all.tolist()) == sorted(y.tolist())
    with pytest.raises(ValueError, match="between 10"):
        prep.stratified_subset(x, y, 5)
    with pytest.raises(TypeError, match="size must be an int"):
        prep.stratified_subset(x, y, 5.0)


def test_imbalanced_subset_and_fixes(tiny_images):
    x, y = tiny_images
    xi, yi = prep.imbalanced_subset(x, y, rare_classes=[3, 8], keep_fraction=0.1, seed=0)
    counts = np.bincount(yi, minlength=10)
    assert counts[3] == 2 and counts[8] == 2 and counts[0] == 20
    with pytest.raises(ValueError, match="do not occur"):
        prep.imbalanced_subset(x, y, [11], 0.1)
    with pytest.raises(ValueError, match="keep_fraction"):
        prep.imbalanced_subset(x, y, [3], 0.0)
    xo, yo = prep.oversample(xi, yi, seed=0)
    assert np.bincount(yo).tolist() == [20] * 10
    w = prep.class_weights(yi)
    assert w[3] == pytest.approx(w[8]) and w[3] > 5 * w[0]
