"""Conv2DTranspose and Conv3DTranspose: the "deconvolutions" that upsample in decoders and GANs."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..graph import Tensor
from .convolutional import _Conv, deconv_length, normalize_tuple, spatial_of, with_spatial

Shape = tuple[int | None, ...]


class _ConvTranspose(_Conv):
    """The gradient of a convolution with respect to its input, used as a layer: each input
    pixel adds a copy of the kernel, weighted by its value, into the output.

    The kernel is ``(*kernel_size, filters, in_channels)`` (in and out swapped with respect
    to a convolution). A stride of 2 doubles the size; ``output_padding`` picks among the
    sizes that a stride makes possible (it must be smaller than the stride).
    """

    kernel_in_axis = -1

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, output_padding: Any = None, dilation_rate: Any = 1,
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(output_padding, self.rank, "output_padding")
            for stride, out_pad in zip(self.strides, self.output_padding):
                if out_pad >= stride:
                    raise ValueError(f"Stride {self.strides} must be greater than output padding "
                                     f"{self.output_padding}")

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, self.filters, channels)

    def output_spatial(self, spatial: Shape) -> Shape:
        out_pads = self.output_padding or (None,) * self.rank
        return tuple(deconv_length(n, s, k, self.padding, p, d) for n, s, k, p, d
                     in zip(spatial, self.strides, self.kernel_size, out_pads, self.dilation_rate))

    def convolve(self, inputs: Tensor) -> Tensor:
        spatial = self.output_spatial(spatial_of(K.int_shape(inputs), self.data_format))
        if None in spatial:
            raise ValueError(f"{self.name}: {type(self).__name__} needs the input's spatial sizes; "
                             f"got shape {K.int_shape(inputs)}. Give the Input a full shape.")
        output_shape = with_spatial(None, spatial, self.filters, self.data_format)
        if self.rank == 2:
            return K.conv2d_transpose(inputs, self.kernel, output_shape, strides=self.strides,
                                      padding=self.padding, data_format=self.data_format,
                                      dilation_rate=self.dilation_rate)
        return K.conv3d_transpose(inputs, self.kernel, output_shape, strides=self.strides,
                                  padding=self.padding, data_format=self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_padding": self.output_padding}


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution: ``(batch, rows, cols, in)`` -> ``(batch, rows', cols', filters)``."""

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution over volumes (Keras 2.2's has no ``dilation_rate``)."""

    rank = 3

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("dilation_rate")
        return config


# Keras's aliases.
Deconvolution2D = Conv2DTranspose
Deconvolution3D = Conv3DTranspose
