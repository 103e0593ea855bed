"""minikeras.datasets: generated toy sets and the shipped 8x8 digits."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from minikeras import datasets
from minikeras.datasets import blobs, digits, moons, spirals, xor

TOY = [xor, moons, spirals, blobs]
MAKERS = {xor: xor.make_xor, moons: moons.make_moons, spirals: spirals.make_spirals, blobs: blobs.make_blobs}
N_CLASSES = {xor: 2, moons: 2, spirals: 3, blobs: 3}


def sorted_rows(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` (flattened per sample) in lexicographic order, to compare sets of samples."""
    flat = x.reshape(len(x), -1)
    return flat[np.lexsort(flat.T[::-1])]


def test_package_exports_the_modules():
    assert set(datasets.__all__) == {"blobs", "digits", "moons", "spirals", "xor", "boston_housing", "cifar10",
                                     "fashion_mnist", "imdb", "mnist", "reuters"}
    for name in datasets.__all__:
        assert callable(getattr(datasets, name).load_data)


# ---------------------------------------------------------------- generated toy sets


@pytest.mark.parametrize("module", TOY, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
class TestToySets:
    def test_shapes_and_dtypes(self, module):
        (x_train, y_train), (x_test, y_test) = module.load_data(n_samples=250, test_split=0.2, seed=1)
        assert x_train.dtype == x_test.dtype == np.float32
        assert y_train.dtype == y_test.dtype == np.int64
        assert x_train.shape == (200, 2) and y_train.shape == (200,)
        assert x_test.shape == (50, 2) and y_test.shape == (50,)
        assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(N_CLASSES[module]))

    def test_same_seed_same_arrays_other_seed_other_arrays(self, module):
        first, second, other = (module.load_data(n_samples=120, seed=s) for s in (7, 7, 8))
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
        assert not np.array_equal(first[0][0], other[0][0])

    def test_seed_none_gives_fresh_data(self, module):
        (x1, _), _ = module.load_data(n_samples=60, seed=None)
        (x2, _), _ = module.load_data(n_samples=60, seed=None)
        assert x1.shape == x2.shape and not np.array_equal(x1, x2)

    def test_classes_balanced_and_split_stratified(self, module):
        k = N_CLASSES[module]
        (_, y_train), (_, y_test) = module.load_data(n_samples=301, test_split=0.25, seed=3)
        total = np.bincount(np.concatenate([y_train, y_test]), minlength=k)
        assert total.max() - total.min() <= 1
        assert len(y_test) == round(0.25 * 301)
        np.testing.assert_allclose(np.bincount(y_test, minlength=k), 0.25 * total, atol=1)

    def test_split_is_a_partition_of_make(self, module):
        x, y = MAKERS[module](n_samples=90, seed=5)
        for test_split in (0.0, 0.1, 0.5):
            (x_train, y_train), (x_test, y_test) = module.load_data(n_samples=90, test_split=test_split, seed=5)
            both = np.column_stack([np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])])
            np.testing.assert_array_equal(sorted_rows(both), sorted_rows(np.column_stack([x, y])))

    def test_test_split_zero_gives_empty_test_set(self, module):
        (x_train, _), (x_test, y_test) = module.load_data(n_samples=40, test_split=0.0)
        assert x_train.shape == (40, 2) and x_test.shape == (0, 2) and y_test.shape == (0,)

    @pytest.mark.parametrize("kwargs, match", [
        ({"test_split": 1.0}, "test_split"),
        ({"test_split": -0.1}, "test_split"),
        ({"noise": -1.0}, "noise"),
        ({"n_samples": 1}, "n_samples"),
    ])
    def test_bad_arguments_are_named(self, module, kwargs, match):
        with pytest.raises(ValueError, match=match):
            module.load_data(**kwargs)

    def test_n_samples_must_be_an_int(self, module):
        with pytest.raises(TypeError, match="n_samples"):
            module.load_data(n_samples=100.0)


def test_xor_labels_by_construction():
    x, y = xor.make_xor(n_samples=500, noise=0.0, seed=0)
    assert np.all(np.abs(x) <= 1)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] < 0).astype(np.int64))
    # Each class really covers both of its quadrants.
    assert np.any((x[:, 0] > 0) & (y == 1)) and np.any((x[:, 0] < 0) & (y == 1))


def test_moons_lie_on_their_half_circles_without_noise():
    x, y = moons.make_moons(n_samples=400, noise=0.0, seed=0)
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, atol=1e-5)
    assert np.all(upper[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0, atol=1e-5)
    assert np.all(lower[:, 1] <= 0.5 + 1e-6)


def test_moons_noise_spreads_the_points():
    x, y = moons.make_moons(n_samples=400, noise=0.2, seed=0)
    radius = np.linalg.norm(x[y == 0], axis=1)
    assert 0.1 < radius.std() < 0.3


def test_spiral_arms_follow_their_formula_without_noise():
    n_classes, turns = 4, 1.5
    x, y = spirals.make_spirals(n_samples=800, noise=0.0, n_classes=n_classes, turns=turns, seed=0)
    r = np.linalg.norm(x, axis=1)
    assert np.all(r <= 1 + 1e-6)
    keep = r > 1e-3  # the angle of a point at the very centre is meaningless
    angle = np.arctan2(x[keep, 1], x[keep, 0]) / (2 * np.pi)
    offset = (angle - turns * r[keep] - y[keep] / n_classes) % 1.0
    np.testing.assert_allclose(np.minimum(offset, 1 - offset), 0.0, atol=1e-4)


def test_spirals_reject_bad_shape_arguments():
    with pytest.raises(ValueError, match="n_classes"):
        spirals.load_data(n_classes=1)
    with pytest.raises(ValueError, match="turns"):
        spirals.load_data(turns=0)


def test_blobs_points_belong_to_their_centres():
    centers = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [0.0, 5.0, 5.0], [-5.0, -5.0, 0.0]])
    (x_train, y_train), _ = blobs.load_data(n_samples=200, noise=0.5, centers=centers, seed=2)
    assert x_train.shape[1] == 3 and set(np.unique(y_train)) == {0, 1, 2, 3}
    nearest = np.argmin(np.linalg.norm(x_train[:, None, :] - centers[None], axis=2), axis=1)
    np.testing.assert_array_equal(nearest, y_train)
    for k in range(4):
        np.testing.assert_allclose(x_train[y_train == k].std(axis=0), 0.5, rtol=0.35)


def test_blobs_random_centres_stay_in_the_box():
    x, y = blobs.make_blobs(n_samples=500, noise=0.01, centers=5, n_features=4, center_box=(-2.0, 3.0), seed=1)
    assert x.shape == (500, 4) and set(np.unique(y)) == set(range(5))
    means = np.array([x[y == k].mean(axis=0) for k in range(5)])
    assert np.all(means > -2.05) and np.all(means < 3.05)


def test_blobs_reject_bad_centres():
    with pytest.raises(ValueError, match="centers"):
        blobs.load_data(centers=0)
    with pytest.raises(ValueError, match="centers"):
        blobs.load_data(centers=[1.0, 2.0])


# ---------------------------------------------------------------- the shipped digits


@pytest.fixture(scope="module")
def digit_split():
    return digits.load_data()


def test_digits_file_is_package_data():
    assert resources.files("minikeras.datasets").joinpath("digits.npz").is_file()


def test_digits_shapes_and_dtypes(digit_split):
    (x_train, y_train), (x_test, y_test) = digit_split
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    assert x_train.shape[1:] == x_test.shape[1:] == (8, 8)
    assert len(x_train) + len(x_test) == 1797
    assert len(x_test) == round(0.2 * 1797) and len(y_train) == len(x_train) and len(y_test) == len(x_test)


def test_digits_labels_and_pixels(digit_split):
    (x_train, y_train), (x_test, y_test) = digit_split
    for y in (y_train, y_test):
        assert set(np.unique(y)) == set(range(10))
    for x in (x_train, x_test):
        assert x.min() == 0 and x.max() == 16


def test_digits_train_and_test_are_a_partition(digit_split):
    (x_train, y_train), (x_test, y_test) = digit_split
    images, labels = digits.load_arrays()
    assert len(np.unique(images.reshape(1797, -1), axis=0)) == 1797  # no duplicate images
    train_rows = {row.tobytes() for row in x_train.reshape(len(x_train), -1)}
    test_rows = {row.tobytes() for row in x_test.reshape(len(x_test), -1)}
    assert not train_rows & test_rows
    both = np.column_stack([np.concatenate([x_train, x_test]).reshape(1797, -1), np.concatenate([y_train, y_test])])
    np.testing.assert_array_equal(sorted_rows(both), sorted_rows(np.column_stack([images.reshape(1797, -1), labels])))


def test_digits_split_is_deterministic_and_stratified(digit_split):
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    for new, old in zip((x_train, y_train, x_test, y_test), (*digit_split[0], *digit_split[1])):
        np.testing.assert_array_equal(new, old)
    (x_other, _), _ = digits.load_data(seed=1)
    assert not np.array_equal(x_other, x_train)
    total = np.bincount(np.concatenate([y_train, y_test]), minlength=10)
    np.testing.assert_allclose(np.bincount(y_test, minlength=10), 0.2 * total, atol=1)


def test_digits_test_split_argument():
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.5, seed=0)
    assert len(x_test) == round(0.5 * 1797) and len(x_train) + len(x_test) == 1797
    with pytest.raises(ValueError, match="test_split"):
        digits.load_data(test_split=1.5)


def test_digits_are_real_digits(digit_split):
    (x_train, y_train), (x_test, y_test) = digit_split
    zero = x_train[y_train == 0].astype(np.float64).mean(axis=0)
    centre = zero[3:5, 3:5].mean()
    ring = np.concatenate([zero[1:7, 2], zero[1:7, 5], zero[1, 2:6], zero[6, 2:6]]).mean()
    assert centre < 2 and ring > 8  # a 0 has a hole in the middle
    # A nearest-centroid classifier already reads most test digits right.
    centroids = np.stack([x_train[y_train == k].reshape(-1, 64).mean(axis=0) for k in range(10)])
    distances = np.linalg.norm(x_test.reshape(-1, 1, 64).astype(np.float64) - centroids[None], axis=2)
    assert np.mean(distances.argmin(axis=1) == y_test) > 0.85
