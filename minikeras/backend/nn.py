"""Activations, cross-entropies, dropout and the train/test switch, Keras-style."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import graph as G
from ..graph.ops.nn import Sigmoid, Softmax
from .config import epsilon
from .ops import clip, switch
from .session import learning_phase

Tensor = G.Tensor

elu = G.elu
sigmoid = G.sigmoid
hard_sigmoid = G.hard_sigmoid
tanh = G.tanh
softplus = G.softplus
softsign = G.softsign


def relu(x: Any, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Tensor:
    """Keras 2.2's rectifier: ``x`` from ``threshold`` up to ``max_value`` (then the cap),
    ``alpha * (x - threshold)`` below ``threshold``."""
    if threshold == 0.0:
        return G.relu(x, alpha=alpha, max_value=max_value)
    x = G.as_tensor(x)
    y = G.where(x >= threshold, x, (x - threshold) * alpha)
    return y if max_value is None else G.minimum(y, max_value)


def softmax(x: Any, axis: int = -1) -> Tensor:
    return G.softmax(x, axis)


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> Tensor:
    """``-sum(target * log(output))`` per sample.

    ``output`` is probabilities unless ``from_logits``; they are renormalised and clipped
    to ``[eps, 1 - eps]`` first, so a confident wrong answer costs ``-log(eps)``, not inf.
    When ``output`` is a softmax's result, its logits are used instead (as tf.keras does):
    one fused op, exact where clipping would flatten the gradient.
    """
    target, output = G.as_tensors(target, output)
    logits = output if from_logits else _softmax_logits(output, axis)
    if logits is not None:
        return G.softmax_cross_entropy_with_logits(target, logits, axis)
    output = output / G.sum(output, axis, keepdims=True)
    output = clip(output, epsilon(), 1.0 - epsilon())
    return -G.sum(target * G.log(output), axis)


def _softmax_logits(output: Tensor, axis: int) -> Tensor | None:
    """The input of the softmax that computed ``output`` along ``axis``, if one did."""
    op = output.op
    if isinstance(op, Softmax) and op.axis == axis % max(output.ndim, 1):
        return op.inputs[0]
    return None


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                    axis: int = -1) -> Tensor:
    """Like ``categorical_crossentropy``, with integer class ids as targets."""
    output = G.as_tensor(output)
    target = G.as_tensor(target, "int64")
    if axis not in (-1, output.ndim - 1):
        raise ValueError("sparse_categorical_crossentropy supports only the last axis")
    if target.ndim == output.ndim:  # (batch, 1) targets, as Keras accepts
        target = G.squeeze(target, -1)
    logits = output if from_logits else _softmax_logits(output, -1)
    if logits is None:
        logits = G.log(clip(output, epsilon(), 1.0 - epsilon()))
    labels = G.one_hot(G.cast(target, "int64"), output.shape[-1], like=logits)
    return G.softmax_cross_entropy_with_logits(labels, logits, -1)


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Elementwise ``-(t log p + (1 - t) log(1 - p))``, computed from logits without overflow.

    As tf.keras does, the cross-entropy of a ``Sigmoid`` op's output reads that op's logits:
    no clipping, so a confidently wrong answer (logit 100, target 0) costs 100 and still has a
    gradient of 1. Other probabilities are clipped to ``[epsilon, 1 - epsilon]`` (Keras 2).
    """
    target, output = G.as_tensors(target, output)
    if from_logits:
        logits = output
    elif isinstance(output.op, Sigmoid):
        logits = output.op.inputs[0]
    else:
        p = clip(output, epsilon(), 1.0 - epsilon())
        logits = G.log(p / (1.0 - p))
    return G.sigmoid_cross_entropy_with_logits(target, logits)


def dropout(x: Any, level: float, noise_shape: Any = None, seed: int | None = None) -> Tensor:
    """Zero each element with probability ``level``, scale the rest by ``1 / (1 - level)``.

    The scaling ("inverted dropout") keeps the expected value, so at test time the layer
    does nothing at all.
    """
    if level < 0.0 or level >= 1:
        raise ValueError("Dropout level must be in interval [0, 1[.")
    x = G.as_tensor(x)
    if noise_shape is None:
        shape: Any = G.shape(x)
    elif None in tuple(noise_shape):
        run_shape = G.shape(x)
        parts = [run_shape[i : i + 1] if d is None else G.constant(np.array([d], dtype="int64"))
                 for i, d in enumerate(noise_shape)]
        shape = G.concatenate(parts, 0)
    else:
        shape = tuple(noise_shape)
    keep = G.cast(G.random_uniform(shape, dtype=x.dtype, seed=seed) >= level, x.dtype)
    return x * keep / (1.0 - level)


def in_train_phase(x: Any, alt: Any, training: Any = None) -> Any:
    """``x`` in the training phase, ``alt`` otherwise.

    If the phase is a fixed int (``set_learning_phase`` or ``training=0/1``) the choice is
    made now and no op is built; otherwise the result is a switch on the phase placeholder.
    """
    uses_learning_phase = training is None
    if training is None:
        training = learning_phase()
    fixed = _fixed_phase(training)
    if fixed is not None:
        return _call(x) if fixed == 1 else _call(alt)
    out = switch(training, _call(x), _call(alt))
    if uses_learning_phase:
        out._uses_learning_phase = True
    return out


def in_test_phase(x: Any, alt: Any, training: Any = None) -> Any:
    """``x`` in the test phase, ``alt`` in training."""
    return in_train_phase(alt, x, training=training)


def _fixed_phase(training: Any) -> int | None:
    """0 or 1 for a phase known now (an int or a bool), ``None`` for a tensor."""
    if isinstance(training, (bool, int, np.integer)) and int(training) in (0, 1):
        return int(training)
    return None


def _call(f: Callable[[], Any] | Any) -> Any:
    return f() if callable(f) else f


def batch_normalization(x: Any, mean: Any, var: Any, beta: Any, gamma: Any, axis: int = -1,
                        epsilon: float = 1e-3) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``; ``beta``/``gamma`` may be ``None``."""
    out = (G.as_tensor(x) - mean) / G.sqrt(G.as_tensor(var) + epsilon)
    if gamma is not None:
        out = out * gamma
    return out if beta is None else out + beta


def normalize_batch_in_training(x: Any, gamma: Any, beta: Any, reduction_axes: Any,
                                epsilon: float = 1e-3) -> tuple[Tensor, Tensor, Tensor]:
    """``(normalized x, batch mean, batch variance)``, the statistics over ``reduction_axes``.

    The mean and the (biased) variance have the reduced axes removed, as Keras returns them;
    they are broadcast back to ``x``'s rank to normalize it.
    """
    x = G.as_tensor(x)
    axes = sorted(a % x.ndim for a in reduction_axes)
    mean = G.mean(x, tuple(axes), keepdims=True)
    variance = G.mean(G.square(x - mean), tuple(axes), keepdims=True)
    kept = tuple(d for i, d in enumerate(x.shape) if i not in axes)

    trailing = axes == list(range(len(axes)))  # then (C,)-shaped gamma broadcasts as it is
    broadcast = tuple(1 if i in axes else (-1 if d is None else d) for i, d in enumerate(x.shape))

    def line_up(v: Any) -> Any:
        return v if v is None or trailing or len(kept) == 0 else G.reshape(G.as_tensor(v), broadcast)

    normed = batch_normalization(x, mean, variance, line_up(beta), line_up(gamma), epsilon=epsilon)
    return normed, G.squeeze(mean, tuple(axes)), G.squeeze(variance, tuple(axes))
