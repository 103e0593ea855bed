"""Conv2D, and the argument checks and size arithmetic that convolution and pooling share."""

from __future__ import annotations

from typing import Any

from .. import activations, constraints, initializers, regularizers
from .. import backend as K
from ..engine import Layer
from ..graph import Tensor
from ..graph.ops.conv import conv2d
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


def normalize_padding(value: Any) -> str:
    padding = value.lower() if isinstance(value, str) else value
    if padding not in {"valid", "same"}:
        raise ValueError('The `padding` argument must be one of "valid", "same". Received: '
                         + str(value))
    return padding


def channels_last_only(layer_type: str, data_format: str | None) -> str:
    """The data format, or a clear refusal of ``channels_first``, which minikeras does not run."""
    data_format = K.normalize_data_format(data_format)
    if data_format != "channels_last":
        raise ValueError(
            f"{layer_type}: minikeras supports only data_format='channels_last' (batch, rows, "
            "cols, channels). Transpose the data with np.transpose(x, (0, 2, 3, 1)) and use "
            "channels_last."
        )
    return data_format


def conv_output_length(length: int | None, window: int, padding: str, stride: int) -> int | None:
    """Output size along one axis: ``ceil(n / s)`` for "same", ``ceil((n - k + 1) / s)`` for "valid"."""
    if length is None:
        return None
    covered = length if padding == "same" else length - window + 1
    return (covered + stride - 1) // stride


class Conv2D(Layer):
    """2-D convolution: ``filters`` kernels of ``kernel_size`` slid over (batch, rows, cols, channels).

    The kernel has shape ``(kh, kw, in_channels, filters)``. As in TensorFlow (and unlike the
    maths textbook) it is not flipped: this is a cross-correlation.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = (1, 1), activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = channels_last_only("Conv2D", data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        if self.dilation_rate != (1, 1):
            raise ValueError(f"Conv2D: only dilation_rate=(1, 1) is supported, got {dilation_rate}.")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != 4:
            raise ValueError(f"Input 0 is incompatible with layer {self.name}: expected ndim=4 "
                             f"(batch, rows, cols, channels), found ndim={len(input_shape)} "
                             f"(shape {input_shape}).")
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        self.kernel = self.add_weight(name="kernel", shape=(*self.kernel_size, channels, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        check_axis(self, inputs, -1, self.kernel.shape[2])
        outputs = conv2d(inputs, self.kernel, strides=self.strides, padding=self.padding,
                         dilation_rate=self.dilation_rate)
        if self.bias is not None:
            outputs = K.bias_add(outputs, self.bias, data_format="channels_last")
        outputs = self.activation(outputs)
        add_activity_loss(self, outputs, inputs)
        return outputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rows, cols = (conv_output_length(n, k, self.padding, s)
                      for n, k, s in zip(input_shape[1:3], self.kernel_size, self.strides))
        return (input_shape[0], rows, cols, self.filters)

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


# Keras's alias.
Convolution2D = Conv2D
