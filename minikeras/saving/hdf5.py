"""HDF5 with care: open a file or say clearly why not, walk it without following links,
read only plain numbers, and write through a temporary file so a failed save changes nothing.

Everything here is about the *container*; what a model file contains is in ``model_io.py``.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from typing import Any

import h5py
import numpy as np

from .files import atomic_path

#: Attributes above this many bytes do not fit in an HDF5 object header (Keras's limit):
#: a long list of names is split into ``name0``, ``name1``, ...
HDF5_OBJECT_HEADER_LIMIT = 64512

#: A dataset that claims more than this many bytes *and* more than ``MAX_EXPANSION`` times
#: what it stores on disk is a "shape bomb" (a huge shape filled with nothing): refused.
BOMB_FLOOR_BYTES = 1 << 28
MAX_EXPANSION = 1000

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"


class ModelFileError(ValueError):
    """A file that cannot be read as a saved model. The message starts with the file's path.

    It is a ``ValueError``, as Keras's loading errors are, so ``except ValueError`` still works.
    """


def filename(obj: h5py.HLObject) -> str:
    return str(obj.file.filename)


def fail(obj: h5py.HLObject, problem: str) -> ModelFileError:
    """The error to raise about ``obj``'s file: ``"<path>: <problem>"``."""
    return ModelFileError(f"{filename(obj)}: {problem}")


# --- opening --------------------------------------------------------------------------


def open_for_reading(filepath: str | os.PathLike[str]) -> h5py.File:
    """``h5py.File(filepath, "r")``, or an error that says what the file is instead.

    A student's usual surprise: a Keras 3 ``.keras`` file is a zip archive, not HDF5, even
    though both hold a model; only ``.h5`` files are read here.
    """
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise ModelFileError(
            f"{path}: is a directory, not an .h5 file (a TensorFlow SavedModel?). minikeras reads "
            "the HDF5 files written by model.save('model.h5')."
        )
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file.")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise ModelFileError(f"{path}: the file is empty (a save that never finished?).")
    if head.startswith(_ZIP_SIGNATURE):
        raise ModelFileError(
            f"{path}: is a zip archive, not an HDF5 file: a Keras 3 '.keras' file? minikeras reads "
            "the HDF5 format; in Keras 3, save with model.save('model.h5')."
        )
    if not h5py.is_hdf5(path):
        raise ModelFileError(
            f"{path}: is not an HDF5 file (it starts with {head!r}, HDF5 files start with "
            f"{_HDF5_SIGNATURE!r}). minikeras reads the .h5 files written by model.save(...)."
        )
    try:
        return h5py.File(path, "r")
    except OSError as e:
        if _locked(e):
            raise ModelFileError(
                f"{path}: the file is locked: another process holds it open for writing (HDF5 locks a "
                "file while it is written), so it cannot be read now. Wait until that program has "
                "finished saving, or close the file there (an h5py.File(..., 'a') or a Keras save still "
                "open). If no process uses it any more, a crash left the lock or the 'open for write' "
                f"flag behind: clear it with `h5clear -s {path}` (HDF5's tools) ({e})."
            ) from e
        raise ModelFileError(f"{path}: the HDF5 file is truncated or damaged and cannot be opened "
                             f"({e}).") from e


def _locked(error: OSError) -> bool:
    """Whether HDF5 refused to open a file because another process is writing it."""
    text = str(error).lower()
    return (isinstance(error, BlockingIOError) or "unable to lock file" in text
            or "already open for write" in text)


@contextlib.contextmanager
def reading(filepath: Any) -> Iterator[h5py.Group]:
    """An open file (closed afterwards), or an already open ``h5py.Group`` as it is."""
    if isinstance(filepath, h5py.Group):
        yield filepath
        return
    f = open_for_reading(filepath)
    try:
        yield f
    finally:
        f.close()


@contextlib.contextmanager
def atomic_writing(filepath: Any, overwrite: bool = True) -> Iterator[h5py.Group]:
    """A new HDF5 file that replaces ``filepath`` only once it is completely written.

    It is written under a temporary name and renamed when complete (``files.atomic_path``).
    An ``h5py.Group`` given instead of a path is written into directly, without that safety.
    """
    if isinstance(filepath, h5py.Group):
        yield filepath
        return
    with atomic_path(filepath, overwrite) as tmp, h5py.File(tmp, "x") as f:
        yield f


# --- walking without following links -----------------------------------------------


def _walk(parent: h5py.Group, path: str) -> Any:
    """``parent[path]``, one name at a time, refusing soft and external links.

    A soft link can point anywhere in the file and an external link into *another* file; a
    model file has no reason to contain either, so they are treated as an attack.
    """
    current: Any = parent
    for part in path.split("/"):
        if part in ("", "."):
            raise fail(parent, f"the path {path!r} in {parent.name} is not a plain relative name.")
        if not isinstance(current, h5py.Group):
            raise fail(parent, f"{current.name} is not a group, so it has no {part!r}.")
        try:
            link = current.get(part, getlink=True)
        except (OSError, RuntimeError) as e:
            raise fail(parent, f"cannot read {current.name}/{part}: the file is damaged ({e}).") from e
        if link is None:
            where = current.name.rstrip("/")
            raise fail(parent, f"{where}/{part} is missing (looking for {path!r} in {parent.name}).")
        if not isinstance(link, h5py.HardLink):
            kind = type(link).__name__
            raise fail(parent, f"{current.name.rstrip('/')}/{part} is a {kind}. Links are not allowed in "
                       "model files (they could point outside the file); refusing to follow it.")
        try:
            current = current[part]
        except (OSError, KeyError, RuntimeError) as e:
            raise fail(parent, f"cannot open {current.name}/{part}: the file is damaged ({e}).") from e
    return current


def get_group(parent: h5py.Group, path: str) -> h5py.Group:
    obj = _walk(parent, path)
    if not isinstance(obj, h5py.Group):
        raise fail(parent, f"{obj.name} should be a group but is a {type(obj).__name__}.")
    return obj


def get_dataset(parent: h5py.Group, path: str) -> h5py.Dataset:
    """A dataset that holds plain numbers of a believable size (checked, not yet read)."""
    obj = _walk(parent, path)
    if not isinstance(obj, h5py.Dataset):
        raise fail(parent, f"{obj.name} should be a dataset of numbers but is a {type(obj).__name__}.")
    if obj.dtype.kind not in "biuf":
        raise fail(parent, f"dataset {obj.name} holds {obj.dtype} values; weights are plain numbers.")
    if obj.shape is None:
        raise fail(parent, f"dataset {obj.name} has no shape (an empty dataspace).")
    declared = math.prod(obj.shape) * obj.dtype.itemsize
    stored = obj.id.get_storage_size()
    if declared > BOMB_FLOOR_BYTES and declared > MAX_EXPANSION * stored:
        raise fail(parent, f"dataset {obj.name} declares shape {obj.shape} ({declared:,} bytes) but "
                   f"stores only {stored:,} bytes: refusing to allocate it (a 'shape bomb').")
    return obj


def read_dataset(dataset: h5py.Dataset) -> np.ndarray:
    """The values of a dataset from ``get_dataset``, as an array."""
    try:
        return np.asarray(dataset[()])
    except (OSError, RuntimeError, ValueError) as e:
        raise fail(dataset, f"cannot read dataset {dataset.name}: the file is truncated or damaged "
                   f"({e}).") from e


# --- attributes: text and lists of names ---------------------------------------------


def _text(obj: h5py.HLObject, value: Any, what: str) -> str:
    """``str`` from an attribute value: Keras 2 wrote ``bytes``, Keras 3 writes ``str``."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bytes):  # np.bytes_ included
        try:
            return value.decode("utf8")
        except UnicodeDecodeError as e:
            raise fail(obj, f"{what} is not UTF-8 text ({e}).") from e
    if isinstance(value, str):
        return value
    raise fail(obj, f"{what} should be text but is {type(value).__name__}.")


def _attr(obj: h5py.HLObject, name: str) -> Any:
    try:
        return obj.attrs[name]
    except (OSError, RuntimeError) as e:
        raise fail(obj, f"cannot read attribute {name!r} of {obj.name}: the file is damaged ({e}).") from e


def read_text_attr(obj: h5py.HLObject, name: str) -> str | None:
    """A text attribute (bytes or str in the file), or ``None`` if absent."""
    if name not in obj.attrs:
        return None
    return _text(obj, _attr(obj, name), f"attribute {name!r} of {obj.name}")


def write_text_attr(obj: h5py.HLObject, name: str, text: str) -> None:
    """UTF-8 ``bytes`` of fixed length, which every Keras reads (Keras 2 only reads bytes).

    h5py stores a Python ``bytes`` as a variable-length string and reads it back as ``str``,
    which Keras 2 cannot decode; ``np.bytes_`` stays bytes. Text too long for an object header
    (a very large model's config) is stored variable-length, which has no such limit.
    """
    data = text.encode("utf8")
    obj.attrs[name] = np.bytes_(data) if len(data) <= HDF5_OBJECT_HEADER_LIMIT else data


def has_name_list(obj: h5py.HLObject, name: str) -> bool:
    return name in obj.attrs or f"{name}0" in obj.attrs


def read_name_list(obj: h5py.HLObject, name: str) -> list[str]:
    """A list of names stored whole (``name``) or in chunks (``name0``, ``name1``, ...)."""
    if name in obj.attrs:
        parts = [_attr(obj, name)]
    else:
        parts = []
        while f"{name}{len(parts)}" in obj.attrs:
            parts.append(_attr(obj, f"{name}{len(parts)}"))
    names = []
    for part in parts:
        for value in np.atleast_1d(np.asarray(part, dtype=object)):
            names.append(_text(obj, value, f"an entry of {name!r} in {obj.name}"))
    return names


def write_name_list(obj: h5py.HLObject, name: str, names: list[str]) -> None:
    """Store names as an array of UTF-8 ``bytes`` (what Keras 2 reads), chunked if too long."""
    encoded = [n.encode("utf8") for n in names]
    too_long = [n for n in names if len(n.encode("utf8")) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise ValueError(f"Cannot save {name}: these names are longer than "
                         f"{HDF5_OBJECT_HEADER_LIMIT} bytes: {[n[:40] + '...' for n in too_long]}")
    data = np.array(encoded, dtype=f"S{max([len(e) for e in encoded] + [1])}")
    chunks, pieces = 1, [data]
    while any(p.nbytes > HDF5_OBJECT_HEADER_LIMIT for p in pieces):
        chunks += 1
        pieces = np.array_split(data, chunks)
    if chunks == 1:
        obj.attrs[name] = data
    else:
        for i, piece in enumerate(pieces):
            obj.attrs[f"{name}{i}"] = piece
