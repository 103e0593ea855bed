"""Activations, initializers, regularizers, constraints and the core layers (Dense, Activation,
Dropout, Flatten, Reshape, Lambda, Embedding): numbers against NumPy, names, shapes, configs."""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minikeras import activations, constraints, initializers, regularizers
from minikeras import backend as K
from minikeras import graph as G
from minikeras.layers import (
    Activation,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Input,
    Lambda,
    Layer,
    Reshape,
)
from minikeras.testing import check_gradients


def run(inputs: list[Any], outputs: list[Any], values: list[Any], updates: Any = None) -> list[np.ndarray]:
    return K.function(inputs, outputs, updates=updates or [])(values)


def assert_round_trip(layer: Layer) -> dict[str, Any]:
    """``from_config(get_config())`` gives the same config, and the config is plain JSON data."""
    config = layer.get_config()
    json.dumps(config)
    assert type(layer).from_config(config).get_config() == config
    return config


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# --- activations ----------------------------------------------------------------------

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
REFERENCES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "exponential": np.exp,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation_matches_numpy(name: str) -> None:
    x = K.placeholder(shape=(None, 5))
    data = rng().normal(0, 2, (4, 5)).astype("float32")
    (y,) = run([x], [activations.get(name)(x)], [data])
    np.testing.assert_allclose(y, REFERENCES[name](data.astype("float64")), rtol=1e-5, atol=1e-6)
    assert activations.serialize(activations.get(name)) == name


def test_activation_get_resolves_none_callables_and_rejects_unknown_names() -> None:
    assert activations.get(None) is activations.linear
    assert activations.get(np.abs) is np.abs
    with pytest.raises(ValueError, match="Unknown activation function:swish"):
        activations.get("swish")
    with pytest.raises(ValueError, match="Could not interpret activation"):
        activations.get(42)


def test_softmax_along_an_axis_and_not_on_1d() -> None:
    x = K.placeholder(shape=(None, 3, 4))
    data = rng().normal(size=(2, 3, 4)).astype("float32")
    (y,) = run([x], [activations.softmax(x, axis=1)], [data])
    np.testing.assert_allclose(y, np.exp(data) / np.exp(data).sum(1, keepdims=True), rtol=1e-5)
    with pytest.raises(ValueError, match="Cannot apply softmax to a tensor that is 1D"):
        activations.softmax(K.placeholder(shape=(3,)))


# --- initializers ---------------------------------------------------------------------


@pytest.mark.parametrize("shape, fans", [
    ((20, 30), (20, 30)),
    ((3, 3, 4, 8), (36, 72)),
    ((5, 4, 8), (20, 40)),
    ((16,), (4, 4)),
])
def test_fans_of_dense_conv_and_other_shapes(shape: tuple[int, ...], fans: tuple[int, int]) -> None:
    assert initializers.compute_fans(shape) == fans


def test_glorot_uniform_is_variance_scaling_within_its_limit() -> None:
    init = initializers.get("glorot_uniform")
    assert initializers.serialize(init) == {
        "class_name": "VarianceScaling",
        "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None},
    }
    w = init((200, 300))
    limit = math.sqrt(6 / 500)
    assert w.dtype == np.float32 and w.shape == (200, 300)
    assert np.abs(w).max() <= limit
    assert w.var() == pytest.approx(limit**2 / 3, rel=0.05)


def test_he_normal_on_a_conv_kernel_is_truncated_with_keras_224_correction() -> None:
    w = initializers.he_normal()((3, 3, 16, 32), dtype="float64")
    stddev = math.sqrt(2 / (3 * 3 * 16)) / 0.87962566103423978
    assert w.dtype == np.float64
    assert np.abs(w).max() <= 2 * stddev  # truncated at two stddev of the pre-truncation normal
    assert w.std() == pytest.approx(math.sqrt(2 / 144), rel=0.05)  # the corrected spread


@pytest.mark.parametrize("name, scale, mode, distribution", [
    ("lecun_uniform", 1.0, "fan_in", "uniform"),
    ("lecun_normal", 1.0, "fan_in", "normal"),
    ("glorot_normal", 1.0, "fan_avg", "normal"),
    ("he_uniform", 2.0, "fan_in", "uniform"),
    ("he_normal", 2.0, "fan_in", "normal"),
])
def test_named_variance_scaling_functions(name: str, scale: float, mode: str, distribution: str) -> None:
    config = initializers.get(name).get_config()
    assert config == {"scale": scale, "mode": mode, "distribution": distribution, "seed": None}


def test_names_like_keras() -> None:
    assert initializers.get("uniform").get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert initializers.get("normal").get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("ones")((2,)), np.ones(2))
    np.testing.assert_array_equal(initializers.Constant(3.5)((2,), dtype="float64"), [3.5, 3.5])


def test_get_accepts_dicts_instances_and_callables() -> None:
    init = initializers.RandomNormal(1.0, 0.5, seed=3)
    again = initializers.get(initializers.serialize(init))
    assert isinstance(again, initializers.RandomNormal) and again.get_config() == init.get_config()
    assert initializers.get(init) is init
    assert initializers.get(np.zeros) is np.zeros
    with pytest.raises(ValueError, match="Unknown initializer: nope"):
        initializers.get("nope")
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        initializers.get(3)


def test_seeded_initializers_repeat_and_unseeded_follow_numpy_global_seed() -> None:
    np.testing.assert_array_equal(initializers.RandomUniform(seed=1)((3, 4)),
                                  initializers.RandomUniform(seed=1)((3, 4)))
    np.random.seed(0)
    first = initializers.glorot_uniform()((4, 4))
    np.random.seed(0)
    np.testing.assert_array_equal(initializers.glorot_uniform()((4, 4)), first)


def test_truncated_normal_stays_within_two_stddev() -> None:
    w = initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=0)((100, 100))
    assert np.all(np.abs(w - 1.0) <= 1.0)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 3, 2, 5)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape: tuple[int, ...]) -> None:
    q = initializers.Orthogonal(gain=2.0, seed=0)(shape, dtype="float64").reshape(-1, shape[-1])
    small = min(q.shape)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)


def test_identity_only_for_square_matrices() -> None:
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((3, 3)), 3 * np.eye(3))
    with pytest.raises(ValueError, match="2D square matrices"):
        initializers.Identity()((3, 4))


def test_variance_scaling_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive float"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="Invalid `mode`"):
        initializers.VarianceScaling(mode="fan_middle")
    with pytest.raises(ValueError, match="Invalid `distribution`"):
        initializers.VarianceScaling(distribution="cauchy")


def test_tf_keras_class_names_load() -> None:
    init = initializers.get({"class_name": "GlorotUniform", "config": {"seed": None},
                             "module": "keras.initializers", "registered_name": None})
    assert np.abs(init((10, 10))).max() <= math.sqrt(6 / 20)


# --- regularizers and constraints -----------------------------------------------------


def test_l1_l2_is_a_graph_expression_with_keras_formula() -> None:
    w = rng().normal(size=(3, 4))
    penalty = regularizers.l1_l2(l1=0.1, l2=0.2)(K.variable(w))
    expected = 0.1 * np.abs(w).sum() + 0.2 * (w**2).sum()
    assert float(K.eval(penalty)) == pytest.approx(expected, rel=1e-5)
    assert float(K.eval(regularizers.L1L2()(K.variable(w)))) == 0.0


def test_regularizer_get_and_serialize() -> None:
    assert regularizers.get(None) is None
    assert regularizers.get("l2").get_config() == {"l1": 0.0, "l2": 0.01}
    reg = regularizers.l1(0.3)
    assert regularizers.serialize(reg) == {"class_name": "L1L2", "config": {"l1": 0.3, "l2": 0.0}}
    assert regularizers.get(regularizers.serialize(reg)).get_config() == reg.get_config()
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizers.get("l3")


def test_dense_kernel_and_activity_regularizers_become_losses() -> None:
    x = Input(shape=(3,))
    layer = Dense(2, kernel_regularizer=regularizers.l2(0.5), activity_regularizer="l1")
    y = layer(x)
    assert len(layer.losses) == 2
    data = rng().normal(size=(4, 3)).astype("float32")
    kernel_loss, activity_loss, out = run([x], [*layer.losses, y], [data])
    assert kernel_loss == pytest.approx(0.5 * (layer.get_weights()[0] ** 2).sum(), rel=1e-5)
    assert activity_loss == pytest.approx(0.01 * np.abs(out).sum(), rel=1e-5)


@pytest.mark.parametrize("constraint, reference", [
    (constraints.MaxNorm(1.0), lambda w, n: w * np.clip(n, 0, 1.0) / (1e-7 + n)),
    (constraints.UnitNorm(), lambda w, n: w / (1e-7 + n)),
    (constraints.MinMaxNorm(0.5, 1.0, rate=0.5),
     lambda w, n: w * (0.5 * np.clip(n, 0.5, 1.0) + 0.5 * n) / (1e-7 + n)),
    (constraints.NonNeg(), lambda w, n: w * (w >= 0)),
])
def test_constraints_match_numpy(constraint: Any, reference: Callable[..., np.ndarray]) -> None:
    w = rng().normal(size=(4, 3))
    norms = np.sqrt((w**2).sum(0, keepdims=True))
    np.testing.assert_allclose(K.eval(constraint(K.variable(w))), reference(w, norms), rtol=1e-5)
    again = constraints.get(constraints.serialize(constraint))
    assert type(again) is type(constraint) and again.get_config() == constraint.get_config()


def test_constraint_get_and_layer_weight_keeps_it() -> None:
    assert constraints.get(None) is None
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    layer = Dense(2, kernel_constraint="max_norm")
    layer(Input(shape=(3,)))
    assert isinstance(layer.kernel.constraint, constraints.MaxNorm)
    assert layer.bias.constraint is None
    with pytest.raises(ValueError, match="Unknown constraint"):
        constraints.get("positive")


# --- Dense ----------------------------------------------------------------------------


def test_dense_relu_makes_matmul_biasadd_relu_and_named_weights() -> None:
    x = Input(shape=(4,))
    layer = Dense(3, activation="relu")
    y = layer(x)
    assert layer.name == "dense_1"
    assert y.name == "dense_1/Relu:0"
    assert y.op.inputs[0].name == "dense_1/BiasAdd:0"
    assert y.op.inputs[0].op.inputs[0].name == "dense_1/MatMul:0"
    assert [w.name for w in layer.weights] == ["dense_1/kernel:0", "dense_1/bias:0"]
    assert [w.shape for w in layer.weights] == [(4, 3), (3,)]
    assert K.int_shape(y) == (None, 3) == layer.compute_output_shape((None, 4))


def test_dense_linear_stops_at_biasadd_and_no_bias_stops_at_matmul() -> None:
    x = Input(shape=(4,))
    assert Dense(3)(x).name == "dense_1/BiasAdd:0"
    assert Dense(3, activation="linear")(x).name == "dense_2/BiasAdd:0"
    layer = Dense(3, use_bias=False, activation="tanh")
    y = layer(x)
    assert y.op.type == "Tanh" and y.op.inputs[0].name == "dense_3/MatMul:0"
    assert [w.name for w in layer.weights] == ["dense_3/kernel:0"]


def test_dense_numbers_match_numpy() -> None:
    x = Input(shape=(4,))
    layer = Dense(3, activation="sigmoid", bias_initializer="normal")
    y = layer(x)
    data = rng().normal(size=(5, 4)).astype("float32")
    kernel, bias = layer.get_weights()
    (out,) = run([x], [y], [data])
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-(data @ kernel + bias))), rtol=1e-5)


def test_dense_on_3d_inputs_applies_the_kernel_at_every_step() -> None:
    x = Input(shape=(5, 4))
    layer = Dense(3, activation="relu")
    y = layer(x)
    assert K.int_shape(y) == (None, 5, 3) == layer.compute_output_shape((None, 5, 4))
    assert layer.kernel.shape == (4, 3)
    data = rng().normal(size=(2, 5, 4)).astype("float32")
    kernel, bias = layer.get_weights()
    (out,) = run([x], [y], [data])
    np.testing.assert_allclose(out, np.maximum(np.einsum("bti,io->bto", data, kernel) + bias, 0),
                               rtol=1e-5, atol=1e-6)


def test_dense_initial_weights_follow_numpy_seed() -> None:
    np.random.seed(1)
    first = Dense(3)
    first(Input(shape=(4,)))
    np.random.seed(1)
    second = Dense(3)
    second(Input(shape=(4,)))
    np.testing.assert_array_equal(first.get_weights()[0], second.get_weights()[0])


def test_dense_config_has_keras_224_keys_and_round_trips() -> None:
    layer = Dense(3, activation="relu", kernel_regularizer="l2", bias_constraint="non_neg",
                  input_dim=4)
    config = assert_round_trip(layer)
    assert list(config) == ["name", "trainable", "batch_input_shape", "dtype", "units", "activation",
                            "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                            "bias_regularizer", "activity_regularizer", "kernel_constraint",
                            "bias_constraint"]
    assert config["batch_input_shape"] == (None, 4)
    assert config["activation"] == "relu"
    assert config["bias_initializer"] == {"class_name": "Zeros", "config": {}}
    assert config["kernel_regularizer"] == {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}
    assert config["bias_constraint"] == {"class_name": "NonNeg", "config": {}}


def test_dense_errors() -> None:
    layer = Dense(3)
    layer(Input(shape=(4,)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(Input(shape=(5,)))
    with pytest.raises(ValueError, match="min_ndim=2"):
        Dense(3)(K.placeholder(shape=(4,)))
    with pytest.raises(ValueError, match="last dimension of its input to be known"):
        Dense(3)(Input(shape=(None,)))


@pytest.mark.parametrize("make", [
    lambda: Dense(2, foo=1),
    lambda: Activation("relu", foo=1),
    lambda: Dropout(0.5, foo=1),
    lambda: Flatten(foo=1),
    lambda: Reshape((2,), foo=1),
    lambda: Lambda(abs, foo=1),
    lambda: Embedding(3, 2, foo=1),
])
def test_unknown_keyword_arguments_are_refused(make: Callable[[], Layer]) -> None:
    with pytest.raises(TypeError) as info:
        make()
    assert info.value.args == ("Keyword argument not understood:", "foo")


# --- Activation -----------------------------------------------------------------------


def test_activation_layer() -> None:
    x = Input(shape=(3,))
    layer = Activation("softmax")
    y = layer(x)
    assert y.name == "activation_1/Softmax:0"
    data = rng().normal(size=(2, 3)).astype("float32")
    (out,) = run([x], [y], [data])
    np.testing.assert_allclose(out, REFERENCES["softmax"](data), rtol=1e-5)
    assert assert_round_trip(layer)["activation"] == "softmax"
    # 'linear' returns its input; the layer still gives a new tensor of its own.
    z = Activation("linear")(x)
    assert z is not x and z.name.startswith("activation_2/")


# --- Dropout --------------------------------------------------------------------------


def test_dropout_is_identity_in_test_phase_and_inverted_in_training_phase() -> None:
    x = Input(shape=(1000,))
    y = Dropout(0.25)(x)
    assert y.name.startswith("dropout_1/")
    assert y._uses_learning_phase
    f = K.function([x, K.learning_phase()], [y])
    data = rng().uniform(1, 2, (4, 1000)).astype("float32")
    np.testing.assert_array_equal(f([data, 0])[0], data)
    np.testing.assert_array_equal(f([data])[0], data)  # the phase defaults to 0
    out = f([data, 1])[0]
    kept = out != 0
    np.testing.assert_allclose(out[kept], data[kept] / 0.75, rtol=1e-6)
    assert 1 - kept.mean() == pytest.approx(0.25, abs=0.03)


def test_dropout_training_argument_overrides_the_phase() -> None:
    x = Input(shape=(200,))
    on = Dropout(0.5)(x, training=True)
    off = Dropout(0.5)(x, training=False)
    assert not on._uses_learning_phase and not off._uses_learning_phase
    data = np.ones((3, 200), dtype="float32")
    out_on, out_off = run([x], [on, off], [data])  # no learning phase needed
    assert set(np.unique(out_on)) == {0.0, 2.0}
    np.testing.assert_array_equal(out_off, data)


def test_dropout_noise_shape_drops_whole_rows() -> None:
    x = Input(shape=(3, 50))
    y = Dropout(0.5, noise_shape=(None, 3, 1), seed=1)(x)
    (out,) = run([x, K.learning_phase()], [y], [np.ones((4, 3, 50)), 1])
    assert np.all((out == 0).all(-1) | (out == 2).all(-1))


def test_dropout_rate_is_checked_and_config_round_trips() -> None:
    for rate in (-0.5, 1.0):
        with pytest.raises(ValueError, match=r"Dropout rate must be in \[0, 1\)"):
            Dropout(rate)
    config = assert_round_trip(Dropout(0.3, noise_shape=(None, 1), seed=7))
    assert (config["rate"], config["noise_shape"], config["seed"]) == (0.3, (None, 1), 7)
    x = Input(shape=(3,))
    (out,) = run([x, K.learning_phase()], [Dropout(0.0)(x)], [np.ones((2, 3)), 1])
    np.testing.assert_array_equal(out, np.ones((2, 3)))


# --- Flatten and Reshape --------------------------------------------------------------


def test_flatten() -> None:
    x = Input(shape=(2, 3, 4))
    layer = Flatten()
    y = layer(x)
    assert y.name == "flatten_1/Reshape:0"
    assert K.int_shape(y) == (None, 24) == layer.compute_output_shape((None, 2, 3, 4))
    data = rng().normal(size=(5, 2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(run([x], [y], [data])[0], data.reshape(5, 24))
    assert assert_round_trip(layer)["data_format"] == "channels_last"
    with pytest.raises(ValueError, match='The shape of the input to "Flatten" is not fully defined'):
        Flatten()(Input(shape=(None, 3)))


def test_flatten_channels_first_flattens_in_channels_last_order() -> None:
    x = Input(shape=(2, 3, 4))
    y = Flatten(data_format="channels_first")(x)
    data = rng().normal(size=(5, 2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(run([x], [y], [data])[0], data.transpose(0, 2, 3, 1).reshape(5, 24))


@pytest.mark.parametrize("target, expected", [((3, 4), (3, 4)), ((-1, 2), (6, 2)), ((2, -1, 3), (2, 2, 3))])
def test_reshape(target: tuple[int, ...], expected: tuple[int, ...]) -> None:
    x = Input(shape=(12,))
    layer = Reshape(target)
    y = layer(x)
    assert K.int_shape(y) == (None, *expected) == layer.compute_output_shape((None, 12))
    data = np.arange(24, dtype="float32").reshape(2, 12)
    np.testing.assert_array_equal(run([x], [y], [data])[0], data.reshape(2, *expected))
    assert assert_round_trip(layer)["target_shape"] == target


def test_reshape_errors_and_unknown_input_sizes() -> None:
    with pytest.raises(ValueError, match="Can only specify one unknown dimension"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match="total size of new array must be unchanged"):
        Reshape((5,))(Input(shape=(12,)))
    with pytest.raises(ValueError, match="total size of new array must be unchanged"):
        Reshape((5, -1))(Input(shape=(12,)))
    assert K.int_shape(Reshape((2, 3))(Input(shape=(None,)))) == (None, 2, 3)
    x = Input(shape=(None,))
    y = Reshape((-1, 3))(x)  # the -1 and the batch size are both resolved at run time
    assert K.int_shape(y) == (None, None, 3)
    np.testing.assert_array_equal(K.function([x], [y])([np.arange(12.0).reshape(2, 6)])[0],
                                  np.arange(12.0).reshape(2, 2, 3))
    check_gradients(lambda a: G.batch_reshape(a, (-1, 2)), [np.random.randn(2, 4)])


# --- Lambda ---------------------------------------------------------------------------


def scaled_square(x: Any, factor: float = 1.0) -> Any:
    return K.square(x) * factor


def pair_shape(input_shape: Any) -> Any:
    return (input_shape[0], 2 * input_shape[1])


def test_lambda_computes_its_function_with_arguments() -> None:
    x = Input(shape=(3,))
    layer = Lambda(scaled_square, arguments={"factor": 2.0})
    y = layer(x)
    assert y.name.startswith("lambda_1/")
    data = rng().normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(run([x], [y], [data])[0], 2 * data**2, rtol=1e-6)
    assert layer.compute_output_shape((None, 3)) == (None, 3)


def test_lambda_output_shape_as_tuple_or_function() -> None:
    assert Lambda(abs, output_shape=(4, 5)).compute_output_shape((None, 20)) == (None, 4, 5)
    assert Lambda(abs, output_shape=pair_shape).compute_output_shape((None, 3)) == (None, 6)
    with pytest.raises(TypeError, match="`output_shape` must be a list, a tuple, or a function"):
        Lambda(abs, output_shape=3)


def test_lambda_config_names_the_function_and_needs_it_back() -> None:
    layer = Lambda(scaled_square, output_shape=pair_shape, arguments={"factor": 3.0})
    config = layer.get_config()
    json.dumps(config)
    assert (config["function"], config["function_type"], config["module"]) == (
        "scaled_square", "function", __name__)
    assert (config["output_shape"], config["output_shape_type"]) == ("pair_shape", "function")
    with pytest.raises(ValueError, match="custom_objects") as info:
        Lambda.from_config(config)
    assert "scaled_square" in str(info.value) and "lambda_1" in str(info.value)
    with pytest.raises(ValueError, match="pair_shape"):
        Lambda.from_config(config, custom_objects={"scaled_square": scaled_square})
    clone = Lambda.from_config(config, custom_objects={"scaled_square": scaled_square,
                                                       "pair_shape": pair_shape})
    assert clone.get_config() == config and clone.function is scaled_square


def test_lambda_config_of_a_lambda_holds_no_code() -> None:
    config = Lambda(lambda t: t + 1, output_shape=(3,)).get_config()
    assert config["function"] == "<lambda>" and config["function_type"] == "lambda"
    assert config["output_shape"] == (3,) and config["output_shape_type"] == "raw"
    assert all(isinstance(v, (str, int, float, bool, tuple, dict, type(None))) for v in config.values())


# --- Embedding ------------------------------------------------------------------------


def test_embedding_looks_up_rows() -> None:
    ids = Input(shape=(5,))
    layer = Embedding(10, 4)
    y = layer(ids)
    assert [w.name for w in layer.weights] == ["embedding_1/embeddings:0"]
    assert y.op.type == "Gather" and y.name == "embedding_1/Gather:0"
    assert K.int_shape(y) == (None, 5, 4) == layer.compute_output_shape((None, 5))
    table = layer.get_weights()[0]
    assert np.abs(table).max() <= 0.05  # 'uniform' is RandomUniform(-0.05, 0.05)
    data = np.array([[0, 1, 2, 9, 1], [3, 3, 3, 3, 3]], dtype="float32")
    np.testing.assert_array_equal(run([ids], [y], [data])[0], table[data.astype(int)])


def test_embedding_gradient_reaches_only_looked_up_rows() -> None:
    ids = Input(shape=(3,), dtype="int32")
    layer = Embedding(5, 2)
    loss = K.sum(layer(ids))
    (grad,) = K.gradients(loss, layer.trainable_weights)
    (g,) = run([ids], [grad], [np.array([[1, 1, 4]])])
    np.testing.assert_array_equal(g, [[0, 0], [2, 2], [0, 0], [0, 0], [1, 1]])


def test_embedding_input_length_config_and_errors() -> None:
    layer = Embedding(10, 4, input_length=5)
    assert layer.compute_output_shape((None, 5)) == (None, 5, 4)
    assert layer.compute_output_shape((None, None)) == (None, 5, 4)
    with pytest.raises(ValueError, match='"input_length" is 5'):
        layer.compute_output_shape((None, 6))
    config = assert_round_trip(layer)
    assert config["batch_input_shape"] == (None, 5) and config["input_length"] == 5
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"


# --- floors ---------------------------------------------------------------------------

FLOOR_3 = ["activations.py", "initializers.py", "regularizers.py", "constraints.py", "layers"]


def test_floor_3_imports_nothing_above_it() -> None:
    root = Path(__file__).resolve().parent.parent / "minikeras"
    files = [p for name in FLOOR_3 for p in ([root / name] if name.endswith(".py")
                                              else sorted((root / name).glob("*.py")))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not any(part in {"models", "viz", "saving"} for part in name.split(".")), (
                    f"{path.name} imports {name}: floor 3 must not import floors 4-5")


# --- a custom layer's compute_output_shape --------------------------------------------------


class _Doubler(Layer):
    def call(self, inputs: Any) -> Any:
        return K.concatenate([inputs, inputs], axis=-1)


def test_a_bug_in_compute_output_shape_is_reported_with_the_layer_name() -> None:
    class Broken(_Doubler):
        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape[:-1] + (input_shape[-1] * 2,)  # None * 2: a real bug

    with pytest.raises(TypeError) as info:
        Broken(name="broken")(Input(shape=(None,)))
    assert "compute_output_shape of layer broken" in "\n".join(info.value.__notes__)


def test_a_layer_that_cannot_tell_its_output_shape_keeps_the_graphs() -> None:
    class Unsure(_Doubler):
        def compute_output_shape(self, input_shape: Any) -> Any:
            raise NotImplementedError

    y = Unsure()(Input(shape=(3,)))
    assert K.int_shape(y) == (None, 6)
