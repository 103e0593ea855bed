"""Blobs: isotropic Gaussian clusters, one class per cluster.

``noise`` is the standard deviation of every cluster. The centres are drawn uniformly from
the box ``center_box`` (in every dimension) with the same ``seed``, unless you pass them;
random centres may land close together, so a large ``noise`` can make classes overlap.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._split import Split, balanced_labels, check_args, check_test_split, stratified_split


def _centers(centers: int | ArrayLike, n_features: int, center_box: tuple[float, float],
             rng: np.random.Generator) -> np.ndarray:
    if isinstance(centers, int | np.integer):
        if centers < 1:
            raise ValueError(f"centers must be >= 1 (the number of clusters), got {centers}.")
        return rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
    array = np.asarray(centers, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(
            f"centers must be an int or an array of shape (n_clusters, n_features); got shape {array.shape}."
        )
    return array


def _generate(n_samples: int, noise: float, centers: int | ArrayLike, n_features: int,
              center_box: tuple[float, float], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    means = _centers(centers, n_features, center_box, rng)
    check_args(n_samples, noise, 0.0, len(means))
    y = rng.permutation(balanced_labels(n_samples, len(means)))
    x = means[y] + rng.normal(0.0, noise, size=(n_samples, means.shape[1]))
    return x.astype(np.float32), y


def make_blobs(n_samples: int = 300, noise: float = 1.0, centers: int | ArrayLike = 3, n_features: int = 2,
               center_box: tuple[float, float] = (-10.0, 10.0),
               seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x`` float32 (n_samples, n_features) and ``y`` int64 cluster indices, shuffled, balanced.

    With an array of ``centers``, ``n_features`` is taken from its second dimension.
    """
    return _generate(n_samples, noise, centers, n_features, center_box, np.random.default_rng(seed))


def load_data(n_samples: int = 300, noise: float = 1.0, test_split: float = 0.2,
              centers: int | ArrayLike = 3, n_features: int = 2,
              center_box: tuple[float, float] = (-10.0, 10.0), seed: int | None = 0) -> Split:
    """Return ``(x_train, y_train), (x_test, y_test)``, split stratified; same ``seed``, same arrays."""
    check_test_split(test_split)
    rng = np.random.default_rng(seed)
    x, y = _generate(n_samples, noise, centers, n_features, center_box, rng)
    return stratified_split(x, y, test_split, rng)
