"""Data and small models shared by the training tests (test_training.py, test_callbacks.py)."""

from __future__ import annotations

import numpy as np

from minikeras.layers import Dense
from minikeras.models import Sequential


def two_moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, labels 0 and 1 (like sklearn's make_moons)."""
    rng = np.random.RandomState(seed)
    t = rng.uniform(0, np.pi, n)
    labels = rng.randint(0, 2, n)
    outer = np.c_[np.cos(t), np.sin(t)]
    inner = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    x = np.where(labels[:, None] == 0, outer, inner) + rng.randn(n, 2) * noise
    return x, labels


def mlp(hidden: int = 16, out: int = 1, activation: str = "sigmoid") -> Sequential:
    return Sequential([Dense(hidden, activation="relu", input_shape=(2,)),
                       Dense(out, activation=activation)])


def linear(inputs: int = 3, units: int = 2) -> Sequential:
    return Sequential([Dense(units, input_shape=(inputs,))])


def regression_data(n: int = 20, inputs: int = 3, units: int = 2) -> tuple[np.ndarray, np.ndarray]:
    return np.random.randn(n, inputs), np.random.randn(n, units)


def numpy_mse(prediction: np.ndarray, y: np.ndarray) -> np.ndarray:
    return ((prediction - y) ** 2).mean(-1)
