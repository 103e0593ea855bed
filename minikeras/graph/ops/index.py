"""Picking elements: ``x[key]`` slicing, ``gather`` (rows by index), ``one_hot``, ``shape``.

The gradient of a pick writes ``gy`` back where the elements were picked, into zeros.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Shape, Tensor
from .compare import cast
from .state import FLOATX, as_tensor

__all__ = ["gather", "getitem", "one_hot", "shape"]


class StridedSlice(Op):
    """``x[key]`` for basic keys: ints, slices, ``None`` (new axis) and ``...``."""

    returns_view = True

    key: tuple[Any, ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        shape: list[int | None] = []
        dims = iter(enumerate(x.shape))
        for k in self.key:
            if k is None:
                shape.append(1)
                continue
            try:
                axis, d = next(dims)
            except StopIteration:
                raise IndexError(f"too many indices for {x.name} of shape {x.shape}: {self.key}") from None
            if isinstance(k, slice):
                shape.append(None if d is None else len(range(*k.indices(d))))
            elif d is not None and not -d <= k < d:
                raise IndexError(f"index {k} is out of bounds for axis {axis} of {x.name} with size {d}")
        shape += [d for _, d in dims]
        return tuple(shape), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x[self.key]

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [SliceGrad.apply(gy, self.inputs[0], key=self.key)]


def getitem(x: Any, key: Any) -> Tensor:
    """``x[key]`` with a basic key, as a ``StridedSlice`` op; tensors or arrays as indices
    need ``gather``."""
    x = as_tensor(x)
    key = key if isinstance(key, tuple) else (key,)
    for k in key:
        if not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer))):
            raise TypeError(
                f"Only basic slicing is supported on {x.name} (ints, slices, None, ...); "
                f"got {type(k).__name__}. Use gather(x, indices) to pick rows by index."
            )
    if Ellipsis in key:
        i = key.index(Ellipsis)
        fill = x.ndim - sum(k is not None for k in key if k is not Ellipsis)
        key = key[:i] + (slice(None),) * fill + key[i + 1 :]
    key = tuple(int(k) if isinstance(k, np.integer) else k for k in key)
    return StridedSlice.apply(x, key=key)


class SliceGrad(Op):
    """Zeros shaped like ``x`` with ``gy`` written at ``x[key]``."""

    key: tuple[Any, ...]

    def infer(self, g: Tensor, x: Tensor) -> tuple[Shape, str]:
        return x.shape, g.dtype

    def forward(self, g: np.ndarray, x: np.ndarray) -> np.ndarray:
        out = np.zeros(np.shape(x), dtype=g.dtype)
        out[self.key] = g
        return out

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [getitem(gy, self.key), None]


class Gather(Op):
    """``params[indices]`` along axis 0 (rows of an embedding matrix)."""

    def infer(self, params: Tensor, indices: Tensor) -> tuple[Shape, str]:
        return tuple(indices.shape) + tuple(params.shape[1:]), params.dtype

    def forward(self, params: np.ndarray, indices: np.ndarray) -> np.ndarray:
        check_indices(indices, len(params), self)
        return np.take(params, indices, axis=0)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        params, indices = self.inputs
        return [GatherGrad.apply(gy, indices, params), None]


def check_indices(indices: np.ndarray, n: int, op: Op) -> None:
    """Refuse an index outside ``[0, n)``, as TensorFlow does (NumPy would read -1 as the last)."""
    if np.size(indices) and (np.min(indices) < 0 or np.max(indices) >= n):
        bad = np.asarray(indices)[(np.asarray(indices) < 0) | (np.asarray(indices) >= n)].flat[0]
        fed = op.inputs[1 if isinstance(op, Gather) else 0]
        raise ValueError(f"{op.name}: index {bad} is out of range [0, {n}) (indices given by "
                         f"{fed.name}); ids must count from 0 to {n - 1}.")


def gather(params: Any, indices: Any) -> Tensor:
    """Rows ``params[indices]`` as a ``Gather`` op; float indices are cast to int64."""
    params, indices = as_tensor(params), as_tensor(indices, "int64")
    if params.ndim == 0:
        raise ValueError(f"gather: params {params.name} is a scalar; gather picks rows of a tensor "
                         "of rank >= 1.")
    if np.dtype(indices.dtype).kind not in "iu":
        indices = cast(indices, "int64")
    return Gather.apply(params, indices)


class GatherGrad(Op):
    """Zeros shaped like ``params``, with each row of ``g`` added at its index (repeats add up)."""

    def infer(self, g: Tensor, indices: Tensor, params: Tensor) -> tuple[Shape, str]:
        return params.shape, g.dtype

    def forward(self, g: np.ndarray, indices: np.ndarray, params: np.ndarray) -> np.ndarray:
        out = np.zeros(np.shape(params), dtype=g.dtype)
        np.add.at(out, indices, g)
        return out

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gather(gy, self.inputs[1]), None, None]


class OneHot(Op):
    """Integer class ids to floatx one-hot rows; the number of classes is ``num_classes``, or
    ``like``'s last dimension when a second input is given (known only at run time). An id
    outside ``[0, classes)`` is an error (TensorFlow would give a row of zeros). Not
    differentiable."""

    differentiable = False

    num_classes: int | None = None

    def infer(self, indices: Tensor, *like: Tensor) -> tuple[Shape, str]:
        return tuple(indices.shape) + (like[0].shape[-1] if like else self.num_classes,), FLOATX

    def forward(self, indices: np.ndarray, *like: np.ndarray) -> np.ndarray:
        n = np.shape(like[0])[-1] if like else self.num_classes
        assert n is not None
        check_indices(indices, n, self)
        return np.eye(n, dtype=FLOATX)[np.asarray(indices, dtype=np.int64)]


def one_hot(indices: Any, num_classes: int | None, like: Tensor | None = None) -> Tensor:
    """One-hot rows of ``num_classes`` (or, if that is None, of ``like``'s last dimension)."""
    if num_classes is None:
        if like is None:
            raise ValueError("one_hot: the number of classes is unknown; give num_classes or like=")
        return OneHot.apply(as_tensor(indices, "int64"), like)
    return OneHot.apply(as_tensor(indices, "int64"), num_classes=int(num_classes))


class ShapeOp(Op):
    """The run-time shape of ``x`` as an int64 vector (Keras's ``K.shape``)."""

    type = "Shape"
    differentiable = False

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return (x.ndim,), "int64"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.array(np.shape(x), dtype=np.int64)


def shape(x: Any) -> Tensor:
    """``x``'s run-time shape as a ``Shape`` op (class ``ShapeOp``)."""
    return ShapeOp.apply(as_tensor(x))
