"""Sine and cosine: each one's gradient is the other (with a sign)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Tensor
from .state import as_tensor

__all__ = ["cos", "sin"]


class Sin(Op):
    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.sin(x, out=out)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * cos(self.inputs[0])]


def sin(x: Any) -> Tensor:
    return Sin.apply(as_tensor(x))


class Cos(Op):
    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.cos(x, out=out)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [-(gy * sin(self.inputs[0]))]


def cos(x: Any) -> Tensor:
    return Cos.apply(as_tensor(x))
