"""Every differentiable primitive, checked three ways: forward against NumPy, the gradient
against central differences, and (Hessian-vector products) the gradient of the gradient.

Each op is one ``OpCase`` (MyGrad's "uber" factory, reduced): how to build it, its NumPy
reference, and a strategy drawing ``(arrays, kwargs)`` inside its smooth domain; ``kink``
rejects the draws too close to a point with no derivative.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minikeras import graph as G
from minikeras.testing import (
    Expression,
    arrays,
    broadcastable_shapes,
    check_gradients,
    expression_graphs,
    shapes,
)

array_strategy = arrays  # with_axis's argument named ``arrays`` shadows it
Arrays = tuple[np.ndarray, ...]
RandomGraph = tuple[Expression, list[np.ndarray]]
Example = tuple[Arrays, dict[str, Any]]


@dataclass(frozen=True)
class OpCase:
    """One primitive under test: ``op(*placeholders, **kw)`` against ``ref(*arrays, **kw)``."""

    name: str
    op: Callable[..., G.Tensor]
    ref: Callable[..., np.ndarray]
    examples: st.SearchStrategy[Example]
    kink: Callable[..., bool] | None = None
    order2: bool = True
    tol: dict[str, float] = field(default_factory=dict)
    marks: tuple[Any, ...] = ()


# --- example strategies -------------------------------------------------------------

ANY: dict[str, Any] = {}
POSITIVE: dict[str, Any] = {"min_value": 0.1, "max_value": 5.0}
NONZERO: dict[str, Any] = {"avoid": (0.0,), "margin": 0.1}


@st.composite
def elementwise(draw: st.DrawFn, *domains: dict[str, Any], max_dims: int = 3) -> Example:
    """One array per domain, with mutually broadcastable shapes."""
    group = draw(broadcastable_shapes(len(domains), 0, max_dims))
    return tuple(draw(arrays(s, **d)) for s, d in zip(group, domains)), {}


def unary(**domain: Any) -> st.SearchStrategy[Example]:
    return elementwise(domain)


@st.composite
def with_axis(draw: st.DrawFn, min_dims: int = 1, arrays: int = 1, **domain: Any) -> Example:
    """``arrays`` arrays of one shape and one ``axis`` of it (negative half of the time)."""
    shape = draw(shapes(min_dims, 3))
    values = tuple(draw(array_strategy(shape, **domain)) for _ in range(arrays))
    return values, {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def splits(draw: st.DrawFn) -> Example:
    """An array whose ``axis`` divides into ``num`` pieces (1 to 3)."""
    shape = list(draw(shapes(1, 3, 1, 3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    num = draw(st.integers(1, 3))
    shape[axis] *= num
    return (draw(arrays(tuple(shape))),), {"num": num, "axis": axis}


def split_use(pieces: list[Any], axis: int, square: Callable[[Any], Any], join: Callable[..., Any]) -> Any:
    """The pieces squared and weighted, all but the last when there are several: the last piece
    gets no gradient at all (a ``None`` part), the others gradients that depend on ``x``."""
    kept = pieces[:max(1, len(pieces) - 1)]
    return join([square(p) * (k + 1.0) for k, p in enumerate(kept)], axis)


@st.composite
def reductions(draw: st.DrawFn, **domain: Any) -> Example:
    """An array, ``axis`` (None, an int or a tuple, possibly empty) and ``keepdims``."""
    shape = draw(shapes(0, 3))
    ndim = len(shape)
    axis = None
    if ndim and draw(st.booleans()):
        some = st.lists(st.integers(-ndim, ndim - 1), unique_by=lambda a: a % ndim).map(tuple)
        axis = draw(st.one_of(st.integers(-ndim, ndim - 1), some))
    return (draw(arrays(shape, **domain)),), {"axis": axis, "keepdims": draw(st.booleans())}


def too_close(a: np.ndarray, b: np.ndarray, gap: float = 1e-4) -> bool:
    """``a`` and ``b`` tie somewhere (a kink of ``maximum``, ``minimum``)."""
    return bool(np.any(np.abs(a - b) < gap))


@st.composite
def matmuls(draw: st.DrawFn, batched: bool) -> Example:
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, 1, 2, 1, 3)) if batched else ((), ())
    return (draw(arrays(batch_a + (m, k))), draw(arrays(batch_b + (k, n)))), {}


@st.composite
def dots(draw: st.DrawFn) -> Example:
    """Keras ``dot`` operands: ``x`` is ``(..., k)``, ``y`` is ``(..., k, n)``, ranks >= 2."""
    k = draw(st.integers(1, 3))
    x_shape = draw(shapes(1, 2, 1, 3)) + (k,)
    y_shape = draw(shapes(0, 2, 1, 3)) + (k, draw(st.integers(1, 3)))
    return (draw(arrays(x_shape)), draw(arrays(y_shape))), {}


# (x shape, y shape, axes) in letters: b batch; k contracted.
BATCH_DOT_LAYOUTS = [
    ("bk", "bk", None),
    ("bmk", "bkn", None),
    ("bk", "bkn", (1, 1)),
    ("bmk", "bnk", (2, 2)),
    ("bmk", "bk", (2, 1)),
    ("bpmk", "bkn", None),
    ("bkm", "bkn", 1),
]


@st.composite
def batch_dots(draw: st.DrawFn) -> Example:
    xs, ys, axes = draw(st.sampled_from(BATCH_DOT_LAYOUTS))
    size = {c: draw(st.integers(1, 3)) for c in "bkmnp"}
    x, y = (draw(arrays(tuple(size[c] for c in s))) for s in (xs, ys))
    return (x, y), {"axes": axes}


def batch_dot_ref(x: np.ndarray, y: np.ndarray, axes: Any) -> np.ndarray:
    """Per sample, contract axis ``ax`` of ``x`` with ``ay`` of ``y``; rank 1 becomes ``(b, 1)``."""
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 2 if y.ndim > 2 else y.ndim - 1)
    elif isinstance(axes, int):
        axes = (axes, axes)
    out = np.stack([np.tensordot(a, b, axes=(axes[0] - 1, axes[1] - 1)) for a, b in zip(x, y)])
    return out.reshape(-1, 1) if out.ndim == 1 else out


@st.composite
def bias_adds(draw: st.DrawFn) -> Example:
    """Ranks 2-5, both data formats, a bias per channel or per position (rank ``ndim - 1``)."""
    shape = draw(shapes(2, 5, 1, 3))
    data_format = draw(st.sampled_from(["channels_last", "channels_first"]))
    channels = shape[-1] if data_format == "channels_last" else shape[1]
    if draw(st.booleans()):
        bias_shape: tuple[int, ...] = (channels,)
    elif data_format == "channels_last":
        bias_shape = shape[1:]
    else:  # Keras stores it channels-last
        bias_shape = shape[2:] + (channels,)
    return (draw(arrays(shape)), draw(arrays(bias_shape))), {"data_format": data_format}


def bias_add_ref(x: np.ndarray, b: np.ndarray, data_format: str) -> np.ndarray:
    if data_format == "channels_last" or x.ndim == 2:
        return x + b
    if b.ndim == 1:
        return x + b.reshape((1, -1) + (1,) * (x.ndim - 2))
    # Keras moves the channel axis with a reshape (not a transpose); so does minikeras.
    return x + b.reshape((1, b.shape[-1]) + b.shape[:-1])


@st.composite
def transposes(draw: st.DrawFn) -> Example:
    shape = draw(shapes(0, 4))
    perm = draw(st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple)))
    return (draw(arrays(shape)),), {"perm": perm}


@st.composite
def reshapes(draw: st.DrawFn) -> Example:
    shape = draw(shapes(0, 3))
    size = math.prod(shape)
    splits = [(d, size // d) for d in range(1, size + 1) if size % d == 0]
    targets = [(-1,), (size,), shape[::-1], (1, *shape), (size, 1), *splits]
    target = list(draw(st.sampled_from(targets)))
    if target and draw(st.booleans()):  # let the op infer one side
        target[draw(st.integers(0, len(target) - 1))] = -1
    return (draw(arrays(shape)),), {"shape": tuple(target)}


@st.composite
def expand_dims_examples(draw: st.DrawFn) -> Example:
    shape = draw(shapes(0, 3))
    return (draw(arrays(shape)),), {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def squeezes(draw: st.DrawFn) -> Example:
    base = list(draw(shapes(0, 2, 2, 3)))
    ones = draw(st.lists(st.integers(0, len(base)), min_size=1, max_size=2))
    for pos in sorted(ones, reverse=True):
        base.insert(pos, 1)
    unit = [i for i, d in enumerate(base) if d == 1]
    axes = draw(st.lists(st.sampled_from(unit), min_size=1, unique=True))
    axes = [a - len(base) if draw(st.booleans()) else a for a in axes]
    return (draw(arrays(tuple(base))),), {"axis": tuple(axes)}


@st.composite
def concatenates(draw: st.DrawFn) -> Example:
    shape = draw(shapes(1, 3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    parts = []
    for _ in range(draw(st.integers(2, 3))):
        s = list(shape)
        s[axis] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(s))))
    return tuple(parts), {"axis": axis}


@st.composite
def stacks(draw: st.DrawFn) -> Example:
    shape = draw(shapes(0, 3))
    parts = tuple(draw(arrays(shape)) for _ in range(draw(st.integers(1, 3))))
    return parts, {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def tiles(draw: st.DrawFn) -> Example:
    shape = draw(shapes(1, 3, 1, 3))
    reps = tuple(draw(st.integers(1, 3)) for _ in shape)
    return (draw(arrays(shape)),), {"reps": reps}


@st.composite
def slices(draw: st.DrawFn) -> Example:
    shape = draw(shapes(1, 3, 1, 4))
    key = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return (draw(arrays(shape)),), {"key": key}


# The slicing idioms people actually write; the shape is (3, 4, 2) or bigger.
FIXED_KEYS = [
    (slice(1, None), slice(None, None, 2)),
    (Ellipsis, 0),
    (None, slice(None), 1),
    (slice(None), None, slice(None, None, -1)),
    -1,
    (slice(-2, None), Ellipsis, None),
]


@st.composite
def fixed_slices(draw: st.DrawFn) -> Example:
    shape = (draw(st.integers(3, 4)), draw(st.integers(4, 5)), 2)
    return (draw(arrays(shape)),), {"key": draw(st.sampled_from(FIXED_KEYS))}


@st.composite
def gathers(draw: st.DrawFn) -> Example:
    params_shape = draw(shapes(1, 3, 1, 4))
    idx_shape = draw(shapes(0, 2, 1, 4))
    indices = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(0, params_shape[0] - 1)))
    return (draw(arrays(params_shape)),), {"indices": indices}  # repeated rows must add up


@st.composite
def sums_to(draw: st.DrawFn) -> Example:
    """``(g, x)`` where ``x``'s shape broadcasts to ``g``'s (``g`` is the bigger one)."""
    small, _ = draw(broadcastable_shapes(2, 0, 3))
    full = np.broadcast_shapes(small, _)
    lead = draw(shapes(0, 1, 1, 3))
    return (draw(arrays(lead + full)), draw(arrays(small))), {}


def sum_to_ref(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    lead = g.ndim - x.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(x.shape) if d == 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(x.shape)


@st.composite
def windows(draw: st.DrawFn, kernel: bool) -> Example:
    """NHWC input, a window that fits it, strides and padding; ``kernel`` adds conv weights."""
    n, h, w, c = draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["valid", "same"]))
    size = (draw(st.integers(1, min(h, 3))), draw(st.integers(1, min(w, 3))))
    strides = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if kernel:
        x = draw(arrays((n, h, w, c)))
        k = draw(arrays((*size, c, draw(st.integers(1, 2)))))
        return (x, k), {"strides": strides, "padding": padding}
    mode = draw(st.sampled_from(["max", "avg"]))
    # Distinct values: no ties inside a max window.
    x = draw(arrays((n, h, w, c), distinct=True, margin=0.01))
    return (x,), {"pool_size": size, "strides": strides, "padding": padding, "pool_mode": mode}


def _padded(x: np.ndarray, size: tuple[int, int], strides: tuple[int, int], padding: str,
            fill: float) -> tuple[np.ndarray, tuple[int, int]]:
    """``x`` padded by TensorFlow's rule (odd extra pixel after), and the output size."""
    pads, out = [], []
    for n, k, s in zip(x.shape[1:3], size, strides):
        o = -(-n // s) if padding == "same" else (n - k) // s + 1
        total = max((o - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
        out.append(o)
    return np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=fill), (out[0], out[1])


def conv2d_ref(x: np.ndarray, k: np.ndarray, strides: tuple[int, int], padding: str) -> np.ndarray:
    xp, (oh, ow) = _padded(x, k.shape[:2], strides, padding, 0.0)
    kh, kw = k.shape[:2]
    y = np.zeros((x.shape[0], oh, ow, k.shape[3]))
    for p in range(oh):
        for q in range(ow):
            window = xp[:, p * strides[0]:p * strides[0] + kh, q * strides[1]:q * strides[1] + kw]
            y[:, p, q] = np.einsum("nijc,ijcd->nd", window, k)
    return y


def pool2d_ref(x: np.ndarray, pool_size: tuple[int, int], strides: tuple[int, int], padding: str,
               pool_mode: str) -> np.ndarray:
    xp, (oh, ow) = _padded(x, pool_size, strides, padding, np.nan)  # NaN marks padding
    y = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for p in range(oh):
        for q in range(ow):
            window = xp[:, p * strides[0]:p * strides[0] + pool_size[0],
                        q * strides[1]:q * strides[1] + pool_size[1]]
            y[:, p, q] = (np.nanmax if pool_mode == "max" else np.nanmean)(window, axis=(1, 2))
    return y


def relu_ref(x: np.ndarray, alpha: float = 0.0, max_value: float | None = None) -> np.ndarray:
    y = np.where(x > 0, x, alpha * x)
    return y if max_value is None else np.minimum(y, max_value)


def softmax_ref(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_ref(x: np.ndarray, axis: int) -> np.ndarray:
    return np.log(softmax_ref(x, axis))


def elu_ref(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


@st.composite
def wheres(draw: st.DrawFn) -> Example:
    c_shape, a_shape, b_shape = draw(broadcastable_shapes(3, 0, 3))
    cond = draw(hnp.arrays(np.bool_, c_shape))
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {"cond": cond}


def _reduce(fn: Callable[..., G.Tensor]) -> Callable[..., G.Tensor]:
    return lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims)


# --- the cases ------------------------------------------------------------------------

CASES = [
    # arithmetic, with broadcasting
    OpCase("add", G.add, np.add, elementwise(ANY, ANY)),
    OpCase("subtract", G.subtract, np.subtract, elementwise(ANY, ANY)),
    OpCase("multiply", G.multiply, np.multiply, elementwise(ANY, ANY)),
    OpCase("divide", G.divide, np.divide, elementwise(ANY, {"avoid": (0.0,), "margin": 0.5})),
    OpCase("pow", G.pow, np.power,
           elementwise({"min_value": 0.5, "max_value": 2.5}, {"min_value": -2.0, "max_value": 2.0})),
    OpCase("pow_constant_exponent", lambda x: x**3.0, lambda x: x**3.0, unary(min_value=-2.0, max_value=2.0)),
    OpCase("maximum", G.maximum, np.maximum, elementwise(ANY, ANY), kink=too_close),
    OpCase("minimum", G.minimum, np.minimum, elementwise(ANY, ANY), kink=too_close),
    OpCase("where", lambda a, b, cond: G.where(cond, a, b), lambda a, b, cond: np.where(cond, a, b),
           wheres()),
    OpCase("add_n", lambda *xs: G.add_n(list(xs)), lambda *xs: sum(xs[1:], xs[0]),
           elementwise(ANY, ANY, ANY)),
    # unary math
    OpCase("negative", G.negative, np.negative, unary()),
    OpCase("exp", G.exp, np.exp, unary()),
    OpCase("log", G.log, np.log, unary(**POSITIVE)),
    OpCase("sqrt", G.sqrt, np.sqrt, unary(**POSITIVE)),
    OpCase("square", G.square, np.square, unary()),
    OpCase("abs", G.abs, np.abs, unary(**NONZERO)),
    OpCase("sign", G.sign, np.sign, unary(**NONZERO)),
    OpCase("clip", lambda x: G.clip(x, -1.0, 1.5), lambda x: np.clip(x, -1.0, 1.5),
           unary(min_value=-2.5, max_value=2.5, avoid=(-1.0, 1.5), margin=0.1)),
    OpCase("identity", G.identity, lambda x: x, unary()),
    OpCase("cast_float32_roundtrip", lambda x: G.cast(G.cast(x, "float32"), "float64"),
           lambda x: x.astype(np.float32).astype(np.float64), unary(),
           # float32 rounding is noise of ~1e-7 per value: difference over a wide step.
           tol={"eps": 1e-2, "rtol": 1e-3, "atol": 1e-4}),
    # activations
    OpCase("relu", G.relu, relu_ref, unary(**NONZERO)),
    OpCase("relu_alpha", lambda x: G.relu(x, alpha=0.1), lambda x: relu_ref(x, 0.1), unary(**NONZERO)),
    OpCase("relu_max_value", lambda x: G.relu(x, max_value=1.5), lambda x: relu_ref(x, 0.0, 1.5),
           unary(avoid=(0.0, 1.5), margin=0.1)),
    OpCase("relu_alpha_max_value", lambda x: G.relu(x, alpha=0.2, max_value=1.0),
           lambda x: relu_ref(x, 0.2, 1.0), unary(avoid=(0.0, 1.0), margin=0.1)),
    OpCase("elu", G.elu, lambda x: elu_ref(x, 1.0), unary(**NONZERO)),
    OpCase("elu_alpha", lambda x: G.elu(x, alpha=0.5), lambda x: elu_ref(x, 0.5), unary(**NONZERO)),
    OpCase("sigmoid", G.sigmoid, lambda x: 1 / (1 + np.exp(-x)), unary(min_value=-6.0, max_value=6.0)),
    OpCase("hard_sigmoid", G.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1),
           unary(min_value=-4.0, max_value=4.0, avoid=(-2.5, 2.5), margin=0.1)),
    OpCase("tanh", G.tanh, np.tanh, unary()),
    OpCase("softplus", G.softplus, lambda x: np.log1p(np.exp(x)), unary(min_value=-6.0, max_value=6.0)),
    # softsign's second derivative jumps at 0.
    OpCase("softsign", G.softsign, lambda x: x / (1 + np.abs(x)), unary(**NONZERO)),
    OpCase("softmax", G.softmax, softmax_ref, with_axis()),
    OpCase("log_softmax", G.log_softmax, log_softmax_ref, with_axis()),
    # labels that do not sum to 1 too: the fused gradient must not assume they do
    OpCase("softmax_cross_entropy_with_logits", G.softmax_cross_entropy_with_logits,
           lambda labels, logits, axis: -np.sum(labels * log_softmax_ref(logits, axis), axis=axis),
           with_axis(arrays=2)),
    # products
    OpCase("matmul_2d", G.matmul, np.matmul, matmuls(batched=False)),
    OpCase("matmul_batched", G.matmul, np.matmul, matmuls(batched=True)),
    OpCase("dot", G.dot, lambda x, y: np.tensordot(x, y, axes=([-1], [-2])), dots()),
    OpCase("batch_dot", G.batch_dot, batch_dot_ref, batch_dots()),
    OpCase("bias_add", G.bias_add, bias_add_ref, bias_adds()),
    OpCase("conv2d", G.conv2d, conv2d_ref, windows(kernel=True)),
    OpCase("pool2d", G.pool2d, pool2d_ref, windows(kernel=False)),
    # layout
    OpCase("transpose", G.transpose, lambda x, perm: np.transpose(x, perm), transposes()),
    OpCase("reshape", G.reshape, lambda x, shape: np.reshape(x, shape), reshapes()),
    OpCase("expand_dims", G.expand_dims, lambda x, axis: np.expand_dims(x, axis), expand_dims_examples()),
    OpCase("squeeze", G.squeeze, lambda x, axis: np.squeeze(x, axis), squeezes()),
    OpCase("concatenate", lambda *xs, axis: G.concatenate(list(xs), axis),
           lambda *xs, axis: np.concatenate(xs, axis), concatenates()),
    OpCase("stack", lambda *xs, axis: G.stack(list(xs), axis),
           lambda *xs, axis: np.stack(xs, axis), stacks()),
    OpCase("split", lambda x, num, axis: split_use(G.split(x, num, axis), axis, G.square, G.concatenate),
           lambda x, num, axis: split_use(np.split(x, num, axis), axis, np.square,
                                          lambda xs, a: np.concatenate(xs, a)),
           splits()),
    OpCase("tile", lambda x, reps: G.tile(x, reps), lambda x, reps: np.tile(x, reps), tiles()),
    OpCase("getitem", lambda x, key: x[key], lambda x, key: x[key], slices()),
    OpCase("getitem_idioms", lambda x, key: x[key], lambda x, key: x[key], fixed_slices()),
    OpCase("gather", G.gather, lambda p, indices: np.take(p, indices, axis=0), gathers()),
    OpCase("sum_to", G.sum_to, sum_to_ref, sums_to()),
    OpCase("broadcast_like", lambda x, g: G.broadcast_like(x, g),
           lambda x, g: np.broadcast_to(x, np.broadcast_shapes(x.shape, g.shape)),
           sums_to().map(lambda e: (e[0][::-1], e[1]))),
    # reductions
    OpCase("sum", _reduce(G.sum), np.sum, reductions()),
    OpCase("mean", _reduce(G.mean), np.mean, reductions()),
    OpCase("max", _reduce(G.max), np.max, reductions(distinct=True)),
    OpCase("min", _reduce(G.min), np.min, reductions(distinct=True)),
    # prod's gradient is prod / x: keep x away from 0.
    OpCase("prod", _reduce(G.prod), np.prod,
           reductions(min_value=-2.0, max_value=2.0, avoid=(0.0,), margin=0.3)),
]


def _params(cases: list[OpCase]) -> list[Any]:
    return [pytest.param(c, id=c.name, marks=c.marks) for c in cases]


def _placeholders(values: Arrays) -> list[G.Tensor]:
    return [G.placeholder(v.shape, dtype="float64", name=f"x{i}") for i, v in enumerate(values)]


def _draw(case: OpCase, data: st.DataObject) -> Example:
    values, kwargs = data.draw(case.examples, label=case.name)
    if case.kink is not None:
        assume(not case.kink(*values, **kwargs))
    return values, kwargs


@pytest.mark.parametrize("case", _params(CASES))
@given(data=st.data())
def test_forward_matches_numpy(case: OpCase, data: st.DataObject) -> None:
    values, kwargs = _draw(case, data)
    xs = _placeholders(values)
    y = case.op(*xs, **kwargs)
    (out,) = G.Plan([y], feeds=xs).run(dict(zip(xs, values)))
    expected = case.ref(*values, **kwargs)
    assert y.shape == np.shape(expected), "static shape rule disagrees with NumPy"
    assert out.shape == np.shape(expected) and out.dtype == np.dtype(y.dtype) == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", _params(CASES))
@given(data=st.data())
def test_gradient(case: OpCase, data: st.DataObject) -> None:
    values, kwargs = _draw(case, data)
    check_gradients(lambda *xs: case.op(*xs, **kwargs), values, **case.tol)


@pytest.mark.parametrize("case", _params([c for c in CASES if c.order2]))
@given(data=st.data())
def test_hessian_vector_product(case: OpCase, data: st.DataObject) -> None:
    values, kwargs = _draw(case, data)
    check_gradients(lambda *xs: case.op(*xs, **kwargs), values, order=2, **case.tol)


@given(expression_graphs())
def test_random_expression_graphs(graph: RandomGraph) -> None:
    expr, values = graph
    check_gradients(expr, values)


@given(expression_graphs(max_steps=6))
def test_random_expression_graphs_second_order(graph: RandomGraph) -> None:
    expr, values = graph
    check_gradients(expr, values, order=2)


# --- documented choices at the kinks ----------------------------------------------------


def _grad_values(y: G.Tensor, xs: list[G.Tensor], values: list[np.ndarray]) -> list[np.ndarray]:
    grads = G.gradients(y, xs)
    return G.Plan(grads, feeds=xs).run(dict(zip(xs, values)))


def test_max_splits_the_gradient_between_ties() -> None:
    x = G.placeholder((3,), dtype="float64")
    (g,) = _grad_values(G.max(x), [x], [np.array([1.0, 3.0, 3.0])])
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


def test_maximum_sends_a_tie_to_its_first_argument() -> None:
    a, b = G.placeholder((2,), dtype="float64"), G.placeholder((2,), dtype="float64")
    ga, gb = _grad_values(G.sum(G.maximum(a, b)), [a, b], [np.array([1.0, 2.0]), np.array([1.0, 0.0])])
    np.testing.assert_array_equal(ga, [1.0, 1.0])
    np.testing.assert_array_equal(gb, [0.0, 0.0])


def test_minimum_sends_a_tie_to_its_first_argument() -> None:
    a, b = G.placeholder((3,), dtype="float64"), G.placeholder((3,), dtype="float64")
    values = [np.array([1.0, 2.0, 0.5]), np.array([1.0, 0.0, 4.0])]  # a tie, b smaller, a smaller
    ga, gb = _grad_values(G.sum(G.minimum(a, b) * 3.0), [a, b], values)
    np.testing.assert_array_equal(ga, [3.0, 0.0, 3.0])
    np.testing.assert_array_equal(gb, [0.0, 3.0, 0.0])


def test_tile_with_zero_repetitions_has_a_zero_gradient() -> None:
    result = check_gradients(lambda t: G.tile(t, (0, 2)), [np.ones((2, 3))])
    assert result.symbolic[0] is None or not result.symbolic[0].any()


# --- unknown dimensions: the run-time-shape paths of the gradients ------------------------

UNKNOWN_BATCH = [
    ("mean", lambda x: G.mean(x, axis=0), (4, 3)),
    ("broadcast_add", lambda x: x + G.constant(np.arange(3.0)), (4, 3)),
    ("add_to_column", lambda x: x + G.sum(x, axis=1, keepdims=True), (4, 3)),
    ("reshape_flat", lambda x: G.tanh(G.reshape(x, (-1,))), (4, 3)),
    ("dot_3d", lambda x: G.dot(x, G.constant(np.ones((2, 3, 2)))), (4, 3)),
    ("batch_dot", lambda x: G.batch_dot(x, G.square(x), axes=(1, 1)), (4, 3)),
    ("bias_add", lambda x: G.bias_add(x, G.constant(np.arange(3.0))), (4, 3)),
    ("softmax_axis0", lambda x: G.softmax(x, axis=0), (4, 3)),
    ("concatenate", lambda x: G.concatenate([x, G.square(x)], axis=0), (4, 3)),
    ("slice", lambda x: x[1:, ::2], (4, 3)),
    ("tile", lambda x: G.tile(x, (2, 1)), (4, 3)),
    ("gather", lambda x: G.gather(x, np.array([0, 2, 2])), (4, 3)),
]


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize(("build", "shape"), [pytest.param(b, s, id=n) for n, b, s in UNKNOWN_BATCH])
def test_unknown_batch_dimension(build: Callable[..., G.Tensor], shape: tuple[int, ...], order: int) -> None:
    """A ``(None, ...)`` placeholder takes the run-time-shape paths (``ReshapeLike``, ...)."""
    def f(x: G.Tensor) -> G.Tensor:
        return G.tanh(build(x))  # non-linear, so the second-order gradients are not all 0

    value = np.random.default_rng(1).uniform(-1, 1, shape)
    unknown = check_gradients(f, [value], order=order, placeholder_shapes=[(None, *shape[1:])])
    known = check_gradients(f, [value], order=order)
    np.testing.assert_allclose(unknown.symbolic[0], known.symbolic[0], rtol=1e-12, atol=1e-12)


def test_dot_with_an_unknown_leading_dimension_of_y() -> None:
    x, y = G.placeholder((2, 3), dtype="float64"), G.placeholder((None, 3, 5), dtype="float64")
    assert G.dot(x, y).shape == (2, None, 5)
    values = [np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(-1, 1, 60).reshape(4, 3, 5)]
    check_gradients(G.dot, values, placeholder_shapes=[(2, 3), (None, 3, 5)])


def test_batch_dot_over_variable_length_sequences() -> None:
    """Attention scores ``batch_dot(q, k, axes=(2, 2))`` with ``(None, None, 4)`` queries."""
    values = list(np.random.default_rng(2).uniform(-1, 1, (2, 3, 2, 4)))
    check_gradients(lambda q, k: G.batch_dot(q, k, axes=(2, 2)), values,
                    placeholder_shapes=[(None, None, 4), (None, None, 4)])


# --- ops without a gradient ---------------------------------------------------------------

NON_DIFFERENTIABLE = [
    ("argmax", lambda x: G.argmax(x)),
    ("argmin", lambda x: G.argmin(x, axis=0)),
    ("round", lambda x: G.round(x)),
    ("equal", lambda x: G.equal(x, 0.5)),
    ("not_equal", lambda x: G.not_equal(x, x)),
    ("greater", lambda x: G.greater(x, 0.0)),
    ("greater_equal", lambda x: x >= 0.0),
    ("less", lambda x: x < 1.0),
    ("less_equal", lambda x: G.less_equal(x, x)),
    ("logical_and", lambda x: G.logical_and(x > 0.0, x < 1.0)),
    ("logical_or", lambda x: G.logical_or(x > 0.0, x < 1.0)),
    ("logical_not", lambda x: G.logical_not(x > 0.0)),
    ("one_hot", lambda x: G.one_hot(G.argmax(x), 3)),
    ("random_uniform", lambda x: G.random_uniform(G.shape(x), seed=1) * 0.0),
    ("random_normal", lambda x: G.random_normal(G.shape(x), seed=1) * 0.0),
]


@pytest.mark.parametrize("build", [pytest.param(b, id=n) for n, b in NON_DIFFERENTIABLE])
def test_non_differentiable_ops_say_so_and_pass_no_gradient(build: Callable[..., G.Tensor]) -> None:
    x = G.placeholder((2, 3), dtype="float64")
    y = build(x)
    blocked = [op for op in G.topo_sort([y]) if not op.differentiable]
    assert blocked, "expected an op with differentiable == False"
    with pytest.raises(G.NotDifferentiableError, match="not differentiable"):
        blocked[-1].backward(G.ones_like(blocked[-1].y))
    assert G.gradients(G.sum(G.cast(y, "float64")), [x]) == [None]


@pytest.mark.parametrize("like", [G.zeros_like, G.ones_like], ids=["zeros_like", "ones_like"])
def test_zeros_like_and_ones_like_pass_no_gradient(like: Callable[[G.Tensor], G.Tensor]) -> None:
    x = G.placeholder((2,), dtype="float64")
    assert G.gradients(G.sum(like(x)), [x]) == [None]
    result = check_gradients(lambda t: like(t) * t, [np.array([0.5, -1.0])])
    np.testing.assert_allclose(result.symbolic[0], result.numeric[0], atol=1e-8)


def test_stop_gradient_blocks_one_path_only() -> None:
    x = G.placeholder((3,), dtype="float64")
    value = np.array([1.0, -2.0, 0.5])
    assert G.gradients(G.sum(G.stop_gradient(x)), [x]) == [None]
    # d/dx sum(stop(x) * x) is stop(x) = x, not 2x: only the unstopped path counts.
    (g,) = _grad_values(G.sum(G.stop_gradient(x) * x), [x], [value])
    np.testing.assert_array_equal(g, value)
    (out,) = G.Plan([G.stop_gradient(x)], feeds=[x]).run({x: value})
    np.testing.assert_array_equal(out, value)


@pytest.mark.parametrize(("ta", "tb"), [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_transpose_flags(ta: bool, tb: bool) -> None:
    """MatMul(a, b, transpose_a/b) equals NumPy's product of the swapped inputs, order 1 and 2."""
    rng = np.random.default_rng(5)
    a = rng.uniform(-1, 1, (3, 2) if ta else (2, 3))
    b = rng.uniform(-1, 1, (4, 3) if tb else (3, 4))
    y = G.Plan([G.matmul(G.constant(a), G.constant(b), transpose_a=ta, transpose_b=tb)]).run()[0]
    np.testing.assert_allclose(y, (a.T if ta else a) @ (b.T if tb else b))
    for order in (1, 2):
        check_gradients(lambda p, q: G.tanh(G.matmul(p, q, transpose_a=ta, transpose_b=tb)), [a, b], order=order)
