"""Losses and metrics against their NumPy definitions (Keras 2.2.4), one value per sample;
aliases and lookup; ``from_logits``; stability; what ``metrics=["accuracy"]`` resolves to."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import losses, metrics
from minikeras.layers import Dense, Input
from minikeras.models import Model

EPS = 1e-7


def evaluate(fn: Callable[..., Any], y_true: np.ndarray, y_pred: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``fn`` on placeholders shaped like the data (unknown batch), run through K.function."""
    t = K.placeholder(shape=(None,) + y_true.shape[1:])
    p = K.placeholder(shape=(None,) + y_pred.shape[1:])
    out = fn(t, p, **kwargs)
    return K.function([t, p], [out])([y_true, y_pred])[0]


# --- NumPy definitions -------------------------------------------------------------------

def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt(np.maximum((x**2).sum(-1, keepdims=True), EPS))


def np_cce(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(p)).sum(-1)


def np_bce(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)


def np_sparse_cce(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    logp = _log_softmax(np.log(np.clip(p, EPS, 1 - EPS)))
    labels = t.reshape(len(t), *p.shape[1:-1]).astype(int)
    return -np.take_along_axis(logp, labels[..., None], -1)[..., 0]


def np_kld(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    t, p = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
    return (t * np.log(t / p)).sum(-1)


NUMPY_LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mean_squared_error": lambda t, p: ((p - t) ** 2).mean(-1),
    "mean_absolute_error": lambda t, p: np.abs(p - t).mean(-1),
    "mean_absolute_percentage_error":
        lambda t, p: 100.0 * np.abs((t - p) / np.clip(np.abs(t), EPS, None)).mean(-1),
    "mean_squared_logarithmic_error":
        lambda t, p: ((np.log(np.clip(p, EPS, None) + 1) - np.log(np.clip(t, EPS, None) + 1)) ** 2).mean(-1),
    "squared_hinge": lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1),
    "hinge": lambda t, p: np.maximum(1 - t * p, 0).mean(-1),
    "categorical_hinge":
        lambda t, p: np.maximum(0, ((1 - t) * p).max(-1) - (t * p).sum(-1) + 1),
    "logcosh": lambda t, p: np.log(np.cosh(p - t)).mean(-1),
    "categorical_crossentropy": np_cce,
    "sparse_categorical_crossentropy": np_sparse_cce,
    "binary_crossentropy": np_bce,
    "kullback_leibler_divergence": np_kld,
    "poisson": lambda t, p: (p - t * np.log(p + EPS)).mean(-1),
    "cosine_proximity": lambda t, p: -(_l2_normalize(t) * _l2_normalize(p)).sum(-1),
}


def data_for(name: str, shape: tuple[int, ...] = (6, 4)) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions in each loss's domain."""
    rng = np.random.RandomState(7)
    k = shape[-1]
    logits = rng.randn(*shape) * 2
    probs = _softmax(logits)
    if name in ("categorical_crossentropy", "kullback_leibler_divergence", "categorical_hinge"):
        labels = rng.randint(0, k, size=shape[:-1])
        return np.eye(k)[labels], probs
    if name == "sparse_categorical_crossentropy":
        return rng.randint(0, k, size=shape[:-1] + (1,)).astype(float), probs
    if name == "binary_crossentropy":
        return rng.randint(0, 2, size=shape).astype(float), rng.uniform(0.01, 0.99, size=shape)
    if name in ("hinge", "squared_hinge"):
        return np.sign(rng.randn(*shape)), rng.randn(*shape)
    if name in ("mean_squared_logarithmic_error", "poisson"):
        return rng.uniform(0, 3, size=shape), rng.uniform(0.1, 3, size=shape)
    if name == "mean_absolute_percentage_error":
        return rng.uniform(0.5, 2, size=shape) * np.sign(rng.randn(*shape)), rng.randn(*shape)
    return rng.randn(*shape), rng.randn(*shape)


@pytest.mark.parametrize("name", list(NUMPY_LOSSES))
def test_loss_matches_numpy_per_sample(name: str) -> None:
    y_true, y_pred = data_for(name)
    got = evaluate(getattr(losses, name), y_true, y_pred)
    assert got.shape == (6,)
    np.testing.assert_allclose(got, NUMPY_LOSSES[name](y_true, y_pred), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(NUMPY_LOSSES))
def test_loss_reduces_only_the_last_axis(name: str) -> None:
    y_true, y_pred = data_for(name, shape=(3, 5, 4))
    got = evaluate(getattr(losses, name), y_true, y_pred)
    assert got.shape == (3, 5)
    np.testing.assert_allclose(got, NUMPY_LOSSES[name](y_true, y_pred), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(NUMPY_LOSSES))
def test_loss_static_shape_is_the_batch(name: str) -> None:
    y_true, _ = data_for(name)
    t = K.placeholder(shape=(None,) + y_true.shape[1:])
    p = K.placeholder(shape=(None, 4))
    assert K.int_shape(getattr(losses, name)(t, p)) == (None,)


def test_every_loss_in_the_module_has_a_numpy_definition_here() -> None:
    public = {fn.__name__ for fn in vars(losses).values()
              if inspect.isfunction(fn) and fn.__module__ == losses.__name__
              and list(inspect.signature(fn).parameters)[:2] == ["y_true", "y_pred"]}
    assert public == set(NUMPY_LOSSES)


def test_sparse_categorical_crossentropy_accepts_flat_integer_targets() -> None:
    y_true, y_pred = data_for("sparse_categorical_crossentropy")
    flat = y_true.reshape(-1)
    t = K.placeholder(shape=(None,))
    p = K.placeholder(shape=(None, 4))
    got = K.function([t, p], [losses.sparse_categorical_crossentropy(t, p)])([flat, y_pred])[0]
    np.testing.assert_allclose(got, np_sparse_cce(y_true, y_pred), rtol=1e-5)


def test_sparse_equals_categorical_on_one_hot_targets() -> None:
    y_true, y_pred = data_for("sparse_categorical_crossentropy")
    one_hot = np.eye(4)[y_true[:, 0].astype(int)]
    sparse = evaluate(losses.sparse_categorical_crossentropy, y_true, y_pred)
    dense = evaluate(losses.categorical_crossentropy, one_hot, y_pred)
    np.testing.assert_allclose(sparse, dense, rtol=1e-5)


def test_categorical_crossentropy_renormalises_unnormalised_outputs() -> None:
    y_true = np.eye(3)[[0, 2]]
    y_pred = np.array([[2.0, 1.0, 1.0], [0.5, 0.5, 1.0]])  # rows sum to 4 and 2
    got = evaluate(losses.categorical_crossentropy, y_true, y_pred)
    np.testing.assert_allclose(got, [-np.log(0.5), -np.log(0.5)], rtol=1e-5)


# --- aliases and lookup ------------------------------------------------------------------

ALIASES = [
    ("mse", "mean_squared_error"), ("MSE", "mean_squared_error"),
    ("mae", "mean_absolute_error"), ("MAE", "mean_absolute_error"),
    ("mape", "mean_absolute_percentage_error"), ("MAPE", "mean_absolute_percentage_error"),
    ("msle", "mean_squared_logarithmic_error"), ("MSLE", "mean_squared_logarithmic_error"),
    ("kld", "kullback_leibler_divergence"), ("KLD", "kullback_leibler_divergence"),
    ("cosine", "cosine_proximity"),
]


@pytest.mark.parametrize(("alias", "name"), ALIASES)
def test_alias_is_the_same_function(alias: str, name: str) -> None:
    assert getattr(losses, alias) is getattr(losses, name)


@pytest.mark.parametrize(("alias", "name"), ALIASES)
def test_get_resolves_alias(alias: str, name: str) -> None:
    assert losses.get(alias) is getattr(losses, name)


@pytest.mark.parametrize("name", list(NUMPY_LOSSES))
def test_get_resolves_full_name(name: str) -> None:
    assert losses.get(name) is getattr(losses, name)


def test_get_returns_a_callable_unchanged() -> None:
    def my_loss(y_true: Any, y_pred: Any) -> Any:
        return K.mean(y_pred - y_true, axis=-1)

    assert losses.get(my_loss) is my_loss


@pytest.mark.parametrize("identifier", ["mean_sqared_error", "accuracy", "", 3, None])
def test_get_unknown_loss_is_a_value_error(identifier: Any) -> None:
    with pytest.raises(ValueError, match="Unknown loss function"):
        losses.get(identifier)


@pytest.mark.parametrize("identifier", ["get", "serialize"])
def test_get_does_not_resolve_module_helpers_as_losses(identifier: str) -> None:
    with pytest.raises(ValueError, match="Unknown loss function"):
        losses.get(identifier)


def test_metrics_get_does_not_resolve_helpers() -> None:
    with pytest.raises(ValueError):
        metrics.get("get")


@pytest.mark.parametrize(("alias", "name"), [("mse", "mean_squared_error"), ("kld", "kullback_leibler_divergence")])
def test_serialize_gives_the_full_name(alias: str, name: str) -> None:
    assert losses.serialize(losses.get(alias)) == name


# --- from_logits -------------------------------------------------------------------------

def test_categorical_crossentropy_from_logits() -> None:
    rng = np.random.RandomState(3)
    logits = rng.randn(5, 4) * 3
    y_true = np.eye(4)[rng.randint(0, 4, 5)]
    got = evaluate(losses.categorical_crossentropy, y_true, logits, from_logits=True)
    np.testing.assert_allclose(got, -(y_true * _log_softmax(logits)).sum(-1), rtol=1e-5)


def test_sparse_categorical_crossentropy_from_logits() -> None:
    rng = np.random.RandomState(3)
    logits = rng.randn(5, 4) * 3
    labels = rng.randint(0, 4, 5)
    got = evaluate(losses.sparse_categorical_crossentropy, labels[:, None].astype(float), logits,
                   from_logits=True)
    np.testing.assert_allclose(got, -_log_softmax(logits)[np.arange(5), labels], rtol=1e-5)


def test_binary_crossentropy_from_logits() -> None:
    rng = np.random.RandomState(3)
    logits = rng.randn(5, 3) * 3
    y_true = rng.randint(0, 2, (5, 3)).astype(float)
    got = evaluate(losses.binary_crossentropy, y_true, logits, from_logits=True)
    want = (np.maximum(logits, 0) - logits * y_true + np.log1p(np.exp(-np.abs(logits)))).mean(-1)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_from_logits_agrees_with_probabilities_for_moderate_logits() -> None:
    logits = np.random.RandomState(4).randn(5, 4)
    y_true = np.eye(4)[[0, 1, 2, 3, 0]]
    a = evaluate(losses.categorical_crossentropy, y_true, logits, from_logits=True)
    b = evaluate(losses.categorical_crossentropy, y_true, _softmax(logits))
    np.testing.assert_allclose(a, b, rtol=1e-4)


# --- numerical stability -----------------------------------------------------------------

HUGE = np.array([[1000.0, -1000.0, 0.0], [-800.0, 900.0, 50.0]])


def test_categorical_crossentropy_huge_logits_are_finite_and_exact() -> None:
    y_true = np.eye(3)[[1, 0]]  # both confidently wrong
    got = evaluate(losses.categorical_crossentropy, y_true, HUGE, from_logits=True)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, [2000.0, 1700.0], rtol=1e-5)


def test_sparse_crossentropy_huge_logits_are_finite() -> None:
    got = evaluate(losses.sparse_categorical_crossentropy, np.array([[1.0], [0.0]]), HUGE,
                   from_logits=True)
    np.testing.assert_allclose(got, [2000.0, 1700.0], rtol=1e-5)


def test_binary_crossentropy_huge_logits_are_finite_and_exact() -> None:
    y_true = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    got = evaluate(losses.binary_crossentropy, y_true, HUGE, from_logits=True)
    want = (np.maximum(HUGE, 0) - HUGE * y_true + np.log1p(np.exp(-np.abs(HUGE)))).mean(-1)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("name", ["categorical_crossentropy", "binary_crossentropy",
                                  "sparse_categorical_crossentropy", "kullback_leibler_divergence",
                                  "poisson", "mean_squared_logarithmic_error"])
def test_saturated_probabilities_give_finite_losses(name: str) -> None:
    y_pred = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y_true = np.array([[1.0], [0.0]]) if name.startswith("sparse") else np.array([[0.0, 1.0, 0.0]] * 2)
    got = evaluate(getattr(losses, name), y_true, y_pred)
    assert np.all(np.isfinite(got))


def test_confidently_wrong_probability_costs_minus_log_epsilon() -> None:
    got = evaluate(losses.categorical_crossentropy, np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    np.testing.assert_allclose(got, [-np.log(EPS)], rtol=1e-3)


def test_logcosh_is_finite_for_huge_errors() -> None:
    got = evaluate(losses.logcosh, np.zeros((1, 2)), np.array([[1000.0, -1000.0]]))
    np.testing.assert_allclose(got, [1000.0 - np.log(2.0)], rtol=1e-6)


@pytest.mark.parametrize("name", ["categorical_crossentropy", "binary_crossentropy",
                                  "sparse_categorical_crossentropy"])
def test_gradient_of_huge_logit_losses_is_finite(name: str) -> None:
    logits = K.variable(HUGE)
    y_true = np.array([[1.0], [0.0]]) if name.startswith("sparse") else np.eye(3)[[1, 0]]
    loss = K.sum(getattr(losses, name)(K.constant(y_true), logits, from_logits=True))
    (grad,) = K.gradients(loss, [logits])
    assert np.all(np.isfinite(K.eval(grad)))


# --- a softmax's output: its logits are used, as tf.keras does -------------------------------

def _op_types(t: Any) -> set[str]:
    from minikeras.graph import topo_sort
    return {op.type for op in topo_sort([t])}


@pytest.mark.parametrize("name", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_crossentropy_of_a_softmax_reads_its_logits(name: str) -> None:
    logits = K.placeholder(shape=(None, 3))
    target = K.placeholder(shape=(None, 1) if name.startswith("sparse") else (None, 3))
    loss = getattr(losses, name)(target, K.softmax(logits))
    kinds = _op_types(loss)
    assert "SoftmaxCrossEntropyWithLogits" in kinds
    assert "Softmax" not in kinds and "ClipByValue" not in kinds and "Log" not in kinds


def test_crossentropy_of_a_saturated_softmax_is_exact_and_still_learns() -> None:
    logits = K.variable(HUGE)
    y_true = np.eye(3)[[1, 0]]  # both confidently wrong
    loss = losses.categorical_crossentropy(K.constant(y_true), K.softmax(logits))
    # Clipped probabilities would give -log(eps) = 16.1 and a zero gradient.
    np.testing.assert_allclose(K.eval(loss), [2000.0, 1700.0], rtol=1e-5)
    (grad,) = K.gradients(K.sum(loss), [logits])
    np.testing.assert_allclose(K.eval(grad), _softmax(HUGE) - y_true, atol=1e-6)


def test_crossentropy_of_other_probabilities_is_clipped_like_keras() -> None:
    p = K.placeholder(shape=(None, 2))
    loss = losses.categorical_crossentropy(K.placeholder(shape=(None, 2)), K.sigmoid(p))
    assert "ClipByValue" in _op_types(loss)
    got = K.function([], [losses.categorical_crossentropy(K.constant([[0.0, 1.0]]),
                                                           K.constant([[1.0, 0.0]]))])([])[0]
    np.testing.assert_allclose(got, [-np.log(EPS)], rtol=1e-3)


def test_a_model_with_a_softmax_output_trains_on_its_logits() -> None:
    inputs = Input(shape=(4,))
    model = Model(inputs, Dense(3, activation="softmax")(inputs))
    model.compile("sgd", "categorical_crossentropy")
    kinds = _op_types(model.total_loss)
    assert "SoftmaxCrossEntropyWithLogits" in kinds and "ClipByValue" not in kinds
    x = np.random.randn(5, 4).astype("float32")
    y = np.eye(3)[np.random.randint(0, 3, 5)]
    want = -(y * np.log(model.predict(x))).sum(-1).mean()
    assert model.test_on_batch(x, y) == pytest.approx(want, rel=1e-5)


# --- metrics -----------------------------------------------------------------------------

def test_binary_accuracy_matches_numpy() -> None:
    rng = np.random.RandomState(5)
    y_true = rng.randint(0, 2, (8, 3)).astype(float)
    y_pred = rng.uniform(0, 1, (8, 3))
    got = evaluate(metrics.binary_accuracy, y_true, y_pred)
    np.testing.assert_allclose(got, (y_true == np.round(y_pred)).mean(-1), rtol=1e-6)


def test_categorical_accuracy_matches_numpy() -> None:
    rng = np.random.RandomState(5)
    y_true = np.eye(4)[rng.randint(0, 4, 10)]
    y_pred = _softmax(rng.randn(10, 4))
    got = evaluate(metrics.categorical_accuracy, y_true, y_pred)
    assert got.shape == (10,)
    np.testing.assert_allclose(got, (y_true.argmax(-1) == y_pred.argmax(-1)).astype(float))


@pytest.mark.parametrize("target_shape", [(10,), (10, 1)])
def test_sparse_categorical_accuracy_matches_numpy(target_shape: tuple[int, ...]) -> None:
    rng = np.random.RandomState(5)
    labels = rng.randint(0, 4, 10)
    y_pred = _softmax(rng.randn(10, 4))
    got = evaluate(metrics.sparse_categorical_accuracy, labels.reshape(target_shape).astype(float), y_pred)
    assert got.shape == (10,)
    np.testing.assert_allclose(got, (labels == y_pred.argmax(-1)).astype(float))


@pytest.mark.parametrize("name", ["binary_accuracy", "categorical_accuracy",
                                  "sparse_categorical_accuracy", "mse", "mae"])
def test_metrics_get_by_name(name: str) -> None:
    assert metrics.get(name) is getattr(metrics, name)


def test_metrics_get_falls_back_to_losses() -> None:
    assert metrics.get("categorical_crossentropy") is losses.categorical_crossentropy


def test_metrics_get_unknown_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        metrics.get("no_such_metric")


# --- metrics=["accuracy"]: which accuracy ----------------------------------------------------

def _model(units: int, activation: str) -> Model:
    x = Input(shape=(5,))
    return Model(x, Dense(units, activation=activation)(x))


def _accuracy(model: Model, loss: str, x: np.ndarray, y: np.ndarray) -> float:
    model.compile("sgd", loss, metrics=["accuracy"])
    return model.evaluate(x, y, verbose=0)[1]


def test_accuracy_with_categorical_crossentropy_is_categorical_accuracy() -> None:
    x, model = np.random.randn(40, 5), _model(3, "softmax")
    y = np.eye(3)[np.random.randint(0, 3, 40)]
    want = (model.predict(x).argmax(-1) == y.argmax(-1)).mean()
    assert _accuracy(model, "categorical_crossentropy", x, y) == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("target_shape", [(40,), (40, 1)])
def test_accuracy_with_sparse_crossentropy_is_sparse_accuracy(target_shape: tuple[int, ...]) -> None:
    x, model = np.random.randn(40, 5), _model(3, "softmax")
    labels = np.random.randint(0, 3, 40)
    want = (model.predict(x).argmax(-1) == labels).mean()
    got = _accuracy(model, "sparse_categorical_crossentropy", x, labels.reshape(target_shape))
    assert got == pytest.approx(want, abs=1e-6)


def test_accuracy_with_binary_crossentropy_is_elementwise_binary_accuracy() -> None:
    x, model = np.random.randn(40, 5), _model(3, "sigmoid")
    y = np.random.randint(0, 2, (40, 3)).astype(float)
    p = model.predict(x)
    binary = (np.round(p) == y).mean()
    categorical = (p.argmax(-1) == y.argmax(-1)).mean()
    assert binary != pytest.approx(categorical)
    assert _accuracy(model, "binary_crossentropy", x, y) == pytest.approx(binary, abs=1e-6)


def test_accuracy_with_a_single_output_unit_is_binary_accuracy_whatever_the_loss() -> None:
    x, model = np.random.randn(40, 5), _model(1, "sigmoid")
    y = np.random.randint(0, 2, (40, 1)).astype(float)
    want = (np.round(model.predict(x)) == y).mean()
    assert _accuracy(model, "mse", x, y) == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize(("loss", "shape", "expected"), [
    ("binary_crossentropy", (None, 3), "binary_accuracy"),
    ("mse", (None, 1), "binary_accuracy"),
    ("sparse_categorical_crossentropy", (None, 3), "sparse_categorical_accuracy"),
    ("categorical_crossentropy", (None, 3), "categorical_accuracy"),
    ("mse", (None, 3), "categorical_accuracy"),
])
def test_accuracy_for_chooses_like_keras(loss: str, shape: tuple[Any, ...], expected: str) -> None:
    assert metrics.accuracy_for(losses.get(loss), shape) is getattr(metrics, expected)
