"""Window geometry for convolution and pooling in any number of spatial axes, channels_last
(``(batch, *spatial, channels)``), with TensorFlow's padding rules.

Tap ``t`` of a window (an offset along each spatial axis, spread by the dilation) meets one
input pixel per output pixel; together they form a strided slice of the padded input
(``tap_index``). Convolutions copy the taps side by side into rows (``Im2Col``); poolings
combine them one tap at a time.
"""

from __future__ import annotations

import functools
import itertools
import sys
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Shape, Tensor

Pads = tuple[tuple[int, int], ...]
PADDINGS = ("valid", "same")


def int_tuple(value: Any, n: int, what: str) -> tuple[int, ...]:
    """``2`` -> ``(2, 2)`` for ``n == 2``; a sequence must hold ``n`` positive ints."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in values):
        raise ValueError(f"{what} must be a positive int or a tuple of {n} positive ints, got {value!r}")
    return tuple(int(v) for v in values)


def int_pair(value: Any, what: str) -> tuple[int, int]:
    a, b = int_tuple(value, 2, what)
    return a, b


def padding_of(value: Any, what: str, allowed: tuple[str, ...] = PADDINGS) -> str:
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        names = " or ".join(f'"{p}"' for p in allowed) if len(allowed) == 2 else \
            ", ".join(f'"{p}"' for p in allowed)
        raise ValueError(f"{what}: padding must be {names}, got {value!r}")
    return padding


def dilated(k: int, d: int) -> int:
    """The span of a ``k``-tap window whose taps are ``d`` apart."""
    return (k - 1) * d + 1


def out_size(n: int | None, k: int | None, s: int, padding: str) -> int | None:
    """Output length along one axis (``k`` the dilated span); ``None`` when not known yet."""
    if n is None:
        return None
    if padding in ("same", "causal"):
        return -(-n // s)  # ceil(n / s), whatever the window size
    return None if k is None else (n - k) // s + 1


def pads_of(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """TensorFlow's (before, after) padding along one axis; causal pads only before."""
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return k - 1, 0
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2  # an odd total puts the extra pixel after


def static_shape(x: Tensor, span: tuple[int | None, ...], strides: tuple[int, ...],
                 padding: str, channels: int | None, what: str) -> Shape:
    """The output shape, or a build-time error when the window does not fit."""
    spatial = x.shape[1:-1]
    out = tuple(out_size(n, k, s, padding) for n, k, s in zip(spatial, span, strides))
    for o in out:
        if o is not None and o <= 0:
            size = "x".join(str(k) for k in span)
            raise ValueError(
                f"{what}: the {size} window does not fit in {x.name} of shape "
                f'{x.shape} with padding="valid". Use padding="same" or a smaller window.'
            )
    return (x.shape[0], *out, channels)


class Geometry(NamedTuple):
    """Run-time window layout: the output's spatial size and the input's padding."""

    out: tuple[int, ...]
    pads: Pads

    @classmethod
    def of(cls, spatial: tuple[int, ...], span: tuple[int, ...], strides: tuple[int, ...],
           padding: str, what: str) -> Geometry:
        if padding == "valid" and any(k > n for k, n in zip(span, spatial)):
            raise ValueError(f"{what}: a {'x'.join(map(str, span))} window does not fit in a "
                             f"{'x'.join(map(str, spatial))} input with padding=\"valid\"")
        out = tuple(out_size(n, k, s, padding) or 0 for n, k, s in zip(spatial, span, strides))
        pads = tuple(pads_of(n, k, s, padding) for n, k, s in zip(spatial, span, strides))
        return cls(out, pads)

    def padded(self, spatial: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(n + a + b for n, (a, b) in zip(spatial, self.pads))


def pad_spatial(x: np.ndarray, pads: Pads, value: float = 0, scratch: Scratch | None = None) -> np.ndarray:
    """``x`` padded with ``value`` around its spatial axes (in ``scratch``'s buffer, if given)."""
    if not any(a or b for a, b in pads):
        return x
    # A filled array and one copy: several times faster than np.pad on small images.
    shape = (x.shape[0], *(n + a + b for n, (a, b) in zip(x.shape[1:-1], pads)), x.shape[-1])
    out = np.empty(shape, x.dtype) if scratch is None else scratch.empty(shape, x.dtype)
    out.fill(value)
    crop_spatial(out, pads, x.shape[1:-1])[...] = x
    return out


def crop_spatial(a: np.ndarray, pads: Pads, spatial: tuple[int, ...]) -> np.ndarray:
    index = tuple(slice(before, before + n) for (before, _), n in zip(pads, spatial))
    return a[(slice(None), *index)]


@functools.lru_cache(maxsize=512)
def tap_index(offsets: tuple[tuple[int, ...], ...], out: tuple[int, ...],
              strides: tuple[int, ...]) -> tuple[tuple[slice, ...], ...]:
    """For each tap offset, the index of the pixels of a padded array that the tap meets, one
    per output pixel (a strided slice: a view), computed once per geometry.

    Within one tap, distinct output pixels meet distinct input pixels, so ``+=`` into such a
    view never loses a contribution (no ``np.add.at`` needed).
    """
    return tuple((slice(None), *(slice(i, i + s * (o - 1) + 1, s) for i, o, s in zip(offset, out, strides)))
                 for offset in offsets)


@functools.lru_cache(maxsize=512)
def tap_offsets(ksize: tuple[int, ...],
                dilation: tuple[int, ...] | None = None) -> tuple[tuple[int, ...], ...]:
    """Tap offsets in row-major order: this order decides which of tied maxima wins."""
    dilation = dilation or (1,) * len(ksize)
    return tuple(tuple(i * d for i, d in zip(taps, dilation))
                 for taps in itertools.product(*(range(k) for k in ksize)))


def expect_shape(a: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if a.shape != shape:
        raise ValueError(f"{what}: expected an array of shape {shape}, got {a.shape}")


class Scratch:
    """A big buffer an op hands out again, step after step, once nobody else holds it.

    Fresh multi-MB arrays cost page faults every step (the kernel zeroes each new page);
    a reused one costs nothing. The buffer is reused only when CPython's reference count
    says this holder is its only owner (a view of it, a fetched result, a recorded value
    all count), so no value anyone can still read is ever overwritten. Buffers past
    ``KEEP_BYTES`` are not kept: one huge ``predict`` must not hold its memory afterwards.
    """

    KEEP_BYTES = 1 << 26  # 64 MiB

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def empty(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        a = self.array
        # References: self.array, the local ``a``, and getrefcount's own argument.
        if a is None or a.shape != shape or a.dtype != dtype or sys.getrefcount(a) > 3:
            a = np.empty(shape, dtype)
            self.array = a if a.nbytes <= self.KEEP_BYTES else None
        return a

    def zeros(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        a = self.empty(shape, dtype)
        a.fill(0)
        return a


def scratch_of(op: Any, which: str = "_scratch") -> Scratch:
    """The ``Scratch`` buffer of an op instance (one per ``which``), made on first use."""
    found = op.__dict__.get(which)
    if found is None:
        found = op.__dict__[which] = Scratch()
    return found

