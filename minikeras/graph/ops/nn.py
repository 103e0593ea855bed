"""Activations, softmax and ``bias_add``: the ops a ``Dense`` layer is made of."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op, normalize_axes
from ..tensor import Shape, Tensor
from .array import reshape
from .math import clip, exp, square, where
from .reduce import sum  # noqa: A004 - the graph's sum, not Python's
from .state import as_tensor


class Relu(Op):
    """``max(x, 0)``; with ``alpha`` a leaky slope below 0; with ``max_value`` a cap."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = np.maximum(x, 0) if self.alpha == 0 else np.where(x > 0, x, x * self.alpha)
        return y if self.max_value is None else np.minimum(y, self.max_value)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [ReluGrad.apply(gy, self.inputs[0], alpha=self.alpha, max_value=self.max_value)]


class ReluGrad(Op):
    """``gy`` times relu's slope at ``x``. Linear in ``gy``, piecewise constant in ``x``."""

    def forward(self, gy: np.ndarray, x: np.ndarray) -> np.ndarray:
        g = gy * (x > 0) if self.alpha == 0 else np.where(x > 0, gy, gy * self.alpha)
        return g if self.max_value is None else g * (x < self.max_value)

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        return [ReluGrad.apply(ggx, self.inputs[1], alpha=self.alpha, max_value=self.max_value), None]


class Elu(Op):
    """``x`` above 0, ``alpha * (exp(x) - 1)`` below."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x = self.inputs[0]
        return [where(x > 0, gy, gy * (self.y + self.alpha))]


class Sigmoid(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(-np.logaddexp(0, -x))  # never overflows, unlike 1 / (1 + exp(-x))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        # TASK sigmoid_backward: return [gx], gy times sigmoid's derivative, in graph ops (self.y is y)
        return [gy * self.y * (1 - self.y)]
        # END TASK


class Tanh(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        # TASK tanh_backward: return [gx], gy times tanh's derivative, in graph ops (self.y is y)
        return [gy * (1 - square(self.y))]
        # END TASK


class Softplus(Op):
    """``log(1 + exp(x))``, computed without overflow."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.logaddexp(0, x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * sigmoid(self.inputs[0])]


class Softsign(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return x / (1 + np.abs(x))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy / square(1 + abs(self.inputs[0]))]


class Softmax(Op):
    """``exp(x) / sum(exp(x))`` along ``axis``; the max is subtracted first for stability."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        e = np.exp(x - np.maximum.reduce(x, axis=self.axis, keepdims=True))
        e /= np.add.reduce(e, axis=self.axis, keepdims=True)
        return e

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        y = self.y
        return [y * (gy - sum(gy * y, axis=self.axis, keepdims=True))]


class LogSoftmax(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        z = x - np.maximum.reduce(x, axis=self.axis, keepdims=True)
        z -= np.log(np.add.reduce(np.exp(z), axis=self.axis, keepdims=True))
        return z

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy - exp(self.y) * sum(gy, axis=self.axis, keepdims=True)]


class BiasAdd(Op):
    """``x + bias`` along the channel axis (last for ``channels_last``, 1 for ``channels_first``)."""

    def infer(self, x: Tensor, b: Tensor) -> tuple[Shape, str]:
        if len(b.shape) not in (1, len(x.shape) - 1):
            raise ValueError(
                f"Unexpected bias dimensions {len(b.shape)}, expect to be 1 or "
                f"{len(x.shape) - 1} dimensions (bias {b.name} has shape {b.shape}, "
                f"x {x.name} has shape {x.shape})"
            )
        channels = x.shape[-1] if self.data_format == "channels_last" else x.shape[1]
        if len(b.shape) == 1 and None not in (channels, b.shape[0]) and channels != b.shape[0]:
            raise ValueError(
                f"bias_add: bias {b.name} has {b.shape[0]} elements but x {x.name} has "
                f"{channels} channels (shape {x.shape}, {self.data_format})."
            )
        return x.shape, x.dtype

    def forward(self, x: np.ndarray, b: np.ndarray) -> np.ndarray:
        return x + b.reshape(self.bias_shape)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x, b = self.inputs
        full = (1,) * (len(x.shape) - len(self.bias_shape)) + tuple(self.bias_shape)
        axes = tuple(i for i, n in enumerate(full) if n == 1)
        return [gy, reshape(sum(gy, axis=axes), b.shape)]


# --- the functions users call -------------------------------------------------------


def relu(x: Any, alpha: float = 0.0, max_value: float | None = None) -> Tensor:
    return Relu.apply(as_tensor(x), alpha=alpha, max_value=max_value)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    return Elu.apply(as_tensor(x), alpha=alpha)


def sigmoid(x: Any) -> Tensor:
    return Sigmoid.apply(as_tensor(x))


def hard_sigmoid(x: Any) -> Tensor:
    """Keras's piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``."""
    return clip(as_tensor(x) * 0.2 + 0.5, 0.0, 1.0)


def tanh(x: Any) -> Tensor:
    return Tanh.apply(as_tensor(x))


def softplus(x: Any) -> Tensor:
    return Softplus.apply(as_tensor(x))


def softsign(x: Any) -> Tensor:
    return Softsign.apply(as_tensor(x))


def softmax(x: Any, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    return Softmax.apply(x, axis=normalize_axes(axis, x.ndim, "softmax")[0])


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    return LogSoftmax.apply(x, axis=normalize_axes(axis, x.ndim, "log_softmax")[0])


def bias_add(x: Any, bias: Any, data_format: str = "channels_last") -> Tensor:
    """Add a bias per channel. A bias of rank ``ndim - 1`` is added per position too."""
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            'The `data_format` argument must be one of "channels_first", "channels_last". '
            f"Received: {data_format}"
        )
    x, bias = as_tensor(x), as_tensor(bias)
    bs = bias.shape
    if data_format == "channels_last" or len(x.shape) <= 2:
        bias_shape = bs
    elif len(bs) == 1:
        bias_shape = (1, bs[0]) + (1,) * (len(x.shape) - 2)
    else:  # Keras stores this bias channels-last and moves the channel axis by reshaping
        bias_shape = (1, bs[-1]) + tuple(bs[:-1])
    return BiasAdd.apply(x, bias, data_format=data_format,
                         bias_shape=tuple(-1 if d is None else d for d in bias_shape))
