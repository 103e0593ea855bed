"""Variables, placeholders, constants, and reading or writing their values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import graph as G
from .config import floatx


def _dtype(dtype: str | None) -> str:
    return np.dtype(dtype or floatx()).name


def variable(value: Any, dtype: str | None = None, name: str | None = None,
             constraint: Any = None) -> G.Variable:
    """A variable holding a copy of ``value`` (as ``floatx()`` unless ``dtype`` says otherwise)."""
    v = G.variable(np.asarray(value), dtype=_dtype(dtype), name=name)
    v._keras_shape = v.shape
    v._uses_learning_phase = False
    v.constraint = constraint
    return v


def placeholder(shape: Any = None, ndim: int | None = None, dtype: str | None = None,
                sparse: bool = False, name: str | None = None) -> G.Tensor:
    """A tensor to be fed: ``placeholder(shape=(None, 4))`` or ``placeholder(ndim=2)``."""
    if shape is None:
        if ndim is None:
            raise ValueError("Specify either a shape or ndim value.")
        shape = (None,) * ndim
    x = G.placeholder(tuple(shape), dtype=_dtype(dtype), name=name, sparse=sparse)
    x._keras_shape = x.shape
    x._uses_learning_phase = False
    return x


def constant(value: Any, dtype: str | None = None, shape: Any = None,
             name: str | None = None) -> G.Tensor:
    arr = np.asarray(value, dtype=_dtype(dtype))
    if shape is not None:
        arr = np.broadcast_to(arr, tuple(shape))
    return G.constant(arr, name=name)


def zeros(shape: Any, dtype: str | None = None, name: str | None = None) -> G.Variable:
    """A *variable* of zeros (as in Keras; ``zeros_like`` makes a tensor)."""
    return variable(np.zeros(shape), dtype=dtype, name=name)


def ones(shape: Any, dtype: str | None = None, name: str | None = None) -> G.Variable:
    return variable(np.ones(shape), dtype=dtype, name=name)


def eye(size: int, dtype: str | None = None, name: str | None = None) -> G.Variable:
    return variable(np.eye(size), dtype=dtype, name=name)


def zeros_like(x: Any, dtype: str | None = None, name: str | None = None) -> G.Tensor:
    y = G.zeros_like(x)
    return y if dtype is None else G.cast(y, dtype)


def ones_like(x: Any, dtype: str | None = None, name: str | None = None) -> G.Tensor:
    y = G.ones_like(x)
    return y if dtype is None else G.cast(y, dtype)


def random_uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0,
                   dtype: str | None = None, seed: int | None = None) -> G.Tensor:
    return G.random_uniform(shape, minval, maxval, dtype=_dtype(dtype), seed=seed)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0,
                  dtype: str | None = None, seed: int | None = None) -> G.Tensor:
    return G.random_normal(shape, mean, stddev, dtype=_dtype(dtype), seed=seed)


# --- values: every read goes through the executor -----------------------------------


def eval(x: G.Tensor) -> np.ndarray:  # noqa: A001 - the Keras name
    """The value of ``x``, computed now. Running an update op (``K.update``) applies it."""
    return np.asarray(G.Plan([x]).run()[0])


def get_value(x: G.Tensor) -> np.ndarray:
    return eval(x)


def batch_get_value(xs: Sequence[G.Tensor]) -> list[np.ndarray]:
    """Several values from *one* run: updates among them are applied together."""
    if not xs:
        return []
    return [np.asarray(v) for v in G.Plan(list(xs)).run()]


def set_value(x: G.Variable, value: Any) -> None:
    if not isinstance(x, G.Variable):
        raise TypeError(f"set_value needs a variable; {x!r} is not one (only variables hold state)")
    x.set_value(value)


def batch_set_value(tuples: Sequence[tuple[G.Variable, Any]]) -> None:
    """Set several variables; all values are checked before any is set."""
    checked = []
    for x, value in tuples:
        if not isinstance(x, G.Variable):
            raise TypeError(f"batch_set_value needs variables; {x!r} is not one")
        checked.append((x, x.checked(value)))
    for x, arr in checked:
        x.value = arr


def count_params(x: G.Tensor) -> int:
    """How many numbers ``x`` holds (Keras calls it on weights, whose shapes are known)."""
    dims = [d for d in x.shape if d is not None]
    if len(dims) != len(x.shape):
        raise ValueError(f"count_params: {x.name} has shape {x.shape}; its unknown dimensions "
                         "are only known when the graph runs.")
    return int(np.prod(dims))


# --- updates: ops that assign when run ----------------------------------------------


def update(x: G.Variable, new_x: Any) -> G.Tensor:
    """An op setting ``x`` to ``new_x`` when it runs (in ``K.function`` updates, or ``K.eval``)."""
    return G.assign(x, new_x)


def update_add(x: G.Variable, increment: Any) -> G.Tensor:
    return G.assign_add(x, increment)


def update_sub(x: G.Variable, decrement: Any) -> G.Tensor:
    return G.assign_sub(x, decrement)


def moving_average_update(x: G.Variable, value: Any, momentum: float) -> G.Tensor:
    """``x <- x * momentum + value * (1 - momentum)``, as the delta ``x -= (x - value) * (1 -
    momentum)`` (TensorFlow's form, no zero-debiasing): a layer shared by two inputs makes
    two such updates of one variable, and deltas add up."""
    return G.assign_sub(x, (x - G.as_tensor(value, x.dtype)) * (1.0 - momentum))


# --- what kind of thing is it? ------------------------------------------------------


def is_tensor(x: Any) -> bool:
    return isinstance(x, G.Tensor)


def is_keras_tensor(x: Any) -> bool:
    """True for tensors made by Keras layers (they carry ``_keras_history``)."""
    if not isinstance(x, G.Tensor):
        raise ValueError(
            "Unexpectedly found an instance of type `" + str(type(x)) + "`. "
            "Expected a symbolic tensor instance."
        )
    return x._keras_history is not None


def is_placeholder(x: Any) -> bool:
    return G.is_placeholder(x)


def is_variable(x: Any) -> bool:
    return G.is_variable(x)


def is_sparse(x: Any) -> bool:
    return bool(G.is_placeholder(x) and x.op.sparse)
