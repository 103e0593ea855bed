"""Comparisons, logic, choosing (``where``) and changing dtype (``cast``, ``round``).

None of these has a gradient except ``where``, which routes ``gy`` to the side that was
chosen, and ``cast`` between floating dtypes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..op import Op, broadcast_shapes, result_dtype
from ..tensor import Shape, Tensor
from .broadcast import sum_to
from .state import as_tensor, as_tensors

__all__ = [
    "cast", "equal", "greater", "greater_equal", "in_top_k", "less", "less_equal", "logical_and",
    "logical_not", "logical_or", "not_equal", "round", "where",
]


class Compare(Op):
    """Two inputs broadcast together, a boolean output, no gradient."""

    differentiable = False

    def infer(self, a: Tensor, b: Tensor) -> tuple[Shape, str]:
        return broadcast_shapes(a.shape, b.shape, self.type), "bool"


class Equal(Compare):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.equal(a, b)

    def kernel(self) -> Callable[..., Any]:
        return np.equal


def equal(a: Any, b: Any) -> Tensor:
    """Elementwise ``a == b`` (``==`` on tensors is identity, as in TensorFlow 1)."""
    return Equal.apply(*as_tensors(a, b))


class NotEqual(Compare):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.not_equal(a, b)

    def kernel(self) -> Callable[..., Any]:
        return np.not_equal


def not_equal(a: Any, b: Any) -> Tensor:
    return NotEqual.apply(*as_tensors(a, b))


class Greater(Compare):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.greater(a, b)

    def kernel(self) -> Callable[..., Any]:
        return np.greater


def greater(a: Any, b: Any) -> Tensor:
    return Greater.apply(*as_tensors(a, b))


class GreaterEqual(Compare):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.greater_equal(a, b)

    def kernel(self) -> Callable[..., Any]:
        return np.greater_equal


def greater_equal(a: Any, b: Any) -> Tensor:
    return GreaterEqual.apply(*as_tensors(a, b))


class Less(Compare):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.less(a, b)

    def kernel(self) -> Callable[..., Any]:
        return np.less


def less(a: Any, b: Any) -> Tensor:
    return Less.apply(*as_tensors(a, b))


class LessEqual(Compare):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.less_equal(a, b)

    def kernel(self) -> Callable[..., Any]:
        return np.less_equal


def less_equal(a: Any, b: Any) -> Tensor:
    return LessEqual.apply(*as_tensors(a, b))


class LogicalAnd(Compare):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.logical_and(a, b)


def logical_and(a: Any, b: Any) -> Tensor:
    return LogicalAnd.apply(*as_tensors(a, b))


class LogicalOr(Compare):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.logical_or(a, b)


def logical_or(a: Any, b: Any) -> Tensor:
    return LogicalOr.apply(*as_tensors(a, b))


class LogicalNot(Op):
    differentiable = False

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return x.shape, "bool"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.logical_not(x)


def logical_not(x: Any) -> Tensor:
    return LogicalNot.apply(as_tensor(x))


class Select(Op):
    """``where(cond, a, b)``: ``a`` where ``cond`` is true, else ``b`` (Keras's ``switch``)."""

    def infer(self, c: Tensor, a: Tensor, b: Tensor) -> tuple[Shape, str]:
        shape = broadcast_shapes(broadcast_shapes(c.shape, a.shape, self.type), b.shape, self.type)
        return shape, result_dtype(a.dtype, b.dtype)

    def forward(self, c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(c, a, b)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        c, a, b = self.inputs
        return [None, sum_to(where(c, gy, 0), a), sum_to(where(c, 0, gy), b)]


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice, a ``Select`` op; ``cond`` is a boolean tensor (Keras: ``switch``)."""
    a, b = as_tensors(a, b)
    c = as_tensor(cond, "bool")
    if c.dtype != "bool":
        c = cast(c, "bool")
    return Select.apply(c, a, b)


class Cast(Op):
    """A dtype change. Gradients flow only between floating dtypes."""

    dtype: str

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return x.shape, self.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=self.dtype)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x = self.inputs[0]
        floats = np.dtype(x.dtype).kind == "f" and np.dtype(self.dtype).kind == "f"
        return [cast(gy, x.dtype) if floats else None]


def cast(x: Any, dtype: str) -> Tensor:
    x = as_tensor(x)
    dtype = np.dtype(dtype).name
    return x if x.dtype == dtype else Cast.apply(x, dtype=dtype)


class Round(Op):
    """Round half to even, like NumPy and TensorFlow. Not differentiable."""

    differentiable = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.round(x)


def round(x: Any) -> Tensor:
    return Round.apply(as_tensor(x))


class InTopK(Op):
    """Whether each row's ``targets`` class is among its ``k`` largest ``predictions``.

    Ties count in the target's favour (as TensorFlow's ``in_top_k``): the target is in
    the top ``k`` when fewer than ``k`` classes score strictly higher.
    """

    differentiable = False
    k: int

    def infer(self, predictions: Tensor, targets: Tensor) -> tuple[Shape, str]:
        if predictions.ndim != 2 or targets.ndim != 1:
            raise ValueError(f"in_top_k needs predictions (batch, classes) and targets (batch,); got "
                             f"{predictions.name} {predictions.shape} and {targets.name} {targets.shape}")
        return predictions.shape[:1], "bool"

    def forward(self, predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
        scores = predictions[np.arange(len(targets)), targets.astype("int64")]
        return np.sum(predictions > scores[:, None], axis=1) < self.k


def in_top_k(predictions: Any, targets: Any, k: int) -> Tensor:
    return InTopK.apply(as_tensor(predictions), as_tensor(targets), k=int(k))
