"""SeparableConv1D, SeparableConv2D and DepthwiseConv2D: the factored convolutions of mobile-style nets.

A depthwise convolution filters each input channel on its own (``depth_multiplier`` filters
per channel); a separable one follows it with a 1x1 convolution that mixes the channels. For
``c`` channels in and out and a ``k x k`` window that is ``k*k*c + c*c`` weights instead of
``k*k*c*c``.
"""

from __future__ import annotations

from typing import Any

from .. import backend as K
from .. import constraints, initializers, regularizers
from ..graph import Tensor
from .convolutional import _Conv, channel_count, spatial_of, with_spatial

Shape = tuple[int | None, ...]


def _factored_config(layer: Any, config: dict[str, Any], pointwise: bool) -> dict[str, Any]:
    """Keras's config: the conv's, without the kernel entries, with the depthwise (and pointwise) ones."""
    for key in ("kernel_initializer", "kernel_regularizer", "kernel_constraint"):
        config.pop(key)
    config["depth_multiplier"] = layer.depth_multiplier
    parts = ("depthwise", "pointwise") if pointwise else ("depthwise",)
    for what, module in (("initializer", initializers), ("regularizer", regularizers),
                         ("constraint", constraints)):
        for part in parts:
            config[f"{part}_{what}"] = module.serialize(getattr(layer, f"{part}_{what}"))
    return config


class _SeparableConv(_Conv):
    """Base of SeparableConv1D/2D: weights ``depthwise_kernel``, ``pointwise_kernel``, ``bias``."""

    kernel_in_axis = -2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, depth_multiplier: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", pointwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", depthwise_regularizer: Any = None,
                 pointwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 pointwise_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: Shape) -> None:
        channels = channel_count(self, input_shape, self.rank)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.kernel = self.depthwise_kernel  # its axis -2 is the input channels, as call checks
        self.build_bias()

    def convolve(self, inputs: Tensor) -> Tensor:
        if self.rank == 1:
            return K.separable_conv1d(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                      strides=self.strides[0], padding=self.padding,
                                      data_format=self.data_format, dilation_rate=self.dilation_rate[0])
        return K.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel, strides=self.strides,
                                  padding=self.padding, data_format=self.data_format,
                                  dilation_rate=self.dilation_rate)

    def get_config(self) -> dict[str, Any]:
        return _factored_config(self, super().get_config(), pointwise=True)


class SeparableConv1D(_SeparableConv):
    """A depthwise 1-D convolution, then a pointwise one mixing channels."""

    rank = 1


class SeparableConv2D(_SeparableConv):
    """A depthwise 2-D convolution, then a 1x1 one mixing channels (Xception, MobileNet)."""

    rank = 2


class DepthwiseConv2D(_Conv):
    """Each input channel convolved with its own ``depth_multiplier`` filters, no mixing:
    ``in_channels * depth_multiplier`` outputs. Weights ``depthwise_kernel`` and ``bias``."""

    rank = 2

    def __init__(self, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", depthwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(0, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint,
                         **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape: Shape) -> None:
        channels = channel_count(self, input_shape, self.rank)
        self.filters = channels * self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.kernel = self.depthwise_kernel
        self.build_bias()

    def convolve(self, inputs: Tensor) -> Tensor:
        return K.depthwise_conv2d(inputs, self.depthwise_kernel, strides=self.strides, padding=self.padding,
                                  data_format=self.data_format, dilation_rate=self.dilation_rate)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        spatial = self.output_spatial(spatial_of(input_shape, self.data_format))
        out = None if channels is None else channels * self.depth_multiplier
        return with_spatial(input_shape[0], spatial, out, self.data_format)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("filters")
        return _factored_config(self, config, pointwise=False)


# Keras's aliases.
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
