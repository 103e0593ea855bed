"""Conv2D and the pooling layers: numbers against explicit loops, names, shapes, configs,
errors, and gradients of a small conv net against finite differences."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.layers import (
    AveragePooling2D,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    Layer,
    MaxPooling2D,
)


def run(inputs: list[Any], outputs: list[Any], values: list[Any]) -> list[np.ndarray]:
    return K.function(inputs, outputs)(values)


def assert_round_trip(layer: Layer) -> dict[str, Any]:
    config = layer.get_config()
    json.dumps(config)
    assert type(layer).from_config(config).get_config() == config
    return config


def data(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# --- loop references (TensorFlow's "same" padding: the extra pixel goes after) ------------


def geometry(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(output size, padding before) along one axis."""
    if padding == "valid":
        return (n - k) // s + 1, 0
    out = math.ceil(n / s)
    return out, max((out - 1) * s + k - n, 0) // 2


def conv_reference(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: tuple[int, int],
                   padding: str) -> np.ndarray:
    batch, h, w, _ = x.shape
    kh, kw, _, filters = kernel.shape
    oh, top = geometry(h, kh, strides[0], padding)
    ow, left = geometry(w, kw, strides[1], padding)
    y = np.zeros((batch, oh, ow, filters))
    for p in range(oh):
        for q in range(ow):
            for i in range(kh):
                for j in range(kw):
                    r, c = p * strides[0] + i - top, q * strides[1] + j - left
                    if 0 <= r < h and 0 <= c < w:
                        y[:, p, q] += x[:, r, c] @ kernel[i, j]
    return y + bias


def pool_reference(x: np.ndarray, size: tuple[int, int], strides: tuple[int, int], padding: str,
                   mode: str) -> np.ndarray:
    batch, h, w, channels = x.shape
    oh, top = geometry(h, size[0], strides[0], padding)
    ow, left = geometry(w, size[1], strides[1], padding)
    y = np.zeros((batch, oh, ow, channels))
    for p in range(oh):
        for q in range(ow):
            r0, c0 = p * strides[0] - top, q * strides[1] - left
            window = x[:, max(r0, 0) : r0 + size[0], max(c0, 0) : c0 + size[1]]  # padding not counted
            y[:, p, q] = window.max((1, 2)) if mode == "max" else window.mean((1, 2))
    return y


# --- Conv2D ---------------------------------------------------------------------------


def test_conv2d_names_weights_and_op_chain() -> None:
    x = Input(shape=(6, 6, 2))
    layer = Conv2D(4, 3, activation="relu")
    y = layer(x)
    assert layer.name == "conv2d_1"
    assert y.name == "conv2d_1/Relu:0"
    assert y.op.inputs[0].name == "conv2d_1/BiasAdd:0"
    conv = y.op.inputs[0].op.inputs[0]  # the rows of every window times the kernel
    assert [conv.op.type, conv.op.inputs[0].op.type] == ["Reshape", "MatMul"]
    assert conv.op.inputs[0].op.inputs[0].op.inputs[0].name == "conv2d_1/Im2Col:0"
    assert [(w.name, w.shape) for w in layer.weights] == [("conv2d_1/kernel:0", (3, 3, 2, 4)),
                                                          ("conv2d_1/bias:0", (4,))]
    assert Conv2D(4, 3)(x).name == "conv2d_2/BiasAdd:0"  # linear stops at BiasAdd


CASES = [
    ((3, 3), (1, 1), "valid"),
    ((3, 3), (1, 1), "same"),
    ((3, 3), (2, 2), "same"),
    ((2, 3), (2, 1), "valid"),
    ((4, 4), (3, 3), "same"),
]


@pytest.mark.parametrize("kernel_size, strides, padding", CASES)
def test_conv2d_matches_a_loop(kernel_size: tuple[int, int], strides: tuple[int, int], padding: str) -> None:
    x = Input(shape=(7, 8, 3))
    layer = Conv2D(5, kernel_size, strides=strides, padding=padding, bias_initializer="normal")
    y = layer(x)
    assert K.int_shape(y) == layer.compute_output_shape((None, 7, 8, 3))
    kernel, bias = layer.get_weights()
    v = data(2, 7, 8, 3)
    (out,) = run([x], [y], [v])
    expected = conv_reference(v.astype("float64"), kernel, bias, strides, padding)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_conv2d_shapes_with_unknown_sizes() -> None:
    x = Input(shape=(None, None, 3))
    layer = Conv2D(2, (3, 3), strides=2, padding="same")
    y = layer(x)
    assert K.int_shape(y) == (None, None, None, 2) == layer.compute_output_shape((None, None, None, 3))
    assert layer.compute_output_shape((None, 9, 10, 3)) == (None, 5, 5, 2)
    assert Conv2D(2, 3).compute_output_shape((None, 9, 10, 3)) == (None, 7, 8, 2)
    (out,) = run([x], [y], [data(1, 9, 10, 3)])
    assert out.shape == (1, 5, 5, 2)


def test_conv2d_he_uniform_kernel_uses_conv_fans() -> None:
    layer = Conv2D(8, 3, kernel_initializer="he_uniform", use_bias=False)
    layer(Input(shape=(5, 5, 4)))
    assert len(layer.weights) == 1
    assert np.abs(layer.get_weights()[0]).max() <= math.sqrt(6 / (3 * 3 * 4))


def test_conv2d_config_round_trips_with_keras_keys() -> None:
    layer = Conv2D(4, 3, strides=2, padding="same", activation="relu", kernel_regularizer="l2")
    config = assert_round_trip(layer)
    assert list(config)[3:] == [
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
        "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "bias_constraint"]
    assert (config["kernel_size"], config["strides"], config["dilation_rate"]) == ((3, 3), (2, 2), (1, 1))
    assert config["data_format"] == "channels_last" and config["padding"] == "same"


def test_conv2d_errors() -> None:
    with pytest.raises(ValueError, match='must be one of "channels_first", "channels_last"'):
        Conv2D(4, 3, data_format="nchw")
    with pytest.raises(ValueError, match="The `dilation_rate` argument must be a tuple of 2 integers"):
        Conv2D(4, 3, dilation_rate=(2, 2, 2))
    with pytest.raises(ValueError, match="The `kernel_size` argument must be a tuple of 2 integers"):
        Conv2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="The channel dimension of the inputs should be defined"):
        Conv2D(4, 3)(Input(shape=(5, 5, None)))
    with pytest.raises(ValueError, match="expected ndim=4"):
        Conv2D(4, 3)(Input(shape=(5, 5)))
    layer = Conv2D(4, 3)
    layer(Input(shape=(5, 5, 2)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
        layer(Input(shape=(5, 5, 3)))
    with pytest.raises(TypeError, match="Keyword argument not understood:"):
        Conv2D(4, 3, groups=2)


# --- pooling --------------------------------------------------------------------------

POOLS = [
    ((2, 2), None, "valid"),
    ((2, 2), None, "same"),
    ((3, 3), (1, 1), "valid"),
    ((3, 3), (2, 2), "same"),
    ((2, 3), (1, 2), "valid"),
]


@pytest.mark.parametrize("cls, mode, op_type", [(MaxPooling2D, "max", "MaxPool"),
                                                (AveragePooling2D, "avg", "AvgPool")])
@pytest.mark.parametrize("pool_size, strides, padding", POOLS)
def test_pooling_matches_a_loop(cls: type[Layer], mode: str, op_type: str, pool_size: tuple[int, int],
                                strides: tuple[int, int] | None, padding: str) -> None:
    x = Input(shape=(7, 6, 3))
    layer = cls(pool_size=pool_size, strides=strides, padding=padding)
    y = layer(x)
    assert y.op.type == op_type
    assert K.int_shape(y) == layer.compute_output_shape((None, 7, 6, 3))
    v = data(2, 7, 6, 3)
    (out,) = run([x], [y], [v])
    expected = pool_reference(v, pool_size, strides or pool_size, padding, mode)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_pooling_names_defaults_and_config() -> None:
    x = Input(shape=(4, 4, 2))
    assert MaxPooling2D()(x).name == "max_pooling2d_1/MaxPool:0"
    assert AveragePooling2D()(x).name == "average_pooling2d_1/AvgPool:0"
    layer = MaxPooling2D(pool_size=3)
    assert layer.strides == (3, 3)  # strides default to the pool size
    config = assert_round_trip(layer)
    assert {k: config[k] for k in ("pool_size", "padding", "strides", "data_format")} == {
        "pool_size": (3, 3), "padding": "valid", "strides": (3, 3), "data_format": "channels_last"}
    assert MaxPooling2D(data_format="channels_first").compute_output_shape((None, 3, 4, 6)) == (None, 3, 2, 3)


@pytest.mark.parametrize("cls, name, reduce", [
    (GlobalAveragePooling2D, "global_average_pooling2d_1", np.mean),
    (GlobalMaxPooling2D, "global_max_pooling2d_1", np.max),
])
def test_global_pooling(cls: type[Layer], name: str, reduce: Any) -> None:
    x = Input(shape=(4, 5, 3))
    layer = cls()
    y = layer(x)
    assert layer.name == name and y.name.startswith(name + "/")
    assert K.int_shape(y) == (None, 3) == layer.compute_output_shape((None, 4, 5, 3))
    v = data(2, 4, 5, 3)
    np.testing.assert_allclose(run([x], [y], [v])[0], reduce(v, axis=(1, 2)), rtol=1e-5)
    assert assert_round_trip(layer)["data_format"] == "channels_last"
    first = cls(data_format="channels_first")
    assert first.compute_output_shape((None, 3, 4, 5)) == (None, 3)
    np.testing.assert_allclose(run([x], [first(x)], [v])[0], reduce(v, axis=(2, 3)), rtol=1e-5)


# --- gradients through a small conv net -----------------------------------------------


def test_gradients_of_a_small_conv_net_match_finite_differences() -> None:
    x = Input(shape=(6, 6, 2), dtype="float64")
    conv = Conv2D(3, 3, activation="tanh", padding="same", dtype="float64")
    dense = Dense(1, dtype="float64")
    y = dense(Flatten()(MaxPooling2D()(conv(x))))
    loss = K.sum(K.square(y))
    weights = conv.trainable_weights + dense.trainable_weights
    grads = K.gradients(loss, weights)
    assert all(g is not None for g in grads)
    f_loss = K.function([x], [loss])
    f_grads = K.function([x], grads)
    v = np.random.default_rng(1).normal(size=(2, 6, 6, 2))
    values = f_grads([v])
    assert all(np.isfinite(g).all() and g.shape == w.shape for g, w in zip(values, weights))

    kernel = conv.kernel
    base = kernel.get_value()
    eps = 1e-6
    for index in [(0, 0, 0, 0), (1, 2, 1, 2), (2, 1, 0, 1)]:
        step = np.zeros_like(base)
        step[index] = eps
        kernel.set_value(base + step)
        (plus,) = f_loss([v])
        kernel.set_value(base - step)
        (minus,) = f_loss([v])
        kernel.set_value(base)
        numeric = (plus - minus) / (2 * eps)
        assert values[0][index] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
