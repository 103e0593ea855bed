"""Boston housing prices: 506 districts, 13 features, the median house value in k$ as target.

``load_data()`` returns float64 ``x`` ``(n, 13)`` and ``y`` ``(n,)``, shuffled with ``seed``
and split with the last ``test_split`` as the test set (404 / 102 by default). The data set
has a known ethical problem (a feature built from the share of Black residents); it is here
because Keras 2 programs load it.
"""

from __future__ import annotations

import numpy as np

from ._keras_files import fetch, load_npz

ORIGIN = "https://s3.amazonaws.com/keras-datasets/boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"  # sha256


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2,
              seed: int = 113) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``; ``path`` is the file name in the cache."""
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), not {test_split}")
    arrays = load_npz(fetch(path, origin=ORIGIN, file_hash=FILE_HASH))
    x, y = arrays["x"], arrays["y"]
    order = np.random.RandomState(seed).permutation(len(x))
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
