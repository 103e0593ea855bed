"""Model configs: a network as plain data (layers + who feeds whom), and back.

The config lists each layer's own config and its ``inbound_nodes``: for every call, the
``[layer_name, node_index, tensor_index, kwargs]`` of each input. Rebuilding calls the
layers again in that order, so the new model is wired exactly like the old one.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from .base_layer import LAYER_CLASSES, Layer, unpack_singleton
from .custom_objects import with_custom_objects


def _node_key(layer: Layer, node_index: int) -> str:
    return f"{layer.name}_ib-{node_index}"


def network_config(model: Any) -> dict[str, Any]:
    # Node indices are renumbered to count only this model's nodes. A network keeps its
    # own node 0 (inputs -> outputs), which a rebuilt network has again: start at 1.
    conversion: dict[str, int] = {}
    for layer in model.layers:
        kept = 1 if layer._is_graph_network else 0
        for index, _ in enumerate(layer._inbound_nodes):
            key = _node_key(layer, index)
            if key in model._network_nodes:
                conversion[key] = kept
                kept += 1

    layers = []
    for layer in model.layers:
        inbound_nodes = []
        for index, node in enumerate(layer._inbound_nodes):
            if _node_key(layer, index) not in model._network_nodes or not node.inbound_layers:
                continue
            try:
                kwargs = json.loads(json.dumps(node.arguments))
            except TypeError:
                kwargs = {}
            inbound_nodes.append([
                [inbound.name, conversion.get(_node_key(inbound, node_index), 0), tensor_index, kwargs]
                for inbound, node_index, tensor_index
                in zip(node.inbound_layers, node.node_indices, node.tensor_indices)
            ])
        layers.append({"name": layer.name, "class_name": type(layer).__name__,
                       "config": layer.get_config(), "inbound_nodes": inbound_nodes})

    def coordinates(tensors: list[Any]) -> list[list[Any]]:
        out = []
        for x in tensors:
            layer, node_index, tensor_index = x._keras_history
            out.append([layer.name, conversion.get(_node_key(layer, node_index), 0), tensor_index])
        return out

    return {"name": model.name, "layers": layers, "input_layers": coordinates(model.inputs),
            "output_layers": coordinates(model.outputs)}


def deserialize_layer(data: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Layer:
    """A layer from ``{"class_name": ..., "config": ...}``, by registered class name."""
    name = data["class_name"]
    custom_objects = with_custom_objects(custom_objects)
    cls = custom_objects.get(name) or LAYER_CLASSES.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown layer: {name}. Known layers: {sorted(LAYER_CLASSES)}. A custom layer must "
            "be passed in custom_objects={'" + name + "': " + name + "}."
        )
    from_config: Any = cls.from_config  # Layer's takes a config; Network's custom objects too
    if "custom_objects" in inspect.signature(from_config).parameters:
        return from_config(data["config"], custom_objects=custom_objects)
    return from_config(data["config"])


def _output(layer: Layer, node_index: int, tensor_index: int, user: str) -> Any:
    """Output ``tensor_index`` of ``layer``'s call ``node_index``, or an error naming who asked."""
    nodes = layer._inbound_nodes
    if node_index >= len(nodes) or tensor_index >= len(nodes[node_index].output_tensors):
        raise ValueError(f"The config of {user} takes output {tensor_index} of call {node_index} of layer "
                         f"{layer.name!r}, which does not exist (the layer was called {len(nodes)} times, "
                         f"with {len(nodes[-1].output_tensors) if nodes else 0} outputs).")
    return nodes[node_index].output_tensors[tensor_index]


def network_from_config(cls: type, config: dict[str, Any],
                        custom_objects: dict[str, Any] | None = None) -> Any:
    created: dict[str, Layer] = {}
    pending: dict[Layer, list[list[Any]]] = {}

    def process_node(layer: Layer, node_data: list[Any]) -> bool:
        inputs = []
        kwargs: dict[str, Any] = {}
        for entry in node_data:
            inbound = created[entry[0]]
            if len(inbound._inbound_nodes) <= entry[1]:
                return False  # its input does not exist yet: try again next round
            inputs.append(_output(inbound, entry[1], entry[2], f"layer {layer.name!r}"))
            kwargs = entry[3] if len(entry) > 3 else {}
        layer(unpack_singleton(inputs), **kwargs)
        return True

    for data in config["layers"]:
        layer = deserialize_layer(data, custom_objects)
        created[data["name"]] = layer
        pending[layer] = list(data.get("inbound_nodes", []))
    while any(pending.values()):
        progressed = False
        for data in config["layers"]:
            layer = created[data["name"]]
            while pending[layer] and process_node(layer, pending[layer][0]):
                pending[layer].pop(0)
                progressed = True
        if not progressed:
            stuck = [layer.name for layer, nodes in pending.items() if nodes]
            raise ValueError(f"The model config cannot be rebuilt: the inputs of {stuck} never appear.")

    def tensors(coords: list[list[Any]]) -> list[Any]:
        return [_output(created[name], node_index, tensor_index, f"model {config.get('name')!r}")
                for name, node_index, tensor_index in coords]

    return cls(inputs=tensors(config["input_layers"]), outputs=tensors(config["output_layers"]),
               name=config.get("name"))
