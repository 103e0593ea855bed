"""Moons: two interleaving half circles, a small non-linear problem for a 2-D classifier.

Class 0 is the upper half of the unit circle centred at (0, 0); class 1 is the lower half
of the unit circle centred at (1, 0.5), mirrored, so each moon reaches into the other's
hollow. Angles are drawn at random (not evenly spaced), then Gaussian ``noise`` is added.
"""

from __future__ import annotations

import numpy as np

from ._split import Split, balanced_labels, check_args, stratified_split

N_CLASSES = 2
CENTERS = np.array([[0.0, 0.0], [1.0, 0.5]])
"""Centre of each moon's circle; both radii are 1."""


def _generate(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.permutation(balanced_labels(n_samples, N_CLASSES))
    t = rng.uniform(0.0, np.pi, size=n_samples)
    # Class 0 runs over the top of its circle, class 1 under the bottom of its own.
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([-np.cos(t), -np.sin(t)], axis=1)
    x = CENTERS[y] + np.where(y[:, None] == 0, upper, lower)
    x += rng.normal(0.0, noise, size=x.shape)
    return x.astype(np.float32), y


def make_moons(n_samples: int = 400, noise: float = 0.1,
               seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x`` float32 (n_samples, 2) and ``y`` int64 in {0, 1}, shuffled, classes balanced."""
    check_args(n_samples, noise, 0.0, N_CLASSES)
    return _generate(n_samples, noise, np.random.default_rng(seed))


def load_data(n_samples: int = 400, noise: float = 0.1, test_split: float = 0.2,
              seed: int | None = 0) -> Split:
    """Return ``(x_train, y_train), (x_test, y_test)``, split stratified; same ``seed``, same arrays."""
    check_args(n_samples, noise, test_split, N_CLASSES)
    rng = np.random.default_rng(seed)
    x, y = _generate(n_samples, noise, rng)
    return stratified_split(x, y, test_split, rng)
