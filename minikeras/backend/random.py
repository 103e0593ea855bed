"""Keras 2.2's random tensors beyond uniform and normal, and randomly filled variables.

Shapes may mix Python ints and scalar tensors (``(K.shape(x)[0], dim)``): the shape is
then computed when the graph runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import graph as G
from .config import floatx
from .variables import variable


def _dtype(dtype: str | None) -> str:
    return np.dtype(dtype or floatx()).name


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: str | None = None,
                     seed: int | None = None) -> G.Tensor:
    """Normal samples with every value within two ``stddev`` of ``mean`` (others redrawn)."""
    return G.truncated_normal(shape, mean, stddev, dtype=_dtype(dtype), seed=seed)


def random_binomial(shape: Any, p: float = 0.0, dtype: str | None = None,
                    seed: int | None = None) -> G.Tensor:
    """1 with probability ``p``, else 0 (Keras's ``random_binomial`` is a Bernoulli draw)."""
    u = G.random_uniform(shape, 0.0, 1.0, dtype=_dtype(dtype), seed=seed)
    return G.cast(G.less_equal(u, p), _dtype(dtype))


def _generator(seed: int | None) -> Any:
    return np.random if seed is None else np.random.RandomState(seed)


def random_uniform_variable(shape: Any, low: float, high: float, dtype: str | None = None,
                            name: str | None = None, seed: int | None = None) -> G.Variable:
    """A variable drawn once, now, from the uniform distribution on ``[low, high)``."""
    return variable(_generator(seed).uniform(low, high, tuple(shape)), dtype=dtype, name=name)


def random_normal_variable(shape: Any, mean: float, scale: float, dtype: str | None = None,
                           name: str | None = None, seed: int | None = None) -> G.Variable:
    """A variable drawn once, now, from the normal distribution ``N(mean, scale**2)``."""
    return variable(_generator(seed).normal(mean, scale, tuple(shape)), dtype=dtype, name=name)
