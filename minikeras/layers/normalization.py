"""BatchNormalization: normalise with the batch's statistics in training, the moving ones at test."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from .. import constraints, initializers, regularizers
from ..engine import Layer
from ..graph import Tensor, Variable
from .core import check_axis

Shape = tuple[int | None, ...]


class BatchNormalization(Layer):
    """``gamma * (x - mean) / sqrt(variance + epsilon) + beta``, per feature along ``axis``.

    Training phase: ``mean``/``variance`` are the batch's, and two updates move
    ``moving_mean``/``moving_variance`` towards them (``moving * momentum + batch * (1 -
    momentum)``, with the *unbiased* batch variance, as Keras 2.2.4). Test phase: the moving
    statistics are used and the updates leave them unchanged.

    What students miss: the updates are not applied by calling the layer. They are in
    ``layer.updates``, and only a ``K.function(..., updates=layer.updates)`` (or ``fit``)
    that runs them changes the moving statistics. Unlike Keras, those updates also look at
    the learning phase, so a function fed phase 0 leaves the statistics alone.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):  # Keras 3 configs write [3] for 3
            if len(axis) != 1:
                raise ValueError(f"BatchNormalization supports a single axis, got {axis}.")
            axis = axis[0]
        self.axis = int(axis)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape: Shape) -> None:
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(f"Layer {self.name}: axis {self.axis} is out of range for an input of "
                             f"shape {input_shape}.")
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but "
                             f"the layer received an input with shape {input_shape}.")
        shape = (dim,)
        self.gamma: Variable | None = None
        self.beta: Variable | None = None
        if self.scale:
            self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape,
                                           initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    def _normalize(self, x: Tensor, mean: Tensor, variance: Tensor, broadcast: Shape | None) -> Tensor:
        """``(x - mean) / sqrt(variance + eps) * gamma + beta``, with per-feature vectors."""

        def line_up(v: Tensor) -> Tensor:
            # A feature axis other than the last needs (1, C, 1, 1)-shaped statistics to broadcast.
            return v if broadcast is None else K.reshape(v, broadcast)

        out = (x - line_up(mean)) / K.sqrt(line_up(variance) + self.epsilon)
        if self.gamma is not None:
            out = out * line_up(self.gamma)
        if self.beta is not None:
            out = out + line_up(self.beta)
        return out

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        ndim = K.ndim(inputs)
        axis = self.axis % ndim
        check_axis(self, inputs, axis, self.moving_mean.shape[0])
        reduction_axes = [i for i in range(ndim) if i != axis]
        broadcast = None
        if axis != ndim - 1:
            broadcast = tuple(self.moving_mean.shape[0] if i == axis else 1 for i in range(ndim))

        def normalize_inference() -> Tensor:
            return self._normalize(inputs, self.moving_mean, self.moving_variance, broadcast)

        if training in (0, False) and not isinstance(training, Tensor):
            return normalize_inference()  # statically the test phase: no updates at all

        mean = K.mean(inputs, axis=reduction_axes)
        variance = K.var(inputs, axis=reduction_axes)
        normed_training = self._normalize(inputs, mean, variance, broadcast)

        # The moving variance estimates the population's: correct the batch's by n / (n - 1)
        # (Keras 2.2.4 writes n - (1 + epsilon), which also avoids dividing by 0 for n = 1).
        n = K.cast(K.prod(K.gather(K.shape(inputs), reduction_axes)), K.dtype(inputs))
        unbiased = variance * (n / (n - (1.0 + self.epsilon)))
        updates = []
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, unbiased)):
            # moving <- moving * momentum + batch * (1 - momentum), as a delta (as TensorFlow
            # writes it), so that a layer shared by two inputs moves by both. Clearer than
            # Keras: in the test phase the delta is 0.
            delta = (moving - batch) * (1.0 - self.momentum)
            delta = K.in_train_phase(delta, K.zeros_like(delta), training=training)
            updates.append(K.update_sub(moving, delta))
        self.add_update(updates, inputs)
        return K.in_train_phase(normed_training, normalize_inference, training=training)

    def get_config(self) -> dict[str, Any]:
        config = {
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
        return {**super().get_config(), **config}
