"""Elementwise arithmetic with NumPy broadcasting, and unary math.

Each gradient is written with these same functions, so it is a graph that can be
differentiated again. Binary gradients end in ``sum_to``, which undoes broadcasting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..op import Op, broadcast_shapes, result_dtype
from ..tensor import Shape, Tensor
from .broadcast import sum_to
from .compare import equal, where
from .state import as_tensor, as_tensors

__all__ = [
    "abs", "add", "add_n", "clip", "divide", "exp", "identity", "log", "maximum", "minimum",
    "multiply", "negative", "ones_like", "pow", "sign", "sqrt", "square", "stop_gradient",
    "subtract", "zeros_like",
]


class Binary(Op):
    """Two inputs broadcast together; the output has the promoted dtype."""

    def infer(self, a: Tensor, b: Tensor) -> tuple[Shape, str]:
        return broadcast_shapes(a.shape, b.shape, self.type), result_dtype(a.dtype, b.dtype)

    def can_write_into(self, i: int) -> bool:
        # Broadcasting can make the output bigger than input i. It cannot when i has the
        # output's static shape and each of its unknown dimensions meets a 1 (or nothing)
        # in the other input: then that size comes from input i alone.
        x, other = self.inputs[i], self.inputs[1 - i]
        if not super().can_write_into(i) or x.shape != self.y.shape:
            return False
        lead = len(x.shape) - len(other.shape)
        return all(d is not None or k < lead or other.shape[k - lead] == 1 for k, d in enumerate(x.shape))

    def unbroadcast(self, ga: Tensor | None, gb: Tensor | None) -> list[Tensor | None]:
        a, b = self.inputs
        return [None if ga is None else sum_to(ga, a), None if gb is None else sum_to(gb, b)]


# --- arithmetic ---------------------------------------------------------------------


class Add(Binary):
    inplace = (0, 1)

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.add(a, b, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.add

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return self.unbroadcast(gy, gy)


def add(a: Any, b: Any) -> Tensor:
    return Add.apply(*as_tensors(a, b))


class Sub(Binary):
    inplace = (0, 1)

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.subtract(a, b, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.subtract

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return self.unbroadcast(gy, negative(gy))


def subtract(a: Any, b: Any) -> Tensor:
    """``a - b`` as a ``Sub`` op."""
    return Sub.apply(*as_tensors(a, b))


class Mul(Binary):
    inplace = (0, 1)

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.multiply(a, b, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.multiply

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        a, b = self.inputs
        return self.unbroadcast(gy * b, gy * a)


def multiply(a: Any, b: Any) -> Tensor:
    """``a * b`` as a ``Mul`` op."""
    return Mul.apply(*as_tensors(a, b))


class RealDiv(Binary):
    """``a / b``, built by ``divide`` (TensorFlow's name for the op)."""

    inplace = (0, 1)

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.divide(a, b, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.divide

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        ga = gy / self.inputs[1]
        return self.unbroadcast(ga, negative(ga) * self.y)  # -gy*a/b**2 == -(gy/b)*(a/b)


def divide(a: Any, b: Any) -> Tensor:
    """``a / b`` as a ``RealDiv`` op."""
    return RealDiv.apply(*as_tensors(a, b))


class Pow(Binary):
    """``a ** b``. The gradient for ``b`` uses ``log(a)``, taken as 0 where ``a <= 0``."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a**b

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        a, b = self.inputs
        ga = gy * b * a ** (b - 1)
        gb = gy * self.y * log(where(a > 0, a, 1))
        return self.unbroadcast(ga, gb)


def pow(a: Any, b: Any) -> Tensor:
    return Pow.apply(*as_tensors(a, b))


class Maximum(Binary):
    """The gradient goes to ``a`` where ``a >= b``: on a tie, all of it to ``a``."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(a, b)

    def kernel(self) -> Callable[..., Any]:
        return np.maximum

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        a, b = self.inputs
        mask = a >= b
        return self.unbroadcast(where(mask, gy, 0), where(mask, 0, gy))


def maximum(a: Any, b: Any) -> Tensor:
    return Maximum.apply(*as_tensors(a, b))


class Minimum(Binary):
    """The gradient goes to ``a`` where ``a <= b``: on a tie, all of it to ``a``."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b)

    def kernel(self) -> Callable[..., Any]:
        return np.minimum

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        a, b = self.inputs
        mask = a <= b
        return self.unbroadcast(where(mask, gy, 0), where(mask, 0, gy))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.apply(*as_tensors(a, b))


class AddN(Op):
    """The sum of any number of same-shaped tensors: how gradients from several paths meet."""

    def infer(self, *xs: Tensor) -> tuple[Shape, str]:
        shape = xs[0].shape
        for x in xs[1:]:
            shape = broadcast_shapes(shape, x.shape, self.type)
        return shape, result_dtype(*(x.dtype for x in xs))

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        total = xs[0] + xs[1]
        for x in xs[2:]:
            # the running sum is an array made here: added to in place when x fits it (the
            # same sums, rounded alike; 27 fewer new arrays for a weight a 28-step RNN shares)
            fits = isinstance(total, np.ndarray) and isinstance(x, np.ndarray) and \
                x.shape == total.shape and x.dtype == total.dtype
            total = np.add(total, x, out=total) if fits else total + x
        return total

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [sum_to(gy, x) for x in self.inputs]


def add_n(xs: list[Tensor]) -> Tensor:
    """``xs[0] + xs[1] + ...`` as one op (a single tensor is returned as it is)."""
    if len(xs) == 1:
        return xs[0]
    return AddN.apply(*xs)


# --- unary --------------------------------------------------------------------------


class Neg(Op):
    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.negative(x, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.negative

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [negative(gy)]


def negative(x: Any) -> Tensor:
    """``-x`` as a ``Neg`` op."""
    return Neg.apply(as_tensor(x))


class Exp(Op):
    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.exp(x, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.exp

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * self.y]


def exp(x: Any) -> Tensor:
    return Exp.apply(as_tensor(x))


class Log(Op):
    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.log(x, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.log

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy / self.inputs[0]]


def log(x: Any) -> Tensor:
    return Log.apply(as_tensor(x))


class Sqrt(Op):
    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.sqrt(x, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.sqrt

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * 0.5 / self.y]


def sqrt(x: Any) -> Tensor:
    return Sqrt.apply(as_tensor(x))


class Square(Op):
    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.square(x, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.square

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * 2 * self.inputs[0]]


def square(x: Any) -> Tensor:
    return Square.apply(as_tensor(x))


class Abs(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.abs(x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * sign(self.inputs[0])]


def abs(x: Any) -> Tensor:
    return Abs.apply(as_tensor(x))


class Sign(Op):
    """-1, 0 or 1. Its derivative is 0 wherever it exists, so that is its gradient."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sign(x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [zeros_like(self.inputs[0])]


def sign(x: Any) -> Tensor:
    return Sign.apply(as_tensor(x))


class ClipByValue(Op):
    """``clip(x, lo, hi)``; the gradient flows only where ``x`` was not clipped."""

    lo: float
    hi: float

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [where(equal(self.y, self.inputs[0]), gy, 0)]


def clip(x: Any, lo: float, hi: float) -> Tensor:
    """``x`` limited to ``[lo, hi]``, a ``ClipByValue`` op (``hi < lo`` is an error)."""
    if hi < lo:
        raise ValueError(f"clip: max_value {hi} is smaller than min_value {lo}")
    return ClipByValue.apply(as_tensor(x), lo=lo, hi=hi)


class Identity(Op):
    returns_view = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy]


def identity(x: Any, name: str | None = None) -> Tensor:
    return Identity.apply(as_tensor(x), name=name)


class StopGradient(Op):
    """The identity, except no gradient flows back through it (on purpose)."""

    returns_view = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [None]


def stop_gradient(x: Any) -> Tensor:
    return StopGradient.apply(as_tensor(x))


class ZerosLike(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.zeros_like(x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [None]


def zeros_like(x: Tensor) -> Tensor:
    return ZerosLike.apply(as_tensor(x))


class OnesLike(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ones_like(x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [None]


def ones_like(x: Tensor) -> Tensor:
    return OnesLike.apply(as_tensor(x))
