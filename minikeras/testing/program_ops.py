"""The ops a random ``Program`` is made of: each one built with the public ``K`` API and
computed again, independently, in plain NumPy.

An entry also says when it may be drawn (``plan``: its parameters and the shape of its
second operand, or ``None`` if it does not fit the first one) and when its derivative is
defined (``safe``): away from the kinks of ``relu``, ``abs``, ``clip``, ties in ``max``...
The mistake this guards against is a fuzzer that reports its own ill-posed questions: at a
kink with no derivative, central differences and any gradient legitimately disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from minikeras import backend as K

__all__ = ["ELEMENTWISE", "KINK_MARGIN", "LOSSES", "REDUCTIONS", "OpSpec"]

Shape = tuple[int, ...]
Params = dict[str, Any]
# What ``plan`` returns: the op's parameters and the shape wanted for its second operand.
Planned = tuple[Params, "Shape | None"]

KINK_MARGIN = 1e-3
"""How far from a kink a value must stay: far beyond the finite-difference step (1e-6)."""


@dataclass(frozen=True)
class OpSpec:
    """One op of the fuzzer: ``keras(*tensors, **params)`` and ``numpy(*arrays, **params)``
    compute the same thing; ``plan(draw, x)`` draws parameters for a first operand ``x``;
    ``safe(*arrays, **params)`` says the derivative is defined at these values."""

    keras: Callable[..., Any]
    numpy: Callable[..., Any]
    plan: Callable[[st.DrawFn, np.ndarray], Planned | None]
    safe: Callable[..., bool] = lambda *a, **p: True
    arity: int = 1


def _far(v: Any, *kinks: float) -> bool:
    v = np.asarray(v)
    return all(bool(np.all(np.abs(v - k) >= KINK_MARGIN)) for k in kinks)


def _no_params(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    return {}, None


def _if(test: Callable[[np.ndarray], bool]) -> Callable[[st.DrawFn, np.ndarray], Planned | None]:
    """A parameterless op that fits ``x`` when ``test(x)`` holds."""
    return lambda draw, x: ({}, None) if test(x) else None


def _axis(draw: st.DrawFn, rank: int, extra: int = 0) -> int:
    """An axis of a rank-``rank`` array (``extra=1``: also one past the end), maybe negative."""
    n = rank + extra
    return draw(st.integers(-n, n - 1))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    m = z.max(axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis, keepdims=True))


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.exp(_log_softmax(z, axis))


# --- elementwise ----------------------------------------------------------------------


def _unary(keras: Callable[..., Any], numpy: Callable[..., Any],
           fits: Callable[[np.ndarray], bool] = lambda x: True, *kinks: float) -> OpSpec:
    return OpSpec(keras, numpy, _if(fits), (lambda x: _far(x, *kinks)) if kinks else (lambda x: True))


def _relu_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    """Plain, leaky (``alpha``) or capped (``max_value``), as Keras 2's ``K.relu``."""
    return {"alpha": draw(st.sampled_from([0.0, 0.1])), "max_value": draw(st.sampled_from([None, 1.0]))}, None


def _relu_np(x: np.ndarray, alpha: float, max_value: float | None) -> np.ndarray:
    y = np.where(x > 0, x, alpha * x)
    return y if max_value is None else np.minimum(y, max_value)


def _relu_safe(x: np.ndarray, alpha: float, max_value: float | None) -> bool:
    return _far(x, 0.0) and (max_value is None or _far(x, max_value))


def _elu_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    return {"alpha": draw(st.sampled_from([1.0, 0.5]))}, None


def _elu_np(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _pow_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    a = draw(st.sampled_from([2, 3, 0.5, -1.0]))
    if (a == 0.5 and not np.all(x >= 0.1)) or (a == -1.0 and not np.all(np.abs(x) >= 0.5)):
        return None
    return {"a": a}, None


def _clip_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    lo = draw(st.sampled_from([-1.0, -0.5, 0.0, None]))
    hi = draw(st.sampled_from([0.5, 1.0, 2.0, None]))
    return {"min_value": lo, "max_value": hi}, None


def _clip_np(x: np.ndarray, min_value: float | None, max_value: float | None) -> np.ndarray:
    return np.clip(x, -np.inf if min_value is None else min_value, np.inf if max_value is None else max_value)


def _clip_safe(x: np.ndarray, min_value: float | None, max_value: float | None) -> bool:
    return _far(x, *(b for b in (min_value, max_value) if b is not None))


def _softmax_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    return ({"axis": _axis(draw, x.ndim)}, None) if x.ndim else None


def _l2_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    return ({"axis": _axis(draw, x.ndim)}, None) if x.ndim else None


def _l2_np(x: np.ndarray, axis: int) -> np.ndarray:
    return x / np.sqrt(np.maximum(np.sum(x * x, axis, keepdims=True), 1e-12))


def _l2_safe(x: np.ndarray, axis: int) -> bool:
    return bool(np.all(np.sum(x * x, axis) >= 0.01))


def _binary_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    """A second operand that broadcasts with ``x``: a tail of its shape with some sides 1,
    or ``x``'s shape under extra leading axes (so either side may be the one stretched)."""
    shape = x.shape
    rank = draw(st.integers(0, len(shape)))
    tail = tuple(1 if draw(st.booleans()) else d for d in shape[len(shape) - rank:])
    if len(shape) < 3 and draw(st.integers(0, 3)) == 0:
        tail = (draw(st.integers(1, 3)),) + shape
    return {}, tail


def _binary(keras: Callable[..., Any], numpy: Callable[..., Any],
            safe: Callable[..., bool] = lambda a, b: True) -> OpSpec:
    return OpSpec(keras, numpy, _binary_plan, safe, arity=2)


def _apart(a: np.ndarray, b: np.ndarray) -> bool:
    return _far(a - b, 0.0)


ELEMENTWISE: dict[str, OpSpec] = {
    "tanh": _unary(K.tanh, np.tanh),
    "sigmoid": _unary(K.sigmoid, _sigmoid),
    "softplus": _unary(K.softplus, lambda x: np.logaddexp(0.0, x)),
    "softsign": _unary(K.softsign, lambda x: x / (1 + np.abs(x)), lambda x: True, 0.0),
    "relu": OpSpec(K.relu, _relu_np, _relu_plan, _relu_safe),
    "elu": OpSpec(K.elu, _elu_np, _elu_plan, lambda x, alpha: _far(x, 0.0)),
    "hard_sigmoid": _unary(K.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1), lambda x: True, -2.5, 2.5),
    "abs": _unary(K.abs, np.abs, lambda x: True, 0.0),
    "negative": _unary(lambda x: -x, np.negative),
    # Large logits (a confident sample) for the cross-entropies, softplus, sigmoid, softmax.
    "scale": OpSpec(lambda x, c: x * c, lambda x, c: x * c,
                    lambda draw, x: ({"c": draw(st.sampled_from([-20.0, 0.1, 20.0]))}, None)),
    "square": _unary(K.square, np.square),
    "exp": _unary(K.exp, np.exp, lambda x: bool(np.all(x <= 2.5))),
    "log": _unary(K.log, np.log, lambda x: bool(np.all(x >= 0.1))),
    "sqrt": _unary(K.sqrt, np.sqrt, lambda x: bool(np.all(x >= 0.1))),
    "pow": OpSpec(K.pow, lambda x, a: np.power(x, a), _pow_plan),
    "clip": OpSpec(K.clip, _clip_np, _clip_plan, _clip_safe),
    "softmax": OpSpec(K.softmax, _softmax, _softmax_plan),
    "l2_normalize": OpSpec(K.l2_normalize, _l2_np, _l2_plan, _l2_safe),
    "add": _binary(lambda a, b: a + b, np.add),
    "subtract": _binary(lambda a, b: a - b, np.subtract),
    "multiply": _binary(lambda a, b: a * b, np.multiply),
    "divide": _binary(lambda a, b: a / b, np.divide, lambda a, b: bool(np.all(np.abs(b) >= 0.5))),
    "maximum": _binary(K.maximum, np.maximum, _apart),
    "minimum": _binary(K.minimum, np.minimum, _apart),
}


# --- reductions -----------------------------------------------------------------------


def _reduce_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    """``axis``: ``None``, one axis or a list of distinct axes (negative ones too)."""
    kind = draw(st.sampled_from(["none", "one", "list"])) if x.ndim else "none"
    if kind == "none":
        axis: Any = None
    elif kind == "one":
        axis = _axis(draw, x.ndim)
    else:
        picked = draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True))
        axis = [a - x.ndim if draw(st.booleans()) else a for a in picked]
    return {"axis": axis, "keepdims": draw(st.booleans())}, None


def _np_axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(keras: Callable[..., Any], numpy: Callable[..., Any],
               safe: Callable[..., bool] = lambda x, axis, keepdims: True) -> OpSpec:
    return OpSpec(keras, lambda x, axis, keepdims: numpy(x, axis=_np_axis(axis), keepdims=keepdims),
                  _reduce_plan, safe)


def _top_two_apart(x: np.ndarray, axis: Any, keepdims: bool, sign: float = 1.0) -> bool:
    """No tie for the extreme value in any reduced slice (its gradient would be ambiguous)."""
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in np.atleast_1d(axis))
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    rows = np.transpose(sign * x, rest + axes).reshape(math.prod(x.shape[a] for a in rest), -1)
    if rows.shape[1] < 2:
        return True
    top = np.sort(rows, axis=1)[:, -2:]
    return bool(np.all(top[:, 1] - top[:, 0] >= KINK_MARGIN))


def _var_big(x: np.ndarray, axis: Any, keepdims: bool) -> bool:
    return bool(np.all(np.var(x, axis=_np_axis(axis)) >= 0.01))


REDUCTIONS: dict[str, OpSpec] = {
    "sum": _reduction(K.sum, np.sum),
    "mean": _reduction(K.mean, np.mean),
    "max": _reduction(K.max, np.max, _top_two_apart),
    "min": _reduction(K.min, np.min, lambda x, axis, keepdims: _top_two_apart(x, axis, keepdims, -1.0)),
    "prod": _reduction(K.prod, np.prod),
    "var": _reduction(K.var, np.var),
    "std": _reduction(K.std, np.std, _var_big),
}


# --- activations' cross-entropies and other losses ------------------------------------
# Targets are constants drawn with the op; every loss reduces the last axis per sample.


def _like(target: np.ndarray, x: Any) -> np.ndarray:
    """The target in ``x``'s dtype, as a Keras model's ``y_true`` placeholder would be."""
    return np.asarray(target, dtype=K.dtype(x))


def _probabilities(draw: st.DrawFn, shape: Shape, one_hot: bool) -> np.ndarray:
    n = shape[-1]
    if one_hot:
        rows = math.prod(shape[:-1])
        ids = draw(st.lists(st.integers(0, n - 1), min_size=rows, max_size=rows))
        return np.eye(n)[ids].reshape(shape)
    w = np.array(draw(st.lists(st.integers(0, 4), min_size=math.prod(shape), max_size=math.prod(shape))),
                 dtype=np.float64).reshape(shape) + 0.5
    return w / w.sum(-1, keepdims=True)


def _cce_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if not x.ndim:
        return None
    return {"target": _probabilities(draw, x.shape, draw(st.booleans())), "how": draw(st.sampled_from(
        ["logits", "softmax", "probabilities"]))}, None


def _cce_keras(x: Any, target: np.ndarray, how: str) -> Any:
    if how == "logits":
        return K.categorical_crossentropy(_like(target, x), x, from_logits=True)
    return K.categorical_crossentropy(_like(target, x), K.softmax(x) if how == "softmax" else K.sigmoid(x))


def _cce_np(x: np.ndarray, target: np.ndarray, how: str) -> np.ndarray:
    if how != "probabilities":
        return -np.sum(target * _log_softmax(x), -1)
    p = _sigmoid(x)
    p = np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    return -np.sum(target * np.log(p), -1)


def _cce_safe(x: np.ndarray, target: np.ndarray, how: str) -> bool:
    if how != "probabilities":
        return True
    p = _sigmoid(x)
    p = p / p.sum(-1, keepdims=True)
    return bool(np.all((p > 2e-7) & (p < 1 - 2e-7)))


def _sparse_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if not x.ndim:
        return None
    size = math.prod(x.shape[:-1])
    ids = np.array(draw(st.lists(st.integers(0, x.shape[-1] - 1), min_size=size, max_size=size)))
    return {"target": ids.reshape(x.shape[:-1]), "from_logits": draw(st.booleans())}, None


def _sparse_keras(x: Any, target: np.ndarray, from_logits: bool) -> Any:
    output = x if from_logits else K.softmax(x)
    return K.sparse_categorical_crossentropy(target, output, from_logits=from_logits)


def _sparse_np(x: np.ndarray, target: np.ndarray, from_logits: bool) -> np.ndarray:
    picked = np.take_along_axis(_log_softmax(x), target[..., None], -1)
    return -picked[..., 0]


def _bce_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    size = math.prod(x.shape)
    t = draw(st.lists(st.sampled_from([0.0, 1.0, 0.25, 0.5, 0.9]), min_size=size, max_size=size))
    return {"target": np.array(t).reshape(x.shape), "how": draw(st.sampled_from(
        ["logits", "sigmoid", "probabilities"]))}, None


def _bce_keras(x: Any, target: np.ndarray, how: str) -> Any:
    if how == "logits":
        return K.binary_crossentropy(_like(target, x), x, from_logits=True)
    # "probabilities" are not a Sigmoid op's output: the clipped path, kept inside (0.05, 0.95).
    output = K.sigmoid(x) if how == "sigmoid" else 0.5 + 0.45 * K.tanh(x)
    return K.binary_crossentropy(_like(target, x), output)


def _bce_np(x: np.ndarray, target: np.ndarray, how: str) -> np.ndarray:
    if how == "probabilities":
        p = np.clip(0.5 + 0.45 * np.tanh(x), 1e-7, 1 - 1e-7)
        return -(target * np.log(p) + (1 - target) * np.log1p(-p))
    return np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x)))


def _regression_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    if not x.ndim:
        return None
    size = math.prod(x.shape)
    t = draw(st.lists(st.sampled_from([-1.0, 1.0, 0.5, 2.0, -1.5]), min_size=size, max_size=size))
    return {"target": np.array(t).reshape(x.shape)}, None


def _hinge_plan(draw: st.DrawFn, x: np.ndarray) -> Planned | None:
    planned = _regression_plan(draw, x)
    return None if planned is None else ({"target": np.sign(planned[0]["target"])}, None)


LOSSES: dict[str, OpSpec] = {
    "categorical_crossentropy": OpSpec(_cce_keras, _cce_np, _cce_plan, _cce_safe),
    "sparse_categorical_crossentropy": OpSpec(_sparse_keras, _sparse_np, _sparse_plan),
    "binary_crossentropy": OpSpec(_bce_keras, _bce_np, _bce_plan),
    "mean_squared_error": OpSpec(lambda x, target: K.mean(K.square(x - _like(target, x)), axis=-1),
                                 lambda x, target: np.mean((x - target) ** 2, -1), _regression_plan),
    "mean_absolute_error": OpSpec(lambda x, target: K.mean(K.abs(x - _like(target, x)), axis=-1),
                                  lambda x, target: np.mean(np.abs(x - target), -1), _regression_plan,
                                  lambda x, target: _far(x - target, 0.0)),
    "hinge": OpSpec(lambda x, target: K.mean(K.maximum(1.0 - _like(target, x) * x, 0.0), axis=-1),
                    lambda x, target: np.mean(np.maximum(1 - target * x, 0), -1), _hinge_plan,
                    lambda x, target: _far(1 - target * x, 0.0)),
}
