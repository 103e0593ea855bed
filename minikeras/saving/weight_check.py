"""The check ``Layer.add_weight`` runs while a model is rebuilt from a config: no weight is
allocated that the file cannot fill, nor one larger than the machine's memory.

A config is a few bytes of JSON; the weights it declares can be any size. A 1 kB config that
declares a ``Dense`` of 4,000,000,000 units would make ``add_weight`` allocate 64 GB (and
fill it with random numbers) before the loader ever compares it with the file. So while
``saving`` rebuilds a model it sets the engine's ``WEIGHT_CHECK`` to one of these objects:
the weights declared must not hold more values, all together, than the file's weights (counted
from HDF5's metadata: no data is read), nor more bytes than the machine's memory, which is all
``model_from_json`` can check.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from numbers import Integral
from typing import Any

import h5py
import numpy as np

from ..engine import Layer
from ..engine.base_layer import WEIGHT_CHECK
from .config_check import ConfigError


def _bytes(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError


def memory_bytes() -> int:
    """The machine's physical memory (16 GB where the system cannot say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 16 << 30


#: Declared weights may exceed what the file holds by this many values before they are
#: refused, so that a small mismatch reaches the weight loader, whose message names both shapes.
SLACK_VALUES = 1 << 18


def dataset_values(group: h5py.Group) -> int:
    """How many numbers the datasets under ``group`` hold (from metadata: nothing is read).

    Values, not bytes: a file may store float16 what minikeras builds as float32.
    """
    total = 0

    def visit(_: str, obj: Any) -> None:
        nonlocal total
        if isinstance(obj, h5py.Dataset) and obj.shape is not None and obj.dtype.kind in "biuf":
            total += math.prod(obj.shape)

    group.visititems(visit)
    return total


class WeightCheck:
    """Called as ``check(layer, name, shape, dtype)`` before each weight is allocated.

    ``held``: how many values the file's layer weights hold, or ``None`` when there is no file.
    The weights a config declares must fit, all together, into the machine's memory and into
    what the file holds (a loaded model takes every weight from the file).
    """

    def __init__(self, held: int | None) -> None:
        self.held = held
        self.memory = memory_bytes()
        self.values = 0 if held is None else held + SLACK_VALUES

    def __call__(self, layer: Layer, name: str, shape: tuple[Any, ...], dtype: str) -> None:
        label = f"layer {layer.name!r} ({type(layer).__name__})"
        bad = [d for d in shape if not isinstance(d, Integral) or isinstance(d, bool) or d < 0]
        if bad:
            raise ConfigError(f"{label} declares its weight {name!r} with shape {shape}: a size must be an "
                              f"integer >= 0, {bad[0]!r} is not.{_suspects(layer, bad)}")
        dims = tuple(int(d) for d in shape)
        values = math.prod(dims)
        size = values * np.dtype(dtype).itemsize
        hint = _suspects(layer, [d for d in dims if d > 1])
        declared = f"{label} declares its weight {name!r} with shape {dims} ({_bytes(size)})"
        if self.held is not None and values > self.values:
            raise ConfigError(f"{declared}, more than the file holds: its layer weights are {self.held:,} "
                              f"values in all. The model config does not match the file's weights (it was "
                              f"edited or damaged); refusing to allocate it.{hint}")
        if size > self.memory:
            raise ConfigError(f"{declared}, more than this machine's memory can hold: refusing to allocate "
                              f"it.{hint}")
        self.memory -= size
        self.values -= values


def _suspects(layer: Layer, dims: list[Any]) -> str:
    """The config fields of ``layer`` whose value is one of ``dims``: where the size came from."""
    try:
        config = layer.get_config()
    except Exception:  # a layer half-built from a bad config: no hint rather than a second error
        return ""
    found = [f"{key}={value!r}" for key, value in config.items()
             if any(value == d or (isinstance(value, (list, tuple)) and d in value) for d in dims)
             and not isinstance(value, bool)]
    return f" (its config has {', '.join(found)})" if found else ""


@contextlib.contextmanager
def checking_weights(check: WeightCheck) -> Iterator[None]:
    """``Layer.add_weight`` consults ``check`` inside the block (this thread and context only)."""
    token = WEIGHT_CHECK.set(check)
    try:
        yield
    finally:
        WEIGHT_CHECK.reset(token)
