"""CIFAR-10: 60,000 32x32 colour images in 10 classes, downloaded once from Keras's origin.

``load_data()`` returns uint8 images ``(50000, 32, 32, 3)`` / ``(10000, 32, 32, 3)``
(``(n, 3, 32, 32)`` when ``K.image_data_format()`` is ``'channels_first'``) and labels
shaped ``(n, 1)`` — not ``(n,)`` as MNIST's: ``to_categorical`` handles both. As in
Keras 2.2, ``y_train`` is uint8 and ``y_test`` int64. The archive is cached as
``~/.keras/datasets/cifar-10-batches-py.tar.gz`` and extracted next to it; Keras 2.2 gives
no hash for it, so none is checked, and its pickles are read as plain data only.
"""

from __future__ import annotations

import os

import numpy as np

from ..backend import image_data_format
from ._keras_files import fetch
from .cifar import load_batch

DIRNAME = "cifar-10-batches-py"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH: str | None = None
N_TRAIN_BATCHES = 5


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``."""
    path = fetch(DIRNAME, origin=ORIGIN, file_hash=FILE_HASH, untar=True)
    batches = [load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, N_TRAIN_BATCHES + 1)]
    x_train = np.concatenate([x for x, _ in batches]).astype("uint8")
    y_train = np.array([label for _, labels in batches for label in labels], dtype="uint8")
    x_test, test_labels = load_batch(os.path.join(path, "test_batch"))
    y_train = y_train.reshape(len(y_train), 1)
    y_test = np.reshape(test_labels, (len(test_labels), 1))
    if image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
