"""Keras 2.2's training extras: Adadelta, Adamax and Nadam step by step against their Keras 2
formulas written again in NumPy, lower-case initializers, top-k accuracies, and the
serialize/deserialize pairs of metrics and losses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import initializers, losses, metrics, optimizers
from minikeras.optimizers import Adadelta, Adamax, Nadam

P0 = [np.array([1.0, -2.0, 0.5]), np.array([[0.3, -0.7], [1.5, 2.0]])]
A = [np.array([1.0, 3.0, 0.2]), np.array([[2.0, 0.5], [1.0, 4.0]])]
T = [np.array([0.0, 1.0, -1.0]), np.array([[1.0, 0.0], [-1.0, 0.5]])]
STEPS = 8


def grads_of(params: list[np.ndarray]) -> list[np.ndarray]:
    return [a * (p - t) for p, a, t in zip(params, A, T)]


def minikeras_trajectory(optimizer: Any) -> list[list[np.ndarray]]:
    params = [K.variable(p) for p in P0]
    loss = sum(0.5 * K.sum(K.constant(a) * K.square(p - K.constant(t))) for p, a, t in zip(params, A, T))
    step = K.function([], [loss], updates=optimizer.get_updates(loss, params))
    out = []
    for _ in range(STEPS):
        step([])
        out.append([K.get_value(p) for p in params])
    return out


def adadelta_numpy(lr=1.0, rho=0.95, eps=1e-7, decay=0.0):
    ps = [p.copy() for p in P0]
    acc, dacc = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    out = []
    for it in range(STEPS):
        lr_t = lr / (1 + decay * it)
        for i, g in enumerate(grads_of(ps)):
            acc[i] = rho * acc[i] + (1 - rho) * g**2
            update = g * np.sqrt(dacc[i] + eps) / np.sqrt(acc[i] + eps)
            ps[i] = ps[i] - lr_t * update
            dacc[i] = rho * dacc[i] + (1 - rho) * update**2
        out.append([p.copy() for p in ps])
    return out


def adamax_numpy(lr=0.002, b1=0.9, b2=0.999, eps=1e-7, decay=0.0):
    ps = [p.copy() for p in P0]
    m, u = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    out = []
    for it in range(STEPS):
        t = it + 1
        lr_t = lr / (1 + decay * it) / (1 - b1**t)
        for i, g in enumerate(grads_of(ps)):
            m[i] = b1 * m[i] + (1 - b1) * g
            u[i] = np.maximum(b2 * u[i], np.abs(g))
            ps[i] = ps[i] - lr_t * m[i] / (u[i] + eps)
        out.append([p.copy() for p in ps])
    return out


def nadam_numpy(lr=0.002, b1=0.9, b2=0.999, eps=1e-7, schedule_decay=0.004):
    ps = [p.copy() for p in P0]
    m, v = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    m_schedule = 1.0
    out = []
    for it in range(STEPS):
        t = it + 1
        mu_t = b1 * (1 - 0.5 * 0.96 ** (t * schedule_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * schedule_decay))
        m_schedule_new = m_schedule * mu_t
        m_schedule_next = m_schedule * mu_t * mu_next
        m_schedule = m_schedule_new
        for i, g in enumerate(grads_of(ps)):
            g_prime = g / (1 - m_schedule_new)
            m[i] = b1 * m[i] + (1 - b1) * g
            m_prime = m[i] / (1 - m_schedule_next)
            v[i] = b2 * v[i] + (1 - b2) * g**2
            v_prime = v[i] / (1 - b2**t)
            m_bar = (1 - mu_t) * g_prime + mu_next * m_prime
            ps[i] = ps[i] - lr * m_bar / (np.sqrt(v_prime) + eps)
        out.append([p.copy() for p in ps])
    return out


CASES = [
    ("adadelta_defaults", lambda: Adadelta(), lambda: adadelta_numpy()),
    ("adadelta", lambda: Adadelta(lr=0.5, rho=0.8, epsilon=1e-3, decay=0.1),
     lambda: adadelta_numpy(0.5, 0.8, 1e-3, 0.1)),
    ("adamax_defaults", lambda: Adamax(), lambda: adamax_numpy()),
    ("adamax", lambda: Adamax(lr=0.1, beta_1=0.8, beta_2=0.9, epsilon=0.01, decay=0.05),
     lambda: adamax_numpy(0.1, 0.8, 0.9, 0.01, 0.05)),
    ("nadam_defaults", lambda: Nadam(), lambda: nadam_numpy()),
    ("nadam", lambda: Nadam(lr=0.05, beta_1=0.8, beta_2=0.9, epsilon=0.01, schedule_decay=0.1),
     lambda: nadam_numpy(0.05, 0.8, 0.9, 0.01, 0.1)),
]


@pytest.mark.parametrize("name, make, reference", CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_keras_2_formulas(name, make, reference):
    got, want = minikeras_trajectory(make()), reference()
    for step, (g_params, w_params) in enumerate(zip(got, want)):
        for g, w in zip(g_params, w_params):
            np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-6, err_msg=f"{name} after step {step + 1}")


def test_new_optimizers_by_name_and_config_round_trip():
    for name, cls in (("adadelta", Adadelta), ("adamax", Adamax), ("nadam", Nadam)):
        opt = optimizers.get(name)
        assert type(opt) is cls
        again = optimizers.deserialize(optimizers.serialize(opt))
        assert again.get_config() == opt.get_config()
    assert Nadam().get_config()["schedule_decay"] == 0.004
    assert float(K.get_value(Adamax().lr)) == pytest.approx(0.002)
    assert float(K.get_value(Adadelta().lr)) == pytest.approx(1.0)
    assert optimizers.nadam is Nadam and optimizers.adadelta is Adadelta


def test_lower_case_initializers():
    assert (initializers.zeros()((2, 3)) == 0).all() and (initializers.ones()((2,)) == 1).all()
    np.testing.assert_array_equal(initializers.constant(3.0)((2,)), [3.0, 3.0])
    np.testing.assert_array_equal(initializers.identity()((3, 3)), np.eye(3))
    q = initializers.orthogonal(seed=1)((4, 4))
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-5)
    u = initializers.uniform(-1.0, 1.0, seed=2)((100,))
    assert -1.0 <= u.min() and u.max() < 1.0
    assert initializers.normal is initializers.RandomNormal and initializers.zero is initializers.Zeros
    assert initializers.truncated_normal is initializers.TruncatedNormal


def test_top_k_categorical_accuracies():
    y_pred = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]], dtype="float32")
    y_true = np.eye(3, dtype="float32")[[2, 1, 0]]
    np.testing.assert_array_equal(K.eval(metrics.top_k_categorical_accuracy(K.constant(y_true),
                                                                            K.constant(y_pred), k=2)), [1, 0, 0])
    np.testing.assert_array_equal(K.eval(metrics.top_k_categorical_accuracy(K.constant(y_true),
                                                                            K.constant(y_pred), k=3)), [1, 1, 1])
    ids = K.constant(np.array([[2], [1], [0]]))
    np.testing.assert_array_equal(K.eval(metrics.sparse_top_k_categorical_accuracy(ids, K.constant(y_pred), k=2)),
                                  [1, 0, 0])
    assert metrics.get("top_k_categorical_accuracy") is metrics.top_k_categorical_accuracy


def test_metrics_and_losses_serialize_and_deserialize():
    assert metrics.serialize(metrics.categorical_accuracy) == "categorical_accuracy"
    assert metrics.deserialize("categorical_accuracy") is metrics.categorical_accuracy
    assert metrics.deserialize(metrics.serialize(metrics.mse)) is losses.mean_squared_error
    assert losses.serialize(losses.get("mse")) == "mean_squared_error"
    assert losses.deserialize("mean_squared_error") is losses.mean_squared_error

    def my_loss(y_true, y_pred):
        return K.mean(y_pred - y_true, axis=-1)

    assert losses.deserialize("my_loss", custom_objects={"my_loss": my_loss}) is my_loss
    assert metrics.deserialize("my_loss", custom_objects={"my_loss": my_loss}) is my_loss
    with pytest.raises(ValueError, match="Unknown loss function"):
        losses.deserialize("no_such_loss")
