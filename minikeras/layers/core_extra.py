"""The rest of Keras 2.2's ``keras.layers.core``: ``Permute`` and ``ActivityRegularization``.

Kept apart so ``core.py`` stays short; ``core.py`` re-exports both, so
``from keras.layers.core import Permute`` works.
"""

from __future__ import annotations

from typing import Any

from .. import backend as K
from .. import regularizers
from ..engine import Layer
from ..graph import Tensor

Shape = tuple[int | None, ...]


class Permute(Layer):
    """Reorders the non-batch axes: ``dims`` counts from 1 (``Permute((2, 1))`` swaps two axes)."""

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation `dims` for Permute Layer: {dims}. The set of indices in "
                             f"`dims` must be consecutive and start from 1.")

    def call(self, inputs: Tensor) -> Tensor:
        return K.permute_dimensions(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims}


class ActivityRegularization(Layer):
    """The identity, adding ``l1 * sum(|x|) + l2 * sum(x**2)`` of its input to the loss."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.l1, self.l2 = float(l1), float(l2)
        self.activity_regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)

    def call(self, inputs: Tensor) -> Tensor:
        with K.name_scope("activity_regularizer"):
            self.add_loss(self.activity_regularizer(inputs), inputs)
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
