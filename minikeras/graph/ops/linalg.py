"""Matrix products: ``matmul`` is the primitive; Keras's N-D ``dot`` and ``batch_dot`` are
built from it with reshapes and transposes (as Keras's own backends build them).
"""

from __future__ import annotations

import math as _pymath
import weakref
from typing import Any

import numpy as np

from ..op import Op, broadcast_shapes, result_dtype
from ..tensor import Shape, Tensor
from .array import expand_dims, reshape, squeeze, transpose
from .broadcast import sum_to
from .state import Variable, as_tensors

__all__ = ["batch_dot", "dot", "matmul"]


class MatMul(Op):
    """``a @ b`` for rank >= 2; leading (batch) axes broadcast like NumPy's ``matmul``.

    ``transpose_a`` / ``transpose_b`` swap the last two axes of an input first, as
    TensorFlow's MatMul does: the gradients use them instead of separate Transpose ops
    (BLAS reads a transposed matrix in place, so they cost nothing).
    """

    transpose_a: bool = False
    transpose_b: bool = False

    def infer(self, a: Tensor, b: Tensor) -> tuple[Shape, str]:
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(
                f"MatMul needs tensors of rank >= 2; got {a.name} {a.shape} and {b.name} {b.shape}. "
                "Use expand_dims for vectors."
            )
        a_shape = _swapped(a.shape) if self.transpose_a else a.shape
        b_shape = _swapped(b.shape) if self.transpose_b else b.shape
        n, m = a_shape[-1], b_shape[-2]
        if n is not None and m is not None and n != m:
            raise ValueError(
                f"MatMul: cannot multiply {a.name} of shape {a.shape} by {b.name} of shape "
                f"{b.shape}: inner dimensions {n} and {m} differ."
            )
        batch = broadcast_shapes(a.shape[:-2], b.shape[:-2], self.type)
        return batch + (a_shape[-2], b_shape[-1]), result_dtype(a.dtype, b.dtype)

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.matmul(a.swapaxes(-1, -2) if self.transpose_a else a,
                         b.swapaxes(-1, -2) if self.transpose_b else b, out=out)

    def kernel(self) -> Any:
        return np.matmul if not (self.transpose_a or self.transpose_b) else None

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        # y = A B with A, B the inputs as used (after any transpose): dA = gy B^T, dB = A^T gy,
        # then transposed back where an input was used transposed.
        a, b = self.inputs
        ta, tb = self.transpose_a, self.transpose_b
        if not ta and not tb:
            ga, gb = _times_transposed(gy, b), matmul(a, gy, transpose_a=True)
        elif not ta:
            ga, gb = matmul(gy, b), matmul(gy, a, transpose_a=True)
        elif not tb:
            ga, gb = matmul(b, gy, transpose_b=True), matmul(a, gy)
        else:
            ga, gb = (matmul(b, gy, transpose_a=True, transpose_b=True),
                      matmul(gy, a, transpose_a=True, transpose_b=True))
        # Only batch axes can broadcast, and only when the other side has some.
        return [sum_to(ga, a) if b.ndim > 2 else ga, sum_to(gb, b) if a.ndim > 2 else gb]


class TransposedCopy(Op):
    """``x.T`` as a new array in C order: what BLAS reads fastest, row by row."""

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return (x.shape[1], x.shape[0]), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.T)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [transpose(gy)]


#: Per weight, the transposed copy its products' gradients share (``None``: one product's
#: gradient was built so far). Weak both ways: the copy's op holds the weight.
_SHARED_T: weakref.WeakKeyDictionary[Tensor, weakref.ref[Tensor] | None] = weakref.WeakKeyDictionary()


def _times_transposed(gy: Tensor, b: Tensor) -> Tensor:
    """``gy @ b.T``. A weight that several products share (an unrolled RNN's kernel, read at
    every step) is copied transposed once per run, from the second gradient built for it on:
    BLAS then reads rows, not columns, at every step. A weight used once keeps the flag."""
    if isinstance(b, Variable) and b.ndim == 2 and gy.ndim == 2:
        if b in _SHARED_T:
            entry = _SHARED_T[b]
            copy = entry() if entry is not None else None
            if copy is None:
                copy = TransposedCopy.apply(b)
                _SHARED_T[b] = weakref.ref(copy)
            return matmul(gy, copy)
        _SHARED_T[b] = None
    return matmul(gy, b, transpose_b=True)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False) -> Tensor:
    return MatMul.apply(*as_tensors(a, b), transpose_a=transpose_a, transpose_b=transpose_b)


def _swapped(shape: Shape) -> Shape:
    return tuple(shape[:-2]) + (shape[-1], shape[-2])


def _reshape_dims(dims: Shape, what: str) -> tuple[int, ...]:
    if list(dims).count(None) > 1:
        raise ValueError(f"{what}: more than one unknown dimension in {dims}; cannot reshape")
    return tuple(-1 if d is None else d for d in dims)


def _merged(dims: Shape) -> int:
    """The size of ``dims`` flattened into one axis: -1 (inferred at run time) if unknown."""
    return -1 if None in dims else _pymath.prod(dims)  # type: ignore[arg-type]


def dot(x: Any, y: Any) -> Tensor:
    """Keras's ``K.dot``: contract the last axis of ``x`` with the second-to-last of ``y``.

    ``(2, 3) . (4, 3, 5) -> (2, 4, 5)``: unlike ``matmul``, the leading axes of ``y`` are
    *not* batch axes; they are kept, after those of ``x``.
    """
    x, y = as_tensors(x, y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(f"dot needs tensors of rank >= 2; got {x.shape} and {y.shape}")
    if y.ndim == 2:
        return matmul(x, y)
    perm = (y.ndim - 2,) + tuple(i for i in range(y.ndim) if i != y.ndim - 2)
    rest = tuple(y.shape[i] for i in perm[1:])
    y2 = reshape(transpose(y, perm), (y.shape[-2], _merged(rest)))
    out = matmul(x, y2)
    return reshape(out, _reshape_dims(x.shape[:-1] + rest, "dot"))


def batch_dot(x: Any, y: Any, axes: Any = None) -> Tensor:
    """Keras's ``K.batch_dot``: a ``dot`` per sample of the batch (axis 0).

    ``axes`` names the axis of ``x`` and of ``y`` that is summed over; by default the last
    of ``x`` and the second-to-last of ``y`` (the last one if ``y`` is 2-D). A result of
    rank 1 is returned as ``(batch, 1)``, as Keras does.
    """
    x, y = as_tensors(x, y)
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 2 if y.ndim > 2 else y.ndim - 1)
    elif isinstance(axes, (int, np.integer)):
        axes = (int(axes), int(axes))
    ax, ay = axes[0] % x.ndim, axes[1] % y.ndim
    if 0 in (ax, ay):
        raise ValueError(f"batch_dot: axes {axes} include the batch axis 0")
    if x.shape[ax] is not None and y.shape[ay] is not None and x.shape[ax] != y.shape[ay]:
        raise ValueError(
            f"batch_dot: axis {ax} of x {x.shape} and axis {ay} of y {y.shape} differ in size"
        )
    if x.ndim <= 3 and y.ndim <= 3:
        # One (or no) free axis on each side: a batched matmul, no reshape, so unknown
        # sizes (variable-length sequences) are fine.
        x3 = expand_dims(x, 1) if x.ndim == 2 else (x if ax == 2 else transpose(x, (0, 2, 1)))
        y3 = expand_dims(y, 2) if y.ndim == 2 else (y if ay == 1 else transpose(y, (0, 2, 1)))
        out = matmul(x3, y3)
        if y.ndim == 2:
            return squeeze(out, 2)
        return squeeze(out, 1) if x.ndim == 2 else out
    x_rest = tuple(d for i, d in enumerate(x.shape) if i not in (0, ax))
    y_rest = tuple(d for i, d in enumerate(y.shape) if i not in (0, ay))
    n = x.shape[ax] if x.shape[ax] is not None else -1
    xt = transpose(x, (0,) + tuple(i for i in range(1, x.ndim) if i != ax) + (ax,))
    yt = transpose(y, (0, ay) + tuple(i for i in range(1, y.ndim) if i != ay))
    out = matmul(reshape(xt, (-1, _merged(x_rest), n)), reshape(yt, (-1, n, _merged(y_rest))))
    return reshape(out, _reshape_dims((x.shape[0],) + x_rest + y_rest, "batch_dot"))
