"""Reading Keras's data set files safely: downloads through ``get_file``, pickles without code.

Some of Keras's files hold pickles: CIFAR's batches are pickled dicts, and ``imdb.npz`` /
``reuters.npz`` hold object arrays (lists of word indices), which NumPy stores as pickles.
A pickle can name any function to call while it loads, so minikeras never hands one to
``pickle.load`` or ``np.load(allow_pickle=True)``: ``PlainUnpickler`` only lets through the
few NumPy names an array needs and refuses everything else.
"""

from __future__ import annotations

import codecs
import importlib
import io
import os
import pickle
import zipfile
from typing import Any

import numpy as np

from ..utils.data_utils import DownloadError, get_file

OFFLINE_HINT = ("For a real data set that needs no download, use minikeras.datasets.digits "
                "(1,797 8x8 handwritten digits shipped inside minikeras).")


def fetch(fname: str, origin: str, file_hash: str | None = None, **kwargs: Any) -> str:
    """``get_file`` whose no-network error also points at the offline ``digits`` data set."""
    try:
        return get_file(fname, origin=origin, file_hash=file_hash, **kwargs)
    except DownloadError as e:
        raise DownloadError(f"{e} {OFFLINE_HINT}") from e


def _numpy_function(name: str) -> Any:
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"numpy has no multiarray.{name}")


# _codecs.encode: how Python 3 writes bytes into a protocol-2 pickle (text -> bytes, no code).
_ALLOWED: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                                        ("_codecs", "encode"): codecs.encode}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "_reconstruct")] = _numpy_function("_reconstruct")
    _ALLOWED[(_module, "scalar")] = _numpy_function("scalar")


class PlainUnpickler(pickle.Unpickler):
    """Unpickles plain data only: dicts, lists, strings, numbers and NumPy arrays.

    Any other class or function named in the pickle is refused with ``UnpicklingError``,
    so loading a file can never run its code.
    """

    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(f"Refusing to load {module}.{name} from a data file: only plain "
                                         "data and NumPy arrays are read (a pickle may run code).")
        return allowed


def load_pickle(fpath: str | os.PathLike[str]) -> Any:
    """A (Python 2 or 3) pickle of plain data; ``bytes`` keys stay bytes, as Python 2 wrote them."""
    with open(fpath, "rb") as f:
        return PlainUnpickler(f, encoding="bytes").load()


def _read_npy(data: bytes) -> np.ndarray:
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        _, _, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        _, _, dtype = np.lib.format.read_array_header_2_0(f)
    if dtype.hasobject:
        # NumPy pickles an object array whole: read it with the plain-data unpickler.
        return PlainUnpickler(f, encoding="latin1").load()
    f.seek(0)
    return np.lib.format.read_array(f, allow_pickle=False)


def load_npz(fpath: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, object arrays included, read without running code."""
    with zipfile.ZipFile(fpath) as archive:
        return {name.removesuffix(".npy"): _read_npy(archive.read(name))
                for name in archive.namelist() if name.endswith(".npy")}


def remove_long_sequences(maxlen: int, xs: list[Any], labels: Any) -> tuple[list[Any], list[Any]]:
    """Only the sequences shorter than ``maxlen`` (strictly), with their labels."""
    kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def object_array(sequences: list[list[int]]) -> np.ndarray:
    """A 1-D object array of lists (what ``np.array(list_of_lists)`` gave in Keras 2's time)."""
    out = np.empty(len(sequences), dtype=object)
    out[:] = sequences
    return out
