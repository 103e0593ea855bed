"""``check_gradients`` must pass correct gradients and fail wrong ones with a message that
names the input, the element and both numbers.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from minikeras import graph as G
from minikeras.graph.ops.math import Binary
from minikeras.testing import check_gradients


class BrokenSquare(G.Op):
    """``x ** 2`` with the classic mistake in backward: the factor 2 is missing."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * x

    def backward(self, gy: G.Tensor) -> list[G.Tensor | None]:
        return [gy * self.inputs[0]]


class BrokenAdd(Binary):
    """``a + b`` whose backward forgets to undo broadcasting (no ``sum_to``)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, gy: G.Tensor) -> list[G.Tensor | None]:
        return [gy, gy]


class Double(G.Op):
    """``2 x`` whose backward returns ``gy`` instead of ``2 gy``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 2 * x

    def backward(self, gy: G.Tensor) -> list[G.Tensor | None]:
        return [gy]


class SquareWithBrokenSecondDerivative(G.Op):
    """``x ** 2``: backward is right in value (``gy * 2x``) but built with ``Double``, so
    differentiating the gradient again gives ``gy`` instead of ``2 gy``.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * x

    def backward(self, gy: G.Tensor) -> list[G.Tensor | None]:
        return [gy * Double.apply(self.inputs[0])]


def test_correct_gradient_passes_and_returns_values() -> None:
    x = np.array([0.5, -1.0, 2.0])
    result = check_gradients(lambda t: G.square(t), [x])
    # The output is not a scalar, so the derivative is of sum(y * R): 2 x R.
    assert result.order == 1
    np.testing.assert_allclose(result.output, x**2)
    np.testing.assert_allclose(result.symbolic[0], result.numeric[0], rtol=1e-6)


def test_scalar_output_is_not_projected() -> None:
    result = check_gradients(lambda t: G.sum(G.square(t)), [np.array([1.0, 2.0])])
    np.testing.assert_allclose(result.symbolic[0], [2.0, 4.0])


def test_several_inputs_and_broadcasting() -> None:
    a, b = np.arange(6.0).reshape(2, 3) / 5, np.array([0.3, -0.2, 1.1])
    result = check_gradients(lambda p, q: G.tanh(p * q + q), [a, b], names=["a", "b"])
    assert [s.shape for s in result.symbolic] == [(2, 3), (3,)]


def test_order_two_returns_hessian_vector_products() -> None:
    x = np.array([0.3, -0.7])
    # f = sum(x ** 3) has H = diag(6x); H v must match central differences.
    result = check_gradients(lambda t: G.sum(t * t * t), [x], order=2)
    assert result.order == 2
    np.testing.assert_allclose(result.symbolic[0], result.numeric[0], rtol=1e-6)


def test_wrong_gradient_fails_naming_input_index_and_both_numbers() -> None:
    x = np.array(3.0)
    with pytest.raises(AssertionError) as info:
        check_gradients(lambda t: BrokenSquare.apply(t), [x], names=["x"])
    message = str(info.value)
    assert "input 0 ('x'" in message
    assert "received derivative 3 " in message
    assert "expected 6" in message and "central difference" in message
    assert "eps=1e-06" in message


def test_failure_points_at_the_worst_element() -> None:
    x = np.array([[1.0, 2.0], [5.0, 3.0]])
    with pytest.raises(AssertionError) as info:
        check_gradients(lambda u, t: G.sum(BrokenSquare.apply(t)) + G.sum(u),
                        [np.zeros(2), x], names=["u", "w"])
    message = str(info.value)
    assert "input 1 ('w', shape (2, 2)) at index (1, 0)" in message
    assert "received derivative 5 " in message and "expected 10" in message
    assert "4 of 4 elements" in message


def test_forgotten_sum_to_is_reported_as_a_shape_error() -> None:
    with pytest.raises(AssertionError, match=r"input 1 .*shape \(3, 4\) but the input has shape \(4,\)"):
        check_gradients(lambda a, b: BrokenAdd.apply(a, b), [np.ones((3, 4)), np.ones(4)])


def test_unconnected_input_with_zero_derivative_passes() -> None:
    result = check_gradients(lambda a, b: G.exp(a), [np.ones(2), np.ones(3)])
    assert result.symbolic[1] is None
    np.testing.assert_array_equal(result.numeric[1], 0.0)


def test_blocked_input_with_nonzero_derivative_fails_saying_none() -> None:
    def f(a: G.Tensor, b: G.Tensor) -> G.Tensor:
        return a * G.stop_gradient(b)

    with pytest.raises(AssertionError, match=r"input 1 \('b'.*gradient was None"):
        check_gradients(f, [np.ones(3), np.ones(3)], names=["a", "b"])


def test_second_order_catches_what_first_order_cannot() -> None:
    x = np.array([0.5, -1.5])
    check_gradients(lambda t: SquareWithBrokenSecondDerivative.apply(t), [x])
    with pytest.raises(AssertionError) as info:
        check_gradients(lambda t: SquareWithBrokenSecondDerivative.apply(t), [x], order=2)
    message = str(info.value)
    assert "order 2" in message and "Hessian-vector product" in message
    received, expected = map(float, re.findall(r"received .*? (-?[\d.e+-]+) from .* expected (-?[\d.e+-]+)",
                                               message)[0])
    assert received == pytest.approx(expected / 2, rel=1e-4)


def test_failure_message_for_non_scalar_output_mentions_projection() -> None:
    with pytest.raises(AssertionError, match=r"sum\(f\(\.\.\.\) \* R\)"):
        check_gradients(lambda t: BrokenSquare.apply(t), [np.array([1.0, 2.0])])


def test_f_must_return_a_float_tensor() -> None:
    with pytest.raises(TypeError, match="floating-point Tensor"):
        check_gradients(lambda t: G.argmax(t), [np.ones((2, 3))])
    with pytest.raises(TypeError, match="floating-point Tensor"):
        check_gradients(lambda t: 3.0, [np.ones(2)])  # type: ignore[arg-type, return-value]


def test_placeholder_shapes_may_leave_dimensions_unknown() -> None:
    seen = []

    def f(t: G.Tensor) -> G.Tensor:
        seen.append(t.shape)
        return G.mean(G.square(t), axis=0)

    result = check_gradients(f, [np.ones((4, 3))], placeholder_shapes=[(None, 3)])
    assert seen == [(None, 3)]
    assert result.symbolic[0].shape == (4, 3)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="order"):
        check_gradients(G.exp, [np.ones(2)], order=3)
    with pytest.raises(ValueError, match="names"):
        check_gradients(G.exp, [np.ones(2)], names=["a", "b"])
    with pytest.raises(ValueError, match="shapes"):
        check_gradients(G.exp, [np.ones(2)], placeholder_shapes=[(2,), (2,)])
