"""Task ``adam``: Adam's update as Keras 2 computes it (``Adam.get_updates`` in
``minikeras/optimizers.py``).

``get_updates(loss, params)`` *builds* one training step and returns its update ops;
nothing changes until ``K.function(..., updates=...)`` runs them. With ``t = iterations + 1``::

    lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)     # lr decayed first, if decay > 0
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    p = p - lr_t * m / (sqrt(v) + epsilon)                # amsgrad: vhat = max(vhat, v) for v

``self.weights`` is ``[iterations] + ms + vs + vhats`` (``get_weights`` and saving use it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minikeras import backend as K
from minikeras.optimizers import Adam
from minikeras.testing import arrays, shapes

pytestmark = pytest.mark.task_adam

HINT = ("Hint: t = iterations + 1 (as a float); lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t); "
        "epsilon is added to sqrt(v), the *uncorrected* v; use the new m and v (m_t, v_t) in the "
        "parameter update, and self._decayed(self.lr) for lr.")


def numpy_adam(params: list[np.ndarray], grad_fn: Any, steps: int, lr: float = 0.001,
               beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7, decay: float = 0.0,
               amsgrad: bool = False, clipvalue: float | None = None) -> list[list[np.ndarray]]:
    """The parameters after each step, by Keras 2's formulas, in float64."""
    params = [np.array(p, dtype=np.float64) for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    vhat = [np.zeros_like(p) for p in params]
    trajectory = []
    for iterations in range(steps):
        grads = grad_fn(params)
        if clipvalue is not None:
            grads = [np.clip(g, -clipvalue, clipvalue) for g in grads]
        t = iterations + 1
        lr_t = lr / (1.0 + decay * iterations) * np.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
        for i, g in enumerate(grads):
            m[i] = beta_1 * m[i] + (1.0 - beta_1) * g
            v[i] = beta_2 * v[i] + (1.0 - beta_2) * g**2
            vhat[i] = np.maximum(vhat[i], v[i])
            params[i] = params[i] - lr_t * m[i] / (np.sqrt(vhat[i] if amsgrad else v[i]) + epsilon)
        trajectory.append([p.copy() for p in params])
    return trajectory


class Quadratic:
    """``0.5 * sum(a * (p - target)**2)`` over some parameters: its gradient is ``a * (p - target)``."""

    def __init__(self, a: list[np.ndarray], target: list[np.ndarray]) -> None:
        self.a, self.target = a, target

    def loss(self, params: list[Any]) -> Any:
        terms = [0.5 * K.sum(K.constant(a) * K.square(p - K.constant(t)))
                 for p, a, t in zip(params, self.a, self.target)]
        return sum(terms[1:], terms[0])

    def grads(self, params: list[np.ndarray]) -> list[np.ndarray]:
        return [a * (p - t) for p, a, t in zip(params, self.a, self.target)]


def run_adam(opt: Adam, problem: Quadratic, p0: list[np.ndarray], steps: int) -> list[list[np.ndarray]]:
    params = [K.variable(p) for p in p0]
    updates = opt.get_updates(problem.loss(params), params)
    step = K.function([], [], updates=updates)
    trajectory = []
    for _ in range(steps):
        step([])
        trajectory.append([K.get_value(p) for p in params])
    return trajectory


def assert_same_trajectory(got: list[list[np.ndarray]], want: list[list[np.ndarray]], config: dict) -> None:
    for step, (g_params, w_params) in enumerate(zip(got, want)):
        for i, (g, w) in enumerate(zip(g_params, w_params)):
            np.testing.assert_allclose(g, w, rtol=2e-4, atol=1e-5, err_msg=(
                f"Adam({config}): parameter {i} after step {step + 1}: expected (left) Keras 2's "
                f"formula computed in NumPy, received (right) the variable's value.\n{HINT}"))


def quadratic(shape_list: list[tuple[int, ...]], seed: int) -> tuple[Quadratic, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    a = [rng.uniform(0.5, 3.0, s) for s in shape_list]
    target = [rng.uniform(-1.0, 1.0, s) for s in shape_list]
    p0 = [t + rng.choice([-1.0, 1.0], s) * rng.uniform(0.2, 1.5, s) for t, s in zip(target, shape_list)]
    return Quadratic(a, target), p0


configs = st.fixed_dictionaries({
    "lr": st.floats(1e-3, 0.3), "beta_1": st.floats(0.0, 0.95), "beta_2": st.floats(0.5, 0.999),
    "epsilon": st.floats(1e-7, 0.5), "decay": st.sampled_from([0.0, 0.1]), "amsgrad": st.booleans(),
})


# --- the tests ---------------------------------------------------------------------------


@given(config=configs, shape_list=st.lists(shapes(0, 2, max_side=3), min_size=1, max_size=3),
       seed=st.integers(0, 2**16))
def test_trajectory_matches_the_formula(config: dict, shape_list: list[tuple[int, ...]], seed: int) -> None:
    K.clear_session()
    problem, p0 = quadratic(shape_list, seed)
    got = run_adam(Adam(**config), problem, p0, steps=5)
    assert_same_trajectory(got, numpy_adam(p0, problem.grads, 5, **config), config)


@pytest.mark.parametrize("config", [
    {},  # the defaults
    {"lr": 0.05, "epsilon": 0.1},  # epsilon meets sqrt(v), not the paper's bias-corrected sqrt(v_hat)
    {"lr": 0.05, "decay": 0.2},  # lr / (1 + decay * iterations), iterations counted before the step
    {"lr": 0.3, "beta_2": 0.5, "amsgrad": True},  # vhat = max(vhat, v) divides instead of v
], ids=["defaults", "epsilon", "decay", "amsgrad"])
def test_fixed_configurations(config: dict) -> None:
    K.clear_session()
    problem, p0 = quadratic([(3,), (2, 2)], seed=0)
    got = run_adam(Adam(**config), problem, p0, steps=6)
    assert_same_trajectory(got, numpy_adam(p0, problem.grads, 6, **config), config)


@given(p0=arrays(shapes(1, 2), -2.0, 2.0, avoid=(0.0,), margin=0.1), lr=st.floats(1e-3, 0.5))
def test_the_first_step_moves_each_parameter_by_lr(p0: np.ndarray, lr: float) -> None:
    """At t = 1, m = (1 - beta_1) g and v = (1 - beta_2) g**2: the step is lr * sign(g)."""
    K.clear_session()
    problem = Quadratic([np.ones_like(p0)], [np.zeros_like(p0)])  # g = p
    (after,) = run_adam(Adam(lr=lr), problem, [p0], steps=1)[0]
    np.testing.assert_allclose(p0 - after, lr * np.sign(p0), rtol=1e-4, atol=1e-6, err_msg=(
        f"Adam(lr={lr}) first step: expected (left) every parameter to move by lr against its "
        f"gradient's sign, received (right) p0 - p1.\n{HINT}"))


def test_get_updates_builds_a_step_and_runs_nothing() -> None:
    K.clear_session()
    problem, p0 = quadratic([(3,)], seed=1)
    params = [K.variable(p) for p in p0]
    opt = Adam(lr=0.1)
    updates = opt.get_updates(problem.loss(params), params)
    assert isinstance(updates, list) and updates, (
        f"get_updates must return the list of update ops; received {updates!r}")
    assert K.get_value(opt.iterations) == 0 and np.allclose(K.get_value(params[0]), p0[0]), (
        "get_updates changed a variable: it must only build the update ops (K.update, K.update_add); "
        "K.function(..., updates=...) runs them.")
    step = K.function([], [], updates=updates)
    for k in range(1, 4):
        step([])
        assert K.get_value(opt.iterations) == k, (
            f"expected optimizer.iterations == {k} after {k} steps; received "
            f"{K.get_value(opt.iterations)}.\nHint: include K.update_add(self.iterations, 1).")


@pytest.mark.parametrize("amsgrad", [False, True])
def test_weights_are_iterations_then_m_v_vhat(amsgrad: bool) -> None:
    K.clear_session()
    problem, p0 = quadratic([(3,), (2, 2)], seed=2)
    opt = Adam(lr=0.1, amsgrad=amsgrad)
    run_adam(opt, problem, p0, steps=2)
    weights = opt.weights
    assert len(weights) == 1 + 3 * len(p0) and weights[0] is opt.iterations, (
        f"expected optimizer.weights = [iterations] + ms + vs + vhats ({1 + 3 * len(p0)} variables for "
        f"{len(p0)} parameters); received {[w.name for w in weights]}.\nHint: set self.weights; "
        "without amsgrad Keras 2 still makes one (unused) vhat of shape (1,) per parameter.")
    for k, what in [(1, "m"), (1 + len(p0), "v")]:
        value = K.get_value(weights[k])
        assert value.shape == p0[0].shape and not np.allclose(value, 0), (
            f"expected optimizer.weights[{k}] to be the first parameter's {what} (shape {p0[0].shape}, "
            f"changed by the steps); received shape {value.shape}, value {value}")


def test_gradients_come_from_get_gradients() -> None:
    """``self.get_gradients`` clips (``clipvalue``, ``clipnorm``) and rejects unreachable parameters."""
    K.clear_session()
    problem = Quadratic([np.full(3, 50.0)], [np.zeros(3)])
    p0 = [np.array([1.0, -2.0, 0.5])]
    got = run_adam(Adam(lr=0.1, clipvalue=0.5), problem, p0, steps=4)
    want = numpy_adam(p0, problem.grads, 4, lr=0.1, clipvalue=0.5)
    assert_same_trajectory(got, want, {"lr": 0.1, "clipvalue": 0.5})
    K.clear_session()
    used, unused = K.variable(np.ones(2)), K.variable(np.ones(2))
    with pytest.raises(ValueError, match="None"):
        Adam().get_updates(K.sum(K.square(used)), [used, unused])
