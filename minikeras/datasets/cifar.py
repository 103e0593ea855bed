"""Reading one CIFAR batch file (a pickled dict), without letting the pickle run code."""

from __future__ import annotations

import os

import numpy as np

from ._keras_files import load_pickle


def load_batch(fpath: str | os.PathLike[str], label_key: str = "labels") -> tuple[np.ndarray, list[int]]:
    """``(data, labels)`` of one batch: uint8 ``(n, 3, 32, 32)`` (channels first) and a list of ints."""
    raw = load_pickle(fpath)
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in raw.items()}
    data = np.asarray(d["data"])
    return data.reshape(data.shape[0], 3, 32, 32), list(d[label_key])
