"""2-D max and average pooling, channels_last (NHWC), with TensorFlow's padding rules.

Pooling takes the max or the mean over a window's taps; each gradient adds ``gy`` back into
the same slices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Shape, Tensor
from .state import as_tensor
from .windows import (
    Geometry,
    crop_hw,
    expect_shape,
    int_pair,
    pad_hw,
    padding_of,
    static_shape,
    tap_offsets,
    tap_view,
)

__all__ = ["pool2d"]


class Pool(Op):
    """Base of the pooling ops: attrs ``pool_size``, ``strides``, ``padding``."""

    pool_size: tuple[int, int]
    strides: tuple[int, int]
    padding: str

    def pooled_shape(self, x: Tensor) -> Shape:
        if x.ndim != 4:
            raise ValueError(
                f"pool2d: x must have rank 4 (batch, h, w, channels); {x.name} has shape {x.shape}"
            )
        return static_shape(x, self.pool_size, self.strides, self.padding, x.shape[3], "pool2d")

    def geometry(self, x: np.ndarray) -> Geometry:
        return Geometry.of(np.shape(x)[1:3], self.pool_size, self.strides, self.padding, self.type)

    def counts(self, hw: tuple[int, ...], g: Geometry, dtype: Any) -> np.ndarray:
        """How many real (unpadded) pixels each window holds, shaped ``(oh, ow, 1)``."""
        sizes = []
        for n, k, s, o, (before, _) in zip(hw, self.pool_size, self.strides, g.out, g.pads):
            start = np.arange(o) * s - before
            sizes.append(np.minimum(start + k, n) - np.maximum(start, 0))
        return np.multiply.outer(*sizes)[..., None].astype(dtype)

    def argmax(self, x: np.ndarray, g: Geometry) -> np.ndarray:
        """Index (in ``tap_offsets`` order) of the first maximum of each window."""
        xp = pad_hw(x, g.pads, _lowest(x.dtype))
        taps = tap_offsets(*self.pool_size)
        best = tap_view(xp, *taps[0], g.out, self.strides).copy()
        index = np.zeros(best.shape, dtype=np.intp)
        for t, (i, j) in enumerate(taps[1:], start=1):
            tap = tap_view(xp, i, j, g.out, self.strides)
            later = tap > best  # strictly greater: on a tie the first maximum wins, as in TF
            np.copyto(best, tap, where=later)
            np.copyto(index, t, where=later)
        return index


def _lowest(dtype: Any) -> Any:
    """The padding value that never wins a max: -inf, or the smallest integer."""
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


class MaxPool(Pool):
    """The maximum of each window; ``"same"`` padding pixels never win (they are -inf)."""

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return self.pooled_shape(x), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        xp = pad_hw(x, g.pads, _lowest(x.dtype))
        y = np.full((x.shape[0], *g.out, x.shape[3]), _lowest(x.dtype), dtype=x.dtype)
        for i, j in tap_offsets(*self.pool_size):
            np.maximum(y, tap_view(xp, i, j, g.out, self.strides), out=y)
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [MaxPoolGrad.apply(self.inputs[0], gy, **self.attrs)]


class MaxPoolGrad(Pool):
    """``gy`` routed back to the first maximum of each window of ``x``; zeros elsewhere.

    Linear in ``gy``; piecewise constant in ``x`` (no gradient flows to ``x``).
    """

    def infer(self, x: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return x.shape, gy.dtype

    def forward(self, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        expect_shape(gy, (x.shape[0], *g.out, x.shape[3]), f"{self.type} gy")
        index = self.argmax(x, g)
        gxp = np.zeros((x.shape[0], *g.padded(x.shape[1:3]), x.shape[3]), dtype=gy.dtype)
        for t, (i, j) in enumerate(tap_offsets(*self.pool_size)):
            tap = tap_view(gxp, i, j, g.out, self.strides)
            tap += np.where(index == t, gy, 0)
        return crop_hw(gxp, g.pads, x.shape[1:3])

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        return [None, MaxPoolGradGrad.apply(self.inputs[0], ggx, **self.attrs)]


class MaxPoolGradGrad(Pool):
    """``ggx`` picked at the first maximum of each window of ``x``: the adjoint of ``MaxPoolGrad``."""

    def infer(self, x: Tensor, ggx: Tensor) -> tuple[Shape, str]:
        return self.pooled_shape(x), ggx.dtype

    def forward(self, x: np.ndarray, ggx: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        expect_shape(ggx, x.shape, f"{self.type} ggx")
        index = self.argmax(x, g)
        up = pad_hw(ggx, g.pads)
        y = np.zeros((x.shape[0], *g.out, x.shape[3]), dtype=ggx.dtype)
        for t, (i, j) in enumerate(tap_offsets(*self.pool_size)):
            y += np.where(index == t, tap_view(up, i, j, g.out, self.strides), 0)
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [None, MaxPoolGrad.apply(self.inputs[0], gy, **self.attrs)]


class AvgPool(Pool):
    """The mean of each window. With ``"same"`` padding the padded zeros are *not* counted:
    a corner window of a 3x3 pool averages 4 pixels, not 9 (as in TensorFlow)."""

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        if np.dtype(x.dtype).kind != "f":
            raise TypeError(f"avg pooling needs a float tensor; {x.name} is {x.dtype}. Cast it first.")
        return self.pooled_shape(x), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        xp = pad_hw(x, g.pads)
        y = np.zeros((x.shape[0], *g.out, x.shape[3]), dtype=x.dtype)
        for i, j in tap_offsets(*self.pool_size):
            y += tap_view(xp, i, j, g.out, self.strides)
        y /= self.counts(x.shape[1:3], g, x.dtype)
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [AvgPoolGrad.apply(self.inputs[0], gy, **self.attrs)]


class AvgPoolGrad(Pool):
    """Each window's ``gy / count`` spread over its pixels. ``x`` gives only its shape."""

    def infer(self, x: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return x.shape, gy.dtype

    def forward(self, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
        n, h, w, c = np.shape(x)
        g = self.geometry(x)
        expect_shape(gy, (n, *g.out, c), f"{self.type} gy")
        share = gy / self.counts((h, w), g, gy.dtype)
        gxp = np.zeros((n, *g.padded((h, w)), c), dtype=gy.dtype)
        for i, j in tap_offsets(*self.pool_size):
            tap = tap_view(gxp, i, j, g.out, self.strides)
            tap += share
        return crop_hw(gxp, g.pads, (h, w))

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        return [None, AvgPool.apply(ggx, **self.attrs)]


def pool2d(x: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
           pool_mode: str = "max") -> Tensor:
    """2-D max or average pooling, channels_last; ``strides`` defaults to ``pool_size``."""
    ops = {"max": MaxPool, "avg": AvgPool}
    if pool_mode not in ops:
        raise ValueError(f'pool2d: pool_mode must be "max" or "avg", got {pool_mode!r}')
    pool_size = int_pair(pool_size, "pool2d: pool_size")
    strides = pool_size if strides is None else int_pair(strides, "pool2d: strides")
    return ops[pool_mode].apply(as_tensor(x), pool_size=pool_size, strides=strides,
                                padding=padding_of(padding, "pool2d"))
