"""Embedding: integer ids to dense vectors, by looking up rows of a matrix."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from .. import constraints, initializers, regularizers
from ..engine import Layer
from ..graph import Tensor
from .core import add_activity_loss

Shape = tuple[int | None, ...]


class Embedding(Layer):
    """Row ``i`` of the ``(input_dim, output_dim)`` matrix ``embeddings`` for each id ``i``.

    Input ``(batch, length)`` of ids in ``[0, input_dim)``, output ``(batch, length,
    output_dim)``. It is a lookup, not a matrix product: the gradient reaches only the rows
    that were looked up (an id used twice in a batch gets both contributions).
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, activity_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False,
                 input_length: Any = None, **kwargs: Any) -> None:
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            # So that Sequential([Embedding(...)]) knows its input: ids of input_length.
            kwargs["input_shape"] = tuple(input_length) if isinstance(input_length, (list, tuple)) \
                else (input_length,)
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.input_length = input_length

    def build(self, input_shape: Shape) -> None:
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        ids = inputs if K.dtype(inputs) in ("int32", "int64") else K.cast(inputs, "int32")
        out = K.gather(self.embeddings, ids)
        add_activity_loss(self, out, inputs)
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """With ``mask_zero``, id 0 is padding: the mask is ``inputs != 0`` (so 0 is no word)."""
        return K.not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.input_length is None:
            return tuple(input_shape) + (self.output_dim,)
        lengths = list(self.input_length) if isinstance(self.input_length, (list, tuple)) \
            else [self.input_length]
        if len(lengths) != len(input_shape) - 1:
            raise ValueError(f'"input_length" is {self.input_length}, but received input has shape '
                             f"{input_shape}")
        for i, (given, seen) in enumerate(zip(lengths, input_shape[1:])):
            if given is not None and seen is not None and given != seen:
                raise ValueError(f'"input_length" is {self.input_length}, but received input has '
                                 f"shape {input_shape}")
            if given is None:
                lengths[i] = seen
        return (input_shape[0], *lengths, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }
        return {**super().get_config(), **config}
