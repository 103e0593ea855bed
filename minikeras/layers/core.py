"""The core layers: Dense, Activation, Dropout, Flatten, RepeatVector, Masking, Reshape, Lambda."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import activations, constraints, initializers, regularizers
from .. import backend as K
from .. import graph as G
from ..engine import Layer
from ..graph import Tensor
from .core_extra import ActivityRegularization, Permute  # noqa: F401 - Keras 2.2's keras.layers.core path

Shape = tuple[int | None, ...]


def add_activity_loss(layer: Any, outputs: Tensor, inputs: Any) -> None:
    """Penalise a layer's *outputs* (its ``activity_regularizer``), recorded in ``layer.losses``."""
    if getattr(layer, "activity_regularizer", None) is not None:
        with K.name_scope("activity_regularizer"):
            layer.add_loss(layer.activity_regularizer(outputs), inputs)


def kernel_and_bias_config(layer: Any) -> dict[str, Any]:
    """The config entries Dense and Conv2D share: activation, use_bias, and how the kernel
    and bias are initialized, regularized and constrained (Keras's key order)."""
    return {
        "activation": activations.serialize(layer.activation),
        "use_bias": layer.use_bias,
        "kernel_initializer": initializers.serialize(layer.kernel_initializer),
        "bias_initializer": initializers.serialize(layer.bias_initializer),
        "kernel_regularizer": regularizers.serialize(layer.kernel_regularizer),
        "bias_regularizer": regularizers.serialize(layer.bias_regularizer),
        "activity_regularizer": regularizers.serialize(layer.activity_regularizer),
        "kernel_constraint": constraints.serialize(layer.kernel_constraint),
        "bias_constraint": constraints.serialize(layer.bias_constraint),
    }


def check_min_ndim(layer: Layer, x: Tensor, min_ndim: int) -> None:
    if K.ndim(x) < min_ndim:
        raise ValueError(
            f"Input 0 is incompatible with layer {layer.name}: expected min_ndim={min_ndim}, "
            f"found ndim={K.ndim(x)} (input {x.name} has shape {K.int_shape(x)})."
        )


def check_axis(layer: Layer, x: Tensor, axis: int, expected: int | None) -> None:
    """The error Keras's InputSpec gives when a built layer meets an input of another size."""
    shape = K.int_shape(x)
    if shape[axis] is not None and shape[axis] != expected:
        raise ValueError(
            f"Input 0 is incompatible with layer {layer.name}: expected axis {axis} of input shape "
            f"to have value {expected} but got shape {shape}. The layer's weights were built "
            "for the first input it was called on; use a new layer for inputs of another size."
        )


class Dense(Layer):
    """``activation(dot(x, kernel) + bias)``, kernel ``(input_dim, units)``.

    On an input of rank > 2, ``(batch, steps, features)``, the same kernel is applied to the
    last axis at every step: the output is ``(batch, steps, units)``, not a flattened input.
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        if "input_shape" not in kwargs and "input_dim" in kwargs:
            kwargs["input_shape"] = (kwargs.pop("input_dim"),)
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 2:
            raise ValueError(f"Input 0 is incompatible with layer {self.name}: expected min_ndim=2, "
                             f"found ndim={len(input_shape)} (shape {input_shape}).")
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Layer {self.name} needs the last dimension of its input to be known "
                             f"(it sets the kernel's rows); got shape {input_shape}.")
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        check_min_ndim(self, inputs, 2)
        check_axis(self, inputs, -1, self.kernel.shape[0])
        output = K.dot(inputs, self.kernel)
        if self.bias is not None:
            output = K.bias_add(output, self.bias, data_format="channels_last")
        output = self.activation(output)
        add_activity_loss(self, output, inputs)
        return output

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, **kernel_and_bias_config(self)}


class Activation(Layer):
    """Applies an activation function by name: ``Activation("relu")`` makes one ``Relu`` op."""

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs: Tensor) -> Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """In training, zero each input with probability ``rate`` and scale the rest by ``1/(1-rate)``.

    At test time it is the identity: the scaling during training ("inverted dropout") already
    keeps the expected value, so nothing is rescaled at inference. Which branch runs is
    decided by the learning phase (fed to ``K.function``) or by ``training=`` in the call.
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            # Keras clips the rate into [0, 1] and treats 1 as "no dropout": refuse instead.
            raise ValueError(f"Dropout rate must be in [0, 1), the fraction of inputs to drop; "
                             f"got {rate}.")
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if self.rate == 0.0:
            return inputs

        def dropped() -> Tensor:
            return K.dropout(inputs, self.rate, self.noise_shape, seed=self.seed)

        return K.in_train_phase(dropped, inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


class Flatten(Layer):
    """``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)``; the batch axis is kept."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = K.normalize_data_format(data_format)

    def call(self, inputs: Tensor) -> Tensor:
        self.compute_output_shape(K.int_shape(inputs))  # a clear error for unknown dims
        if self.data_format == "channels_first" and K.ndim(inputs) > 2:
            # Flatten in channels_last order, so a model's weights do not depend on the layout.
            inputs = K.permute_dimensions(inputs, (0, *range(2, K.ndim(inputs)), 1))
        return K.batch_flatten(inputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        if None in rest:
            raise ValueError(
                f'The shape of the input to "Flatten" is not fully defined (got {rest}). Make sure '
                'to pass a complete "input_shape" or "batch_input_shape" argument to the first '
                "layer in your model."
            )
        return (input_shape[0], math.prod(rest))  # type: ignore[arg-type]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class RepeatVector(Layer):
    """``(batch, features)`` to ``(batch, n, features)``: the same vector at each of ``n`` steps."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = int(n)

    def call(self, inputs: Tensor) -> Tensor:
        check_min_ndim(self, inputs, 2)
        return K.tile(K.expand_dims(inputs, 1), (1, self.n, 1))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}


class Masking(Layer):
    """Marks the time steps whose features all equal ``mask_value`` as padding (and zeroes
    them); the mask goes on to later layers, which skip those steps."""

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.mask_value = mask_value

    def _kept(self, inputs: Tensor) -> Tensor:
        return K.max(K.cast(K.not_equal(inputs, self.mask_value), K.dtype(inputs)), axis=-1, keepdims=True)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return K.greater(K.squeeze(self._kept(inputs), -1), 0)

    def call(self, inputs: Tensor) -> Tensor:
        return inputs * self._kept(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (the batch axis is not part of it).

    One entry may be ``-1``: it is inferred from the input's size.
    """

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d < 0 for d in self.target_shape) > 1:
            raise ValueError(f"Can only specify one unknown dimension. Got target_shape "
                             f"{self.target_shape}.")

    def _fix_unknown_dimension(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        size = math.prod(input_shape)
        known = math.prod(d for d in self.target_shape if d >= 0)
        fits = (known != 0 and size % known == 0) if -1 in self.target_shape else size == known
        if not fits:
            raise ValueError(
                f"total size of new array must be unchanged: cannot reshape samples of shape "
                f"{input_shape} ({size} values) to {self.target_shape}."
            )
        return tuple(size // known if d < 0 else d for d in self.target_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        if None in rest:
            return (input_shape[0],) + tuple(None if d < 0 else d for d in self.target_shape)
        return (input_shape[0],) + self._fix_unknown_dimension(rest)  # type: ignore[arg-type]

    def call(self, inputs: Tensor) -> Tensor:
        input_shape = K.int_shape(inputs)
        target = self.compute_output_shape(input_shape)[1:]
        if None not in target:
            return K.reshape(inputs, (-1, *target))
        # An input of unknown size and a -1 target: the -1 is resolved when the graph runs.
        return G.batch_reshape(inputs, self.target_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": self.target_shape}


def _describe_callable(fn: Any) -> tuple[str, str, str | None]:
    """``(name, kind, module)`` of a function: what a config may record instead of its code."""
    name = getattr(fn, "__name__", type(fn).__name__)
    return name, "lambda" if name == "<lambda>" else "function", getattr(fn, "__module__", None)


def _function_from_config(layer_name: str, what: str, name: str, module: str | None,
                          custom_objects: dict[str, Any] | None) -> Callable[..., Any]:
    fn = (custom_objects or {}).get(name)
    if not callable(fn):
        raise ValueError(
            f"Lambda layer {layer_name!r}: its {what} is the Python function {name!r} (module "
            f"{module!r}). A config records only the name, never the code, and minikeras does "
            "not run code found in a config or file. Pass the function itself: "
            f"Lambda.from_config(config, custom_objects={{{name!r}: the_function}})."
        )
    return fn


class Lambda(Layer):
    """Wraps any function of tensors as a layer: ``Lambda(lambda x: x ** 2)``.

    Its config names the function but does not contain it, so a saved Lambda can only be
    rebuilt when you hand the function back (``custom_objects``); nothing is unpickled.
    """

    def __init__(self, function: Callable[..., Any], output_shape: Any = None, mask: Any = None,
                 arguments: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda needs a callable, got {type(function).__name__}: {function!r}")
        if mask is not None:
            raise ValueError("Lambda(mask=...) is not supported: minikeras has no masking.")
        if output_shape is not None and not callable(output_shape):
            if not isinstance(output_shape, (list, tuple)):
                raise TypeError("In Lambda, `output_shape` must be a list, a tuple, or a function.")
            output_shape = tuple(output_shape)
        self.function = function
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})
        self.supports_masking = False

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._output_shape is None:
            for node in self._inbound_nodes:  # a shape seen in an earlier call
                if [tuple(s) for s in node.input_shapes] == [tuple(s) for s in _shapes(input_shape)]:
                    return node.output_shapes[0] if len(node.output_shapes) == 1 else node.output_shapes
            # As Keras does: run the function on placeholders of that shape, read the result.
            with K.name_scope(self.name):
                xs = [K.placeholder(shape=s, dtype=self.dtype) for s in _shapes(input_shape)]
                y = self.call(xs[0] if len(xs) == 1 else xs)
            return [K.int_shape(t) for t in y] if isinstance(y, (list, tuple)) else K.int_shape(y)
        if callable(self._output_shape):
            shape = self._output_shape(input_shape)
            if not isinstance(shape, (list, tuple)):
                raise ValueError("`output_shape` function must return a tuple or a list of tuples.")
            if isinstance(shape, list) and (not shape or shape[0] is None or isinstance(shape[0], int)):
                shape = tuple(shape)
            return shape
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch, *self._output_shape)

    def get_config(self) -> dict[str, Any]:
        name, kind, module = _describe_callable(self.function)
        config: dict[str, Any] = {"function": name, "module": module, "function_type": kind}
        if callable(self._output_shape):
            shape_name, shape_kind, shape_module = _describe_callable(self._output_shape)
            config.update(output_shape=shape_name, output_shape_type=shape_kind,
                          output_shape_module=shape_module)
        else:
            config.update(output_shape=self._output_shape, output_shape_type="raw",
                          output_shape_module=None)
        config["arguments"] = self.arguments
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Lambda:
        """Rebuild from a config, taking the function (by its recorded name) from ``custom_objects``."""
        config = dict(config)
        layer_name = config.get("name", "lambda")
        function = _function_from_config(layer_name, "function", config.pop("function"),
                                         config.pop("module", None), custom_objects)
        config.pop("function_type", None)
        output_shape = config.pop("output_shape", None)
        shape_module = config.pop("output_shape_module", None)
        if config.pop("output_shape_type", "raw") != "raw":
            output_shape = _function_from_config(layer_name, "output_shape", output_shape,
                                                 shape_module, custom_objects)
        return cls(function, output_shape=output_shape, **config)


def _shapes(input_shape: Any) -> list[Shape]:
    """One shape, or a list of shapes, as a list of shapes."""
    if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
        return [tuple(s) for s in input_shape]
    return [tuple(input_shape)]
