"""Keras 2.2's backend functions beyond the seed set, checked against NumPy by hand.

New primitives (sin, cos, cumsum, cumprod) also have their symbolic gradients checked
against central differences, to first and second order.
"""

from __future__ import annotations

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import graph as G
from minikeras.testing import check_gradients


def run(y, feeds=None):
    return K.function(list(feeds or {}), [y])(list((feeds or {}).values()))[0]


def test_gradients_accepts_one_tensor_or_a_list():
    x = K.placeholder(shape=(None, 3))
    loss = K.sum(K.square(x))
    one, = K.gradients(loss, x)
    listed = K.gradients(loss, [x])
    assert isinstance(K.gradients(loss, x), list) and len(listed) == 1
    xv = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(run(one, {x: xv}), 2 * xv)


def test_logsumexp_is_stable_and_keeps_dims_on_request():
    xv = np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]], dtype="float32")
    x = K.constant(xv)
    np.testing.assert_allclose(K.eval(K.logsumexp(x, axis=1)), [1000 + np.log(2), np.log(4)], rtol=1e-6)
    assert K.int_shape(K.logsumexp(x, axis=1, keepdims=True)) == (2, 1)
    small = np.array([0.5, -1.0, 2.0])
    assert K.eval(K.logsumexp(K.constant(small))) == pytest.approx(np.log(np.exp(small).sum()), rel=1e-6)


def test_logsumexp_gradient_is_the_softmax():
    check_gradients(lambda x: K.logsumexp(x, axis=-1), [np.random.randn(3, 4)])


def test_relu_with_keras_2_2_arguments():
    xv = np.array([-2.0, -0.5, 0.5, 1.5, 3.0], dtype="float32")
    x = K.constant(xv)
    np.testing.assert_allclose(K.eval(K.relu(x)), np.maximum(xv, 0))
    np.testing.assert_allclose(K.eval(K.relu(x, alpha=0.1, max_value=2.0)),
                               np.minimum(np.where(xv > 0, xv, 0.1 * xv), 2.0))
    expected = np.minimum(np.where(xv >= 1.0, xv, 0.2 * (xv - 1.0)), 2.5)
    np.testing.assert_allclose(K.eval(K.relu(x, alpha=0.2, max_value=2.5, threshold=1.0)), expected,
                               rtol=1e-6)


def test_the_relu_activation_takes_a_threshold_too():
    from minikeras import activations

    xv = np.array([-1.0, 0.5, 2.0], dtype="float32")
    np.testing.assert_allclose(K.eval(activations.relu(K.constant(xv), alpha=0.5, threshold=1.0)),
                               [-1.0, -0.25, 2.0])


def test_cumsum_cumprod_default_axis_0():
    xv = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype="float32")
    x = K.constant(xv)
    np.testing.assert_allclose(K.eval(K.cumsum(x)), np.cumsum(xv, 0))
    np.testing.assert_allclose(K.eval(K.cumsum(x, axis=1)), np.cumsum(xv, 1))
    np.testing.assert_allclose(K.eval(K.cumprod(x)), np.cumprod(xv, 0))
    np.testing.assert_allclose(K.eval(K.cumprod(x, axis=-1)), np.cumprod(xv, -1))


@pytest.mark.parametrize("axis", [0, 1])
def test_cumsum_and_cumprod_gradients(axis):
    xv = np.random.uniform(0.5, 2.0, (3, 4))
    check_gradients(lambda x: K.cumsum(x, axis), [xv], order=2)
    check_gradients(lambda x: K.cumprod(x, axis), [xv], order=2)


def test_sin_cos_values_and_gradients():
    xv = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(K.eval(K.sin(K.constant(xv))), np.sin(xv), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(K.eval(K.cos(K.constant(xv))), np.cos(xv), rtol=1e-6, atol=1e-7)
    check_gradients(lambda x: K.sin(x) * K.cos(x), [np.random.randn(2, 3)], order=2)


def test_any_all_give_booleans():
    xv = np.array([[0, 0, 1], [1, 1, 1]], dtype="float32")
    assert K.eval(K.any(K.constant(xv))).item() is True
    assert K.eval(K.all(K.constant(xv))).item() is False
    np.testing.assert_array_equal(K.eval(K.any(K.constant(xv), axis=1)), [True, True])
    np.testing.assert_array_equal(K.eval(K.all(K.constant(xv), axis=1)), [False, True])
    assert K.dtype(K.all(K.constant(xv), axis=1, keepdims=True)) == "bool"


def test_arange_like_keras():
    np.testing.assert_array_equal(K.eval(K.arange(4)), [0, 1, 2, 3])
    np.testing.assert_array_equal(K.eval(K.arange(2, 10, 3)), [2, 5, 8])
    assert K.dtype(K.arange(3)) == "int32"
    assert K.eval(K.arange(-2)).shape == (0,)  # Keras: a negative stop alone gives nothing


def test_reverse_and_repeat():
    xv = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(K.eval(K.reverse(K.constant(xv), 1)), xv[:, ::-1])
    np.testing.assert_array_equal(K.eval(K.reverse(K.constant(xv), [0, 1])), xv[::-1, ::-1])
    r = K.repeat(K.constant(xv), 4)
    assert K.int_shape(r) == (2, 4, 3)
    np.testing.assert_array_equal(K.eval(r), np.repeat(xv[:, None, :], 4, axis=1))
    check_gradients(lambda x: K.reverse(x, 0) * K.constant(np.arange(6.0).reshape(2, 3)),
                    [np.random.randn(2, 3)])


def test_in_top_k_counts_ties_for_the_target():
    p = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.9, 0.05, 0.05]], dtype="float32")
    t = np.array([2, 0, 1])
    np.testing.assert_array_equal(K.eval(K.in_top_k(K.constant(p), K.constant(t), 1)), [False, False, False])
    np.testing.assert_array_equal(K.eval(K.in_top_k(K.constant(p), K.constant(t), 2)), [True, True, True])


def test_random_ops_take_shapes_mixing_ints_and_tensors():
    x = K.placeholder(shape=(None, 3))
    eps = K.random_normal(shape=(K.shape(x)[0], 5), mean=0.0, stddev=1.0)
    assert K.int_shape(eps) == (None, None)
    out = K.function([x], [eps])([np.zeros((7, 3))])[0]
    assert out.shape == (7, 5)
    u = K.random_uniform((K.shape(x)[0], 2), 3.0, 4.0)
    vals = K.function([x], [u])([np.zeros((4, 3))])[0]
    assert vals.shape == (4, 2) and (vals >= 3).all() and (vals < 4).all()


def test_truncated_normal_stays_within_two_stddev():
    v = K.eval(K.truncated_normal((2000,), mean=1.0, stddev=0.5, seed=3))
    assert v.shape == (2000,) and np.abs(v - 1.0).max() <= 1.0
    assert abs(v.mean() - 1.0) < 0.05 and 0.35 < v.std() < 0.5  # narrower than 0.5: tails are cut


def test_random_binomial_is_a_bernoulli_draw():
    v = K.eval(K.random_binomial((4000,), p=0.3, seed=1))
    assert set(np.unique(v)) <= {0.0, 1.0} and abs(v.mean() - 0.3) < 0.03
    assert K.dtype(K.random_binomial((2,), p=0.5)) == "float32"


def test_random_variables_and_their_shape():
    u = K.random_uniform_variable((3, 4), low=-1.0, high=1.0, seed=0)
    n = K.random_normal_variable((50, 40), mean=2.0, scale=0.1, seed=0)
    assert K.is_variable(u) and K.get_variable_shape(u) == (3, 4)
    assert np.abs(K.get_value(u)).max() < 1.0
    assert abs(K.get_value(n).mean() - 2.0) < 0.01
    np.testing.assert_array_equal(K.get_value(u), K.get_value(K.random_uniform_variable((3, 4), -1, 1, seed=0)))


def test_print_tensor_prints_when_run_and_passes_the_value(capsys, plain_runs):
    x = K.placeholder(shape=(2,))
    y = K.print_tensor(x * 2, message="twice x:")
    assert capsys.readouterr().out == ""  # building prints nothing
    f = K.function([x], [y + 1])
    np.testing.assert_allclose(f([np.array([1.0, 2.0])])[0], [3.0, 5.0])
    out = capsys.readouterr().out
    assert out.count("twice x:") == 1 and "[2. 4.]" in out
    check_gradients(lambda a: K.print_tensor(a, "") * a, [np.random.randn(3)])


def test_batch_normalization_and_normalize_batch_in_training():
    xv = np.random.randn(6, 3).astype("float32")
    gamma, beta = np.array([1.0, 2.0, 0.5], "float32"), np.array([0.0, 1.0, -1.0], "float32")
    normed, mean, var = K.normalize_batch_in_training(K.constant(xv), K.constant(gamma), K.constant(beta),
                                                      [0], epsilon=1e-3)
    m, v = xv.mean(0), xv.var(0)
    np.testing.assert_allclose(K.eval(mean), m, rtol=1e-5)
    np.testing.assert_allclose(K.eval(var), v, rtol=1e-4)
    np.testing.assert_allclose(K.eval(normed), (xv - m) / np.sqrt(v + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-5)
    bn = K.batch_normalization(K.constant(xv), K.constant(m), K.constant(v), None, None, epsilon=0.1)
    np.testing.assert_allclose(K.eval(bn), (xv - m) / np.sqrt(v + 0.1), rtol=1e-5, atol=1e-6)


def test_normalize_batch_over_a_leading_channel_axis():
    xv = np.random.randn(4, 2, 3).astype("float32")
    gamma = np.array([2.0, 3.0], "float32")
    normed, mean, _ = K.normalize_batch_in_training(K.constant(xv), K.constant(gamma), None, [0, 2])
    m, v = xv.mean((0, 2)), xv.var((0, 2))
    assert K.int_shape(mean) == (2,)
    expected = (xv - m[:, None]) / np.sqrt(v[:, None] + 1e-3) * gamma[:, None]
    np.testing.assert_allclose(K.eval(normed), expected, rtol=1e-4, atol=1e-5)


def test_backend_name_and_is_sparse():
    assert isinstance(K.backend(), str)
    assert K.is_sparse(K.placeholder(shape=(None, 3), sparse=True))
    assert not K.is_sparse(K.placeholder(shape=(None, 3)))
    assert G.cumsum is not None
