"""``Input`` and ``InputLayer``: where a functional model's graph starts."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..graph import Tensor
from .base_layer import Layer, Node


class InputLayer(Layer):
    """A layer with no inputs whose single output is a placeholder (named ``input_1:0``)."""

    def __init__(self, input_shape: Any = None, batch_size: int | None = None,
                 batch_input_shape: Any = None, dtype: str | None = None,
                 input_tensor: Tensor | None = None, sparse: bool = False,
                 name: str | None = None) -> None:
        if not name:
            name = f"input_{K.get_uid('input')}"
        super().__init__(dtype=dtype, name=name)
        self.trainable = False
        self.built = True
        self.sparse = sparse
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError(
                "Only provide the input_shape OR batch_input_shape argument to InputLayer, "
                "not both at the same time."
            )
        if input_tensor is not None and batch_input_shape is None:
            batch_input_shape = K.int_shape(input_tensor)
        if input_shape is None and batch_input_shape is None:
            raise ValueError(
                "An Input layer should be passed either a `batch_input_shape` or an `input_shape`."
            )
        if batch_input_shape is None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self.batch_input_shape = tuple(batch_input_shape)
        if input_tensor is None:
            input_tensor = K.placeholder(shape=self.batch_input_shape, dtype=self.dtype,
                                         sparse=sparse, name=self.name)
        self.is_placeholder = K.is_placeholder(input_tensor)
        input_tensor._keras_shape = self.batch_input_shape
        input_tensor._uses_learning_phase = False
        input_tensor._keras_history = (self, 0, 0)
        self._append_node(Node(self, inbound_layers=[], node_indices=[], tensor_indices=[],
                               input_tensors=[input_tensor], output_tensors=[input_tensor],
                               input_shapes=[self.batch_input_shape],
                               output_shapes=[self.batch_input_shape]))

    def get_config(self) -> dict[str, Any]:
        return {"batch_input_shape": self.batch_input_shape, "dtype": self.dtype,
                "sparse": self.sparse, "name": self.name}


def Input(shape: Any = None, batch_shape: Any = None, name: str | None = None,
          dtype: str | None = None, sparse: bool = False, tensor: Tensor | None = None) -> Tensor:
    """A placeholder that knows it starts a model: ``x = Input(shape=(4,))`` is ``(None, 4)``.

    ``shape`` leaves out the batch dimension; ``batch_shape`` includes it.
    """
    if shape is None and batch_shape is None and tensor is None:
        raise ValueError(
            "Please provide to Input either a `shape` or a `batch_shape` argument. Note that "
            "`shape` does not include the batch dimension."
        )
    if shape is not None and batch_shape is None:
        batch_shape = (None,) + tuple(shape)
    layer = InputLayer(batch_input_shape=batch_shape, name=name, dtype=dtype, sparse=sparse,
                       input_tensor=tensor)
    return layer._inbound_nodes[0].output_tensors[0]
