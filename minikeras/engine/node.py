"""``Node``: one call of a layer, the edge of Keras's graph of layers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..graph import Tensor
    from .base_layer import Layer


class Node:
    """Records that ``outbound_layer`` was called on ``input_tensors``, giving ``output_tensors``.

    ``inbound_layers[i]`` made ``input_tensors[i]``, at its node ``node_indices[i]``, as output
    number ``tensor_indices[i]``. A layer called twice (shared) has two nodes: that is why
    ``layer.output`` becomes ambiguous and ``layer.get_output_at(i)`` exists.
    """

    def __init__(self, outbound_layer: Layer, inbound_layers: list[Layer], node_indices: list[int],
                 tensor_indices: list[int], input_tensors: list[Tensor],
                 output_tensors: list[Tensor], input_shapes: list[Any], output_shapes: list[Any],
                 arguments: dict[str, Any] | None = None) -> None:
        self.outbound_layer = outbound_layer
        self.inbound_layers = inbound_layers
        self.node_indices = node_indices
        self.tensor_indices = tensor_indices
        self.input_tensors = input_tensors
        self.output_tensors = output_tensors
        self.input_shapes = input_shapes
        self.output_shapes = output_shapes
        self.input_masks: list[Any] = [None] * len(input_tensors)
        self.output_masks: list[Any] = [None] * len(output_tensors)
        self.arguments = arguments or {}
        for layer in inbound_layers:
            layer._outbound_nodes.append(self)
        outbound_layer._inbound_nodes.append(self)

    def get_config(self) -> dict[str, Any]:
        return {
            "outbound_layer": self.outbound_layer.name,
            "inbound_layers": [layer.name for layer in self.inbound_layers],
            "node_indices": self.node_indices,
            "tensor_indices": self.tensor_indices,
        }

    def __repr__(self) -> str:
        ins = ", ".join(layer.name for layer in self.inbound_layers) or "-"
        return f"<Node {ins} -> {self.outbound_layer.name}>"
