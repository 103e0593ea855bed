"""Initializers: how a layer's weights start, ``initializer(shape, dtype) -> numpy array``.

They run once, when ``add_weight`` creates a variable, so they are plain NumPy, not graph
ops. With ``seed=None`` they draw from NumPy's global generator: ``np.random.seed(0)``
before building a model makes its initial weights reproducible.

The one thing students get wrong: ``glorot_uniform`` is not a class. It is a function that
returns ``VarianceScaling(1.0, "fan_avg", "uniform")``, and that is what a saved config
records (Keras 2.2.4 does the same).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import objects
from .backend import floatx
from .engine import lookups

Shape = tuple[int, ...]

# A normal truncated at 2 standard deviations has a smaller spread than the normal it was
# cut from: its stddev is 0.87962566103423978 times the original. Keras 2.2.4 divides by it
# so that a truncated VarianceScaling draw really has variance scale / n.
_TRUNCATED_STDDEV_RATIO = 0.87962566103423978


def _rng(seed: int | None) -> Any:
    """NumPy's global generator, or a private one when a seed is given."""
    return np.random if seed is None else np.random.RandomState(seed)


def _dtype(dtype: str | None) -> str:
    return np.dtype(dtype or floatx()).name


def _truncated_normal(rng: Any, shape: Shape, mean: float, stddev: float) -> np.ndarray:
    """Normal samples, with those more than 2 stddev from the mean drawn again."""
    z = rng.normal(0.0, 1.0, shape)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.normal(0.0, 1.0, int(bad.sum()))
        bad = np.abs(z) > 2.0
    return mean + stddev * z


def compute_fans(shape: Shape) -> tuple[float, float]:
    """``(fan_in, fan_out)``: how many inputs feed one unit, and how many units one input feeds.

    Dense kernel ``(in, out)``: ``(in, out)``. Conv kernel ``(kh, kw, in, out)``: each
    output sees a ``kh * kw`` window of every input channel, so ``(kh*kw*in, kh*kw*out)``.
    Anything else (a bias, say): ``sqrt(size)`` for both, as Keras does.
    """
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) in (3, 4, 5):
        receptive_field = math.prod(shape[:-2])
        return float(shape[-2] * receptive_field), float(shape[-1] * receptive_field)
    root = math.sqrt(math.prod(shape))
    return root, root


class Initializer:
    """Base class: ``__call__(shape, dtype=None)`` returns a NumPy array of that shape."""

    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        return np.zeros(tuple(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        return np.ones(tuple(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value: float = 0) -> None:
        self.value = value

    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        return np.full(tuple(shape), self.value, dtype=_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = mean
        self.stddev = stddev
        self.seed = seed

    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        values = _rng(self.seed).normal(self.mean, self.stddev, tuple(shape))
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform in ``[minval, maxval)``; the name ``"uniform"`` means ``RandomUniform(-0.05, 0.05)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        self.minval = minval
        self.maxval = maxval
        self.seed = seed

    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        values = _rng(self.seed).uniform(self.minval, self.maxval, tuple(shape))
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal, but no value further than 2 stddev from the mean (those are drawn again)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = mean
        self.stddev = stddev
        self.seed = seed

    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        values = _truncated_normal(_rng(self.seed), tuple(shape), self.mean, self.stddev)
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Random weights with variance ``scale / n``, ``n`` = fan_in, fan_out or their mean.

    ``"uniform"`` draws from ``[-limit, limit]`` with ``limit = sqrt(3 * scale / n)``;
    ``"normal"`` from a truncated normal with ``stddev = sqrt(scale / n) / 0.8796...``
    (Keras 2.2.4's correction for the truncation).
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "normal",
                 seed: int | None = None) -> None:
        if scale <= 0.0:
            raise ValueError("`scale` must be a positive float. Got:", scale)
        mode = mode.lower()
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError('Invalid `mode` argument: expected on of {"fan_in", "fan_out", '
                             '"fan_avg"} but got', mode)
        distribution = distribution.lower()
        if distribution not in {"normal", "uniform"}:
            raise ValueError('Invalid `distribution` argument: expected one of {"normal", '
                             '"uniform"} but got', distribution)
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed

    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        shape = tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = _rng(self.seed)
        if self.distribution == "normal":
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV_RATIO
            values = _truncated_normal(rng, shape, 0.0, stddev)
        else:
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, shape)
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class Orthogonal(Initializer):
    """A random matrix with orthonormal rows or columns (the kernel flattened to 2-D), times ``gain``."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = gain
        self.seed = seed

    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"The Orthogonal initializer needs a shape of rank >= 2, got {shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _rng(self.seed).normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        # QR is unique only up to signs; fixing them by r's diagonal makes q uniformly distributed.
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix; only for square 2-D weights."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Shape, dtype: str | None = None) -> np.ndarray:
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError("Identity matrix initializer can only be used for 2D square matrices. "
                             f"Got shape {tuple(shape)}.")
        return (self.gain * np.identity(shape[0])).astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    """Uniform in ``±sqrt(3 / fan_in)``."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    """Truncated normal with stddev ``sqrt(1 / fan_in)`` (pairs with ``selu``)."""
    return VarianceScaling(1.0, "fan_in", "normal", seed)


def glorot_uniform(seed: int | None = None) -> VarianceScaling:
    """Uniform in ``±sqrt(6 / (fan_in + fan_out))``: Dense's and Conv2D's default."""
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def glorot_normal(seed: int | None = None) -> VarianceScaling:
    """Truncated normal with stddev ``sqrt(2 / (fan_in + fan_out))``."""
    return VarianceScaling(1.0, "fan_avg", "normal", seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    """Uniform in ``±sqrt(6 / fan_in)`` (for relu layers)."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def he_normal(seed: int | None = None) -> VarianceScaling:
    """Truncated normal with stddev ``sqrt(2 / fan_in)`` (for relu layers)."""
    return VarianceScaling(2.0, "fan_in", "normal", seed)


# tf.keras and Keras 3 save these as classes; knowing their names lets their files load.
class GlorotUniform(VarianceScaling):
    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_avg", "normal", seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2.0, "fan_in", "normal", seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class LecunNormal(VarianceScaling):
    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_in", "normal", seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


# Keras 2's lower-case names, as module attributes: ``initializers.zeros()``, ``initializers.uniform(-1, 1)``.
zero = zeros = Zeros
one = ones = Ones
constant = Constant
uniform = random_uniform = RandomUniform
normal = random_normal = RandomNormal
truncated_normal = TruncatedNormal
identity = Identity
orthogonal = Orthogonal

# Keras's names: a class or a function, called with no arguments when named by a string.
_OBJECTS: dict[str, Callable[..., Any]] = {
    "Zeros": Zeros, "zeros": Zeros, "zero": Zeros,
    "Ones": Ones, "ones": Ones, "one": Ones,
    "Constant": Constant, "constant": Constant,
    "RandomNormal": RandomNormal, "random_normal": RandomNormal, "normal": RandomNormal,
    "RandomUniform": RandomUniform, "random_uniform": RandomUniform, "uniform": RandomUniform,
    "TruncatedNormal": TruncatedNormal, "truncated_normal": TruncatedNormal,
    "VarianceScaling": VarianceScaling,
    "Orthogonal": Orthogonal, "orthogonal": Orthogonal,
    "Identity": Identity, "identity": Identity,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "he_uniform": he_uniform, "he_normal": he_normal,
    "GlorotUniform": GlorotUniform, "GlorotNormal": GlorotNormal,
    "HeUniform": HeUniform, "HeNormal": HeNormal,
    "LecunUniform": LecunUniform, "LecunNormal": LecunNormal,
}


def serialize(initializer: Any) -> dict[str, Any] | None:
    return objects.serialize(initializer, "initializer")


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    return objects.deserialize(config, _OBJECTS, "initializer", custom_objects)


def get(identifier: Any) -> Any:
    """A name (``"glorot_uniform"``), a config dict, an instance or any callable to an initializer."""
    return objects.get(identifier, _OBJECTS, "initializer")


lookups.register("initializer", get)  # so that add_weight(initializer="...") finds names
