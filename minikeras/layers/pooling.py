"""Pooling: the max or mean of each window (MaxPooling1D/2D/3D, AveragePooling1D/2D/3D), or of
the whole map (the global poolings)."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..engine import Layer
from ..graph import Tensor
from .convolutional import conv_output_length, normalize_padding, normalize_tuple, spatial_of, with_spatial

Shape = tuple[int | None, ...]


class _Pooling(Layer):
    """Base of the window poolings. ``strides`` defaults to ``pool_size`` (windows that do
    not overlap), unlike ``K.pool2d``, whose default stride is 1."""

    rank = 2
    pool_mode = "max"

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self.rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = K.normalize_data_format(data_format)

    def call(self, inputs: Tensor) -> Tensor:
        pool = {1: K.pool1d, 2: K.pool2d, 3: K.pool3d}[self.rank]
        return pool(inputs, self.pool_size, strides=self.strides, padding=self.padding,
                    data_format=self.data_format, pool_mode=self.pool_mode)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        spatial = tuple(conv_output_length(n, k, self.padding, s) for n, k, s
                        in zip(spatial_of(input_shape, self.data_format), self.pool_size, self.strides))
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        return with_spatial(input_shape[0], spatial, channels, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """The largest value of each ``pool_size`` window of steps, per feature."""

    rank = 1

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str = "channels_last", **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(MaxPooling1D):
    """The mean of each ``pool_size`` window of steps ("same" padding is not counted)."""

    pool_mode = "avg"


class MaxPooling2D(_Pooling):
    """The largest value of each ``pool_size`` window, per channel."""

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(MaxPooling2D):
    """The mean of each ``pool_size`` window, per channel ("same" padding is not counted)."""

    pool_mode = "avg"


class MaxPooling3D(_Pooling):
    """The largest value of each ``pool_size`` block of voxels, per channel."""

    rank = 3

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(MaxPooling3D):
    """The mean of each ``pool_size`` block of voxels, per channel."""

    pool_mode = "avg"


class _GlobalPooling(Layer):
    """Base of the global poolings: one number per channel, ``(batch, channels)``."""

    rank = 2

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = K.normalize_data_format(data_format)

    def _spatial_axes(self) -> list[int]:
        first = 1 if self.data_format == "channels_last" else 2
        return list(range(first, first + self.rank))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channel = -1 if self.data_format == "channels_last" else 1
        return (input_shape[0], input_shape[channel])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class _GlobalAverage(_GlobalPooling):
    def call(self, inputs: Tensor) -> Tensor:
        return K.mean(inputs, axis=self._spatial_axes())


class _GlobalMax(_GlobalPooling):
    def call(self, inputs: Tensor) -> Tensor:
        return K.max(inputs, axis=self._spatial_axes())


class GlobalAveragePooling1D(_GlobalAverage):
    """The mean over the steps of each feature."""

    rank = 1

    def __init__(self, data_format: str = "channels_last", **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)


class GlobalMaxPooling1D(_GlobalMax):
    """The maximum over the steps of each feature (the text CNN's "max over time")."""

    rank = 1

    def __init__(self, data_format: str = "channels_last", **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)


class GlobalAveragePooling2D(_GlobalAverage):
    """The mean over rows and columns of each channel."""


class GlobalMaxPooling2D(_GlobalMax):
    """The maximum over rows and columns of each channel."""


class GlobalAveragePooling3D(_GlobalAverage):
    """The mean over the voxels of each channel."""

    rank = 3


class GlobalMaxPooling3D(_GlobalMax):
    """The maximum over the voxels of each channel."""

    rank = 3


# Keras's aliases.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
