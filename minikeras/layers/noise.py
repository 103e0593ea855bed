"""Noise layers: regularizers active only while training (at test time each is the identity)."""

from __future__ import annotations

import math
from typing import Any

from .. import backend as K
from ..engine import Layer
from ..graph import Tensor


class GaussianNoise(Layer):
    """Adds zero-centred normal noise of standard deviation ``stddev``, in training only."""

    def __init__(self, stddev: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.stddev = float(stddev)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        def noised() -> Tensor:
            return inputs + K.random_normal(K.shape(inputs), mean=0.0, stddev=self.stddev)

        return K.in_train_phase(noised, inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(Layer):
    """Multiplies by normal noise of mean 1 and stddev ``sqrt(rate / (1 - rate))``, in training."""

    def __init__(self, rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.rate = float(rate)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not 0 < self.rate < 1:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))

        def noised() -> Tensor:
            return inputs * K.random_normal(K.shape(inputs), mean=1.0, stddev=stddev)

        return K.in_train_phase(noised, inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate}


class AlphaDropout(Layer):
    """Dropout for SELU networks: dropped units are set to SELU's negative saturation value
    and the result is shifted and scaled (``a * x + b``) so the mean and variance stay."""

    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not 0 < self.rate < 1:
            return inputs
        rate = self.rate
        alpha_p = -self.ALPHA * self.SCALE
        a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * rate

        def dropped() -> Tensor:
            shape = K.shape(inputs) if self.noise_shape is None else self.noise_shape
            kept = K.cast(K.greater_equal(K.random_uniform(shape, seed=self.seed), rate), K.floatx())
            return a * (inputs * kept + alpha_p * (1 - kept)) + b

        return K.in_train_phase(dropped, inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
