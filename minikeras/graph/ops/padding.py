"""Zero padding: ``x`` surrounded by zeros, a given number before and after each axis.

Its gradient crops ``gy`` back to ``x``'s place (a slice), whose gradient pads again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Shape, Tensor
from .index import getitem
from .state import as_tensor

__all__ = ["pad"]


class Pad(Op):
    """``x`` with ``pads[i] = (before, after)`` zeros added along axis ``i``."""

    pads: tuple[tuple[int, int], ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        if len(self.pads) != x.ndim:
            raise ValueError(f"pad: {len(self.pads)} (before, after) pairs for {x.name} of rank {x.ndim}")
        return tuple(None if d is None else d + a + b for d, (a, b) in zip(x.shape, self.pads)), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.pad(x, self.pads)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [getitem(gy, tuple(slice(a, -b if b else None) for a, b in self.pads))]


def pad(x: Any, pads: Any) -> Tensor:
    """Zeros around ``x``: ``pads`` is one ``(before, after)`` pair of ints >= 0 per axis."""
    x = as_tensor(x)
    pairs = tuple((int(a), int(b)) for a, b in pads)
    if any(a < 0 or b < 0 for a, b in pairs):
        raise ValueError(f"pad: paddings must be >= 0, got {pads!r}")
    if not any(a or b for a, b in pairs):
        return x
    return Pad.apply(x, pads=pairs)
