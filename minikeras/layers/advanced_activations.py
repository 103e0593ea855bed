"""Keras 2.2's advanced activations: activations with a parameter (``LeakyReLU(alpha)``),
or with weights of their own (``PReLU``'s learned slopes)."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from .. import constraints, initializers, regularizers
from ..engine import Layer
from ..graph import Tensor

Shape = tuple[int | None, ...]


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``alpha * x`` below (Keras's default ``alpha`` is 0.3, not 0.01)."""

    def __init__(self, alpha: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha = float(alpha)

    def call(self, inputs: Tensor) -> Tensor:
        return K.relu(inputs, alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """A leaky ReLU whose slopes ``alpha`` are weights, learned: one per input unit, or
    shared along ``shared_axes`` (``[1, 2]`` for one slope per channel of an image)."""

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]

    def build(self, input_shape: Shape) -> None:
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            param_shape[axis - 1] = 1
        if None in param_shape:
            raise ValueError(f"PReLU ({self.name}) needs the non-batch dims of its input to be known, or "
                             f"shared_axes over the unknown ones; got input shape {input_shape}.")
        self.alpha = self.add_weight(name="alpha", shape=tuple(param_shape),  # type: ignore[arg-type]
                                     initializer=self.alpha_initializer, regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        # relu(x) - alpha * relu(-x): x above 0, alpha * x below (Keras's formula).
        return K.relu(inputs) - self.alpha * K.relu(-inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}


class ELU(Layer):
    """``x`` above 0, ``alpha * (exp(x) - 1)`` below."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha = float(alpha)

    def call(self, inputs: Tensor) -> Tensor:
        return K.elu(inputs, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}


class ThresholdedReLU(Layer):
    """``x`` where ``x > theta``, else 0 (note: 0, not ``theta``)."""

    def __init__(self, theta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.theta = float(theta)

    def call(self, inputs: Tensor) -> Tensor:
        return inputs * K.cast(K.greater(inputs, self.theta), K.dtype(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "theta": self.theta}


class Softmax(Layer):
    """The softmax along ``axis`` as a layer."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.axis = axis

    def call(self, inputs: Tensor) -> Tensor:
        return K.softmax(inputs, axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class ReLU(Layer):
    """Keras 2.2's ``ReLU(max_value, negative_slope, threshold)``: ``x`` from ``threshold`` up
    to ``max_value``, ``negative_slope * (x - threshold)`` below ``threshold``."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of ReLU layer cannot be negative value: {max_value}")
        if negative_slope < 0.0:
            raise ValueError(f"negative_slope of ReLU layer cannot be negative value: {negative_slope}")
        self.supports_masking = True
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def call(self, inputs: Tensor) -> Tensor:
        return K.relu(inputs, alpha=self.negative_slope, max_value=self.max_value, threshold=self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}
