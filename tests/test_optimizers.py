"""Optimizers: every step of SGD, RMSprop, Adagrad and Adam against the Keras 2.2.4 formulas
written again in NumPy (keras-reference.md section 4), plus clipping, errors, configs, and
constraints."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import optimizers
from minikeras.optimizers import SGD, Adagrad, Adam, RMSprop

# --- the reference: Keras 2.2.4's update rules in NumPy ----------------------------------

DEFAULTS: dict[str, dict[str, Any]] = {
    "SGD": {"lr": 0.01, "momentum": 0.0, "decay": 0.0, "nesterov": False},
    "RMSprop": {"lr": 0.001, "rho": 0.9, "epsilon": 1e-7, "decay": 0.0},
    "Adagrad": {"lr": 0.01, "epsilon": 1e-7, "decay": 0.0},
    "Adam": {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "decay": 0.0,
             "amsgrad": False},
}


def numpy_trajectory(kind: str, config: dict[str, Any], params: list[np.ndarray],
                     grad_fn: Any, steps: int) -> list[list[np.ndarray]]:
    """The parameters after each of ``steps`` steps, by the Keras 2.2.4 formulas (float64)."""
    c = {**DEFAULTS[kind], **config}
    params = [np.array(p, dtype=np.float64) for p in params]
    zeros = [np.zeros_like(p) for p in params]
    m, v, vhat, acc = [z.copy() for z in zeros], [z.copy() for z in zeros], \
        [z.copy() for z in zeros], [z.copy() for z in zeros]
    trajectory = []
    for iterations in range(steps):
        grads = grad_fn(params)
        lr = c["lr"] * (1.0 / (1.0 + c["decay"] * iterations)) if c["decay"] > 0 else c["lr"]
        for i, (p, g) in enumerate(zip(params, grads)):
            if kind == "SGD":
                velocity = c["momentum"] * m[i] - lr * g
                m[i] = velocity
                params[i] = p + c["momentum"] * velocity - lr * g if c["nesterov"] else p + velocity
            elif kind == "RMSprop":
                acc[i] = c["rho"] * acc[i] + (1.0 - c["rho"]) * g**2
                params[i] = p - lr * g / (np.sqrt(acc[i]) + c["epsilon"])
            elif kind == "Adagrad":
                acc[i] = acc[i] + g**2
                params[i] = p - lr * g / (np.sqrt(acc[i]) + c["epsilon"])
            else:  # Adam: bias correction folded into lr_t, epsilon on the uncorrected sqrt(v)
                t = iterations + 1
                lr_t = lr * np.sqrt(1.0 - c["beta_2"] ** t) / (1.0 - c["beta_1"] ** t)
                m[i] = c["beta_1"] * m[i] + (1.0 - c["beta_1"]) * g
                v[i] = c["beta_2"] * v[i] + (1.0 - c["beta_2"]) * g**2
                if c["amsgrad"]:
                    vhat[i] = np.maximum(vhat[i], v[i])
                    params[i] = p - lr_t * m[i] / (np.sqrt(vhat[i]) + c["epsilon"])
                else:
                    params[i] = p - lr_t * m[i] / (np.sqrt(v[i]) + c["epsilon"])
        trajectory.append([p.copy() for p in params])
    return trajectory


CASES: dict[str, tuple[type, dict[str, Any]]] = {
    "sgd": (SGD, {"lr": 0.1}),
    "sgd_momentum": (SGD, {"lr": 0.1, "momentum": 0.9}),
    "sgd_nesterov": (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd_decay": (SGD, {"lr": 0.1, "momentum": 0.5, "decay": 0.3}),
    "rmsprop_defaults": (RMSprop, {}),
    "rmsprop": (RMSprop, {"lr": 0.05, "rho": 0.8, "epsilon": 0.5, "decay": 0.1}),
    "adagrad_defaults": (Adagrad, {}),
    "adagrad": (Adagrad, {"lr": 0.2, "epsilon": 0.3, "decay": 0.2}),
    "adam_defaults": (Adam, {}),
    "adam": (Adam, {"lr": 0.05, "beta_1": 0.8, "beta_2": 0.9, "epsilon": 0.1, "decay": 0.05}),
    "amsgrad": (Adam, {"lr": 0.3, "beta_2": 0.5, "amsgrad": True}),
}

STEPS = 6

# A separable quadratic 0.5 * sum(a * (p - t)**2) over a vector and a matrix parameter.
P0 = [np.array([1.0, -2.0, 0.5]), np.array([[0.3, -0.7], [1.5, 2.0]])]
A = [np.array([1.0, 3.0, 0.2]), np.array([[2.0, 0.5], [1.0, 4.0]])]
T = [np.array([0.0, 1.0, -1.0]), np.array([[1.0, 0.0], [-1.0, 0.5]])]


def quadratic_grads(params: list[np.ndarray]) -> list[np.ndarray]:
    return [a * (p - t) for p, a, t in zip(params, A, T)]


def quadratic_loss(params: list[Any]) -> Any:
    terms = [0.5 * K.sum(K.constant(a) * K.square(p - K.constant(t)))
             for p, a, t in zip(params, A, T)]
    return terms[0] + terms[1]


def run(optimizer: Any, loss_fn: Any, p0: list[np.ndarray], steps: int = STEPS,
        keywords: bool = False) -> list[list[np.ndarray]]:
    """Build one training step with ``get_updates`` and run it ``steps`` times."""
    params = [K.variable(p) for p in p0]
    loss = loss_fn(params)
    if keywords:
        updates = optimizer.get_updates(params=params, loss=loss)
    else:
        updates = optimizer.get_updates(loss, params)
    step = K.function([], [loss], updates=updates)
    trajectory = []
    for _ in range(steps):
        step([])
        trajectory.append([K.get_value(p) for p in params])
    return trajectory


def assert_same_trajectory(got: list[list[np.ndarray]], want: list[list[np.ndarray]]) -> None:
    assert len(got) == len(want)
    for step, (g_params, w_params) in enumerate(zip(got, want)):
        for i, (g, w) in enumerate(zip(g_params, w_params)):
            np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-6,
                                       err_msg=f"parameter {i} after step {step + 1}")


# --- trajectories ----------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_quadratic_trajectory_matches_keras_formulas(case: str) -> None:
    cls, config = CASES[case]
    got = run(cls(**config), quadratic_loss, P0)
    want = numpy_trajectory(cls.__name__, config, P0, quadratic_grads, STEPS)
    assert_same_trajectory(got, want)


X = np.random.RandomState(0).randn(8, 3)
Y = np.random.RandomState(1).randn(8, 2)
W0 = [np.random.RandomState(2).randn(3, 2) * 0.5, np.array([0.1, -0.2])]


def regression_loss(params: list[Any]) -> Any:
    kernel, bias = params
    prediction = K.bias_add(K.dot(K.constant(X), kernel), bias)
    return K.mean(K.square(prediction - K.constant(Y)))


def regression_grads(params: list[np.ndarray]) -> list[np.ndarray]:
    kernel, bias = params
    residual = X @ kernel + bias - Y
    d_prediction = 2.0 * residual / residual.size
    return [X.T @ d_prediction, d_prediction.sum(axis=0)]


@pytest.mark.parametrize("case", list(CASES))
def test_dense_regression_trajectory_matches_keras_formulas(case: str) -> None:
    cls, config = CASES[case]
    got = run(cls(**config), regression_loss, W0)
    want = numpy_trajectory(cls.__name__, config, W0, regression_grads, STEPS)
    assert_same_trajectory(got, want)


def test_adam_epsilon_meets_the_uncorrected_sqrt_v_not_the_papers_formula() -> None:
    config = {"lr": 0.05, "epsilon": 0.1}
    got = run(Adam(**config), quadratic_loss, P0, steps=3)
    keras = numpy_trajectory("Adam", config, P0, quadratic_grads, 3)
    # The paper: p - lr * m_hat / (sqrt(v_hat) + eps), one step from P0 (m_hat = g, v_hat = g**2).
    g = quadratic_grads(P0)
    paper_first = [p - 0.05 * gi / (np.abs(gi) + 0.1) for p, gi in zip(P0, g)]
    np.testing.assert_allclose(got[0][0], keras[0][0], rtol=1e-5)
    assert not np.allclose(got[0][0], paper_first[0], rtol=1e-3)


def test_amsgrad_changes_the_trajectory_for_these_settings() -> None:
    config = {"lr": 0.3, "beta_2": 0.5}
    plain = run(Adam(**config), quadratic_loss, P0)
    K.clear_session()
    amsgrad = run(Adam(amsgrad=True, **config), quadratic_loss, P0)
    assert not np.allclose(plain[-1][1], amsgrad[-1][1])


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adam])
def test_get_updates_accepts_params_and_loss_as_keywords(cls: type) -> None:
    by_position = run(cls(lr=0.1), quadratic_loss, P0, steps=3)
    K.clear_session()
    by_keyword = run(cls(lr=0.1), quadratic_loss, P0, steps=3, keywords=True)
    assert_same_trajectory(by_keyword, by_position)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adam])
def test_iterations_is_the_first_weight_and_counts_steps(cls: type) -> None:
    opt = cls()
    run(opt, quadratic_loss, P0, steps=4)
    assert opt.weights[0] is opt.iterations
    assert K.get_value(opt.iterations) == 4
    assert np.dtype(K.dtype(opt.iterations)) == np.int64


def test_adam_weights_are_iterations_then_ms_vs_vhats() -> None:
    opt = Adam()
    run(opt, quadratic_loss, P0, steps=1)
    assert len(opt.weights) == 1 + 3 * len(P0)
    assert [K.int_shape(w) for w in opt.weights[1:5]] == [(3,), (2, 2), (3,), (2, 2)]


@pytest.mark.parametrize("cls", [RMSprop, Adagrad, Adam])
def test_epsilon_defaults_to_backend_epsilon(cls: type) -> None:
    assert K.epsilon() == pytest.approx(1e-7)
    assert cls().epsilon == pytest.approx(1e-7)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adam])
def test_learning_rate_is_an_alias_of_lr(cls: type) -> None:
    opt = cls(learning_rate=0.25)
    assert K.get_value(opt.lr) == pytest.approx(0.25)
    with_alias = run(opt, quadratic_loss, P0, steps=2)
    K.clear_session()
    with_lr = run(cls(lr=0.25), quadratic_loss, P0, steps=2)
    assert_same_trajectory(with_alias, with_lr)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adam])
def test_unknown_keyword_is_a_type_error(cls: type) -> None:
    with pytest.raises(TypeError, match="Unexpected keyword argument passed to optimizer: frobnicate"):
        cls(frobnicate=1)


def test_set_value_on_lr_changes_the_next_step() -> None:
    opt = SGD(lr=0.1)
    p = K.variable(np.array([1.0, 2.0]))
    loss = 0.5 * K.sum(K.square(p))  # gradient = p
    step = K.function([], [loss], updates=opt.get_updates(loss, [p]))
    step([])
    np.testing.assert_allclose(K.get_value(p), [0.9, 1.8], rtol=1e-6)
    K.set_value(opt.lr, 0.5)
    step([])
    np.testing.assert_allclose(K.get_value(p), [0.45, 0.9], rtol=1e-6)


def test_decay_uses_the_pre_increment_iteration_count() -> None:
    opt = SGD(lr=1.0, decay=1.0)
    p = K.variable(np.array([0.0]))
    loss = K.sum(p)  # gradient 1: each step moves p by -lr_t
    step = K.function([], [loss], updates=opt.get_updates(loss, [p]))
    deltas = []
    for _ in range(3):
        before = K.get_value(p)[0]
        step([])
        deltas.append(before - K.get_value(p)[0])
    np.testing.assert_allclose(deltas, [1.0, 1 / 2, 1 / 3], rtol=1e-6)


# --- clipping --------------------------------------------------------------------------

def _linear_step(opt: Any, grads: list[np.ndarray]) -> list[np.ndarray]:
    """One step of a loss whose gradient is ``grads`` (constant); returns the parameter changes."""
    params = [K.variable(np.zeros_like(g)) for g in grads]
    terms = [K.sum(K.constant(g) * p) for g, p in zip(grads, params)]
    loss = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    K.function([], [loss], updates=opt.get_updates(loss, params))([])
    return [K.get_value(p) for p in params]


def test_clipnorm_is_global_over_all_parameters() -> None:
    g1, g2 = np.array([3.0, 0.0]), np.array([[0.0], [4.0]])  # norms 3 and 4, joint norm 5
    got = _linear_step(SGD(lr=1.0, clipnorm=4.5), [g1, g2])
    scale = 4.5 / 5.0  # each alone is under 4.5: only a global norm clips them
    np.testing.assert_allclose(got[0], -g1 * scale, rtol=1e-6)
    np.testing.assert_allclose(got[1], -g2 * scale, rtol=1e-6)


def test_clipnorm_leaves_small_gradients_alone() -> None:
    g1, g2 = np.array([3.0, 0.0]), np.array([[0.0], [4.0]])
    got = _linear_step(SGD(lr=1.0, clipnorm=6.0), [g1, g2])
    np.testing.assert_allclose(got[0], -g1, rtol=1e-6)
    np.testing.assert_allclose(got[1], -g2, rtol=1e-6)


def test_clipvalue_clips_each_element() -> None:
    g = np.array([-3.0, -0.2, 0.1, 2.5])
    (got,) = _linear_step(SGD(lr=1.0, clipvalue=0.5), [g])
    np.testing.assert_allclose(got, -np.clip(g, -0.5, 0.5), rtol=1e-6)


def test_clipnorm_then_clipvalue_like_keras() -> None:
    g1, g2 = np.array([3.0, 0.0]), np.array([[0.0], [4.0]])
    got = _linear_step(SGD(lr=1.0, clipnorm=2.5, clipvalue=1.5), [g1, g2])
    np.testing.assert_allclose(got[0], -np.clip(g1 * 0.5, -1.5, 1.5), rtol=1e-6)
    np.testing.assert_allclose(got[1], -np.clip(g2 * 0.5, -1.5, 1.5), rtol=1e-6)


def test_clipnorm_applies_inside_adam_too() -> None:
    g = [np.array([30.0, 40.0])]
    config = {"lr": 0.1, "epsilon": 1.0}
    (got,) = _linear_step(Adam(clipnorm=1.0, **config), g)
    (want,) = numpy_trajectory("Adam", config, [np.zeros(2)], lambda ps: [g[0] / 50.0], 1)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5)


# --- errors ----------------------------------------------------------------------------

def test_get_gradients_names_the_variables_the_loss_does_not_reach() -> None:
    used = K.variable(np.ones(3), name="used_weight")
    unused = K.variable(np.ones(2), name="lonely_weight")
    loss = K.sum(K.square(used))
    with pytest.raises(ValueError, match="An operation has `None` for gradient.") as info:
        SGD().get_gradients(loss, [used, unused])
    assert "lonely_weight" in str(info.value)
    assert "used_weight" not in str(info.value)


def test_get_updates_raises_the_same_error() -> None:
    used = K.variable(np.ones(3))
    unused = K.variable(np.ones(2), name="unreached")
    loss = K.sum(used)
    with pytest.raises(ValueError, match="unreached"):
        Adam().get_updates(loss, [used, unused])


def test_argmax_only_loss_has_no_gradient() -> None:
    p = K.variable(np.array([[1.0, 2.0, 0.5]]), name="scores")
    loss = K.sum(K.cast(K.argmax(p, axis=-1), K.floatx()))
    with pytest.raises(ValueError, match="An operation has `None` for gradient"):
        SGD().get_updates(loss, [p])


# --- configs and lookup ------------------------------------------------------------------

CONFIGS = [
    (SGD, {"lr": 0.123, "momentum": 0.5, "decay": 0.01, "nesterov": True}),
    (RMSprop, {"lr": 0.123, "rho": 0.8, "epsilon": 1e-4, "decay": 0.01}),
    (Adagrad, {"lr": 0.123, "epsilon": 1e-4, "decay": 0.01}),
    (Adam, {"lr": 0.123, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4, "decay": 0.01,
            "amsgrad": True}),
]


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS)
def test_config_round_trip(cls: type, kwargs: dict[str, Any]) -> None:
    config = cls(clipnorm=2.0, **kwargs).get_config()
    clone = cls.from_config(config)
    assert type(clone) is cls
    assert clone.get_config() == config
    assert config.get("learning_rate", config.get("lr")) == pytest.approx(0.123)
    assert config["clipnorm"] == 2.0
    for key, value in kwargs.items():
        if key != "lr":
            assert config[key] == pytest.approx(value)


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS)
def test_config_values_are_plain_python(cls: type, kwargs: dict[str, Any]) -> None:
    import json

    config = cls(**kwargs).get_config()
    assert json.loads(json.dumps(config)) == config


def test_from_config_accepts_a_keras_224_config_with_lr() -> None:
    opt = SGD.from_config({"lr": 0.3, "momentum": 0.9, "decay": 0.0, "nesterov": False})
    assert K.get_value(opt.lr) == pytest.approx(0.3)
    assert K.get_value(opt.momentum) == pytest.approx(0.9)


@pytest.mark.parametrize(("name", "cls"), [("sgd", SGD), ("rmsprop", RMSprop), ("adagrad", Adagrad),
                                           ("adam", Adam), ("Adam", Adam), ("SGD", SGD)])
def test_get_by_name(name: str, cls: type) -> None:
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert K.get_value(opt.lr) == pytest.approx(DEFAULTS[cls.__name__]["lr"])


def test_get_by_config_dict() -> None:
    opt = optimizers.get({"class_name": "SGD", "config": {"lr": 0.3, "momentum": 0.5}})
    assert isinstance(opt, SGD)
    assert K.get_value(opt.lr) == pytest.approx(0.3)
    assert K.get_value(opt.momentum) == pytest.approx(0.5)


def test_get_returns_an_optimizer_instance_unchanged() -> None:
    opt = Adam()
    assert optimizers.get(opt) is opt


def test_serialize_then_get_round_trip() -> None:
    opt = optimizers.get(optimizers.serialize(RMSprop(lr=0.02, rho=0.7)))
    assert isinstance(opt, RMSprop)
    assert K.get_value(opt.rho) == pytest.approx(0.7)


@pytest.mark.parametrize("identifier", ["adamax_not_here", 42])
def test_get_unknown_is_a_value_error(identifier: Any) -> None:
    with pytest.raises(ValueError):
        optimizers.get(identifier)


# --- constraints -------------------------------------------------------------------------

def test_constraint_is_applied_after_the_update() -> None:
    p = K.variable(np.array([0.5, -1.0, 2.0]), constraint=lambda x: 0.0 * x + 1.0)
    loss = K.sum(K.square(p))
    K.function([], [loss], updates=SGD(lr=0.1).get_updates(loss, [p]))([])
    np.testing.assert_allclose(K.get_value(p), np.ones(3))


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adam])
def test_non_negativity_constraint_projects_the_updated_value(cls: type) -> None:
    from minikeras.constraints import NonNeg

    p0 = np.array([0.05, -0.3, 2.0])
    p = K.variable(p0, constraint=NonNeg())
    loss = K.sum(p)  # gradient 1: every element moves down
    K.function([], [loss], updates=cls(lr=0.1).get_updates(loss, [p]))([])
    (unconstrained,) = numpy_trajectory(cls.__name__, {"lr": 0.1}, [p0], lambda ps: [np.ones(3)], 1)[0]
    np.testing.assert_allclose(K.get_value(p), np.maximum(unconstrained, 0.0), rtol=1e-5, atol=1e-7)


def test_dense_kernel_constraint_is_applied_by_train_on_batch() -> None:
    from minikeras.layers import Dense
    from minikeras.models import Sequential

    model = Sequential([Dense(2, input_shape=(3,), kernel_constraint=lambda w: 0.0 * w + 1.0)])
    model.compile(SGD(lr=0.1), "mse")
    model.train_on_batch(np.random.randn(4, 3), np.random.randn(4, 2))
    np.testing.assert_allclose(model.layers[0].get_weights()[0], np.ones((3, 2)))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_clipnorm_with_zero_gradients_gives_no_nan() -> None:
    got = _linear_step(Adam(clipnorm=1.0), [np.zeros(3)])
    np.testing.assert_array_equal(got[0], np.zeros(3))


def test_clipnorm_with_zero_gradients_warns_nothing() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _linear_step(SGD(clipnorm=1.0), [np.zeros(3)])


# --- optimizer state ---------------------------------------------------------------------

@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adam])
def test_set_weights_restores_the_optimizer_state(cls: type) -> None:
    kwargs = {"lr": 0.1, "momentum": 0.9} if cls is SGD else {"lr": 0.1}
    first = cls(**kwargs)
    trajectory = run(first, quadratic_loss, P0, steps=4)
    state = first.get_weights()
    second = cls(**kwargs)
    params = [K.variable(p) for p in trajectory[3]]  # where `first` stopped
    loss = quadratic_loss(params)
    step = K.function([], [loss], updates=second.get_updates(loss, params))
    assert len(state) == len(second.weights)
    second.set_weights(state)
    step([])
    want = numpy_trajectory(cls.__name__, kwargs, P0, quadratic_grads, 5)[4]
    for p, w in zip(params, want):
        np.testing.assert_allclose(K.get_value(p), w, rtol=2e-4, atol=2e-6)


def test_set_weights_checks_the_length() -> None:
    opt = Adam()
    run(opt, quadratic_loss, P0, steps=1)
    with pytest.raises(ValueError, match="Length of the specified weight list"):
        opt.set_weights(opt.get_weights()[:-1])
