"""XOR: the classic problem that no single linear layer can solve.

Class 1 lives in the quadrants where exactly one coordinate is positive (II and IV),
class 0 where both signs agree (I and III); points are uniform inside their quadrant of
the square [-1, 1]^2. ``noise`` is Gaussian jitter added *after* labelling, so with
noise a few points cross an axis and their label looks "wrong": that is the noise.
"""

from __future__ import annotations

import numpy as np

from ._split import Split, balanced_labels, check_args, stratified_split

N_CLASSES = 2


def _generate(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.permutation(balanced_labels(n_samples, N_CLASSES))
    sign_x = rng.choice([-1.0, 1.0], size=n_samples)
    # XOR by construction: class 0 copies the sign of x to y, class 1 flips it.
    sign_y = np.where(y == 0, sign_x, -sign_x)
    x = rng.uniform(0.0, 1.0, size=(n_samples, 2)) * np.stack([sign_x, sign_y], axis=1)
    x += rng.normal(0.0, noise, size=x.shape)
    return x.astype(np.float32), y


def make_xor(n_samples: int = 400, noise: float = 0.0, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x`` float32 (n_samples, 2) and ``y`` int64 in {0, 1}, shuffled, classes balanced."""
    check_args(n_samples, noise, 0.0, N_CLASSES)
    return _generate(n_samples, noise, np.random.default_rng(seed))


def load_data(n_samples: int = 400, noise: float = 0.0, test_split: float = 0.2,
              seed: int | None = 0) -> Split:
    """Return ``(x_train, y_train), (x_test, y_test)``, split stratified; same ``seed``, same arrays."""
    check_args(n_samples, noise, test_split, N_CLASSES)
    rng = np.random.default_rng(seed)
    x, y = _generate(n_samples, noise, rng)
    return stratified_split(x, y, test_split, rng)
