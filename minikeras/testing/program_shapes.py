"""The shape ops of a random ``Program`` (reshape, transpose, concatenate, tile, slicing,
gather, dot, batch_dot...), each built with ``K`` and computed again in plain NumPy.

Their gradients move values around without changing them, so the usual mistake they
catch is bookkeeping: a gradient summed back over the wrong axis, an axis counted from
the wrong end, a negative axis taken literally.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from minikeras import backend as K

from .program_ops import OpSpec, Planned

__all__ = ["SHAPE_OPS"]

MAX_SIZE = 36
"""No node grows past this many elements: finite differences cost two runs per element."""


def _axis(draw: st.DrawFn, rank: int, extra: int = 0) -> int:
    n = rank + extra
    return draw(st.integers(-n, n - 1))


def _factorizations(n: int, parts: int) -> list[tuple[int, ...]]:
    """Every way of writing ``n`` as an ordered product of ``parts`` factors."""
    if parts == 1:
        return [(n,)]
    return [(d,) + rest for d in range(1, n + 1) if n % d == 0 for rest in _factorizations(n // d, parts - 1)]


def _reshape_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    shape = list(draw(st.sampled_from(_factorizations(x.size, draw(st.integers(1, 3))))))
    if draw(st.booleans()):
        shape[draw(st.integers(0, len(shape) - 1))] = -1
    return {"shape": tuple(shape)}, None


def _permute_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if x.ndim < 2:
        return None
    return {"pattern": tuple(draw(st.permutations(range(x.ndim))))}, None


def _expand_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    return ({"axis": _axis(draw, x.ndim, 1)}, None) if x.ndim < 3 else None


def _squeeze_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    ones = [a for a, d in enumerate(x.shape) if d == 1]
    if not ones:
        return None
    a = draw(st.sampled_from(ones))
    return {"axis": a - x.ndim if draw(st.booleans()) else a}, None


def _concat_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if not x.ndim:
        return None
    axis = _axis(draw, x.ndim)
    other = list(x.shape)
    other[axis] = draw(st.integers(1, 3))
    return ({"axis": axis}, tuple(other)) if x.size + math.prod(other) <= MAX_SIZE else None


def _stack_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if x.ndim >= 3 or 2 * x.size > MAX_SIZE:
        return None
    return {"axis": _axis(draw, x.ndim, 1)}, x.shape


def _tile_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if not x.ndim:
        return None
    n = tuple(draw(st.lists(st.integers(1, 2), min_size=x.ndim, max_size=x.ndim)))
    return ({"n": n}, None) if x.size * math.prod(n) <= MAX_SIZE else None


def _repeat_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if not x.ndim:
        return None
    rep = draw(st.integers(1, 3))
    return ({"rep": rep, "axis": _axis(draw, x.ndim)}, None) if x.size * rep <= MAX_SIZE else None


def _slice_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    """A basic key: per axis a slice (any start, stop, step, negative ones too) or an index."""
    if not x.ndim:
        return None
    key: list[Any] = []
    for d in x.shape[:draw(st.integers(1, x.ndim))]:
        if draw(st.integers(0, 3)) == 0:
            key.append(draw(st.integers(-d, d - 1)))
            continue
        ends = st.none() | st.integers(-d - 1, d + 1)
        step = draw(st.none() | st.sampled_from([1, 2, -1, -2]))
        key.append(slice(draw(ends), draw(ends), step))
    if x.ndim < 3 and draw(st.integers(0, 3)) == 0:
        key.insert(draw(st.integers(0, len(key))), None)  # a new axis
    if draw(st.integers(0, 3)) == 0:  # anywhere if the key takes every axis, else last:
        covers = sum(k is not None for k in key) == x.ndim  # what follows it would shift
        key.insert(draw(st.integers(0, len(key))) if covers else len(key), Ellipsis)
    if np.asarray(x[tuple(key)]).size == 0:
        return None  # an empty slice has nothing to check
    return {"key": tuple(key)}, None


def _gather_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if not x.ndim:
        return None
    rows = x.size // x.shape[0]
    shape = draw(st.sampled_from([(1,), (2,), (3,), (2, 2)]))
    ids = draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=math.prod(shape), max_size=math.prod(shape)))
    if rows * len(ids) > MAX_SIZE:
        return None
    return {"indices": np.array(ids, dtype=np.int64).reshape(shape)}, None


def _dot_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    """``K.dot``'s second operand: ``(n, m)`` or ``(p, n, m)`` for an ``x`` of shape ``(..., n)``."""
    if x.ndim < 2:
        return None
    lead = (draw(st.integers(1, 2)),) if x.ndim == 2 and draw(st.booleans()) else ()
    return {}, lead + (x.shape[-1], draw(st.integers(1, 3)))


def _dot_np(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.tensordot(x, y, axes=([-1], [-2]))


def _batch_dot_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    """A second operand with the same batch (axis 0); ``axes`` default or drawn."""
    if not 2 <= x.ndim <= 3:
        return None
    y_rank = draw(st.integers(2, 3))
    if draw(st.booleans()):
        ax, ay = draw(st.integers(1, x.ndim - 1)), draw(st.integers(1, y_rank - 1))
        axes: Any = [ax, ay]
    else:
        axes, ax, ay = None, x.ndim - 1, (y_rank - 2 if y_rank > 2 else 1)
    y_shape = [x.shape[0]] + [draw(st.integers(1, 3)) for _ in range(y_rank - 1)]
    y_shape[ay] = x.shape[ax]
    return {"axes": axes}, tuple(y_shape)


def _batch_dot_np(x: np.ndarray, y: np.ndarray, axes: Any) -> np.ndarray:
    """Per sample, ``tensordot`` over the two named axes; a result of rank 1 becomes
    ``(batch, 1)`` (Keras 2)."""
    ax, ay = (x.ndim - 1, y.ndim - 2 if y.ndim > 2 else 1) if axes is None else axes
    out = np.stack([np.tensordot(x[b], y[b], axes=([ax - 1], [ay - 1])) for b in range(x.shape[0])])
    return out[:, None] if out.ndim == 1 else out


def _batch_dot_keras(x: Any, y: Any, axes: Any) -> Any:
    return K.batch_dot(x, y) if axes is None else K.batch_dot(x, y, axes=axes)


def _bias_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    """A bias of the last axis (Keras's channels_last) for an ``x`` of rank >= 2."""
    return ({}, x.shape[-1:]) if x.ndim >= 2 else None


def _switch_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    """A fixed condition of the leading axes (Keras lines it up with them), and an ``else``."""
    if not x.ndim:
        return None
    rank = draw(st.integers(1, x.ndim))
    size = math.prod(x.shape[:rank])
    cond = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))).reshape(x.shape[:rank])
    return {"condition": cond}, x.shape


def _switch_np(a: np.ndarray, b: np.ndarray, condition: np.ndarray) -> np.ndarray:
    return np.where(condition.reshape(condition.shape + (1,) * (a.ndim - condition.ndim)), a, b)


SHAPE_OPS: dict[str, OpSpec] = {
    "flatten": OpSpec(K.flatten, lambda x: np.reshape(x, -1), lambda draw, x: ({}, None)),
    "batch_flatten": OpSpec(K.batch_flatten, lambda x: np.reshape(x, (x.shape[0], -1)),
                            lambda draw, x: ({}, None) if x.ndim >= 2 else None),
    "bias_add": OpSpec(K.bias_add, lambda x, b: x + b, _bias_plan, arity=2),
    "switch": OpSpec(lambda a, b, condition: K.switch(condition, a, b), _switch_np, _switch_plan, arity=2),
    "reshape": OpSpec(K.reshape, lambda x, shape: np.reshape(x, shape), _reshape_plan),
    "transpose": OpSpec(K.transpose, np.transpose, lambda draw, x: ({}, None)),
    "permute_dimensions": OpSpec(K.permute_dimensions, lambda x, pattern: np.transpose(x, pattern),
                                 _permute_plan),
    "expand_dims": OpSpec(K.expand_dims, lambda x, axis: np.expand_dims(x, axis), _expand_plan),
    "squeeze": OpSpec(K.squeeze, lambda x, axis: np.squeeze(x, axis), _squeeze_plan),
    "concatenate": OpSpec(lambda a, b, axis: K.concatenate([a, b], axis=axis),
                          lambda a, b, axis: np.concatenate([a, b], axis), _concat_plan, arity=2),
    "stack": OpSpec(lambda a, b, axis: K.stack([a, b], axis=axis),
                    lambda a, b, axis: np.stack([a, b], axis), _stack_plan, arity=2),
    "tile": OpSpec(K.tile, lambda x, n: np.tile(x, n), _tile_plan),
    "repeat_elements": OpSpec(K.repeat_elements, lambda x, rep, axis: np.repeat(x, rep, axis), _repeat_plan),
    "slice": OpSpec(lambda x, key: x[key], lambda x, key: x[key], _slice_plan),
    "gather": OpSpec(lambda x, indices: K.gather(x, indices), lambda x, indices: x[indices], _gather_plan),
    "dot": OpSpec(K.dot, _dot_np, _dot_plan, arity=2),
    "batch_dot": OpSpec(_batch_dot_keras, _batch_dot_np, _batch_dot_plan, arity=2),
}
