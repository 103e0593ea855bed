"""Elementwise math with NumPy broadcasting, comparisons, ``where``, ``cast``.

Each gradient is written with these same functions, so it is a graph that can be
differentiated again. Binary gradients end in ``sum_to``, which undoes broadcasting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op, broadcast_shapes, result_dtype
from ..tensor import Shape, Tensor
from .broadcast import sum_to
from .state import as_tensor, as_tensors


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


class Compare(Binary):
    """A comparison: boolean output, no gradient."""

    differentiable = False

    def infer(self, a: Tensor, b: Tensor) -> tuple[Shape, str]:
        return broadcast_shapes(a.shape, b.shape, self.type), "bool"


# --- arithmetic ---------------------------------------------------------------------


class Add(Binary):
    ufunc = np.add
    inplace = (0, 1)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return self.unbroadcast(gy, gy)


class Sub(Binary):
    ufunc = np.subtract
    inplace = (0, 1)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return self.unbroadcast(gy, negative(gy))


class Mul(Binary):
    ufunc = np.multiply
    inplace = (0, 1)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        a, b = self.inputs
        return self.unbroadcast(gy * b, gy * a)


class RealDiv(Binary):
    ufunc = np.divide
    inplace = (0, 1)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        ga = gy / self.inputs[1]
        return self.unbroadcast(ga, negative(ga) * self.y)  # -gy*a/b**2 == -(gy/b)*(a/b)


class Pow(Binary):
    """``a ** b``. The gradient for ``b`` uses ``log(a)``, taken as 0 where ``a <= 0``."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a**b

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        a, b = self.inputs
        ga = gy * b * a ** (b - 1)
        gb = gy * self.y * log(where(a > 0, a, 1))
        return self.unbroadcast(ga, gb)


class Maximum(Binary):
    """The gradient goes to ``a`` where ``a >= b`` (ties: to ``a``)."""

    ufunc = np.maximum

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        a, b = self.inputs
        mask = a >= b
        return self.unbroadcast(where(mask, gy, 0), where(mask, 0, gy))


class Minimum(Binary):
    ufunc = np.minimum

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        a, b = self.inputs
        mask = a <= b
        return self.unbroadcast(where(mask, gy, 0), where(mask, 0, gy))


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
            total = total + x
        return total

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [sum_to(gy, x) for x in self.inputs]


# --- unary --------------------------------------------------------------------------


class Neg(Op):
    ufunc = np.negative
    inplace = (0,)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [negative(gy)]


class Exp(Op):
    ufunc = np.exp
    inplace = (0,)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * self.y]


class Log(Op):
    ufunc = np.log
    inplace = (0,)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy / self.inputs[0]]


class Sqrt(Op):
    ufunc = np.sqrt
    inplace = (0,)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * 0.5 / self.y]


class Square(Op):
    ufunc = np.square
    inplace = (0,)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * 2 * self.inputs[0]]


class Abs(Op):
    ufunc = np.abs

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * sign(self.inputs[0])]


class Sign(Op):
    """-1, 0 or 1. Its derivative is 0 wherever it exists, so that is its gradient."""

    ufunc = np.sign

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [zeros_like(self.inputs[0])]


class ClipByValue(Op):
    """``clip(x, lo, hi)``; the gradient flows only where ``x`` was not clipped."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [where(equal(self.y, self.inputs[0]), gy, 0)]


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


class Cast(Op):
    """A dtype change. Gradients flow only between floating dtypes."""

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return x.shape, self.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=self.dtype)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x = self.inputs[0]
        floats = np.dtype(x.dtype).kind == "f" and np.dtype(self.dtype).kind == "f"
        return [cast(gy, x.dtype) if floats else None]


class Round(Op):
    """Round half to even, like NumPy and TensorFlow. Not differentiable."""

    differentiable = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.round(x)


class Identity(Op):
    returns_view = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy]


class StopGradient(Op):
    """The identity, except no gradient flows back through it (on purpose)."""

    returns_view = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [None]


class ZerosLike(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.zeros_like(x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [None]


class OnesLike(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ones_like(x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [None]


# --- comparisons --------------------------------------------------------------------


class Equal(Compare):
    ufunc = np.equal


class NotEqual(Compare):
    ufunc = np.not_equal


class Greater(Compare):
    ufunc = np.greater


class GreaterEqual(Compare):
    ufunc = np.greater_equal


class Less(Compare):
    ufunc = np.less


class LessEqual(Compare):
    ufunc = np.less_equal


class LogicalAnd(Compare):
    ufunc = np.logical_and


class LogicalOr(Compare):
    ufunc = np.logical_or


class LogicalNot(Op):
    differentiable = False

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return x.shape, "bool"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.logical_not(x)


# --- the functions users call -------------------------------------------------------


def add(a: Any, b: Any) -> Tensor:
    return Add.apply(*as_tensors(a, b))


def subtract(a: Any, b: Any) -> Tensor:
    return Sub.apply(*as_tensors(a, b))


def multiply(a: Any, b: Any) -> Tensor:
    return Mul.apply(*as_tensors(a, b))


def divide(a: Any, b: Any) -> Tensor:
    return RealDiv.apply(*as_tensors(a, b))


def pow(a: Any, b: Any) -> Tensor:
    return Pow.apply(*as_tensors(a, b))


def maximum(a: Any, b: Any) -> Tensor:
    return Maximum.apply(*as_tensors(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.apply(*as_tensors(a, b))


def add_n(xs: list[Tensor]) -> Tensor:
    """``xs[0] + xs[1] + ...`` as one op (a single tensor is returned as it is)."""
    if len(xs) == 1:
        return xs[0]
    return AddN.apply(*xs)


def negative(x: Any) -> Tensor:
    return Neg.apply(as_tensor(x))


def exp(x: Any) -> Tensor:
    return Exp.apply(as_tensor(x))


def log(x: Any) -> Tensor:
    return Log.apply(as_tensor(x))


def sqrt(x: Any) -> Tensor:
    return Sqrt.apply(as_tensor(x))


def square(x: Any) -> Tensor:
    return Square.apply(as_tensor(x))


def abs(x: Any) -> Tensor:
    return Abs.apply(as_tensor(x))


def sign(x: Any) -> Tensor:
    return Sign.apply(as_tensor(x))


def clip(x: Any, lo: float, hi: float) -> Tensor:
    """``x`` limited to ``[lo, hi]`` (Keras swaps nothing: ``hi < lo`` is an error)."""
    if hi < lo:
        raise ValueError(f"clip: max_value {hi} is smaller than min_value {lo}")
    return ClipByValue.apply(as_tensor(x), lo=lo, hi=hi)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice; ``cond`` is a boolean tensor (Keras calls this ``switch``)."""
    a, b = as_tensors(a, b)
    c = as_tensor(cond, "bool")
    if c.dtype != "bool":
        c = cast(c, "bool")
    return Select.apply(c, a, b)


def cast(x: Any, dtype: str) -> Tensor:
    x = as_tensor(x)
    dtype = np.dtype(dtype).name
    return x if x.dtype == dtype else Cast.apply(x, dtype=dtype)


def round(x: Any) -> Tensor:
    return Round.apply(as_tensor(x))


def identity(x: Any, name: str | None = None) -> Tensor:
    return Identity.apply(as_tensor(x), name=name)


def stop_gradient(x: Any) -> Tensor:
    return StopGradient.apply(as_tensor(x))


def zeros_like(x: Tensor) -> Tensor:
    return ZerosLike.apply(as_tensor(x))


def ones_like(x: Tensor) -> Tensor:
    return OnesLike.apply(as_tensor(x))


def equal(a: Any, b: Any) -> Tensor:
    return Equal.apply(*as_tensors(a, b))


def not_equal(a: Any, b: Any) -> Tensor:
    return NotEqual.apply(*as_tensors(a, b))


def greater(a: Any, b: Any) -> Tensor:
    return Greater.apply(*as_tensors(a, b))


def greater_equal(a: Any, b: Any) -> Tensor:
    return GreaterEqual.apply(*as_tensors(a, b))


def less(a: Any, b: Any) -> Tensor:
    return Less.apply(*as_tensors(a, b))


def less_equal(a: Any, b: Any) -> Tensor:
    return LessEqual.apply(*as_tensors(a, b))


def logical_and(a: Any, b: Any) -> Tensor:
    return LogicalAnd.apply(*as_tensors(a, b))


def logical_or(a: Any, b: Any) -> Tensor:
    return LogicalOr.apply(*as_tensors(a, b))


def logical_not(x: Any) -> Tensor:
    return LogicalNot.apply(as_tensor(x))

