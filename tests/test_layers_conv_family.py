"""The convolution family's layers: output shapes (static, computed and run), values against
loops, configs that round-trip with Keras 2.2's keys, weight names, Keras 2 aliases, and
both data formats."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from conv_references import conv_ref, depthwise_ref, first, pool_ref

from minikeras import backend as K
from minikeras import layers
from minikeras.engine import deserialize_layer
from minikeras.layers import Input, Layer


def run(x: Any, y: Any, value: np.ndarray) -> np.ndarray:
    return K.function([x], [y])([value])[0]


def data(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def check_layer(layer: Layer, input_shape: tuple[int | None, ...], batch: int = 2) -> np.ndarray:
    """Build ``layer`` on an Input, run it, and check the three shapes agree; returns the output."""
    x = Input(shape=input_shape)
    y = layer(x)
    expected = layer.compute_output_shape((None, *input_shape))
    assert K.int_shape(y) == expected
    out = run(x, y, data(batch, *input_shape))
    assert out.shape == (batch, *expected[1:])
    config = layer.get_config()
    json.dumps(config)
    again = deserialize_layer({"class_name": type(layer).__name__, "config": config})
    assert again.get_config() == config
    return out


LAYERS = [
    (lambda: layers.Conv1D(4, 3, strides=2, padding="causal", dilation_rate=1), (9, 2), (None, 5, 4)),
    (lambda: layers.Conv1D(4, 3, padding="same", dilation_rate=2), (9, 2), (None, 9, 4)),
    (lambda: layers.Conv2D(3, (3, 2), strides=(2, 1), padding="valid"), (7, 6, 2), (None, 3, 5, 3)),
    (lambda: layers.Conv2D(3, 3, dilation_rate=2), (7, 6, 2), (None, 3, 2, 3)),
    (lambda: layers.Conv2D(3, 3, padding="same", data_format="channels_first"), (2, 5, 4), (None, 3, 5, 4)),
    (lambda: layers.Conv3D(2, 2, strides=(1, 2, 1)), (3, 4, 3, 1), (None, 2, 2, 2, 2)),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same"), (4, 5, 2), (None, 8, 10, 3)),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2), (4, 5, 2), (None, 9, 11, 3)),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2, output_padding=1), (4, 5, 2), (None, 10, 12, 3)),
    (lambda: layers.Conv2DTranspose(2, 2, strides=2, data_format="channels_first"), (3, 4, 4), (None, 2, 8, 8)),
    (lambda: layers.Conv3DTranspose(2, 2, strides=2), (2, 3, 2, 1), (None, 4, 6, 4, 2)),
    (lambda: layers.SeparableConv1D(4, 3, depth_multiplier=2, padding="same"), (7, 3), (None, 7, 4)),
    (lambda: layers.SeparableConv2D(4, 3, strides=2), (7, 7, 3), (None, 3, 3, 4)),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (5, 5, 3), (None, 5, 5, 6)),
    (lambda: layers.UpSampling1D(3), (4, 2), (None, 12, 2)),
    (lambda: layers.UpSampling2D((2, 3)), (2, 3, 2), (None, 4, 9, 2)),
    (lambda: layers.UpSampling2D(2, interpolation="bilinear"), (2, 3, 2), (None, 4, 6, 2)),
    (lambda: layers.UpSampling3D(2), (1, 2, 3, 1), (None, 2, 4, 6, 1)),
    (lambda: layers.ZeroPadding1D((1, 2)), (4, 2), (None, 7, 2)),
    (lambda: layers.ZeroPadding2D(((1, 0), (2, 3))), (3, 3, 2), (None, 4, 8, 2)),
    (lambda: layers.ZeroPadding3D(1), (1, 2, 3, 1), (None, 3, 4, 5, 1)),
    (lambda: layers.Cropping1D((1, 2)), (6, 2), (None, 3, 2)),
    (lambda: layers.Cropping2D(((1, 0), (1, 2))), (5, 5, 2), (None, 4, 2, 2)),
    (lambda: layers.Cropping3D(1), (3, 4, 5, 1), (None, 1, 2, 3, 1)),
    (lambda: layers.MaxPooling1D(), (7, 3), (None, 3, 3)),
    (lambda: layers.AveragePooling1D(3, strides=1, padding="same"), (7, 3), (None, 7, 3)),
    (lambda: layers.MaxPooling3D(), (4, 4, 5, 2), (None, 2, 2, 2, 2)),
    (lambda: layers.AveragePooling3D(2, padding="same"), (3, 4, 5, 2), (None, 2, 2, 3, 2)),
    (lambda: layers.MaxPooling2D(data_format="channels_first"), (2, 4, 6), (None, 2, 2, 3)),
    (lambda: layers.GlobalMaxPooling1D(), (5, 3), (None, 3)),
    (lambda: layers.GlobalAveragePooling1D(), (5, 3), (None, 3)),
    (lambda: layers.GlobalMaxPooling3D(), (2, 3, 4, 3), (None, 3)),
    (lambda: layers.GlobalAveragePooling3D(data_format="channels_first"), (3, 2, 3, 4), (None, 3)),
]


@pytest.mark.parametrize(("make", "input_shape", "output_shape"), LAYERS)
def test_layer_shapes_and_config_round_trip(make: Any, input_shape: tuple[int, ...],
                                            output_shape: tuple[int | None, ...]) -> None:
    layer = make()
    check_layer(layer, input_shape)
    assert layer.compute_output_shape((None, *input_shape)) == output_shape


def test_conv_layers_compute_the_convolution_plus_bias() -> None:
    x = Input(shape=(9, 2))
    layer = layers.Conv1D(3, 3, strides=2, padding="causal", bias_initializer="normal")
    y = layer(x)
    kernel, bias = layer.get_weights()
    v = data(2, 9, 2)
    np.testing.assert_allclose(run(x, y, v), conv_ref(v.astype("float64"), kernel, (2,), "causal", (1,)) + bias,
                               rtol=1e-4, atol=1e-5)
    x3 = Input(shape=(3, 5, 4, 2))
    conv3 = layers.Conv3D(2, (2, 3, 2), padding="same", dilation_rate=(1, 2, 1), use_bias=False)
    v3 = data(1, 3, 5, 4, 2)
    out = run(x3, conv3(x3), v3)
    (kernel3,) = conv3.get_weights()
    np.testing.assert_allclose(out, conv_ref(v3.astype("float64"), kernel3, 1, "same", (1, 2, 1)),
                               rtol=1e-4, atol=1e-5)


def test_channels_first_layers_equal_channels_last_ones_on_transposed_data() -> None:
    v = data(2, 6, 5, 3)
    last, firsts = layers.Conv2D(4, 3, strides=2, padding="same"), layers.Conv2D(4, 3, strides=2, padding="same",
                                                                                  data_format="channels_first")
    x_last, x_first = Input(shape=(6, 5, 3)), Input(shape=(3, 6, 5))
    y_last, y_first = last(x_last), firsts(x_first)
    firsts.set_weights(last.get_weights())  # kernels have one layout in both formats
    np.testing.assert_allclose(run(x_first, y_first, first(v)), first(run(x_last, y_last, v)), rtol=1e-5,
                               atol=1e-6)
    pool_first = layers.AveragePooling2D(data_format="channels_first")(x_first)
    np.testing.assert_allclose(run(x_first, pool_first, first(v)),
                               first(pool_ref(v.astype("float64"), (2, 2), (2, 2), "valid", "avg")), rtol=1e-5)


def test_depthwise_and_separable_weights_and_values() -> None:
    x = Input(shape=(5, 5, 3))
    depthwise = layers.DepthwiseConv2D(3, depth_multiplier=2, bias_initializer="normal")
    separable = layers.SeparableConv2D(4, 3, depth_multiplier=2, padding="same")
    yd, ys = depthwise(x), separable(x)
    assert [w.name for w in depthwise.weights] == ["depthwise_conv2d_1/depthwise_kernel:0",
                                                   "depthwise_conv2d_1/bias:0"]
    assert [(w.name, w.shape) for w in separable.weights] == [
        ("separable_conv2d_1/depthwise_kernel:0", (3, 3, 3, 2)),
        ("separable_conv2d_1/pointwise_kernel:0", (1, 1, 6, 4)), ("separable_conv2d_1/bias:0", (4,))]
    v = data(2, 5, 5, 3).astype("float64")
    dk, db = depthwise.get_weights()
    np.testing.assert_allclose(run(x, yd, v), depthwise_ref(v, dk, 1, "valid", 1) + db, rtol=1e-4, atol=1e-5)
    sdk, spk, sb = separable.get_weights()
    np.testing.assert_allclose(run(x, ys, v), depthwise_ref(v, sdk, 1, "same", 1) @ spk[0, 0] + sb,
                               rtol=1e-4, atol=1e-5)


def test_transposed_conv_kernel_layout_and_values() -> None:
    x = Input(shape=(3, 3, 2))
    layer = layers.Conv2DTranspose(4, 3, strides=2, padding="same", use_bias=False)
    y = layer(x)
    assert layer.weights[0].name == "conv2d_transpose_1/kernel:0" and layer.weights[0].shape == (3, 3, 4, 2)
    v = data(1, 3, 3, 2).astype("float64")
    out = run(x, y, v)
    (kernel,) = layer.get_weights()
    # the adjoint of the convolution with the same kernel: <conv(z), v> == <z, out> for any z
    z = data(1, 6, 6, 4, seed=3).astype("float64")
    np.testing.assert_allclose(np.sum(conv_ref(z, kernel, 2, "same", 1) * v), np.sum(z * out), rtol=1e-4)


def test_resampling_layers_against_numpy() -> None:
    v = data(2, 3, 4, 2)
    x = Input(shape=(3, 4, 2))
    np.testing.assert_array_equal(run(x, layers.UpSampling2D((2, 1))(x), v), v.repeat(2, 1))
    np.testing.assert_array_equal(run(x, layers.ZeroPadding2D((1, 2))(x), v),
                                  np.pad(v, ((0, 0), (1, 1), (2, 2), (0, 0))))
    np.testing.assert_array_equal(run(x, layers.Cropping2D(((1, 0), (1, 2)))(x), v), v[:, 1:, 1:2])
    np.testing.assert_array_equal(run(x, layers.Cropping2D(((0, 1), (0, 0)), data_format="channels_first")(x), v),
                                  v[:, :, :3, :])  # axes 2 and 3 are the spatial ones
    s = Input(shape=(4, 2))
    np.testing.assert_array_equal(run(s, layers.UpSampling1D(2)(s), v[:, 0]), v[:, 0].repeat(2, 1))
    np.testing.assert_array_equal(run(s, layers.GlobalMaxPooling1D()(s), v[:, 0]), v[:, 0].max(1))


def test_keras2_aliases_are_the_same_classes() -> None:
    assert layers.Convolution1D is layers.Conv1D and layers.Convolution3D is layers.Conv3D
    assert layers.Deconvolution2D is layers.Conv2DTranspose and layers.Deconvolution3D is layers.Conv3DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.AvgPool3D is layers.AveragePooling3D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D and layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D


def test_configs_use_keras_keys() -> None:
    config = layers.Conv2DTranspose(3, 3, output_padding=(1, 1), strides=2).get_config()
    assert config["output_padding"] == (1, 1) and config["kernel_size"] == (3, 3)
    assert "dilation_rate" not in layers.Conv3DTranspose(2, 2).get_config()
    separable = layers.SeparableConv2D(2, 3).get_config()
    assert "kernel_initializer" not in separable and separable["depth_multiplier"] == 1
    assert {"depthwise_initializer", "pointwise_initializer", "pointwise_constraint"} <= set(separable)
    depthwise = layers.DepthwiseConv2D(3).get_config()
    assert "filters" not in depthwise and "depthwise_regularizer" in depthwise
    assert layers.ZeroPadding2D(1).get_config()["padding"] == ((1, 1), (1, 1))
    assert layers.Cropping1D(2).get_config()["cropping"] == (2, 2)
    assert layers.UpSampling1D(3).get_config()["size"] == 3
    assert layers.UpSampling2D().get_config()["interpolation"] == "nearest"
    assert layers.MaxPooling1D().get_config()["pool_size"] == (2,)
    assert layers.Conv1D(2, 3).get_config()["data_format"] == "channels_last"


def test_errors_are_keras_errors() -> None:
    with pytest.raises(ValueError, match=r'"valid", "same" \(or "causal", only for `Conv1D`\)'):
        layers.Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match='must be one of "valid", "same". Received: causal'):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="Stride .* must be greater than output padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.Conv1D(2, 3)(Input(shape=(5, 5, 2)))
    with pytest.raises(ValueError, match="leaves nothing"):
        layers.Cropping2D(2)(Input(shape=(4, 6, 1)))
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="cubic")
