"""``Print``: the identity, printing its value whenever it runs (Keras's ``print_tensor``).

The one thing students get wrong: nothing is printed when the graph is *built*. Only a
run that needs the op's output prints, and the value must be used downstream (fetch the
returned tensor, not the original one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Tensor
from .state import as_tensor

__all__ = ["print_value"]


class Print(Op):
    returns_view = True
    message: str = ""

    def forward(self, x: np.ndarray) -> np.ndarray:
        print(self.message, x)
        return x

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy]


def print_value(x: Any, message: str = "") -> Tensor:
    """``x`` passed through; ``message`` and the value printed each time it is computed."""
    return Print.apply(as_tensor(x), message=message)
