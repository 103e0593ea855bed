"""Values made of parts: a loop's results, a split's pieces, travelling in one slot.

An op has one output; an op with several (``Loop``, ``Split``) returns a ``Parts`` tuple and
small ops pick a part (``LoopOutput``, ``SplitOutput``). A gradient arriving at one part is a
``Parts`` with only that part (``TupleCotangent``); gradients of several parts add up part by
part, so the op that made the parts receives all of them at once, with ``None`` for the parts
no gradient reached (no zero-filled arrays to add up).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op, normalize_axes
from ..tensor import Shape, Tensor
from .state import FLOATX, as_tensor

__all__ = ["split"]


class Parts(tuple):  # type: ignore[type-arg]
    """A loop's or a split's value (or a gradient arriving at one): one array per part,
    ``None`` = zeros. Two gradients add up part by part, which is how ``AddN`` meets them."""

    def __add__(self, other: Any) -> Parts:
        n = max(len(self), len(other))
        a = list(self) + [None] * (n - len(self))
        b = list(other) + [None] * (n - len(other))
        return Parts(x if y is None else y if x is None else x + y for x, y in zip(a, b))


class TupleCotangent(Op):
    """A gradient arriving at one part (of a loop, of a split), as a ``Parts`` with only that part."""

    returns_view = True
    index: int

    def infer(self, gy: Tensor) -> tuple[Shape, str]:
        return (), FLOATX

    def forward(self, gy: Any) -> Parts:
        return Parts([None] * self.index + [gy])

    def backward(self, g: Tensor) -> list[Tensor | None]:
        return [TuplePart.apply(g, self.inputs[0], index=self.index)]


class TuplePart(Op):
    """Part ``index`` of a gradient ``Parts``, zeros shaped like ``like`` where none arrived."""

    returns_view = True
    index: int

    def infer(self, parts: Tensor, like: Tensor) -> tuple[Shape, str]:
        return like.shape, like.dtype

    def forward(self, parts: Parts, like: Any) -> Any:
        if self.index < len(parts) and parts[self.index] is not None:
            return parts[self.index]
        return np.zeros_like(like)

    def backward(self, g: Tensor) -> list[Tensor | None]:
        return [TupleCotangent.apply(g, index=self.index), None]


class Split(Op):
    """``x`` cut into ``num`` equal pieces along ``axis`` (TensorFlow's ``Split``): a ``Parts`` of
    views; ``SplitOutput`` picks one. An LSTM cuts its four gates' pre-activations so."""

    returns_view = True
    num: int
    axis: int

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        n = x.shape[self.axis]
        if n is not None and n % self.num:
            raise ValueError(f"split: {x.name} has {n} entries along axis {self.axis}, which do not "
                             f"divide into {self.num} equal pieces.")
        return (), x.dtype

    def piece(self) -> tuple[Shape, str]:
        x = self.inputs[0]
        n = x.shape[self.axis]
        shape = list(x.shape)
        shape[self.axis] = None if n is None else n // self.num
        return tuple(shape), x.dtype

    def forward(self, x: np.ndarray) -> Parts:
        # basic slices, as np.split makes them, without its general machinery (~15 us a call)
        n, before = x.shape[self.axis] // self.num, (slice(None),) * self.axis
        return Parts(x[(*before, slice(k * n, (k + 1) * n))] for k in range(self.num))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        # gy holds the pieces' gradients: they are joined, not added up as zero-filled arrays
        return [SplitGrad.apply(gy, self.inputs[0], num=self.num, axis=self.axis)]


def split(x: Any, num: int, axis: int = -1) -> list[Tensor]:
    """``x`` cut into ``num`` equal pieces along ``axis``, as one ``Split`` op."""
    x = as_tensor(x)
    parts = Split.apply(x, num=int(num), axis=normalize_axes(axis, x.ndim, "split")[0])
    return [SplitOutput.apply(parts, index=k) for k in range(num)]


class SplitOutput(Op):
    """Piece ``index`` of a ``Split``."""

    returns_view = True
    index: int

    def infer(self, parts: Tensor) -> tuple[Shape, str]:
        if not isinstance(parts.op, Split):
            raise TypeError(f"SplitOutput reads a Split op's value, not {parts.name}")
        return parts.op.piece()

    def forward(self, parts: Parts) -> Any:
        return parts[self.index]

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [TupleCotangent.apply(gy, index=self.index)]


class SplitGrad(Op):
    """The pieces' gradients (a ``Parts``) joined along ``axis``, zeros for a piece none reached;
    ``x`` gives only the shape."""

    num: int
    axis: int

    def infer(self, parts: Tensor, x: Tensor) -> tuple[Shape, str]:
        return x.shape, x.dtype

    def forward(self, parts: Parts, x: np.ndarray) -> np.ndarray:
        pieces = list(parts) + [None] * (self.num - len(parts))
        if all(p is not None for p in pieces):  # the usual case: every piece has its gradient
            return np.concatenate(pieces, axis=self.axis)
        present = [p for p in pieces if p is not None]
        out = np.zeros(np.shape(x), np.result_type(*present, x.dtype))
        n, before = out.shape[self.axis] // self.num, (slice(None),) * self.axis
        for k, p in enumerate(pieces):
            if p is not None:
                out[(*before, slice(k * n, (k + 1) * n))] = p
        return out

    def backward(self, g: Tensor) -> list[Tensor | None]:
        return [Split.apply(g, num=self.num, axis=self.axis), None]
