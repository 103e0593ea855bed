"""Tasks ``tanh_backward`` and ``sigmoid_backward``: a primitive's gradient
(``Tanh.backward`` and ``Sigmoid.backward`` in ``minikeras/graph/ops/nn.py``).

``backward(gy)`` returns ``[gx]``: ``gy`` times the derivative, written with graph ops, so
that the gradient is a graph that can be differentiated again (order 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given

from minikeras import graph as G
from minikeras.testing import arrays, broadcastable_shapes, check_gradients, shapes


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -x))


class Activation(NamedTuple):
    name: str
    op: Callable[[G.Tensor], G.Tensor]
    derivative: Callable[[np.ndarray], np.ndarray]
    at_zero: float


TANH = Activation("tanh", G.tanh, lambda x: 1 - np.tanh(x) ** 2, 1.0)
SIGMOID = Activation("sigmoid", G.sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)), 0.25)
BOTH = [pytest.param(TANH, marks=pytest.mark.task_tanh_backward, id="tanh"),
        pytest.param(SIGMOID, marks=pytest.mark.task_sigmoid_backward, id="sigmoid")]


def symbolic_gradient(act: Activation, x: np.ndarray, dtype: str = "float64") -> np.ndarray:
    """``d sum(act(x)) / dx`` from ``G.gradients``, run by the executor."""
    G.reset_default_graph()
    xs = G.placeholder(x.shape, dtype=dtype, name="x")
    (g,) = G.gradients(G.sum(act.op(xs)), [xs])
    assert g is not None, (
        f"expected a gradient for {act.name}'s input; received None.\nHint: backward must return "
        "[gx], a list with one Tensor, not [None].")
    (value,) = G.Plan([g], feeds=[xs]).run({xs: x.astype(dtype)})
    return np.asarray(value)


@pytest.mark.parametrize("act", BOTH)
@given(x=arrays(shapes(0, 3), -4.0, 4.0))
def test_first_derivative_at_random_points(act: Activation, x: np.ndarray) -> None:
    G.reset_default_graph()
    check_gradients(act.op, [x], names=["x"])


@pytest.mark.parametrize("act", BOTH)
@given(x=arrays(shapes(0, 2), -3.0, 3.0))
def test_second_derivative_at_random_points(act: Activation, x: np.ndarray) -> None:
    """Order 2 works only if backward is built from ops that have gradients themselves."""
    G.reset_default_graph()
    check_gradients(act.op, [x], order=2, names=["x"])


@pytest.mark.parametrize("act", BOTH)
@given(pair=broadcastable_shapes(), data=arrays((2,), -2.0, 2.0))
def test_chain_rule_inside_a_bigger_graph(act: Activation, pair: tuple[tuple[int, ...], ...],
                                          data: np.ndarray) -> None:
    """``act(x * w) * w``: ``gy`` is not all ones here, and both inputs need the gradient."""
    G.reset_default_graph()
    x = np.full(pair[0], data[0]) + np.linspace(-1, 1, int(np.prod(pair[0]))).reshape(pair[0])
    w = np.full(pair[1], data[1]) + 0.5
    check_gradients(lambda a, b: act.op(a * b) * b, [x, w], names=["x", "w"])
    check_gradients(lambda a, b: act.op(a * b) * b, [x, w], order=2, names=["x", "w"])


@pytest.mark.parametrize("act", BOTH)
def test_known_values(act: Activation) -> None:
    x = np.array([0.0, 1.0, -2.0])
    got, want = symbolic_gradient(act, x), act.derivative(x)
    assert got[0] == pytest.approx(act.at_zero), (
        f"expected d {act.name}(x)/dx = {act.at_zero} at x = 0; received {got[0]}")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=(
        f"d {act.name}(x)/dx at x = {x}: expected (left) the derivative, received (right)"))


@pytest.mark.parametrize("act", BOTH)
def test_saturated_inputs_give_finite_gradients(act: Activation) -> None:
    x = np.array([-800.0, -30.0, 30.0, 800.0])
    got = symbolic_gradient(act, x)
    assert np.all(np.isfinite(got)), (
        f"expected finite gradients of {act.name} at x = {x}; received {got}.\nHint: write the "
        f"derivative with the op's output self.y ({act.name}(x), always finite); exp(800) overflows.")
    np.testing.assert_allclose(got, act.derivative(x), atol=1e-12, err_msg=(
        f"d {act.name}(x)/dx at large |x|: expected (left) almost 0, received (right)"))


@pytest.mark.parametrize("act", BOTH)
def test_backward_returns_one_tensor_of_the_input_dtype(act: Activation) -> None:
    G.reset_default_graph()
    x = G.placeholder((2, 3), dtype="float32", name="x")
    y = act.op(x)
    gy = G.placeholder((2, 3), dtype="float32", name="gy")
    result = y.op.backward(gy)
    assert isinstance(result, (list, tuple)) and len(result) == 1, (
        f"{type(y.op).__name__}.backward(gy) must return a list with one entry per input ([gx]); "
        f"received {result!r}")
    (gx,) = result
    assert isinstance(gx, G.Tensor), (
        f"expected gx to be a Tensor built with graph ops (so it can be differentiated again); "
        f"received {type(gx).__name__}.\nHint: use self.y and gy with Tensor operators (*, -) "
        "or ops such as square, not NumPy functions.")
    assert gx.dtype == "float32" and tuple(gx.shape) == (2, 3), (
        f"expected gx like x (float32, shape (2, 3)); received {gx.dtype}, shape {gx.shape}.\n"
        "Hint: NumPy float64 constants promote float32 tensors; Python numbers (1 - y) do not.")
    value = symbolic_gradient(act, np.array([0.5, -1.5]), dtype="float32")
    assert value.dtype == np.float32, f"expected a float32 gradient value; received {value.dtype}"
