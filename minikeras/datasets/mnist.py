"""MNIST: 70,000 28x28 grey-scale handwritten digits, downloaded once from Keras's origin.

``load_data()`` returns ``(x_train, y_train), (x_test, y_test)``: uint8 images
``(60000, 28, 28)`` / ``(10000, 28, 28)`` in 0..255 and uint8 labels 0..9. The file is
cached as ``~/.keras/datasets/mnist.npz`` (or under ``$KERAS_HOME``). Offline, put the file
there by hand, or use ``minikeras.datasets.digits``.
"""

from __future__ import annotations

import numpy as np

from ._keras_files import fetch, load_npz

ORIGIN = "https://s3.amazonaws.com/img-datasets/mnist.npz"
FILE_HASH = "8a61469f7ea1b51cbae51d4f78837e45"  # md5, as in Keras 2.2


def load_data(path: str = "mnist.npz") -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``; ``path`` is the file name in the cache."""
    arrays = load_npz(fetch(path, origin=ORIGIN, file_hash=FILE_HASH))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
