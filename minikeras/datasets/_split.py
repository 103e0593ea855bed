"""Shared helpers for the data set loaders: argument checks and the stratified split.

Every loader draws its points first and splits second, from the same generator, so the
same ``seed`` gives the same points whatever ``test_split`` is; only the split moves.
"""

from __future__ import annotations

import numpy as np

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def check_args(n_samples: int, noise: float, test_split: float, n_classes: int) -> None:
    """Raise a ``ValueError`` that names the bad argument and says what would work."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise TypeError(f"n_samples must be an int, got {type(n_samples).__name__} {n_samples!r}.")
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} is too small: this data set has {n_classes} classes, "
            f"so ask for at least {n_classes} samples (one per class)."
        )
    if not noise >= 0:  # also catches NaN
        raise ValueError(f"noise must be >= 0 (a standard deviation), got {noise!r}.")
    check_test_split(test_split)


def check_test_split(test_split: float) -> None:
    """``test_split`` is the fraction of samples kept for testing, in [0, 1)."""
    if not 0.0 <= test_split < 1.0:
        raise ValueError(
            f"test_split must be a fraction in [0, 1), got {test_split!r}; "
            "e.g. test_split=0.2 keeps 20% of the samples for testing."
        )


def balanced_labels(n_samples: int, n_classes: int) -> np.ndarray:
    """Labels 0..n_classes-1, as equal in count as possible (earlier classes get the remainder)."""
    counts = np.full(n_classes, n_samples // n_classes)
    counts[: n_samples % n_classes] += 1
    return np.repeat(np.arange(n_classes, dtype=np.int64), counts)


def stratified_split(x: np.ndarray, y: np.ndarray, test_split: float, rng: np.random.Generator) -> Split:
    """Split ``(x, y)`` so that each class keeps (almost exactly) the same share in both parts.

    The test set has ``round(test_split * len(y))`` samples. Each class gets its fair share
    of that, rounded down; the few samples left over go to the classes whose share was
    rounded down the most. Both parts are shuffled, so the labels do not come sorted.
    """
    check_test_split(test_split)
    classes, counts = np.unique(y, return_counts=True)
    n_test = round(test_split * len(y))
    share = n_test * counts / len(y)
    per_class = np.floor(share).astype(np.int64)
    leftover = n_test - per_class.sum()
    # Stable sort: ties go to the smaller class label, so the split is fully determined.
    per_class[np.argsort(-(share - per_class), kind="stable")[:leftover]] += 1

    test_idx = []
    for cls, k in zip(classes, per_class):
        members = np.flatnonzero(y == cls)
        test_idx.append(rng.permutation(members)[:k])
    is_test = np.zeros(len(y), dtype=bool)
    is_test[np.concatenate(test_idx)] = True

    train = rng.permutation(np.flatnonzero(~is_test))
    test = rng.permutation(np.flatnonzero(is_test))
    return (x[train], y[train]), (x[test], y[test])
