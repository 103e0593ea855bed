"""Max and average pooling in 1, 2 or 3 spatial axes, channels_last, TensorFlow's padding rules.

Pooling takes the max or the mean over a window's taps; each gradient adds ``gy`` back into
the same slices. The max-pool gradient takes the forward's output ``y`` (as TensorFlow's
``MaxPoolGrad`` does): a tap wins a window where it equals ``y``, and the first such tap
(row-major) takes the gradient.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Shape, Tensor
from .state import as_tensor
from .windows import (
    Geometry,
    crop_spatial,
    expect_shape,
    int_tuple,
    pad_spatial,
    padding_of,
    scratch_of,
    static_shape,
    tap_index,
    tap_offsets,
)

__all__ = ["pool1d", "pool2d", "pool3d", "pool_nd"]


class Pool(Op):
    """Base of the pooling ops: attrs ``pool_size``, ``strides``, ``padding``."""

    pool_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str

    def pooled_shape(self, x: Tensor) -> Shape:
        n = len(self.pool_size)
        if x.ndim != n + 2:
            raise ValueError(f"pool{n}d: x must have rank {n + 2} (batch, {n} spatial axes, "
                             f"channels); {x.name} has shape {x.shape}")
        return static_shape(x, self.pool_size, self.strides, self.padding, x.shape[-1], f"pool{n}d")

    def geometry(self, x: np.ndarray) -> Geometry:
        return Geometry.of(np.shape(x)[1:-1], self.pool_size, self.strides, self.padding, self.type)

    def taps(self, a: np.ndarray, g: Geometry) -> list[np.ndarray]:
        """The view of padded ``a`` that each tap meets, in row-major tap order."""
        return [a[index] for index in tap_index(tap_offsets(self.pool_size), g.out, self.strides)]

    def counts(self, spatial: tuple[int, ...], g: Geometry, dtype: Any) -> np.ndarray:
        """How many real (unpadded) pixels each window holds, shaped ``(*out, 1)``."""
        sizes = []
        for n, k, s, o, (before, _) in zip(spatial, self.pool_size, self.strides, g.out, g.pads):
            start = np.arange(o) * s - before
            sizes.append(np.minimum(start + k, n) - np.maximum(start, 0))
        count = sizes[0]
        for size in sizes[1:]:
            count = np.multiply.outer(count, size)
        return count[..., None].astype(dtype)


def _lowest(dtype: Any) -> Any:
    """The padding value that never wins a max: -inf, or the smallest integer."""
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def _pooled(x: np.ndarray, g: Geometry) -> np.ndarray:
    return np.empty((x.shape[0], *g.out, x.shape[-1]), dtype=x.dtype)


class MaxPool(Pool):
    """The maximum of each window; ``"same"`` padding pixels never win (they are -inf)."""

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return self.pooled_shape(x), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        first, *rest = self.taps(pad_spatial(x, g.pads, _lowest(x.dtype)), g)
        y = _pooled(x, g)
        np.copyto(y, first)
        for tap in rest:
            np.maximum(y, tap, out=y)
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [MaxPoolGrad.apply(self.inputs[0], self.y, gy, **self.attrs)]


def winners(op: Pool, x: np.ndarray, y: np.ndarray, g: Geometry) -> Iterator[tuple[int, np.ndarray]]:
    """Per tap, a mask of the windows whose first maximum it is (ties go to the earliest tap).

    One mask buffer serves every tap (use each before asking for the next): ``free`` marks
    the windows still without a winner, so a tap wins where it equals ``y`` and is free.
    """
    mask, free = np.empty(y.shape, dtype=bool), np.ones(y.shape, dtype=bool)
    for t, tap in enumerate(op.taps(pad_spatial(x, g.pads, _lowest(x.dtype)), g)):
        np.equal(tap, y, out=mask)
        np.logical_and(mask, free, out=mask)
        np.logical_xor(free, mask, out=free)
        yield t, mask


class MaxPoolGrad(Pool):
    """``gy`` routed back to the first maximum of each window of ``x``; zeros elsewhere.

    Inputs ``(x, y, gy)`` with ``y`` the forward's output. Linear in ``gy``; piecewise
    constant in ``x`` (no gradient flows to ``x`` or ``y``).
    """

    def infer(self, x: Tensor, y: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return x.shape, gy.dtype

    def forward(self, x: np.ndarray, y: np.ndarray, gy: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        expect_shape(gy, y.shape, f"{self.type} gy")
        # Windows that neither overlap nor leave gaps cover each pixel once: each tap's share
        # can be written, not added, into an uninitialised array.
        tiled = self.strides == self.pool_size and all(
            o * s == n for o, s, n in zip(g.out, self.strides, g.padded(x.shape[1:-1])))
        scratch = scratch_of(self)  # a buffer reused from step to step (see Scratch)
        make = scratch.empty if tiled else scratch.zeros
        gxp = make((x.shape[0], *g.padded(x.shape[1:-1]), x.shape[-1]), gy.dtype)
        if tiled and gxp.shape == x.shape and _route_tiled(x, y, gy, gxp):
            return gxp
        views = self.taps(gxp, g)
        for t, mask in winners(self, x, y, g):
            if tiled:
                np.multiply(gy, mask, out=views[t])
            else:
                np.add(views[t], gy, out=views[t], where=mask)
        return crop_spatial(gxp, g.pads, x.shape[1:-1])

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        x, y, _ = self.inputs
        return [None, None, MaxPoolGradGrad.apply(x, y, ggx, **self.attrs)]


def _route_tiled(x: np.ndarray, y: np.ndarray, gy: np.ndarray, out: np.ndarray) -> bool:
    """``MaxPoolGrad`` for windows that tile unpadded ``x`` exactly, all taps at once: a
    reshape gives each window's taps axes of their own, so one comparison with ``y`` finds
    every winner. Writes ``out`` and returns True unless some window has two winners (a
    tie, which the tap-by-tap walk settles: the first tap wins)."""
    split = (x.shape[0], *(d for o, n in zip(y.shape[1:-1], x.shape[1:-1]) for d in (o, n // o)), x.shape[-1])
    spread = (y.shape[0], *(d for o in y.shape[1:-1] for d in (o, 1)), y.shape[-1])
    won = np.equal(x.reshape(split), y.reshape(spread))
    # Every window has a winner, but one whose max is NaN: then none of its taps equals it.
    nans = np.count_nonzero(np.isnan(y)) if y.dtype.kind in "fc" else 0
    if np.count_nonzero(won) != y.size - nans:
        return False
    np.multiply(gy.reshape(spread), won, out=out.reshape(split))
    return True


class MaxPoolGradGrad(Pool):
    """``ggx`` picked at the first maximum of each window of ``x``: the adjoint of ``MaxPoolGrad``."""

    def infer(self, x: Tensor, y: Tensor, ggx: Tensor) -> tuple[Shape, str]:
        return y.shape, ggx.dtype

    def forward(self, x: np.ndarray, y: np.ndarray, ggx: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        expect_shape(ggx, x.shape, f"{self.type} ggx")
        out = np.zeros(y.shape, dtype=ggx.dtype)
        views = self.taps(pad_spatial(ggx, g.pads), g)
        for t, mask in winners(self, x, y, g):
            np.copyto(out, views[t], where=mask)
        return out

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x, y, _ = self.inputs
        return [None, None, MaxPoolGrad.apply(x, y, gy, **self.attrs)]


class AvgPool(Pool):
    """The mean of each window. With ``"same"`` padding the padded zeros are *not* counted:
    a corner window of a 3x3 pool averages 4 pixels, not 9 (as in TensorFlow)."""

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        if np.dtype(x.dtype).kind != "f":
            raise TypeError(f"avg pooling needs a float tensor; {x.name} is {x.dtype}. Cast it first.")
        return self.pooled_shape(x), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        y = np.zeros((x.shape[0], *g.out, x.shape[-1]), dtype=x.dtype)
        for tap in self.taps(pad_spatial(x, g.pads), g):
            y += tap
        y /= self.counts(x.shape[1:-1], g, x.dtype)
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [AvgPoolGrad.apply(self.inputs[0], gy, **self.attrs)]


class AvgPoolGrad(Pool):
    """Each window's ``gy / count`` spread over its pixels. ``x`` gives only its shape."""

    def infer(self, x: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return x.shape, gy.dtype

    def forward(self, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
        shape = np.shape(x)
        g = self.geometry(x)
        expect_shape(gy, (shape[0], *g.out, shape[-1]), f"{self.type} gy")
        share = gy / self.counts(shape[1:-1], g, gy.dtype)
        gxp = np.zeros((shape[0], *g.padded(shape[1:-1]), shape[-1]), dtype=gy.dtype)
        for view in self.taps(gxp, g):
            view += share
        return crop_spatial(gxp, g.pads, shape[1:-1])

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        return [None, AvgPool.apply(ggx, **self.attrs)]


def pool_nd(x: Any, pool_size: Any, strides: Any = None, padding: str = "valid", pool_mode: str = "max",
         what: str = "pool") -> Tensor:
    """Max or average pooling over every spatial axis of ``x`` (channels_last);
    ``strides`` defaults to ``pool_size``."""
    ops = {"max": MaxPool, "avg": AvgPool}
    if pool_mode not in ops:
        raise ValueError(f'{what}: pool_mode must be "max" or "avg", got {pool_mode!r}')
    x = as_tensor(x)
    n = len(pool_size) if isinstance(pool_size, (tuple, list)) else max(x.ndim - 2, 1)
    size = int_tuple(pool_size, n, f"{what}: pool_size")
    step = size if strides is None else int_tuple(strides, n, f"{what}: strides")
    return ops[pool_mode].apply(x, pool_size=size, strides=step, padding=padding_of(padding, what))


def pool1d(x: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
           pool_mode: str = "max") -> Tensor:
    """1-D pooling of ``x (batch, steps, channels)``."""
    return pool_nd(x, int_tuple(pool_size, 1, "pool1d: pool_size"), strides, padding, pool_mode, "pool1d")


def pool2d(x: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
           pool_mode: str = "max") -> Tensor:
    """2-D pooling of ``x (batch, h, w, channels)``."""
    return pool_nd(x, int_tuple(pool_size, 2, "pool2d: pool_size"), strides, padding, pool_mode, "pool2d")


def pool3d(x: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
           pool_mode: str = "max") -> Tensor:
    """3-D pooling of ``x (batch, d, h, w, channels)``."""
    return pool_nd(x, int_tuple(pool_size, 3, "pool3d: pool_size"), strides, padding, pool_mode, "pool3d")
