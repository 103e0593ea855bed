"""Merge layers and BatchNormalization: numbers against NumPy, shapes, errors, configs, and
BatchNormalization's moving statistics in both learning phases."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.layers import (
    Add,
    Average,
    BatchNormalization,
    Concatenate,
    Dot,
    Input,
    Layer,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)


def run(inputs: list[Any], outputs: list[Any], values: list[Any], updates: Any = None) -> list[np.ndarray]:
    return K.function(inputs, outputs, updates=updates or [])(values)


def assert_round_trip(layer: Layer) -> dict[str, Any]:
    config = layer.get_config()
    json.dumps(config)
    assert type(layer).from_config(config).get_config() == config
    return config


def data(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# --- elementwise merges ---------------------------------------------------------------

MERGES: list[tuple[type[Layer], Callable[..., Any], str, Callable[..., np.ndarray]]] = [
    (Add, add, "add_1", lambda a, b, c: a + b + c),
    (Multiply, multiply, "multiply_1", lambda a, b, c: a * b * c),
    (Average, average, "average_1", lambda a, b, c: (a + b + c) / 3),
    (Maximum, maximum, "maximum_1", lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    (Minimum, minimum, "minimum_1", lambda a, b, c: np.minimum(np.minimum(a, b), c)),
]


@pytest.mark.parametrize("cls, fn, name, reference", MERGES, ids=[m[2] for m in MERGES])
def test_elementwise_merge_matches_numpy(cls: type[Layer], fn: Callable[..., Any], name: str,
                                         reference: Callable[..., np.ndarray]) -> None:
    xs = [Input(shape=(4,)) for _ in range(3)]
    layer = cls()
    y = layer(xs)
    assert layer.name == name and y.name.startswith(name + "/")
    assert K.int_shape(y) == (None, 4) == layer.compute_output_shape([(None, 4)] * 3)
    values = [data(2, 4, seed=i) for i in range(3)]
    (out,) = run(xs, [y], values)
    np.testing.assert_allclose(out, reference(*values), rtol=1e-6)
    (out_fn,) = run(xs, [fn(xs)], values)  # the functional form is the same layer
    np.testing.assert_allclose(out_fn, out, rtol=1e-6)
    assert_round_trip(layer)


def test_subtract_takes_exactly_two_inputs() -> None:
    a, b, c = (Input(shape=(3,)) for _ in range(3))
    y = Subtract()([a, b])
    assert y.name == "subtract_1/Sub:0"
    (out,) = run([a, b], [y], [data(2, 3, seed=1), data(2, 3, seed=2)])
    np.testing.assert_allclose(out, data(2, 3, seed=1) - data(2, 3, seed=2))
    (out_fn,) = run([a, b], [subtract([a, b])], [data(2, 3, seed=1), data(2, 3, seed=2)])
    np.testing.assert_allclose(out_fn, out)
    with pytest.raises(ValueError, match="A `Subtract` layer should be called on exactly 2 inputs"):
        Subtract()([a, b, c])


def test_merge_of_different_ranks_lines_up_trailing_axes() -> None:
    a, b = Input(shape=(3,)), Input(shape=(4, 3))
    layer = Add()
    y = layer([a, b])
    assert K.int_shape(y) == (None, 4, 3) == layer.compute_output_shape([(None, 3), (None, 4, 3)])
    va, vb = data(2, 3, seed=1), data(2, 4, 3, seed=2)
    np.testing.assert_allclose(run([a, b], [y], [va, vb])[0], va[:, None, :] + vb, rtol=1e-6)


def test_merge_broadcasts_size_one_axes() -> None:
    a, b = Input(shape=(1, 3)), Input(shape=(4, 3))
    assert K.int_shape(Multiply()([a, b])) == (None, 4, 3)


def test_merge_layers_must_be_called_on_a_list_of_at_least_two() -> None:
    x = Input(shape=(3,))
    for call in (lambda: Add()(x), lambda: Add()([x]), lambda: Maximum()([x])):
        with pytest.raises(ValueError, match="A merge layer should be called on a list of inputs."):
            call()


def test_merge_shape_errors() -> None:
    with pytest.raises(ValueError, match="Operands could not be broadcast together"):
        Add()([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match="Can not merge tensors with different batch sizes"):
        Add()([Input(batch_shape=(2, 3)), Input(batch_shape=(5, 3))])


# --- Concatenate and Dot --------------------------------------------------------------


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate(axis: int) -> None:
    shapes = {-1: [(2, 3), (2, 5)], 1: [(1, 4), (3, 4)], 2: [(2, 3), (2, 5)]}[axis]
    xs = [Input(shape=s) for s in shapes]
    layer = Concatenate(axis=axis)
    y = layer(xs)
    assert y.name == "concatenate_1/ConcatV2:0"
    expected = layer.compute_output_shape([(None, *s) for s in shapes])
    assert K.int_shape(y) == expected
    values = [data(2, *s, seed=i) for i, s in enumerate(shapes)]
    np.testing.assert_array_equal(run(xs, [y], values)[0], np.concatenate(values, axis=axis))
    np.testing.assert_array_equal(run(xs, [concatenate(xs, axis=axis)], values)[0],
                                  np.concatenate(values, axis=axis))
    assert assert_round_trip(layer)["axis"] == axis


def test_concatenate_errors_and_unknown_sizes() -> None:
    a = Input(shape=(3,))
    with pytest.raises(ValueError, match="A `Concatenate` layer should be called on a list of at least 2"):
        Concatenate()([a])
    with pytest.raises(ValueError, match="matching shapes except for the concat axis"):
        Concatenate(axis=-1)([Input(shape=(2, 3)), Input(shape=(4, 3))])
    assert Concatenate().compute_output_shape([(None, 3), (None, None)]) == (None, None)


def test_dot_is_a_per_sample_dot_product() -> None:
    a, b = Input(shape=(3,)), Input(shape=(3,))
    layer = Dot(axes=1)
    y = layer([a, b])
    assert layer.name == "dot_1"
    assert K.int_shape(y) == (None, 1) == layer.compute_output_shape([(None, 3), (None, 3)])
    va, vb = data(4, 3, seed=1), data(4, 3, seed=2)
    np.testing.assert_allclose(run([a, b], [y], [va, vb])[0], (va * vb).sum(1, keepdims=True), rtol=1e-5)
    cosine = dot([a, b], axes=-1, normalize=True)
    expected = (va * vb).sum(1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
    np.testing.assert_allclose(run([a, b], [cosine], [va, vb])[0][:, 0], expected, rtol=1e-5)
    assert assert_round_trip(Dot(axes=(1, 2), normalize=True))["axes"] == (1, 2)


def test_dot_of_matrices_and_errors() -> None:
    a, b = Input(shape=(2, 3)), Input(shape=(4, 3))
    layer = Dot(axes=2)
    y = layer([a, b])
    assert K.int_shape(y) == (None, 2, 4) == layer.compute_output_shape([(None, 2, 3), (None, 4, 3)])
    va, vb = data(5, 2, 3, seed=1), data(5, 4, 3, seed=2)
    np.testing.assert_allclose(run([a, b], [y], [va, vb])[0], np.einsum("bik,bjk->bij", va, vb), rtol=1e-5)
    with pytest.raises(ValueError, match="Dimension incompatibility 3 != 4"):
        Dot(axes=1)([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match="should contain two elements"):
        Dot(axes=(1, 1, 1))


# --- BatchNormalization ---------------------------------------------------------------

EPS = 1e-3


def bn_model(shape: tuple[int, ...], **kwargs: Any) -> tuple[Any, BatchNormalization, Any]:
    x = Input(shape=shape)
    layer = BatchNormalization(**kwargs)
    return x, layer, layer(x)


def set_bn_weights(layer: BatchNormalization, dim: int) -> list[np.ndarray]:
    """Non-trivial gamma, beta and moving statistics, so every term of the formula shows."""
    weights = [np.linspace(0.5, 2.0, dim), np.linspace(-1.0, 1.0, dim),
               np.linspace(-0.5, 0.5, dim), np.linspace(0.5, 3.0, dim)]
    layer.set_weights(weights)
    return [w.astype("float32") for w in weights]


def test_batchnorm_weights_names_and_order() -> None:
    _, layer, y = bn_model((3,))
    assert layer.name == "batch_normalization_1"
    assert [w.name for w in layer.weights] == [
        "batch_normalization_1/gamma:0", "batch_normalization_1/beta:0",
        "batch_normalization_1/moving_mean:0", "batch_normalization_1/moving_variance:0"]
    assert [w.name.split("/")[1] for w in layer.trainable_weights] == ["gamma:0", "beta:0"]
    assert [w.name.split("/")[1] for w in layer.non_trainable_weights] == [
        "moving_mean:0", "moving_variance:0"]
    np.testing.assert_array_equal(layer.get_weights()[3], np.ones(3))
    assert K.int_shape(y) == (None, 3) == layer.compute_output_shape((None, 3))
    assert y._uses_learning_phase
    assert len(layer.updates) == 2


def test_batchnorm_test_phase_uses_moving_statistics_and_leaves_them_alone() -> None:
    x, layer, y = bn_model((4,))
    gamma, beta, mean, var = set_bn_weights(layer, 4)
    f = K.function([x, K.learning_phase()], [y], updates=layer.updates)
    v = data(6, 4)
    (out,) = f([v, 0])
    np.testing.assert_allclose(out, (v - mean) / np.sqrt(var + EPS) * gamma + beta, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layer.get_weights()[2], mean)
    np.testing.assert_array_equal(layer.get_weights()[3], var)


def test_batchnorm_training_phase_uses_batch_statistics_and_updates_moving_ones() -> None:
    x, layer, y = bn_model((4,), momentum=0.9)
    gamma, beta, mean, var = set_bn_weights(layer, 4)
    f = K.function([x, K.learning_phase()], [y], updates=layer.updates)
    v = data(6, 4) * 3 + 1
    (out,) = f([v, 1])
    batch_mean, batch_var = v.mean(0), v.var(0)
    np.testing.assert_allclose(out, (v - batch_mean) / np.sqrt(batch_var + EPS) * gamma + beta,
                               rtol=1e-4, atol=1e-5)
    n = 6
    unbiased = batch_var * n / (n - (1 + EPS))
    new_mean, new_var = mean * 0.9 + batch_mean * 0.1, var * 0.9 + unbiased * 0.1
    np.testing.assert_allclose(layer.get_weights()[2], new_mean, rtol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[3], new_var, rtol=1e-5)
    f([v, 1])  # a second step averages again, from the updated values
    np.testing.assert_allclose(layer.get_weights()[2], new_mean * 0.9 + batch_mean * 0.1, rtol=1e-5)
    f([v, 0])  # the test phase changes nothing
    np.testing.assert_allclose(layer.get_weights()[2], new_mean * 0.9 + batch_mean * 0.1, rtol=1e-5)


def test_batchnorm_on_images_normalises_each_channel_over_batch_rows_and_columns() -> None:
    x, layer, y = bn_model((5, 5, 3), momentum=0.5)
    assert [w.shape for w in layer.weights] == [(3,)] * 4
    f = K.function([x, K.learning_phase()], [y], updates=layer.updates)
    v = data(2, 5, 5, 3) * 2 + 3
    (out,) = f([v, 1])
    m, s2 = v.mean((0, 1, 2)), v.var((0, 1, 2))
    np.testing.assert_allclose(out, (v - m) / np.sqrt(s2 + EPS), rtol=1e-4, atol=1e-4)
    n = 2 * 5 * 5
    np.testing.assert_allclose(layer.get_weights()[3], 0.5 + 0.5 * s2 * n / (n - 1 - EPS), rtol=1e-5)


def test_batchnorm_on_axis_1() -> None:
    x, layer, y = bn_model((3, 4, 2), axis=1)
    gamma, beta, mean, var = set_bn_weights(layer, 3)
    assert K.int_shape(y) == (None, 3, 4, 2)
    f = K.function([x, K.learning_phase()], [y], updates=layer.updates)
    v = data(2, 3, 4, 2)

    def per_channel(w: np.ndarray) -> np.ndarray:
        return w.reshape(1, 3, 1, 1)

    (test_out,) = f([v, 0])
    expected = (v - per_channel(mean)) / np.sqrt(per_channel(var) + EPS) * per_channel(gamma)
    np.testing.assert_allclose(test_out, expected + per_channel(beta), rtol=1e-5, atol=1e-5)
    (train_out,) = f([v, 1])
    m, s2 = v.mean((0, 2, 3), keepdims=True), v.var((0, 2, 3), keepdims=True)
    expected = (v - m) / np.sqrt(s2 + EPS) * per_channel(gamma) + per_channel(beta)
    np.testing.assert_allclose(train_out, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[2], mean * 0.99 + m.ravel() * 0.01, rtol=1e-5)


def test_batchnorm_training_argument() -> None:
    x = Input(shape=(3,))
    on = BatchNormalization(momentum=0.0)
    y_on = on(x, training=True)
    off = BatchNormalization()
    y_off = off(x, training=False)
    assert len(on.updates) == 2 and off.updates == []  # static test phase: no updates at all
    assert not y_on._uses_learning_phase and not y_off._uses_learning_phase
    v = data(4, 3)
    out_on, out_off = run([x], [y_on, y_off], [v], updates=on.updates)  # no phase fed
    np.testing.assert_allclose(out_on, (v - v.mean(0)) / np.sqrt(v.var(0) + EPS), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out_off, v / np.sqrt(1 + EPS), rtol=1e-5)
    np.testing.assert_allclose(on.get_weights()[2], v.mean(0), rtol=1e-5)  # momentum 0: the batch's


def test_frozen_batchnorm_has_no_updates() -> None:
    x, layer, _ = bn_model((3,), trainable=False)
    assert layer.updates == [] and layer.get_updates_for(x) == []
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batchnorm_updates_belong_to_the_call_that_made_them() -> None:
    x, layer, _ = bn_model((3,))
    x2 = Input(shape=(3,))
    layer(x2)
    assert len(layer.get_updates_for(x)) == 2 and len(layer.get_updates_for(x2)) == 2
    assert set(layer.get_updates_for(x)).isdisjoint(layer.get_updates_for(x2))


def test_batchnorm_without_center_and_scale() -> None:
    x, layer, y = bn_model((3,), center=False, scale=False)
    assert [w.name.split("/")[1] for w in layer.weights] == ["moving_mean:0", "moving_variance:0"]
    v = data(4, 3)
    np.testing.assert_allclose(run([x, K.learning_phase()], [y], [v, 1])[0],
                               (v - v.mean(0)) / np.sqrt(v.var(0) + EPS), rtol=1e-4, atol=1e-5)


def test_batchnorm_config_and_errors() -> None:
    layer = BatchNormalization(axis=1, momentum=0.9, epsilon=1e-2, beta_regularizer="l2",
                               gamma_initializer="zeros")
    config = assert_round_trip(layer)
    assert list(config)[3:] == [
        "axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
        "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer",
        "gamma_regularizer", "beta_constraint", "gamma_constraint"]
    assert config["moving_variance_initializer"] == {"class_name": "Ones", "config": {}}
    with pytest.raises(ValueError, match="Axis -1 of input tensor should have a defined dimension"):
        BatchNormalization()(Input(shape=(None,)))
    with pytest.raises(TypeError, match="Keyword argument not understood:"):
        BatchNormalization(decay=0.9)


def test_merge_configs_round_trip() -> None:
    for layer in (Add(name="plus"), Subtract(), Multiply(), Average(), Maximum(), Minimum()):
        config = assert_round_trip(layer)
        assert set(config) == {"name", "trainable", "dtype"}
