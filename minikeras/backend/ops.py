"""Shapes, types and math with Keras's names and signatures, over the graph's primitives."""

from __future__ import annotations

import builtins
import math as _pymath
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import graph as G
from ..graph.op import normalize_axes
from .config import floatx, normalize_data_format

Tensor = G.Tensor

# --- shapes and types ---------------------------------------------------------------


def int_shape(x: Any) -> tuple[int | None, ...]:
    """The static shape as a tuple, ``None`` for dims known only at run time (the batch)."""
    if isinstance(x, G.Tensor):
        return tuple(x.shape if x._keras_shape is None else x._keras_shape)
    return tuple(np.shape(x))


def shape(x: Any) -> Tensor:
    """The *run-time* shape, as a tensor (use ``int_shape`` for the static one)."""
    return G.shape(x)


def ndim(x: Any) -> int:
    return len(int_shape(x))


def dtype(x: Any) -> str:
    return x.dtype if isinstance(x, G.Tensor) else np.asarray(x).dtype.name


def cast(x: Any, dtype: str) -> Tensor:
    return G.cast(x, dtype)


def reshape(x: Any, shape: Any) -> Tensor:
    return G.reshape(x, shape)


def transpose(x: Any) -> Tensor:
    return G.transpose(x)


def permute_dimensions(x: Any, pattern: Sequence[int]) -> Tensor:
    return G.transpose(x, tuple(pattern))


def expand_dims(x: Any, axis: int = -1) -> Tensor:
    return G.expand_dims(x, axis)


def squeeze(x: Any, axis: int) -> Tensor:
    return G.squeeze(x, axis)


def flatten(x: Any) -> Tensor:
    return G.reshape(x, (-1,))


def batch_flatten(x: Any) -> Tensor:
    """``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)``; the non-batch dims must be known."""
    x = G.as_tensor(x)
    rest = x.shape[1:]
    if None in rest:
        raise ValueError(
            f"batch_flatten needs the non-batch dimensions of {x.name} to be known; got {x.shape}"
        )
    return G.reshape(x, (-1, _pymath.prod(rest)))  # type: ignore[arg-type]


def concatenate(tensors: Sequence[Any], axis: int = -1) -> Tensor:
    return G.concatenate(list(tensors), axis)


def stack(x: Sequence[Any], axis: int = 0) -> Tensor:
    return G.stack(list(x), axis)


def tile(x: Any, n: Any) -> Tensor:
    x = G.as_tensor(x)
    if isinstance(n, int) and x.ndim > 1:
        n = (n,) + (1,) * (x.ndim - 1)
    return G.tile(x, n)


def repeat_elements(x: Any, rep: int, axis: int) -> Tensor:
    """Each slice along ``axis`` repeated ``rep`` times: ``[a, b] -> [a, a, b, b]``."""
    x = G.as_tensor(x)
    (axis,) = normalize_axes(axis, x.ndim, "repeat_elements")
    y = G.expand_dims(x, axis + 1)
    reps = [1] * y.ndim
    reps[axis + 1] = rep
    y = G.tile(y, reps)
    n = x.shape[axis]
    new = list(x.shape)
    new[axis] = None if n is None else n * rep
    if new.count(None) > 1:
        raise ValueError(f"repeat_elements: too many unknown dimensions in {x.shape}")
    return G.reshape(y, tuple(-1 if d is None else d for d in new))


def one_hot(indices: Any, num_classes: int) -> Tensor:
    return G.one_hot(indices, num_classes)


def gather(reference: Any, indices: Any) -> Tensor:
    return G.gather(reference, indices)


# --- math ---------------------------------------------------------------------------

dot = G.dot
abs = G.abs  # noqa: A001
exp = G.exp
log = G.log
square = G.square
sign = G.sign
round = G.round  # noqa: A001
maximum = G.maximum
minimum = G.minimum
equal = G.equal
not_equal = G.not_equal
greater = G.greater
greater_equal = G.greater_equal
less = G.less
less_equal = G.less_equal


def batch_dot(x: Any, y: Any, axes: Any = None) -> Tensor:
    return G.batch_dot(x, y, axes)


def bias_add(x: Any, bias: Any, data_format: str | None = None) -> Tensor:
    return G.bias_add(x, bias, data_format=normalize_data_format(data_format))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return G.sum(x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    x = G.as_tensor(x)
    if x.dtype == "bool":
        x = G.cast(x, floatx())
    return G.mean(x, axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return G.max(x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return G.min(x, axis, keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return G.prod(x, axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The (biased) variance: the mean squared distance to the mean."""
    x = G.as_tensor(x)
    m = G.mean(x, axis, keepdims=True)
    return G.mean(G.square(x - m), axis, keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return G.sqrt(var(x, axis, keepdims))


def argmax(x: Any, axis: int = -1) -> Tensor:
    return G.argmax(x, axis)


def argmin(x: Any, axis: int = -1) -> Tensor:
    return G.argmin(x, axis)


def sqrt(x: Any) -> Tensor:
    """Square root, after clipping below at 0 (as Keras does)."""
    return G.sqrt(clip(x, 0.0, np.inf))


def pow(x: Any, a: Any) -> Tensor:  # noqa: A001
    return G.pow(x, a)


def clip(x: Any, min_value: float | None, max_value: float | None) -> Tensor:
    """``x`` limited to ``[min_value, max_value]``; ``None`` means no limit on that side."""
    for name, bound in (("min_value", min_value), ("max_value", max_value)):
        if bound is not None and not isinstance(bound, (int, float, np.number)):
            raise TypeError(f"clip: {name} must be a number or None, got {bound!r} ({type(bound).__name__})")
    lo = -np.inf if min_value is None else min_value
    hi = np.inf if max_value is None else max_value
    if hi < lo:
        hi = lo  # Keras's rule
    return G.clip(x, lo, hi)


def switch(condition: Any, then_expression: Any, else_expression: Any) -> Tensor:
    """``then`` where ``condition`` holds, else ``else``; callables are called first.

    Both branches are computed (this is a ``where``, not an ``if``). A condition of lower
    rank is lined up with the *leading* axes of the branches, as in Keras.
    """
    then_t = then_expression() if callable(then_expression) else then_expression
    else_t = else_expression() if callable(else_expression) else else_expression
    then_t, else_t = G.as_tensors(then_t, else_t)
    cond = G.as_tensor(condition)
    rank = builtins.max(then_t.ndim, else_t.ndim)
    while 0 < cond.ndim < rank:
        cond = G.expand_dims(cond, -1)
    return G.where(cond, then_t, else_t)


def l2_normalize(x: Any, axis: Any = None) -> Tensor:
    """``x / sqrt(max(sum(x**2), 1e-12))``: Keras 2's (TensorFlow's) fixed epsilon on the
    squared norm, not ``K.epsilon()`` (which would shrink a tiny vector instead of scaling it
    to length 1)."""
    x = G.as_tensor(x)
    norm2 = G.sum(G.square(x), axis, keepdims=True)
    return x / G.sqrt(G.maximum(norm2, 1e-12))


def gradients(loss: Tensor, variables: Any) -> list[Tensor | None]:
    """Symbolic gradients, always a list; ``None`` for a variable the loss does not depend on.

    ``variables`` is a list or one tensor (as with Keras on TensorFlow): either way the
    result is a list, so ``K.gradients(loss, x)[0]`` is the gradient with respect to ``x``.
    """
    xs = list(variables) if isinstance(variables, (list, tuple)) else [variables]
    return G.gradients(loss, xs)


def stop_gradient(variables: Any) -> Any:
    """A tensor, or a *list* of tensors (Keras gave a lazy ``map``), that gradients skip."""
    if isinstance(variables, (list, tuple)):
        return [G.stop_gradient(v) for v in variables]
    return G.stop_gradient(variables)


def identity(x: Any, name: str | None = None) -> Tensor:
    return G.identity(x, name=name)


# --- Keras 2.2's further math -------------------------------------------------------

sin = G.sin
cos = G.cos


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` along ``axis``, computed after subtracting the max (no overflow)."""
    x = G.as_tensor(x)
    m = G.stop_gradient(G.max(x, axis, keepdims=True))
    total = G.log(G.sum(G.exp(x - m), axis, keepdims=keepdims))
    return total + (m if keepdims else G.stop_gradient(G.max(x, axis, keepdims=False)))


def cumsum(x: Any, axis: int = 0) -> Tensor:
    return G.cumsum(x, axis)


def cumprod(x: Any, axis: int = 0) -> Tensor:
    return G.cumprod(x, axis)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether any element is non-zero (a bool tensor)."""
    return G.max(G.cast(x, "bool"), axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every element is non-zero (a bool tensor)."""
    return G.min(G.cast(x, "bool"), axis, keepdims)


def arange(start: int, stop: int | None = None, step: int = 1, dtype: str = "int32") -> Tensor:
    """``[start, start + step, ...]`` below ``stop``; ``arange(n)`` counts from 0 (a constant)."""
    if builtins.any(isinstance(v, G.Tensor) for v in (start, stop, step)):
        raise TypeError("arange: minikeras needs Python numbers for start, stop and step; for a "
                        "range as long as a tensor's batch, use K.cumsum(K.ones_like(...)) - 1.")
    if stop is None:
        start, stop = (0, start) if start >= 0 else (0, 0)
    return G.constant(np.arange(start, stop, step, dtype=dtype))


def reverse(x: Any, axes: Any) -> Tensor:
    """``x`` read backwards along ``axes`` (an int or a list of ints)."""
    x = G.as_tensor(x)
    axes = [axes] if isinstance(axes, int) else list(axes)
    key = tuple(slice(None, None, -1) if i in [a % x.ndim for a in axes] else slice(None)
                for i in range(x.ndim))
    return G.getitem(x, key)


def repeat(x: Any, n: int) -> Tensor:
    """``(batch, dim)`` to ``(batch, n, dim)``: each row repeated ``n`` times."""
    x = G.as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"repeat needs a 2D tensor (batch, dim); {x.name} has shape {x.shape}")
    return G.tile(G.expand_dims(x, 1), (1, n, 1))


def in_top_k(predictions: Any, targets: Any, k: int) -> Tensor:
    """Per row, whether ``targets`` (class ids) is among the ``k`` highest ``predictions``."""
    return G.in_top_k(predictions, targets, k)


def print_tensor(x: Any, message: str = "") -> Tensor:
    """``x`` unchanged, printed with ``message`` each time it is computed.

    Use the *returned* tensor: ``x = K.print_tensor(x, "x is")``. Nothing prints while the
    graph is built, only when a run needs the value.
    """
    return G.print_value(x, message)


def get_variable_shape(x: Any) -> tuple[int | None, ...]:
    return int_shape(x)
