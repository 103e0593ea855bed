"""Fashion-MNIST: 70,000 28x28 grey-scale pictures of 10 kinds of clothing (Zalando, MIT licence).

Same layout as MNIST: uint8 images ``(60000, 28, 28)`` / ``(10000, 28, 28)`` and uint8
labels 0..9 (0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt,
7 sneaker, 8 bag, 9 ankle boot). Four gzip files in the original IDX format are cached in
``~/.keras/datasets/fashion-mnist/``. Keras 2.2 gives no hashes for them, so none are checked.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from ._keras_files import fetch

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
FILE_HASHES: dict[str, str | None] = dict.fromkeys(FILES)
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")

# IDX files: a big-endian header (magic, counts, sizes), then the raw uint8 values.
_LABEL_HEADER, _IMAGE_HEADER = 8, 16


def _read_idx(path: str, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)`` as uint8 arrays."""
    paths = [fetch(name, origin=BASE + name, file_hash=FILE_HASHES[name], cache_subdir=CACHE_SUBDIR)
             for name in FILES]
    y_train = _read_idx(paths[0], _LABEL_HEADER)
    x_train = _read_idx(paths[1], _IMAGE_HEADER).reshape(len(y_train), 28, 28)
    y_test = _read_idx(paths[2], _LABEL_HEADER)
    x_test = _read_idx(paths[3], _IMAGE_HEADER).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
