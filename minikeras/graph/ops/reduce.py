"""Reductions: ``sum``, ``mean``, ``max``, ``min``, ``prod`` (and ``argmax``/``argmin``).

The gradient of a reduction first puts back the reduced axes (``keepdims``), then
broadcasts ``gy`` over them: every input element contributed to one output element.
"""

from __future__ import annotations

import math as _pymath
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import numpy as np

from ..op import NotDifferentiableError, Op, normalize_axes
from ..tensor import Shape, Tensor
from .array import expand_dims
from .broadcast import broadcast_like
from .compare import cast, equal
from .state import FLOATX, as_tensor

__all__ = ["argmax", "argmin", "max", "mean", "min", "prod", "sum"]


class Reduce(Op):
    """Base of the reductions: attrs ``axis`` (a sorted tuple) and ``keepdims``."""

    numpy_fn: ClassVar[Any] = None
    axis: tuple[int, ...]
    keepdims: bool = False

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        if self.keepdims:
            shape = tuple(1 if i in self.axis else d for i, d in enumerate(x.shape))
        else:
            shape = tuple(d for i, d in enumerate(x.shape) if i not in self.axis)
        return shape, self.out_dtype(x.dtype)

    def out_dtype(self, dtype: str) -> str:
        return np.asarray(type(self).numpy_fn(np.zeros(1, dtype))).dtype.name

    def forward(self, x: np.ndarray) -> np.ndarray:
        return type(self).numpy_fn(x, axis=self.axis, keepdims=self.keepdims)

    def keep(self, g: Tensor) -> Tensor:
        """``g`` with the reduced axes put back as size-1 axes (a scalar broadcasts as it is)."""
        return g if self.keepdims or not self.axis or not self.y.shape else expand_dims(g, self.axis)


def _reduce(cls: type[Reduce], x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    return cls.apply(x, axis=normalize_axes(axis, x.ndim, cls.type), keepdims=bool(keepdims))


class Sum(Reduce):
    numpy_fn = np.sum

    def forward(self, x: np.ndarray) -> np.ndarray:
        # np.add.reduce is what np.sum calls for an array, minus a Python-level wrapper.
        return np.add.reduce(x, axis=self.axis, keepdims=self.keepdims)  # type: ignore[call-overload]

    def kernel(self) -> Callable[..., Any] | None:
        return partial(np.add.reduce, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [broadcast_like(self.keep(gy), self.inputs[0])]


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _reduce(Sum, x, axis, keepdims)


class Mean(Reduce):
    """The average; integer and boolean inputs give floatx (like Keras's ``K.mean``)."""

    numpy_fn = np.mean

    def out_dtype(self, dtype: str) -> str:
        return dtype if np.dtype(dtype).kind == "f" else FLOATX

    def forward(self, x: np.ndarray) -> np.ndarray:
        # np.mean is Python code around these two calls.
        total = np.add.reduce(x, axis=self.axis, keepdims=self.keepdims,  # type: ignore[call-overload]
                              dtype=None if x.dtype.kind == "f" else FLOATX)
        return total / _reduced_count(x, self.axis)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x = self.inputs[0]
        # Divide before broadcasting: one number per output, not one per input element.
        return [broadcast_like(self.keep(gy / reduced_size(x, self.axis)), x)]


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _reduce(Mean, x, axis, keepdims)


class Max(Reduce):
    """The gradient goes to the maximal elements, split evenly between ties."""

    numpy_fn = np.max

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x = self.inputs[0]
        mask = cast(equal(x, self.keep(self.y)), x.dtype)
        return [self.keep(gy) * mask / sum(mask, axis=self.axis, keepdims=True)]


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _reduce(Max, x, axis, keepdims)


class Min(Max):
    numpy_fn = np.min


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _reduce(Min, x, axis, keepdims)


class Prod(Reduce):
    """The product. Its gradient for each element is the product of the *others* (not
    ``prod / x``, which is 0/0 where an element is exactly 0, as a ReLU's output often is)."""

    numpy_fn = np.prod

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [self.keep(gy) * ProdOthers.apply(self.inputs[0], axis=self.axis)]


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _reduce(Prod, x, axis, keepdims)


def _rows(x: np.ndarray, axis: tuple[int, ...]) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """``x`` with the axes ``axis`` moved last and merged into one, and the way back."""
    perm = [i for i in range(x.ndim) if i not in axis] + list(axis)
    moved = np.transpose(x, perm)
    rows = moved.reshape(moved.shape[: x.ndim - len(axis)] + (-1,))
    # Back in x's layout, contiguous: a result a plan may write into must be laid out the same
    # in both of its ways of running, or sums over it would add in another order.
    return rows, lambda r: np.asarray(np.transpose(r.reshape(moved.shape), np.argsort(perm)), order="C")


def _exclusive_products(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``L[j]`` = product of the elements before ``j``, ``R[j]`` = of those after it."""
    ones = np.ones(rows.shape[:-1] + (1,), rows.dtype)
    left = np.concatenate([ones, np.cumprod(rows[..., :-1], axis=-1)], axis=-1)
    right = np.concatenate([np.cumprod(rows[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)
    return left, right


class ProdOthers(Op):
    """For each element, the product of the other elements of its group (the ``axis`` that
    ``Prod`` reduces): ``L * R``, exclusive running products from both sides, no division."""

    axis: tuple[int, ...]

    def forward(self, x: np.ndarray) -> np.ndarray:
        rows, back = _rows(x, self.axis)
        left, right = _exclusive_products(rows)
        return back(left * right)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [ProdOthersGrad.apply(gy, self.inputs[0], axis=self.axis)]


class ProdOthersGrad(Op):
    """``g[j] = sum over i != j of gy[i] * (product of x over the group but i and j)``: how
    ``ProdOthers`` changes with ``x``. Linear in ``gy``; exact where elements are 0. A running
    sum from each side, one Python step per element of the group."""

    axis: tuple[int, ...]

    def infer(self, gy: Tensor, x: Tensor) -> tuple[Shape, str]:
        return x.shape, gy.dtype

    def forward(self, gy: np.ndarray, x: np.ndarray) -> np.ndarray:
        xs, back = _rows(x, self.axis)
        gs = _rows(np.broadcast_to(gy, x.shape), self.axis)[0]
        left, right = _exclusive_products(xs)
        before = np.zeros(xs.shape[:-1], np.result_type(gy, x))  # sum over i < j
        after = np.zeros_like(before)  # sum over i > j
        out = np.empty(xs.shape, before.dtype)
        for j in range(xs.shape[-1]):
            out[..., j] = before * right[..., j]
            before = before * xs[..., j] + gs[..., j] * left[..., j]
        for j in reversed(range(xs.shape[-1])):
            out[..., j] += left[..., j] * after
            after = after * xs[..., j] + gs[..., j] * right[..., j]
        return back(out)

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        raise NotDifferentiableError(
            f"{self.name}: third derivatives of a product (prod) are not implemented; the first "
            "and second are exact.")


class ArgMax(Op):
    """Index of the largest element along ``axis`` (int64). Not differentiable."""

    differentiable = False

    axis: int

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return tuple(d for i, d in enumerate(x.shape) if i != self.axis), "int64"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(x, axis=self.axis)


def argmax(x: Any, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    return ArgMax.apply(x, axis=normalize_axes(axis, x.ndim, "ArgMax")[0])


class ArgMin(ArgMax):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.argmin(x, axis=self.axis)


def argmin(x: Any, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    return ArgMin.apply(x, axis=normalize_axes(axis, x.ndim, "ArgMin")[0])


class ReducedSize(Op):
    """How many elements of ``x`` each output of a reduction over ``axis`` averages."""

    differentiable = False

    axis: tuple[int, ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return (), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.dtype.type(_reduced_count(x, self.axis))


def _reduced_count(x: np.ndarray, axis: tuple[int, ...]) -> int:
    """How many elements of ``x`` each output of a reduction over ``axis`` takes in."""
    return x.size if len(axis) == x.ndim else _pymath.prod(x.shape[i] for i in axis)


def reduced_size(x: Tensor, axis: tuple[int, ...]) -> Any:
    """A Python int when the static shape knows it, else an op that counts at run time."""
    dims = [x.shape[i] for i in axis]
    if None in dims:
        return ReducedSize.apply(x, axis=axis)
    return _pymath.prod(dims)  # type: ignore[arg-type]
