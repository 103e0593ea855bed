"""Undoing broadcasting in gradients: ``SumTo`` and its mirror ``BroadcastTo``.

If ``y = a + b`` broadcast ``b`` of shape ``(4,)`` to ``(3, 4)``, each element of ``b``
was used 3 times, so its gradient is ``gy`` *summed* over the broadcast axis. The one
thing students forget: without this the gradient has the wrong shape.
"""

from __future__ import annotations

import numpy as np

from ..op import Op, broadcast_shapes
from ..tensor import Shape, Tensor

__all__ = ["broadcast_like", "sum_to"]


class SumTo(Op):
    """``SumTo(g, x)``: ``g`` summed down to ``x``'s run-time shape (``x`` gives only its shape)."""

    returns_view = True

    def infer(self, g: Tensor, x: Tensor) -> tuple[Shape, str]:
        return x.shape, g.dtype

    def forward(self, g: np.ndarray, x: np.ndarray) -> np.ndarray:
        # the shapes read as attributes (a Python number has none: its shape is ()): a gradient
        # loop's step meets this op several times, mostly with nothing to sum
        shape = getattr(x, "shape", ())
        return g if getattr(g, "shape", ()) == shape else sum_to_shape(g, shape)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [BroadcastTo.apply(gy, self.inputs[0]), None]


def sum_to(g: Tensor, x: Tensor) -> Tensor:
    """``g`` summed to ``x``'s shape; no op at all when the static shapes already agree."""
    if g.shape == x.shape and None not in x.shape:
        return g
    return SumTo.apply(g, x)


def sum_to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The NumPy half: sum the leading extra axes and the axes where ``shape`` has a 1."""
    if np.shape(g) == shape:
        return g
    lead = np.ndim(g) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)


class BroadcastTo(Op):
    """``BroadcastTo(x, like)``: ``x`` repeated to ``like``'s run-time shape."""

    returns_view = True

    def infer(self, x: Tensor, like: Tensor) -> tuple[Shape, str]:
        return broadcast_shapes(x.shape, like.shape, self.type), x.dtype

    def forward(self, x: np.ndarray, like: np.ndarray) -> np.ndarray:
        shape, target = x.shape, like.shape  # NumPy scalars have shapes too
        if shape == target:
            return x
        if len(shape) > len(target) or any(n != 1 and n != m for n, m in zip(shape[::-1], target[::-1])):
            target = np.broadcast_shapes(shape, target)
        # A filled new array, not np.broadcast_to's read-only view: for the small arrays of
        # a loss's gradient, np.broadcast_to's Python wrapper costs more than the copy.
        y = np.empty(target, x.dtype)
        y[...] = x
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [sum_to(gy, self.inputs[0]), None]


def broadcast_like(x: Tensor, like: Tensor) -> Tensor:
    if x.shape == like.shape and None not in x.shape:
        return x
    return BroadcastTo.apply(x, like)
