"""Running sums and products along an axis (``cumsum``, ``cumprod``).

The gradient of a running sum is a running sum *from the other end*: each ``x[i]`` feeds
every ``y[j]`` with ``j >= i``. That is why ``Cumsum`` has a ``reverse`` parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op, normalize_axes
from ..tensor import Tensor
from .state import as_tensor

__all__ = ["cumprod", "cumsum"]


class Cumsum(Op):
    """``y[i] = x[0] + ... + x[i]`` along ``axis`` (``reverse``: ``x[i] + ... + x[n-1]``)."""

    axis: int
    reverse: bool = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.reverse:
            return np.flip(np.cumsum(np.flip(x, self.axis), self.axis), self.axis)
        return np.cumsum(x, self.axis)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [Cumsum.apply(gy, axis=self.axis, reverse=not self.reverse)]


def cumsum(x: Any, axis: int = 0, reverse: bool = False) -> Tensor:
    x = as_tensor(x)
    return Cumsum.apply(x, axis=normalize_axes(axis, x.ndim, "cumsum")[0], reverse=reverse)


class Cumprod(Op):
    """``y[i] = x[0] * ... * x[i]`` along ``axis``.

    The gradient divides by ``x`` (as TensorFlow's does), so it is not defined where an
    element of ``x`` is exactly 0.
    """

    axis: int

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cumprod(x, self.axis)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [cumsum(gy * self.y, self.axis, reverse=True) / self.inputs[0]]


def cumprod(x: Any, axis: int = 0) -> Tensor:
    x = as_tensor(x)
    return Cumprod.apply(x, axis=normalize_axes(axis, x.ndim, "cumprod")[0])
