"""``Layer``: weights plus a ``call`` on tensors, and the bookkeeping of every call.

Calling a layer on a tensor builds its weights (once), runs ``call`` under the layer's name
scope (so a Dense makes ``dense_1/MatMul``, ``dense_1/BiasAdd``, ``dense_1/Relu``), records
a ``Node`` (kept here, beside ``Layer``, as in Keras 2.2) and stamps each output with
``_keras_history = (layer, node_index, tensor_index)``.
That stamp is how ``Model(inputs, outputs)`` later finds its layers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np

from .. import backend as K
from ..graph import Tensor, Variable
from .added_losses import AddedLossesMixin
from .lookups import resolve
from .masking import MaskingMixin, call_takes_mask, masks_per_output, previous_mask
from .trainable import TrainableMixin

#: Every Layer subclass by class name, so a config can name the class to rebuild.
LAYER_CLASSES: dict[str, type[Layer]] = {}

_ALLOWED_KWARGS = {"input_shape", "batch_input_shape", "batch_size", "dtype", "name", "trainable",
                   "weights", "input_dtype"}

#: Set while a model is rebuilt from a file (by ``saving``): ``check(layer, name, shape, dtype)``
#: runs before a weight is allocated and raises if the file cannot hold such a weight, so a
#: small config cannot make ``add_weight`` allocate gigabytes.
WEIGHT_CHECK: ContextVar[Callable[[Layer, str, tuple[Any, ...], str], None] | None] = \
    ContextVar("WEIGHT_CHECK", default=None)


def to_snake_case(name: str) -> str:
    """``BatchNormalization`` -> ``batch_normalization``, as Keras names layers."""
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()
    return s if s[0] != "_" else "private" + s


def to_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def unpack_singleton(xs: list[Any]) -> Any:
    return xs[0] if len(xs) == 1 else xs


class Node:
    """Records that ``outbound_layer`` was called on ``input_tensors``, giving ``output_tensors``.

    ``inbound_layers[i]`` made ``input_tensors[i]``, at its node ``node_indices[i]``, as output
    number ``tensor_indices[i]``. A layer called twice (shared) has two nodes: that is why
    ``layer.output`` becomes ambiguous and ``layer.get_output_at(i)`` exists.
    """

    def __init__(self, outbound_layer: Layer, inbound_layers: list[Layer], node_indices: list[int],
                 tensor_indices: list[int], input_tensors: list[Tensor],
                 output_tensors: list[Tensor], input_shapes: list[Any], output_shapes: list[Any],
                 arguments: dict[str, Any] | None = None, input_masks: list[Any] | None = None,
                 output_masks: list[Any] | None = None) -> None:
        self.outbound_layer = outbound_layer
        self.inbound_layers = inbound_layers
        self.node_indices = node_indices
        self.tensor_indices = tensor_indices
        self.input_tensors = input_tensors
        self.output_tensors = output_tensors
        self.input_shapes = input_shapes
        self.output_shapes = output_shapes
        self.arguments = arguments or {}
        self.input_masks = input_masks or [None] * len(input_tensors)
        self.output_masks = output_masks or [None] * len(output_tensors)

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


class Layer(MaskingMixin, AddedLossesMixin, TrainableMixin):
    """Base class of layers: subclasses give ``build(input_shape)`` and ``call(inputs)``.

    A student's usual surprise: creating a layer makes no weights. They appear when the
    layer is first called, because only then is the input's shape known.
    """

    _is_graph_network = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):  # private bases (_Merge) are not layers to load
            LAYER_CLASSES[cls.__name__] = cls

    def __init__(self, **kwargs: Any) -> None:
        for kwarg in kwargs:
            if kwarg not in _ALLOWED_KWARGS:
                raise TypeError("Keyword argument not understood:", kwarg)
        name = kwargs.get("name")
        if not name:
            prefix = to_snake_case(type(self).__name__)
            name = f"{prefix}_{K.get_uid(prefix)}"
        self.name: str = name
        self.trainable: bool = kwargs.get("trainable", True)
        self.built = False
        self.supports_masking = False
        self.stateful = False
        self._trainable_weights: list[Variable] = []
        self._non_trainable_weights: list[Variable] = []
        self._updates: list[tuple[Any, tuple[Tensor, ...] | None]] = []
        self._losses: list[Any] = []
        self._loss_inputs: list[tuple[Tensor, ...] | None] = []
        self._inbound_nodes: list[Node] = []
        self._outbound_nodes: list[Node] = []
        if "input_shape" in kwargs or "batch_input_shape" in kwargs:
            if "batch_input_shape" in kwargs:
                batch_input_shape = tuple(kwargs["batch_input_shape"])
            else:
                batch_input_shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
            self.batch_input_shape: tuple[int | None, ...] = batch_input_shape
        self.dtype: str = kwargs.get("dtype") or kwargs.get("input_dtype") or K.floatx()
        self._initial_weights = kwargs.get("weights")

    # --- weights --------------------------------------------------------------------

    def add_weight(self, name: str, shape: Sequence[int], dtype: str | None = None,
                   initializer: Any = None, regularizer: Any = None,
                   trainable: bool = True, constraint: Any = None) -> Variable:
        """A variable ``<layer>/<name>:0`` from ``initializer(shape, dtype)`` (or its name: "uniform")."""
        initializer, regularizer = resolve("initializer", initializer), resolve("regularizer", regularizer)
        constraint = resolve("constraint", constraint)
        dtype = dtype or self.dtype
        check = WEIGHT_CHECK.get()
        if check is not None:
            check(self, name, tuple(shape), dtype)
        shape = tuple(int(d) for d in shape)
        value = np.zeros(shape) if initializer is None else initializer(shape, dtype=dtype)
        if isinstance(value, Tensor):
            value = K.eval(value)
        with K.name_scope(self.name + "/"):
            weight = K.variable(value, dtype=dtype, name=name, constraint=constraint)
        if regularizer is not None:
            self.add_loss(regularizer(weight))
        (self._trainable_weights if trainable else self._non_trainable_weights).append(weight)
        TrainableMixin.changes += 1
        return weight

    def get_weights(self) -> list[np.ndarray]:
        return K.batch_get_value(self.weights)

    def set_weights(self, weights: Sequence[Any]) -> None:
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a  weight list of '
                f"length {len(weights)}, but the layer was expecting {len(params)} weights. "
                f"Provided weights: {str(weights)[:50]}..."
            )
        pairs = []
        for p, w in zip(params, weights):
            if tuple(p.shape) != tuple(np.shape(w)):
                raise ValueError(
                    f"Layer weight shape {tuple(p.shape)} not compatible with provided weight "
                    f"shape {tuple(np.shape(w))}"
                )
            pairs.append((p, w))
        K.batch_set_value(pairs)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on {self.name}, but the layer isn't built. "
                "You can build it manually via: `" + self.name + ".build(batch_input_shape)`."
            )
        return int(sum(K.count_params(w) for w in self.weights))

    # --- updates (losses: added_losses.py) --------------------------------------------

    @property
    def updates(self) -> list[Any]:
        """Update ops this layer made (BatchNormalization's moving averages); none if frozen."""
        if not self.trainable and not self.stateful:
            return []
        return [u for u, _ in self._updates]

    def add_update(self, updates: Any, inputs: Any = None) -> None:
        """Record updates; ``inputs`` says which call made them (``None``: unconditional)."""
        key = None if inputs is None else tuple(to_list(inputs))
        self._updates.extend((u, key) for u in to_list(updates))

    def get_updates_for(self, inputs: Any) -> list[Any]:
        """The updates made by the call on ``inputs`` (``None``: the unconditional ones)."""
        if not self.trainable and not self.stateful:
            return []
        key = None if inputs is None else tuple(to_list(inputs))
        return [u for u, k in self._updates if k == key]

    # --- the call -------------------------------------------------------------------

    def build(self, input_shape: Any) -> None:
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        input_list = to_list(inputs)
        for x in input_list:
            if not isinstance(x, Tensor):
                raise TypeError(
                    f"Layer {self.name} was called with an input that isn't a symbolic tensor. "
                    f"Received type: {type(x)}. Full input: {inputs}. All inputs to the layer "
                    "should be tensors. (Layers are called on tensors such as Input(...) or "
                    "another layer's output; arrays go to model.predict.)"
                )
        with K.name_scope(self.name):
            if not self.built:
                self.build(unpack_singleton([K.int_shape(x) for x in input_list]))
                self.built = True
                if self._initial_weights is not None:
                    self.set_weights(self._initial_weights)
            mask = previous_mask(input_list)
            takes_mask = "mask" not in kwargs and call_takes_mask(self)
            output = self.call(inputs, **({**kwargs, "mask": mask} if takes_mask else kwargs))
            output_list = [K.identity(y) if any(y is x for x in input_list) else y
                           for y in to_list(output)]
            output_mask = self.compute_mask(inputs, mask)
        self._stamp_shapes(input_list, output_list)
        uses_learning_phase = any(getattr(x, "_uses_learning_phase", False) for x in input_list)
        for y in output_list:
            y._uses_learning_phase = y._uses_learning_phase or uses_learning_phase
        if all(getattr(x, "_keras_history", None) is not None for x in input_list):
            self._add_inbound_node(input_list, output_list, kwargs, (mask, output_mask))
        return unpack_singleton(output_list) if isinstance(output, (list, tuple)) or len(output_list) == 1 \
            else output_list

    def _stamp_shapes(self, inputs: list[Tensor], outputs: list[Tensor]) -> None:
        """Fill dims the graph could not infer from ``compute_output_shape`` (Keras's ``_keras_shape``).

        A ``Lambda`` that draws random numbers of a run-time shape has an unknown last dim in
        the graph, but ``output_shape=(4,)`` tells the next layer how many weights to build.
        Dims the graph knows win; a shape of another rank is ignored.
        """
        try:
            declared = self.compute_output_shape(unpack_singleton([K.int_shape(x) for x in inputs]))
        except NotImplementedError:  # a layer that cannot say leaves the graph's shapes alone
            return
        except Exception as e:
            e.add_note(f"(raised by {type(self).__name__}.compute_output_shape of layer {self.name}, "
                       "called to stamp its outputs' shapes)")
            raise
        shapes = declared if len(outputs) > 1 else [declared]
        for y, shape in zip(outputs, shapes):
            if not isinstance(shape, (tuple, list)) or len(shape) != len(y.shape):
                continue
            if None in y.shape:
                y._keras_shape = tuple(g if g is not None else d for g, d in zip(y.shape, shape))

    def _add_inbound_node(self, input_tensors: list[Tensor], output_tensors: list[Tensor],
                          arguments: dict[str, Any], masks: tuple[Any, Any] = (None, None)) -> None:
        histories = [x._keras_history for x in input_tensors]
        node = Node(self,
                    inbound_layers=[h[0] for h in histories],
                    node_indices=[h[1] for h in histories],
                    tensor_indices=[h[2] for h in histories],
                    input_tensors=input_tensors,
                    output_tensors=output_tensors,
                    input_shapes=[K.int_shape(x) for x in input_tensors],
                    output_shapes=[K.int_shape(y) for y in output_tensors],
                    arguments=arguments, input_masks=to_list(masks[0]),
                    output_masks=masks_per_output(masks[1], len(output_tensors)))
        self._append_node(node)
        node_index = len(self._inbound_nodes) - 1
        for i, y in enumerate(output_tensors):
            y._keras_history = (self, node_index, i)

    def _append_node(self, node: Node) -> None:
        """Record a call: this layer's inbound node, each input layer's outbound one."""
        self._inbound_nodes.append(node)
        for layer in node.inbound_layers:
            layer._outbound_nodes.append(node)

    # --- what a call recorded ---------------------------------------------------------

    def _node_attr(self, node_index: int, attr: str, what: str) -> Any:
        if not self._inbound_nodes:
            raise RuntimeError(f"The layer has never been called and thus has no defined {what}.")
        if not 0 <= node_index < len(self._inbound_nodes):
            raise ValueError(
                f"Asked to get {what} at node {node_index}, but the layer has only "
                f"{len(self._inbound_nodes)} inbound nodes. Valid node indices: "
                f"{list(range(len(self._inbound_nodes)))}."
            )
        return unpack_singleton(getattr(self._inbound_nodes[node_index], attr))

    def get_input_at(self, node_index: int) -> Any:
        return self._node_attr(node_index, "input_tensors", "input")

    def get_output_at(self, node_index: int) -> Any:
        return self._node_attr(node_index, "output_tensors", "output")

    def get_input_shape_at(self, node_index: int) -> Any:
        return self._node_attr(node_index, "input_shapes", "input shape")

    def get_output_shape_at(self, node_index: int) -> Any:
        return self._node_attr(node_index, "output_shapes", "output shape")

    def _single_node(self, what: str, getter: str) -> None:
        n = len(self._inbound_nodes)
        if n > 1:
            raise AttributeError(
                f'Layer {self.name} has multiple inbound nodes, hence the notion of "layer {what}" '
                f"is ill-defined. Use `{getter}(node_index)` instead. Valid node indices: "
                f"{list(range(n))}."
            )

    @property
    def input(self) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no input to return.")
        self._single_node("input", "get_input_at")
        return self.get_input_at(0)

    @property
    def output(self) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has no inbound nodes.")
        self._single_node("output", "get_output_at")
        return self.get_output_at(0)

    def _shared_shape(self, attr: str, what: str, getter: str) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(f"The layer has never been called and thus has no defined {what}.")
        shapes = {str(getattr(node, attr)) for node in self._inbound_nodes}
        if len(shapes) > 1:
            raise AttributeError(
                f'The layer "{self.name} has multiple inbound nodes, with different {what}s. Hence '
                f'the notion of "{what}" is ill-defined for the layer. Use `{getter}(node_index)` '
                f"instead. Valid node indices: {list(range(len(self._inbound_nodes)))}."
            )
        return unpack_singleton(getattr(self._inbound_nodes[0], attr))

    @property
    def input_shape(self) -> Any:
        return self._shared_shape("input_shapes", "input shape", "get_input_shape_at")

    @property
    def output_shape(self) -> Any:
        return self._shared_shape("output_shapes", "output shape", "get_output_shape_at")

    @property
    def inbound_nodes(self) -> list[Node]:
        return self._inbound_nodes

    @property
    def outbound_nodes(self) -> list[Node]:
        return self._outbound_nodes

    # --- configuration --------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if hasattr(self, "batch_input_shape"):
            config["batch_input_shape"] = self.batch_input_shape
        config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
