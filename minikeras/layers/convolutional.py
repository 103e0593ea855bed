"""Conv1D, Conv2D, Conv3D, and the argument checks and size arithmetic the convolution family shares."""

from __future__ import annotations

from typing import Any

from .. import activations, constraints, initializers, regularizers
from .. import backend as K
from ..engine import Layer
from ..graph import Tensor
from .core import add_activity_loss, check_axis, kernel_and_bias_config

Shape = tuple[int | None, ...]


def normalize_tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)``; a tuple must have ``n`` ints."""
    if isinstance(value, int):
        return (value,) * n
    try:
        result = tuple(value)
    except TypeError:
        result = ()
    if len(result) != n or not all(isinstance(v, int) for v in result):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}")
    return result


def normalize_padding(value: Any, causal: bool = False) -> str:
    """``"valid"`` or ``"same"``; also ``"causal"`` where allowed (Conv1D, SeparableConv1D)."""
    padding = value.lower() if isinstance(value, str) else value
    allowed = {"valid", "same", "causal"} if causal else {"valid", "same"}
    if padding not in allowed:
        causal_note = ' (or "causal", only for `Conv1D`)' if causal else ""
        raise ValueError(f'The `padding` argument must be one of "valid", "same"{causal_note}. '
                         f"Received: {value}")
    return padding


def conv_output_length(length: int | None, window: int, padding: str, stride: int,
                       dilation: int = 1) -> int | None:
    """Output size along one axis: ``ceil(n / s)`` for "same" and "causal", ``ceil((n - span + 1) / s)``
    for "valid", with ``span`` the dilated window."""
    if length is None:
        return None
    span = window + (window - 1) * (dilation - 1)
    covered = length - span + 1 if padding == "valid" else length
    return (covered + stride - 1) // stride


def deconv_length(length: int | None, stride: int, window: int, padding: str, output_padding: int | None,
                  dilation: int = 1) -> int | None:
    """The output size of a transposed convolution along one axis (Keras's rule)."""
    if length is None:
        return None
    span = window + (window - 1) * (dilation - 1)
    if output_padding is None:
        return length * stride + (max(span - stride, 0) if padding == "valid" else 0)
    pad = span // 2 if padding == "same" else 0
    return (length - 1) * stride + span - 2 * pad + output_padding


def spatial_of(shape: Shape, data_format: str) -> Shape:
    return tuple(shape[1:-1]) if data_format == "channels_last" else tuple(shape[2:])


def with_spatial(batch: int | None, spatial: Shape, channels: int | None, data_format: str) -> Shape:
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def channel_count(layer: Any, input_shape: Shape, rank: int) -> int:
    """The input's channels, after Keras's rank and known-channel checks."""
    if len(input_shape) != rank + 2:
        raise ValueError(f"Input 0 is incompatible with layer {layer.name}: expected ndim={rank + 2}, "
                         f"found ndim={len(input_shape)} (shape {input_shape}).")
    channels = input_shape[-1] if layer.data_format == "channels_last" else input_shape[1]
    if channels is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    return channels


class _Conv(Layer):
    """Base of the N-D convolutions: ``filters`` kernels of ``kernel_size`` slid over the input.

    The kernel has shape ``(*kernel_size, in_channels, filters)`` in both data formats. As in
    TensorFlow (and unlike the maths textbook) it is not flipped: this is a cross-correlation.
    An int ``strides`` or ``dilation_rate`` applies to every axis; Conv1D's ``data_format``
    is always ``"channels_last"`` unless given (as in Keras 2.2), not the global setting.
    """

    rank = 2
    kernel_in_axis = -2  # the kernel's axis of input channels

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        n = self.rank
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size")
        self.strides = normalize_tuple(strides, n, "strides")
        self.padding = normalize_padding(padding, causal=n == 1)
        self.data_format = K.normalize_data_format(
            "channels_last" if data_format is None and n == 1 else data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, channels, self.filters)

    def build(self, input_shape: Shape) -> None:
        channels = channel_count(self, input_shape, self.rank)
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_shape(channels),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.build_bias()

    def build_bias(self) -> None:
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def convolve(self, inputs: Tensor) -> Tensor:
        conv = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}[self.rank]
        strides = self.strides[0] if self.rank == 1 else self.strides
        dilation = self.dilation_rate[0] if self.rank == 1 else self.dilation_rate
        return conv(inputs, self.kernel, strides=strides, padding=self.padding,
                    data_format=self.data_format, dilation_rate=dilation)

    def call(self, inputs: Tensor) -> Tensor:
        check_axis(self, inputs, -1 if self.data_format == "channels_last" else 1,
                   self.kernel.shape[self.kernel_in_axis])
        outputs = self.convolve(inputs)
        if self.bias is not None:
            outputs = K.bias_add(outputs, self.bias, data_format=self.data_format)
        outputs = self.activation(outputs)
        add_activity_loss(self, outputs, inputs)
        return outputs

    def output_spatial(self, spatial: Shape) -> Shape:
        return tuple(conv_output_length(n, k, self.padding, s, d) for n, k, s, d
                     in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        spatial = self.output_spatial(spatial_of(input_shape, self.data_format))
        return with_spatial(input_shape[0], spatial, self.filters, self.data_format)

    def get_config(self) -> dict[str, Any]:
        config = {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            **kernel_and_bias_config(self),
        }
        return {**super().get_config(), **config}


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)``, e.g. over word vectors;
    ``padding="causal"`` lets step ``t`` see only steps up to ``t`` (WaveNet)."""

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over images ``(batch, rows, cols, channels)`` (or channels first)."""

    rank = 2


class Conv3D(_Conv):
    """3-D convolution over volumes ``(batch, depth, rows, cols, channels)``."""

    rank = 3


# Keras's aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
