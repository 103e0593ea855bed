"""The data sets: offline, deterministic, the right shapes, and real digits."""

from __future__ import annotations

import numpy as np
import pytest

from minikeras.datasets import blobs, digits, moons, spirals, xor


def test_digits_are_the_1797_real_images() -> None:
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape[1:] == x_test.shape[1:] == (8, 8)
    assert len(x_train) + len(x_test) == 1797 and len(x_test) == 359
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.max() == 16 and x_train.min() == 0
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
    images, labels = digits.load_arrays()
    zeros = images[labels == 0].mean(axis=0)
    assert zeros[3:5, 3:5].mean() < 0.3 * zeros[1:7, 2:6].max()  # a 0 has a hole in the middle


def test_digits_split_is_deterministic_disjoint_and_stratified() -> None:
    (a, ya), (b, yb) = digits.load_data(seed=1)
    (a2, _), (b2, _) = digits.load_data(seed=1)
    assert np.array_equal(a, a2) and np.array_equal(b, b2)
    (c, _), _ = digits.load_data(seed=2)
    assert not np.array_equal(a, c)
    train_rows = {row.tobytes() for row in a.reshape(len(a), -1)}
    test_rows = [row.tobytes() for row in b.reshape(len(b), -1)]
    assert sum(row in train_rows for row in test_rows) < 5  # only true duplicate images may repeat
    shares = np.bincount(yb, minlength=10) / np.bincount(np.concatenate([ya, yb]), minlength=10)
    assert np.allclose(shares, 0.2, atol=0.02)


@pytest.mark.parametrize("module", [moons, xor, spirals, blobs])
def test_toy_sets_shapes_dtypes_determinism(module) -> None:
    (x_train, y_train), (x_test, y_test) = module.load_data(seed=3)
    assert x_train.dtype == np.float32 and x_train.shape[1] == 2 and y_train.dtype == np.int64
    assert len(x_train) == len(y_train) and len(x_test) == len(y_test) > 0
    counts = np.bincount(np.concatenate([y_train, y_test]))
    assert counts.min() >= 0.9 * counts.max()  # balanced classes
    again = module.load_data(seed=3)
    assert np.array_equal(again[0][0], x_train) and np.array_equal(again[1][1], y_test)


def test_moons_and_xor_are_labelled_by_construction() -> None:
    x, y = moons.make_moons(400, noise=0.0, seed=0)
    upper = np.isclose(np.hypot(x[:, 0], x[:, 1]), 1.0)
    assert np.array_equal(upper, y == 0)
    (xx, yx), _ = xor.load_data(noise=0.0, seed=0)
    assert np.array_equal((xx[:, 0] * xx[:, 1] < 0).astype(int), yx) or np.array_equal(
        (xx[:, 0] * xx[:, 1] > 0).astype(int), yx)


def test_bad_arguments_name_the_culprit() -> None:
    with pytest.raises(ValueError, match="test_split must be a fraction"):
        digits.load_data(test_split=1.5)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        moons.load_data(noise=-1.0)
