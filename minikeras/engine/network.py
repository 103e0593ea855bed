"""``Network``: a graph of layers found by walking back from output tensors.

``Network(inputs, outputs)`` needs no list of layers: every tensor made by a layer carries
``_keras_history = (layer, node_index, tensor_index)``, and every ``Node`` knows the layers
and nodes that made its inputs. Walking those links back from the outputs finds every
layer, orders them by depth (inputs first) and checks the graph is complete.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend as K
from ..graph import Tensor, Variable
from .base_layer import Layer, Node, to_list, to_snake_case, unpack_singleton
from .input_layer import InputLayer
from .input_spec import InputSpec
from .masking import call_takes_mask, masks_per_output
from .serialization import network_config, network_from_config
from .summary import print_summary


def _dedupe(xs: list[Any]) -> list[Any]:
    """``xs`` without repeats, in order (by identity: a shared layer's weights count once)."""
    return list({id(x): x for x in xs}.values())


class Network(Layer):
    """Layers connected by nodes, usable as one layer (calling it shares its weights)."""

    _is_graph_network = True

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if not name:
            prefix = to_snake_case(type(self).__name__)
            prefix = "model" if prefix in ("network", "model") else prefix
            name = f"{prefix}_{K.get_uid(prefix)}"
        super().__init__(name=name, **kwargs)
        self._layers: list[Layer] = []
        self.inputs: list[Tensor] = []
        self.outputs: list[Tensor] = []
        if inputs is not None and outputs is not None:
            self._init_graph_network(inputs, outputs)

    # --- building the graph of layers ----------------------------------------------

    def _init_graph_network(self, inputs: Any, outputs: Any) -> None:
        self.inputs = to_list(inputs)
        self.outputs = to_list(outputs)
        self._check_inputs_and_outputs()
        self._input_layers = [x._keras_history[0] for x in self.inputs]
        self._output_layers = [x._keras_history[0] for x in self.outputs]
        self._map_graph_network()
        self.input_names = [layer.name for layer in self._input_layers]
        self.output_names = [layer.name for layer in self._output_layers]
        self._feed_inputs = [x for x, layer in zip(self.inputs, self._input_layers)
                             if getattr(layer, "is_placeholder", False)]
        self.built = True
        # The network's own node 0 links its inputs to its outputs: model.input works.
        self._inbound_nodes = []
        self._append_node(Node(self, inbound_layers=[], node_indices=[], tensor_indices=[],
                               input_tensors=self.inputs, output_tensors=self.outputs,
                               input_shapes=[K.int_shape(x) for x in self.inputs],
                               output_shapes=[K.int_shape(y) for y in self.outputs]))

    def _check_inputs_and_outputs(self) -> None:
        if len({id(x) for x in self.inputs}) != len(self.inputs):
            raise ValueError(
                "The list of inputs passed to the model is redundant. All inputs should only "
                f"appear once. Found: {self.inputs}"
            )
        for x in self.inputs:
            if getattr(x, "_keras_history", None) is None:
                raise ValueError(
                    "Input tensors to a Model must come from `keras.layers.Input`. Received: "
                    f"{x} (missing previous layer metadata)."
                )
            layer, node_index, _ = x._keras_history
            if not isinstance(layer, InputLayer) or node_index != 0:
                raise TypeError(
                    "Input layers to a `Model` must be `InputLayer` objects. Received inputs: "
                    f"{self.inputs}. Input {x.name} (at position {self.inputs.index(x)}) comes "
                    f"from layer {layer.name} ({type(layer).__name__}); give the model the "
                    "Input(...) tensors it starts from."
                )
        for y in self.outputs:
            if not isinstance(y, Tensor) or y._keras_history is None:
                raise ValueError(
                    "Output tensors to a Model must be the output of a Keras `Layer` (thus "
                    f"holding past layer metadata). Found: {y}"
                )

    def _map_graph_network(self) -> None:
        """Find the nodes and layers between inputs and outputs, ordered by depth."""
        # TASK layer_discovery (after topo_sort): fill _network_nodes, _nodes_by_depth, _layers(_by_depth)
        # Nodes in post-order (each after the nodes making its inputs), by an iterative
        # depth-first walk back from the outputs: a chain of 5,000 layers is no recursion.
        order: list[Node] = []
        layer_indices: dict[Layer, int] = {}
        self._network_nodes: set[str] = set()
        finished: set[Node] = set()
        for y in self.outputs:
            layer, node_index, _ = y._keras_history
            stack = [(layer, node_index, y, 0)]
            in_progress: set[Node] = set()
            while stack:
                layer, node_index, tensor, i = stack.pop()
                node = layer._inbound_nodes[node_index]
                if i == 0:
                    if node in finished:
                        continue
                    if node in in_progress:
                        raise ValueError(f'The tensor {tensor} at layer "{layer.name}" is part of a cycle.')
                    in_progress.add(node)
                    self._network_nodes.add(f"{layer.name}_ib-{node_index}")
                    layer_indices.setdefault(layer, len(layer_indices))
                if i < len(node.inbound_layers):  # visit input i, then come back for i + 1
                    stack.append((layer, node_index, tensor, i + 1))
                    stack.append((node.inbound_layers[i], node.node_indices[i], node.input_tensors[i], 0))
                else:
                    in_progress.discard(node)
                    finished.add(node)
                    order.append(node)

        node_depth: dict[Node, int] = {}
        layer_depth: dict[Layer, int] = {}
        for node in reversed(order):
            depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.outbound_layer, 0))
            layer_depth[node.outbound_layer] = node_depth[node] = depth
            for inbound, index in zip(node.inbound_layers, node.node_indices):
                parent = inbound._inbound_nodes[index]
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))

        self._nodes_by_depth: dict[int, list[Node]] = defaultdict(list)
        for node, depth in node_depth.items():
            self._nodes_by_depth[depth].append(node)
        self._layers_by_depth: dict[int, list[Layer]] = defaultdict(list)
        for layer, depth in layer_depth.items():
            self._layers_by_depth[depth].append(layer)
        self._layers = []
        for depth in sorted(self._layers_by_depth, reverse=True):
            self._layers.extend(sorted(self._layers_by_depth[depth], key=layer_indices.__getitem__))

        computable = set(self.inputs)  # tensors hash by identity
        done: list[str] = []
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                for x in node.input_tensors:
                    if x not in computable:
                        raise ValueError(
                            f"Graph disconnected: cannot obtain value for tensor {x} at layer "
                            f'"{node.outbound_layer.name}". The following previous layers were '
                            f"accessed without issue: {done}. Add the Input it comes from to "
                            "the model's inputs."
                        )
                computable.update(node.output_tensors)
                done.append(node.outbound_layer.name)

        counts = Counter(layer.name for layer in self._layers)
        for name, count in counts.items():
            if count != 1:
                raise ValueError(
                    f'The name "{name}" is used {count} times in the model. All layer '
                    "names should be unique."
                )
        # END TASK

    # --- as a layer ----------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        return self._layers

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``index`` (which wins) or by ``name``."""
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if not name:
            raise ValueError("Provide either a layer name or layer index.")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}."
        )

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        return _dedupe([w for layer in self.layers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self) -> list[Variable]:
        weights = [w for layer in self.layers for w in layer.non_trainable_weights]
        if not self.trainable:
            weights = [w for layer in self.layers for w in layer.trainable_weights] + weights
        return _dedupe(weights)

    @property
    def weights(self) -> list[Variable]:
        """Layer by layer, each layer's own order (freezing a layer does not reorder them)."""
        return _dedupe([w for layer in self.layers for w in layer.weights])

    def get_weights(self) -> list[Any]:
        return K.batch_get_value(self.weights)

    def set_weights(self, weights: Sequence[Any]) -> None:
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on model {self.name} with a list of "
                f"{len(weights)} arrays, but the model has {len(params)} weights."
            )
        for p, w in zip(params, weights):
            if tuple(p.shape) != tuple(np.shape(w)):
                raise ValueError(
                    f"Layer weight shape {tuple(p.shape)} not compatible with provided weight "
                    f"shape {tuple(np.shape(w))} (weight {p.name})"
                )
        K.batch_set_value(list(zip(params, weights)))

    @property
    def updates(self) -> list[Any]:
        """The updates of the layers' calls that belong to this network, plus unconditional ones."""
        if not self.trainable and not self.stateful:
            return []
        updates: list[Any] = []
        for layer in self.layers:
            for node_index, node in enumerate(layer._inbound_nodes):
                if f"{layer.name}_ib-{node_index}" in self._network_nodes:
                    updates += layer.get_updates_for(node.input_tensors)
            updates += layer.get_updates_for(None)
        return _dedupe(updates)

    @property
    def input_spec(self) -> Any:
        """An ``InputSpec`` per model input (dtype and shape), a single one for one input."""
        specs = [InputSpec(dtype=x.dtype, shape=K.int_shape(x)) for x in self.inputs]
        return specs[0] if len(specs) == 1 else specs

    @input_spec.setter
    def input_spec(self, value: Any) -> None:  # a Layer's constructor may set it; a network derives it
        pass

    @property
    def losses(self) -> list[Any]:
        """Every layer's losses, and those added to the network itself (``model.add_loss``)."""
        return _dedupe([loss for layer in self.layers for loss in layer.losses] + list(self._losses))

    @property
    def uses_learning_phase(self) -> bool:
        return any(y._uses_learning_phase for y in self.outputs)

    def build(self, input_shape: Any) -> None:
        self.built = True

    def call(self, inputs: Any, mask: Any = None, **kwargs: Any) -> Any:
        return unpack_singleton(self.run_internal_graph(to_list(inputs), to_list(mask)))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The output masks of the last ``call`` on these inputs (computed along with it)."""
        key = tuple(id(x) for x in to_list(inputs))
        masks = getattr(self, "_output_mask_cache", {}).get(key)
        return None if masks is None else unpack_singleton(masks)

    def run_internal_graph(self, inputs: Sequence[Tensor], masks: Sequence[Any] = ()) -> list[Tensor]:
        """Re-apply every layer to new ``inputs`` (with their ``masks``): same weights, new tensors."""
        if len(inputs) != len(self.inputs):
            raise ValueError(
                f"Model {self.name} expects {len(self.inputs)} input(s), but it received "
                f"{len(inputs)} input tensors."
            )
        tensor_map: dict[Tensor, Tensor] = dict(zip(self.inputs, inputs))
        mask_map: dict[Tensor, Any] = dict(zip(self.inputs, list(masks) + [None] * len(inputs)))
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                layer = node.outbound_layer
                computed = [tensor_map[x] for x in node.input_tensors if x in tensor_map]
                if len(computed) != len(node.input_tensors) or isinstance(layer, InputLayer):
                    continue
                in_masks = [mask_map.get(x) for x in node.input_tensors]
                kwargs = dict(node.arguments)
                if call_takes_mask(layer) and "mask" not in kwargs:
                    kwargs["mask"] = unpack_singleton(in_masks)
                with K.name_scope(layer.name):
                    outputs = to_list(layer.call(unpack_singleton(computed), **kwargs))
                    out_masks = masks_per_output(layer.compute_mask(unpack_singleton(computed),
                                                                    unpack_singleton(in_masks)), len(outputs))
                uses = any(getattr(x, "_uses_learning_phase", False) for x in computed)
                for ref, new, new_mask in zip(node.output_tensors, outputs, out_masks):
                    new._uses_learning_phase = new._uses_learning_phase or uses
                    tensor_map[ref] = new
                    mask_map[ref] = new_mask
                self.add_update(layer.get_updates_for(computed), inputs)
        self._output_mask_cache = {tuple(id(x) for x in inputs): [mask_map.get(y) for y in self.outputs]}
        return [tensor_map[y] for y in self.outputs]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return unpack_singleton([K.int_shape(y) for y in self.outputs])

    # --- text ------------------------------------------------------------------------

    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Any = None) -> None:
        """Print the layers, their output shapes and parameter counts, as Keras 2 does."""
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    # --- configuration --------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return network_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Network:
        return network_from_config(cls, config, custom_objects)


def get_source_inputs(tensor: Any, layer: Any = None, node_index: int | None = None) -> list[Any]:
    """The ``Input`` tensors that ``tensor`` is computed from, found through ``_keras_history``.

    A tensor made by no layer (a plain backend tensor) has no ``_keras_history``: that is
    an error, since no model could be built from it. Each source appears once, in the order
    they are first reached.
    """
    if layer is None or node_index is None:
        if getattr(tensor, "_keras_history", None) is None:
            raise ValueError(f"{tensor} was not made by a Keras layer (it has no _keras_history): "
                             "build it from Input(...) and layers to find its sources.")
        layer, node_index, _ = tensor._keras_history
    node = layer._inbound_nodes[node_index]
    if not node.inbound_layers:
        return list(node.input_tensors)  # an InputLayer: the tensor itself is the source
    sources: list[Any] = []
    for inbound, index, x in zip(node.inbound_layers, node.node_indices, node.input_tensors):
        for source in get_source_inputs(x, inbound, index):
            if not any(source is s for s in sources):
                sources.append(source)
    return sources
