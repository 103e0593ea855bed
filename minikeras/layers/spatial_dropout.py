"""Spatial dropout: whole feature maps (channels) dropped at once, not single values.

Neighbouring values of one feature map are strongly correlated, so dropping them one by one
barely regularizes; these layers draw one keep/drop decision per sample and channel.
"""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..graph import Tensor
from .core import Dropout


class _SpatialDropout(Dropout):
    rank = 1

    def __init__(self, rate: float, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(rate, **kwargs)
        self.data_format = K.normalize_data_format(data_format)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        shape = K.int_shape(inputs)
        if len(shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} ({self.name}) expects inputs of rank {self.rank + 2} "
                             f"(batch, {self.rank} spatial dims, channels); got shape {shape}.")
        ones = (1,) * self.rank
        if self.data_format == "channels_first" and self.rank > 1:
            self.noise_shape = (None, shape[1], *ones)
        else:
            self.noise_shape = (None, *ones, shape[-1])
        return super().call(inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("noise_shape", None)
        config.pop("seed", None)
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Input ``(batch, steps, channels)``; each channel of a sample kept or dropped whole."""

    rank = 1

    def __init__(self, rate: float, **kwargs: Any) -> None:
        super().__init__(rate, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Input ``(batch, rows, cols, channels)`` (channels_last); whole feature maps dropped."""

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Input ``(batch, d1, d2, d3, channels)`` (channels_last); whole feature volumes dropped."""

    rank = 3
