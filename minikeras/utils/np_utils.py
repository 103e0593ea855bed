"""Label and array helpers on plain NumPy: ``to_categorical`` and ``normalize``."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Class indices as one-hot rows: ``[0, 2]`` -> ``[[1, 0, 0], [0, 0, 1]]``.

    The output keeps ``y``'s shape and adds a last axis of ``num_classes``; a trailing axis
    of size 1 is dropped first, so labels shaped ``(n, 1)`` give ``(n, num_classes)``, not
    ``(n, 1, num_classes)``. Without ``num_classes`` it is ``max(y) + 1``: a label that is
    missing from this batch shrinks the width, so pass it explicitly for train/test splits.
    """
    y = np.array(y, dtype="int")
    input_shape = y.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = input_shape[:-1]
    y = y.ravel()
    if num_classes is None:
        num_classes = int(np.max(y)) + 1
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)][0]
        raise ValueError(f"to_categorical: label {bad} is outside 0..{num_classes - 1} "
                         f"(num_classes={num_classes}). Pass a larger num_classes or fix the labels.")
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return np.reshape(categorical, input_shape + (num_classes,))


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """``x`` divided by its ``order``-norm along ``axis``; an all-zero row stays zero (not NaN)."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
