"""Spirals: ``n_classes`` interleaved spiral arms around the origin, one class per arm.

A point at "time" t in [0, 1] of arm k sits at radius ``t`` and angle
``2*pi*k/n_classes + 2*pi*turns*t``: all arms start at the centre and wind the same way,
evenly rotated. Because the arms meet at the centre, points near the origin are hard to
tell apart even without noise; more ``turns`` make the problem harder.
"""

from __future__ import annotations

import numpy as np

from ._split import Split, balanced_labels, check_args, stratified_split


def _generate(n_samples: int, noise: float, n_classes: int, turns: float,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.permutation(balanced_labels(n_samples, n_classes))
    t = rng.uniform(0.0, 1.0, size=n_samples)
    angle = 2 * np.pi * (y / n_classes + turns * t)
    x = t[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x += rng.normal(0.0, noise, size=x.shape)
    return x.astype(np.float32), y


def _check(n_classes: int, turns: float) -> None:
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2 (one spiral arm per class), got {n_classes}.")
    if not turns > 0:
        raise ValueError(f"turns must be > 0 (how many times each arm winds around), got {turns!r}.")


def make_spirals(n_samples: int = 600, noise: float = 0.02, n_classes: int = 3, turns: float = 1.0,
                 seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x`` float32 (n_samples, 2) and ``y`` int64 in 0..n_classes-1, shuffled, balanced."""
    _check(n_classes, turns)
    check_args(n_samples, noise, 0.0, n_classes)
    return _generate(n_samples, noise, n_classes, turns, np.random.default_rng(seed))


def load_data(n_samples: int = 600, noise: float = 0.02, test_split: float = 0.2, n_classes: int = 3,
              turns: float = 1.0, seed: int | None = 0) -> Split:
    """Return ``(x_train, y_train), (x_test, y_test)``, split stratified; same ``seed``, same arrays."""
    _check(n_classes, turns)
    check_args(n_samples, noise, test_split, n_classes)
    rng = np.random.default_rng(seed)
    x, y = _generate(n_samples, noise, n_classes, turns, rng)
    return stratified_split(x, y, test_split, rng)
