"""Merge layers: combine a *list* of tensors into one (Add, Concatenate, ...).

The one thing students get wrong: a merge layer is called on a list, ``Add()([a, b])``,
not on two arguments, ``Add()(a, b)``.
"""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..engine import Layer
from ..graph import Tensor

Shape = tuple[int | None, ...]


def _broadcast_shapes(shape1: Shape | None, shape2: Shape | None) -> Shape | None:
    """Elementwise result shape of two sample shapes (no batch axis), aligned on the right."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape2) > len(shape1):
        shape1, shape2 = shape2, shape1
    lead = len(shape1) - len(shape2)
    out: list[int | None] = list(shape1[:lead])
    for i, j in zip(shape1[lead:], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(f"Operands could not be broadcast together with shapes {shape1} {shape2}")
        else:
            out.append(i)
    return tuple(out)


class _Merge(Layer):
    """Base of the elementwise merges: shape checks, then ``_merge_function(list of tensors)``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        raise NotImplementedError

    def build(self, input_shape: Any) -> None:
        self._check_inputs(input_shape)
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        if len(batch_sizes) > 1:
            raise ValueError("Can not merge tensors with different batch sizes. Got tensors with "
                             f"shapes : {input_shape}")
        self._sample_shape(input_shape)  # raises if the shapes cannot be broadcast
        self.built = True

    def _check_inputs(self, input_shape: Any) -> None:
        # Layer.__call__ hands build one shape for one tensor and a list for a list.
        if not isinstance(input_shape, list):
            raise ValueError(
                "A merge layer should be called on a list of inputs. "
                f"Layer {self.name} got one input of shape {input_shape}; call it on a list of "
                f"at least 2 tensors: {type(self).__name__}()([a, b])."
            )
        if len(input_shape) < 2:
            raise ValueError("A merge layer should be called on a list of at least 2 inputs. Got "
                             f"{len(input_shape)} inputs.")

    def _sample_shape(self, input_shapes: list[Shape]) -> Shape | None:
        shape: Shape | None = None if input_shapes[0] is None else tuple(input_shapes[0][1:])
        for s in input_shapes[1:]:
            shape = _broadcast_shapes(shape, None if s is None else tuple(s[1:]))
        return shape

    def call(self, inputs: Any) -> Tensor:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs.")
        inputs = list(inputs)
        rank = max(K.ndim(x) for x in inputs)
        # Line lower-rank inputs up with the trailing axes (batch stays first): (b, 3) -> (b, 1, 3).
        for i, x in enumerate(inputs):
            while K.ndim(x) < rank:
                x = K.expand_dims(x, 1)
            inputs[i] = x
        return self._merge_function(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        sample = self._sample_shape(input_shape)
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return None if sample is None else (batch, *sample)


class Add(_Merge):
    """``a + b + ...``, elementwise."""

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


class Subtract(_Merge):
    """``a - b``, for exactly two inputs."""

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. Got "
                             f"{len(input_shape)} inputs.")

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        if len(inputs) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """``a * b * ...``, elementwise."""

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output * x
        return output


class Average(_Merge):
    """``(a + b + ...) / n``, elementwise."""

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / float(len(inputs))


class Maximum(_Merge):
    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = K.maximum(output, x)
        return output


class Minimum(_Merge):
    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = K.minimum(output, x)
        return output


def _compatible(a: Shape, b: Shape) -> bool:
    """Equal ranks and equal sizes wherever both are known."""
    return len(a) == len(b) and all(i is None or j is None or i == j for i, j in zip(a, b))


class Concatenate(_Merge):
    """Join tensors along ``axis`` (default the last); all other axes must match."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError("A `Concatenate` layer should be called on a list of at least 2 inputs. "
                             f"Layer {self.name} got {input_shape}; call it as Concatenate()([a, b]).")
        reduced = []
        for shape in input_shape:
            rest = list(shape)
            del rest[self.axis]
            reduced.append(tuple(rest))
        if not all(_compatible(reduced[0], r) for r in reduced[1:]):
            raise ValueError("A `Concatenate` layer requires inputs with matching shapes except for "
                             f"the concat axis. Got inputs shapes: {input_shape}")
        self.built = True

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        return K.concatenate(inputs, axis=self.axis)

    def call(self, inputs: Any) -> Tensor:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("A `Concatenate` layer should be called on a list of inputs.")
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        output = list(input_shape[0])
        for shape in input_shape[1:]:
            if output[self.axis] is None or shape[self.axis] is None:
                output[self.axis] = None
                break
            output[self.axis] += shape[self.axis]
        return tuple(output)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Per-sample dot product of two tensors along ``axes`` (``K.batch_dot``).

    ``Dot(axes=1)([a, b])`` on ``(batch, n)`` inputs gives ``(batch, 1)``: the batch axis
    is never summed over. ``normalize=True`` gives the cosine similarity.
    """

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for `axes` - should be a list or an int.")
            if len(axes) != 2:
                raise ValueError("Invalid format for `axes` - should contain two elements.")
            if not all(isinstance(a, int) for a in axes):
                raise ValueError('Invalid format for `axes` - list elements should be "int".')
            axes = tuple(axes)
        self.axes = axes
        self.normalize = normalize

    def _axes(self, rank1: int, rank2: int) -> tuple[int, int]:
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return axes[0] % rank1, axes[1] % rank2

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs.")
        shape1, shape2 = input_shape
        a1, a2 = self._axes(len(shape1), len(shape2))
        if None not in (shape1[a1], shape2[a2]) and shape1[a1] != shape2[a2]:
            raise ValueError(f"Dimension incompatibility {shape1[a1]} != {shape2[a2]}. Layer shapes: "
                             f"{shape1}, {shape2}")
        self.built = True

    def call(self, inputs: Any) -> Tensor:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs.")
        x1, x2 = inputs
        a1, a2 = self._axes(K.ndim(x1), K.ndim(x2))
        if self.normalize:
            x1 = K.l2_normalize(x1, axis=a1)
            x2 = K.l2_normalize(x2, axis=a2)
        return K.batch_dot(x1, x2, (a1, a2))

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        a1, a2 = self._axes(len(shape1), len(shape2))
        shape1.pop(a1)
        shape2.pop(a2)
        shape2.pop(0)
        output = shape1 + shape2
        return tuple(output + [1] if len(output) == 1 else output)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs: list[Tensor], **kwargs: Any) -> Tensor:
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list[Tensor], **kwargs: Any) -> Tensor:
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[Tensor], **kwargs: Any) -> Tensor:
    return Multiply(**kwargs)(inputs)


def average(inputs: list[Tensor], **kwargs: Any) -> Tensor:
    return Average(**kwargs)(inputs)


def maximum(inputs: list[Tensor], **kwargs: Any) -> Tensor:
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[Tensor], **kwargs: Any) -> Tensor:
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[Tensor], axis: int = -1, **kwargs: Any) -> Tensor:
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list[Tensor], axes: Any, normalize: bool = False, **kwargs: Any) -> Tensor:
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
