"""Keras 3's native ``.keras`` archive: a zip of ``metadata.json``, ``config.json`` and
``model.weights.h5`` (see ``keras3_config.py`` and ``keras3_weights.py`` for what is inside).

Reading is careful, as Keras 3's is: every member's name and claimed size is checked
*before* anything is read, nothing is ever extracted to disk (the members are read into
memory), a member named ``../x`` or ``/etc/x`` is refused, and so is a member claiming a
huge uncompressed size (a "zip bomb"). No code is read from the archive: its config only
names classes, which must be minikeras's (or yours, through ``custom_objects``).
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from importlib import metadata
from typing import Any

import h5py

from .config import to_json_text
from .files import atomic_path
from .hdf5 import BOMB_FLOOR_BYTES, MAX_EXPANSION, ModelFileError
from .json_text import parse_json
from .keras3_config import (
    keras3_compile_config,
    keras3_model_config,
    training_config_from_compile_config,
    uses_learning_rate_variable,
)
from .keras3_weights import (
    read_model_weights,
    read_optimizer,
    relabeled,
    write_model_weights,
    write_optimizer,
)
from .rebuild import MALFORMED, rebuild_model
from .training import compile_from_training_config
from .weight_check import WeightCheck, dataset_values

#: The Keras 3 release whose archive layout minikeras writes (and was checked against).
KERAS3_VERSION = "3.15.1"
CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
#: JSON members larger than this are refused before reading (a config is kilobytes).
MAX_JSON_BYTES = 64 << 20
MAX_MEMBERS = 10_000
_DATE = (1980, 1, 1, 0, 0, 0)  # a fixed date: the same model gives the same bytes


def _minikeras_version() -> str:
    try:
        return metadata.version("minikeras")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- the container --------------------------------------------------------------------------


def _unsafe_name(name: str) -> str | None:
    """Why a member name could escape the extraction directory, or ``None`` if it cannot."""
    if not name or "\x00" in name:
        return "it is empty or holds a NUL character"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "it is an absolute path"
    if "\\" in name:
        return "it holds a backslash"
    if any(part == ".." for part in name.split("/")):
        return "it climbs out of the archive with '..'"
    return None


def _last_local_member(path: str) -> str | None:
    """The name in the last local file header: in a truncated zip, the member that was cut off.

    A zip's table of contents (the central directory) is at its end, so truncation loses it;
    each member's local header, with its name, still precedes the member's data.
    """
    with open(path, "rb") as f:
        data = f.read()
    name = None
    start = data.find(b"PK\x03\x04")
    while start != -1 and start + 30 <= len(data):
        length = int.from_bytes(data[start + 26:start + 28], "little")
        try:
            text = data[start + 30:start + 30 + length].decode("utf8")
        except UnicodeDecodeError:
            text = ""
        if 0 < len(text) < 256 and text.isprintable():  # not a chance "PK" inside a member's data
            name = text
        start = data.find(b"PK\x03\x04", start + 30 + length)
    return name


def read_members(filepath: Any, wanted: tuple[str, ...] = (CONFIG, METADATA, WEIGHTS)) -> dict[str, bytes]:
    """The ``wanted`` members' bytes, after every member of the archive was checked."""
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        last = _last_local_member(path)
        where = f" The last member that begins in it, {last!r}, is cut off." if last else ""
        raise ModelFileError(f"{path}: is a zip archive that cannot be read as a .keras file: it is "
                             f"truncated or damaged ({e}).{where}") from e
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ModelFileError(f"{path}: the archive has {len(infos)} members; a .keras file has three.")
        seen: set[str] = set()
        for info in infos:
            problem = _unsafe_name(info.filename)
            if problem is None and info.filename in seen:
                problem = "it appears twice (which copy is meant?)"
            if problem is not None:
                raise ModelFileError(f"{path}: member {info.filename!r} is refused: {problem}.")
            seen.add(info.filename)
            limit = MAX_JSON_BYTES if info.filename.endswith(".json") else BOMB_FLOOR_BYTES
            if info.file_size > limit and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
                raise ModelFileError(
                    f"{path}: member {info.filename!r} claims {info.file_size:,} bytes uncompressed from "
                    f"{info.compress_size:,} compressed: refusing to expand it (a 'zip bomb').")
        out = {}
        for name in wanted:
            if name not in seen:
                continue
            try:
                out[name] = archive.read(name)  # at most the checked size: zipfile stops there
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise ModelFileError(f"{path}: member {name!r} cannot be read: the archive is truncated "
                                     f"or damaged ({e}).") from e
    for name in (CONFIG, WEIGHTS):
        if name in wanted and name not in out:
            hint = " (sharded weights, model.weights.json, are not supported)" \
                if "model.weights.json" in seen else ""
            raise ModelFileError(f"{path}: member {name!r} is missing: it is not a .keras model "
                                 f"archive{hint}.")
    return out


def _json_member(path: str, members: dict[str, bytes], name: str) -> Any:
    try:
        return parse_json(members[name], f"{path}: member {name!r}")
    except ValueError as e:
        raise ModelFileError(str(e)) from e


def write_members(filepath: Any, members: dict[str, bytes], overwrite: bool = True) -> None:
    """A zip of ``members`` (stored uncompressed, as Keras 3 does), written atomically."""
    with atomic_path(filepath, overwrite) as tmp, zipfile.ZipFile(tmp, "x") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_DATE), data)


# --- models ----------------------------------------------------------------------------------


def save_keras(model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """``model`` as a Keras 3 ``.keras`` archive (compiled state and optimizer slots included)."""
    entry = keras3_model_config(model)
    compile_config = keras3_compile_config(model) if include_optimizer else None
    if compile_config is not None:
        entry["compile_config"] = compile_config
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        write_model_weights(f, model, entry)
        if compile_config is not None:
            write_optimizer(f, model, uses_learning_rate_variable(compile_config))
    meta = {"keras_version": KERAS3_VERSION, "minikeras_version": _minikeras_version()}
    write_members(filepath, {METADATA: to_json_text(meta).encode(), CONFIG: to_json_text(entry).encode(),
                             WEIGHTS: buffer.getvalue()}, overwrite)


def _layer_weight_values(f: h5py.File) -> int:
    """How many values the layers' weights in ``model.weights.h5`` hold (not the optimizer's), unread."""
    return sum(dataset_values(f[key]) for key in f if key != "optimizer"
               and isinstance(f.get(key, getlink=True), h5py.HardLink) and isinstance(f[key], h5py.Group))


def load_keras(filepath: Any, custom_objects: dict[str, Any] | None = None, compile: bool = True,  # noqa: A002
               safe_mode: bool = True) -> Any:
    """The model in a ``.keras`` archive written by minikeras or Keras 3."""
    path = os.fspath(filepath)
    members = read_members(path)
    entry = _json_member(path, members, CONFIG)
    where = f"{path}: member {CONFIG!r}"
    compile_config = entry.get("compile_config") if compile and isinstance(entry, dict) else None
    with h5py.File(io.BytesIO(members[WEIGHTS]), "r") as f, relabeled(f, f"{path}: member {WEIGHTS!r}"):
        held = _layer_weight_values(f)
    try:
        model = rebuild_model(entry, custom_objects, safe_mode, WeightCheck(held))
    except ModelFileError:
        raise
    except ValueError as e:
        raise ModelFileError(f"{where}: {e}") from e
    with h5py.File(io.BytesIO(members[WEIGHTS]), "r") as f, relabeled(f, f"{path}: member {WEIGHTS!r}"):
        try:
            read_model_weights(f, model, entry)
        except MALFORMED as e:
            if isinstance(e, ModelFileError):
                raise
            raise ModelFileError(f"{f.filename}: {e}") from e
        if compile_config:
            try:  # the training function is built only when the optimizer state is restored
                compile_from_training_config(model, training_config_from_compile_config(compile_config),
                                             custom_objects)
                problem = read_optimizer(f, model, uses_learning_rate_variable(compile_config))
            except MALFORMED as e:
                if isinstance(e, ModelFileError):
                    raise
                raise ModelFileError(f"{where}: the model was saved compiled, but cannot be compiled again: "
                                     f"{e}. Pass compile=False to load it uncompiled.") from e
            if problem is not None:
                warnings.warn(f"{path}: the optimizer state was not restored ({problem}); training "
                              "continues from a fresh optimizer state.", stacklevel=3)
    return model


def load_keras_weights(model: Any, filepath: Any, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Only the weights of a ``.keras`` archive, into ``model`` (its own architecture)."""
    path = os.fspath(filepath)
    members = read_members(path, (WEIGHTS,))
    with h5py.File(io.BytesIO(members[WEIGHTS]), "r") as f, relabeled(f, f"{path}: member {WEIGHTS!r}"):
        read_model_weights(f, model, None, by_name, skip_mismatch)
