"""Activations, softmax and ``bias_add``: the ops a ``Dense`` layer is made of."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ..op import Op, broadcast_shapes, normalize_axes
from ..tensor import Shape, Tensor
from .array import expand_dims, reshape
from .broadcast import sum_to
from .compare import cast, where
from .math import exp, square
from .reduce import sum  # noqa: A004 - the graph's sum, not Python's
from .state import FLOATX, as_tensor

__all__ = [
    "bias_add", "elu", "hard_sigmoid", "log_softmax", "relu", "sigmoid",
    "sigmoid_cross_entropy_with_logits", "softmax", "softmax_cross_entropy_with_logits", "softplus",
    "softsign", "tanh",
]


class Relu(Op):
    """``max(x, 0)``; with ``alpha`` a leaky slope below 0; with ``max_value`` a cap."""

    inplace = (0,)

    alpha: float = 0.0
    max_value: float | None = None

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        y = np.maximum(x, 0, out=out) if self.alpha == 0 else np.where(x > 0, x, x * self.alpha)
        return y if self.max_value is None else np.minimum(y, self.max_value, out=out)

    def kernel(self) -> Callable[..., Any] | None:
        return partial(np.maximum, 0) if self.alpha == 0 and self.max_value is None else None

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        # The slope can be read off the output (y > 0 exactly where x > 0, y < max_value
        # where x is), as TensorFlow does: then nothing but this op needs x after the
        # forward pass, and its array can be reused.
        reads_y = self.alpha >= 0 and (self.max_value is None or self.max_value > 0)
        at = self.y if reads_y else self.inputs[0]
        return [ReluGrad.apply(gy, at, alpha=self.alpha, max_value=self.max_value)]


def relu(x: Any, alpha: float = 0.0, max_value: float | None = None) -> Tensor:
    return Relu.apply(as_tensor(x), alpha=alpha, max_value=max_value)


class ReluGrad(Op):
    """``gy`` times relu's slope at ``x`` (or at relu's output: the same). Linear in ``gy``,
    piecewise constant in ``x``."""

    inplace = (0,)

    alpha: float = 0.0
    max_value: float | None = None

    def forward(self, gy: np.ndarray, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        g = np.multiply(gy, x > 0, out=out) if self.alpha == 0 else np.where(x > 0, gy, gy * self.alpha)
        return g if self.max_value is None else np.multiply(g, x < self.max_value, out=out)

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        return [ReluGrad.apply(ggx, self.inputs[1], alpha=self.alpha, max_value=self.max_value), None]


class Elu(Op):
    """``x`` above 0, ``alpha * (exp(x) - 1)`` below."""

    alpha: float = 1.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x = self.inputs[0]
        return [where(x > 0, gy, gy * (self.y + self.alpha))]


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    return Elu.apply(as_tensor(x), alpha=alpha)


class Sigmoid(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(-np.logaddexp(0, -x))  # never overflows, unlike 1 / (1 + exp(-x))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        # TASK sigmoid_backward (after topo_sort): return [gy * sigmoid'(x)] in graph ops; self.y is y
        return [gy * self.y * (1 - self.y)]
        # END TASK


def sigmoid(x: Any) -> Tensor:
    return Sigmoid.apply(as_tensor(x))


def _hard_sigmoid_line(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``0.2 * x + 0.5`` in ``x``'s dtype, rounded as the three ops it replaces round it
    (one new array at most: the sum is written over the product)."""
    u = np.multiply(x, x.dtype.type(0.2), out=out)
    return np.add(u, x.dtype.type(0.5), out=u if isinstance(u, np.ndarray) else None)


class HardSigmoid(Op):
    """Keras's piecewise-linear sigmoid ``clip(0.2 * x + 0.5, 0, 1)`` as one op (an LSTM applies
    it three times per step: one op and one gradient op, not three and three)."""

    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        u = _hard_sigmoid_line(np.asarray(x), out)
        return np.clip(u, 0, 1, out=u if isinstance(u, np.ndarray) else None)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [HardSigmoidGrad.apply(gy, self.inputs[0])]


def hard_sigmoid(x: Any) -> Tensor:
    """Keras's piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``."""
    x = as_tensor(x)
    return HardSigmoid.apply(x if np.dtype(x.dtype).kind == "f" else cast(x, FLOATX))


class HardSigmoidGrad(Op):
    """``0.2 * gy`` where ``0.2 * x + 0.5`` lies in ``[0, 1]`` (the bounds included, as TF's
    clip passes them), else 0. Linear in ``gy``, piecewise constant in ``x``."""

    inplace = (0,)

    def forward(self, gy: np.ndarray, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        u = _hard_sigmoid_line(np.asarray(x))
        inside = np.greater_equal(u, 0)
        inside &= np.less_equal(u, 1)
        g = np.multiply(gy, np.asarray(gy).dtype.type(0.2), out=out)
        in_place = isinstance(g, np.ndarray) and g.shape == np.shape(inside)
        return np.multiply(g, inside, out=g if in_place else None)

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        return [HardSigmoidGrad.apply(ggx, self.inputs[1]), None]


class Tanh(Op):
    inplace = (0,)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.tanh(x, out=out)

    def kernel(self) -> Callable[..., Any]:
        return np.tanh

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        # TASK tanh_backward (after topo_sort): return [gy * tanh'(x)] in graph ops; self.y is y
        return [gy * (1 - square(self.y))]
        # END TASK


def tanh(x: Any) -> Tensor:
    return Tanh.apply(as_tensor(x))


class Softplus(Op):
    """``log(1 + exp(x))``, computed without overflow."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.logaddexp(0, x)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy * sigmoid(self.inputs[0])]


def softplus(x: Any) -> Tensor:
    return Softplus.apply(as_tensor(x))


class Softsign(Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return x / (1 + np.abs(x))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy / square(1 + abs(self.inputs[0]))]


def softsign(x: Any) -> Tensor:
    return Softsign.apply(as_tensor(x))


class Softmax(Op):
    """``exp(x) / sum(exp(x))`` along ``axis``; the max is subtracted first for stability."""

    axis: int

    def forward(self, x: np.ndarray) -> np.ndarray:
        e = np.exp(x - np.maximum.reduce(x, axis=self.axis, keepdims=True))
        e /= np.add.reduce(e, axis=self.axis, keepdims=True)
        return e

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        y = self.y
        return [y * (gy - sum(gy * y, axis=self.axis, keepdims=True))]


def softmax(x: Any, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    return Softmax.apply(x, axis=normalize_axes(axis, x.ndim, "softmax")[0])


class LogSoftmax(Op):
    axis: int

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = x - np.maximum.reduce(x, axis=self.axis, keepdims=True)
        z -= np.log(np.add.reduce(np.exp(z), axis=self.axis, keepdims=True))
        return z

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [gy - exp(self.y) * sum(gy, axis=self.axis, keepdims=True)]


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    return LogSoftmax.apply(x, axis=normalize_axes(axis, x.ndim, "log_softmax")[0])


class SoftmaxCrossEntropyWithLogits(Op):
    """``-sum(labels * log_softmax(logits))`` along ``axis``: a softmax layer's loss.

    Its inputs are ``labels``, ``logits`` and ``log_softmax(logits)``, made by a LogSoftmax
    op just before it: the forward reads the log-probabilities, and the gradient, given
    for the *logits* in one op, ``gy * (softmax(logits) * sum(labels) - labels)``, reuses
    them instead of computing the softmax again. (TensorFlow's op of the same name gets
    that by returning the gradient as a second output.) Exact for any labels, not only
    labels that sum to 1.
    """

    axis: int

    def infer(self, labels: Tensor, logits: Tensor, log_probs: Tensor) -> tuple[Shape, str]:
        if len(labels.shape) != len(logits.shape) or any(
                a is not None and b is not None and a != b for a, b in zip(labels.shape, logits.shape)):
            raise ValueError(
                f"softmax_cross_entropy_with_logits: labels {labels.name} {labels.shape} and "
                f"logits {logits.name} {logits.shape} must have the same shape"
            )
        return tuple(d for i, d in enumerate(logits.shape) if i != self.axis), logits.dtype

    def forward(self, labels: np.ndarray, logits: np.ndarray, log_probs: np.ndarray) -> np.ndarray:
        return -np.add.reduce(labels * log_probs, axis=self.axis)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        labels, _, log_probs = self.inputs
        g_labels = -log_probs * expand_dims(gy, self.axis)
        # The logits' gradient covers the path through log_probs too: nothing more flows there.
        return [g_labels, SoftmaxCrossEntropyGrad.apply(gy, labels, log_probs, axis=self.axis), None]


def softmax_cross_entropy_with_logits(labels: Any, logits: Any, axis: int = -1) -> Tensor:
    """Per-sample ``-sum(labels * log_softmax(logits))`` along ``axis``: a LogSoftmax op and
    one op for the rest, whose gradient is one op too."""
    labels, logits = as_tensor(labels), as_tensor(logits)
    if labels.dtype != logits.dtype:
        labels = cast(labels, logits.dtype)
    axis = normalize_axes(axis, logits.ndim, "softmax_cross_entropy_with_logits")[0]
    return SoftmaxCrossEntropyWithLogits.apply(labels, logits, log_softmax(logits, axis), axis=axis)


class SoftmaxCrossEntropyGrad(Op):
    """The logits' gradient of ``SoftmaxCrossEntropyWithLogits``, from the log-probabilities:
    ``gy * (softmax(logits) * sum(labels) - labels)``, the gradient students derive by hand."""

    axis: int

    def forward(self, gy: np.ndarray, labels: np.ndarray, log_probs: np.ndarray) -> np.ndarray:
        p = np.exp(log_probs)
        p *= np.add.reduce(labels, axis=self.axis, keepdims=True)
        p -= labels
        p *= gy[(slice(None),) * self.axis + (None,)]  # gy with the class axis put back
        return p

    def infer(self, gy: Tensor, labels: Tensor, log_probs: Tensor) -> tuple[Shape, str]:
        return log_probs.shape, log_probs.dtype

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        # The output is gy * (exp(log_probs) * sum(labels) - labels); the log_probs' gradient
        # flows on through the LogSoftmax op to the logits.
        gy, labels, log_probs = self.inputs
        axis = self.axis
        p = exp(log_probs)
        total = sum(labels, axis=axis, keepdims=True)
        h = ggx * expand_dims(gy, axis)
        return [sum(ggx * (p * total - labels), axis=axis), sum(h * p, axis=axis, keepdims=True) - h,
                h * p * total]


class SigmoidCrossEntropyWithLogits(Op):
    """``-(t log s(z) + (1 - t) log(1 - s(z)))`` with ``s`` the sigmoid, from the logits ``z``.

    Forward in the form that never overflows, ``max(z, 0) - z t + log(1 + exp(-|z|))``; the
    gradient written out, ``s(z) - t`` (for ``z``) and ``-z`` (for ``t``), right at ``z = 0``
    too, where differentiating that form piece by piece would take ``relu'(0)`` as 0.
    """

    def infer(self, labels: Tensor, logits: Tensor) -> tuple[Shape, str]:
        return broadcast_shapes(labels.shape, logits.shape, self.type), logits.dtype

    def forward(self, labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
        return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        labels, logits = self.inputs
        return [sum_to(-gy * logits, labels), sum_to(gy * (sigmoid(logits) - labels), logits)]


def sigmoid_cross_entropy_with_logits(labels: Any, logits: Any) -> Tensor:
    """Elementwise binary cross-entropy of ``labels`` against ``sigmoid(logits)``."""
    labels, logits = as_tensor(labels), as_tensor(logits)
    return SigmoidCrossEntropyWithLogits.apply(cast(labels, logits.dtype), logits)


class BiasAdd(Op):
    """``x + bias`` along the channel axis (last for ``channels_last``, 1 for ``channels_first``)."""

    inplace = (0,)

    data_format: str = "channels_last"
    bias_shape: tuple[int, ...]

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

    def can_write_into(self, i: int) -> bool:
        # A per-position bias (rank ndim - 1) may broadcast x to a bigger shape.
        return super().can_write_into(i) and len(self.inputs[1].shape) == 1

    def forward(self, x: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.add(x, b if b.shape == self.bias_shape else b.reshape(self.bias_shape), out=out)

    def kernel(self) -> Callable[..., Any] | None:
        # channels_last with a vector bias: plain broadcasting, nothing to reshape
        return np.add if self.bias_shape == self.inputs[1].shape else None

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x, b = self.inputs
        full = (1,) * (len(x.shape) - len(self.bias_shape)) + tuple(self.bias_shape)
        axes = tuple(i for i, n in enumerate(full) if n == 1)
        return [gy, reshape(sum(gy, axis=axes), b.shape)]


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
