"""Pooling: the max or mean of each window (MaxPooling2D, AveragePooling2D), or of the whole map."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..engine import Layer
from ..graph import Tensor
from ..graph.ops.pool import pool2d
from .convolutional import channels_last_only, conv_output_length, normalize_padding, normalize_tuple

Shape = tuple[int | None, ...]


class _Pooling2D(Layer):
    """Base of the 2-D window poolings. ``strides`` defaults to ``pool_size`` (windows that
    do not overlap), unlike ``K.pool2d``, whose default stride is 1."""

    pool_mode = "max"

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = channels_last_only(type(self).__name__, data_format)

    def call(self, inputs: Tensor) -> Tensor:
        return pool2d(inputs, self.pool_size, strides=self.strides, padding=self.padding,
                      pool_mode=self.pool_mode)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rows, cols = (conv_output_length(n, k, self.padding, s)
                      for n, k, s in zip(input_shape[1:3], self.pool_size, self.strides))
        return (input_shape[0], rows, cols, input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """The largest value of each ``pool_size`` window, per channel."""

    pool_mode = "max"


class AveragePooling2D(_Pooling2D):
    """The mean of each ``pool_size`` window, per channel ("same" padding is not counted)."""

    pool_mode = "avg"


class _GlobalPooling2D(Layer):
    """Base of the global poolings: one number per channel, ``(batch, channels)``."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = K.normalize_data_format(data_format)

    def _spatial_axes(self) -> list[int]:
        return [1, 2] if self.data_format == "channels_last" else [2, 3]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channel = 3 if self.data_format == "channels_last" else 1
        return (input_shape[0], input_shape[channel])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean over rows and columns of each channel."""

    def call(self, inputs: Tensor) -> Tensor:
        return K.mean(inputs, axis=self._spatial_axes())


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum over rows and columns of each channel."""

    def call(self, inputs: Tensor) -> Tensor:
        return K.max(inputs, axis=self._spatial_axes())


# Keras's aliases.
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
