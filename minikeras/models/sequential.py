"""``Sequential``: a model built by stacking layers, each called on the last one's output."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import optimizers
from ..engine import Input, InputLayer, Layer, deserialize_layer
from ..engine.trainable import TrainableMixin
from .model import Model

#: What mapping the network sets (``Network._init_graph_network``).
_MAPPED = ("_network_nodes", "_nodes_by_depth", "_layers_by_depth", "_layers", "_input_layers",
           "_output_layers", "input_names", "output_names", "_feed_inputs", "_inbound_nodes")


class Sequential(Model):
    """A linear stack of layers. Its input is made for you from the first layer's
    ``input_shape`` (named ``<first layer>_input``); without one, the model is built
    when it first sees data (or ``build(input_shape)``).
    """

    def __init__(self, layers: list[Layer] | None = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self._stack: list[Layer] = []  # the layers added, InputLayer included
        self._deferred_compile: tuple[Any, ...] | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        """The added layers, without the implicit InputLayer."""
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Found: {layer}")
        TrainableMixin.changes += 1  # the weights to train change: Keras 2 warns if compiled
        if not self._stack and not isinstance(layer, InputLayer):
            batch_shape = getattr(layer, "batch_input_shape", None)
            if batch_shape is None and isinstance(layer, Model) and layer.inputs:
                batch_shape = tuple(layer.inputs[0].shape)
            self._stack.append(layer)
            if batch_shape is not None:
                self._connect(Input(batch_shape=batch_shape, dtype=layer.dtype, name=layer.name + "_input"))
            return
        self._stack.append(layer)
        if isinstance(layer, InputLayer):
            if len(self._stack) > 1:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model.")
            self._connect(layer._inbound_nodes[0].output_tensors[0])
        elif self.outputs:
            self._append_to_graph(layer)

    def _connect(self, x: Any) -> None:
        """Call every stacked layer in turn, starting from the input tensor ``x``."""
        self.inputs, self.outputs = [x], [x]
        for layer in self._stack:
            if not isinstance(layer, InputLayer):
                self._append_to_graph(layer, rebuild=False)
        self._init_graph_network(self.inputs, self.outputs)

    def _append_to_graph(self, layer: Layer, rebuild: bool = True) -> None:
        y = layer(self.outputs[0])
        if isinstance(y, list):
            raise ValueError(
                "All layers in a Sequential model should have a single output tensor. For "
                "multi-output layers, use the functional API."
            )
        self.outputs = [y]
        if rebuild:
            self._forget_mapping()

    def _forget_mapping(self) -> None:
        """Drop what ``_init_graph_network`` found; ``__getattr__`` finds it again when asked.
        Mapping the network once per ``add`` would make stacking n layers cost n**2."""
        for name in _MAPPED:
            self.__dict__.pop(name, None)
        self._predict_function = None

    def __getattr__(self, name: str) -> Any:
        # Called only for attributes not set: the network's mapping, forgotten by ``add``.
        if name in _MAPPED and self.__dict__.get("outputs"):
            self._init_graph_network(self.inputs, self.outputs)
            return self.__dict__[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def pop(self) -> None:
        """Remove the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        self._stack.pop()
        TrainableMixin.changes += 1
        if not self.layers:
            self.outputs, self._layers, self._predict_function = [], [], None
            return
        if self.inputs:
            last = self._stack[-1]
            last._outbound_nodes = []
            self.outputs = [last._inbound_nodes[-1].output_tensors[0]]
            self._init_graph_network(self.inputs, self.outputs)

    def build(self, input_shape: Any = None) -> None:
        """Create the input from ``input_shape`` (batch included) if the model has none."""
        if not self.inputs:
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
            self._connect(Input(batch_shape=tuple(input_shape), name=self._stack[0].name + "_input"))
        self.built = True

    def _ensure_built(self, x: Any) -> None:
        if not self.inputs and self._stack:
            if isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], np.ndarray):
                x = x[0]  # predict([x]): a list holding the one input array
            self.build((None,) + np.shape(x)[1:])

    def predict(self, x: Any, batch_size: int | None = 32, verbose: int = 0,
                steps: int | None = None) -> Any:
        self._ensure_built(x)
        return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps)

    def predict_on_batch(self, x: Any) -> Any:
        self._ensure_built(x)
        return super().predict_on_batch(x)

    # --- built lazily: compile waits for the first data (Keras 2.2.3's deferred build) ---

    def compile(self, optimizer: Any, loss: Any = None, metrics: Any = None, loss_weights: Any = None,
                sample_weight_mode: Any = None, **kwargs: Any) -> None:
        """Compile now, or at the first ``fit``/``evaluate`` when the input shape is still unknown."""
        kwargs.update(loss_weights=loss_weights, sample_weight_mode=sample_weight_mode)
        if not self.inputs and self._stack:
            self._deferred_compile = (optimizer, loss, metrics, kwargs)
            self.optimizer = optimizers.get(optimizer)
            return
        self._deferred_compile = None
        super().compile(optimizer, loss, metrics, **kwargs)

    def _build_for(self, x: Any) -> None:
        if self.inputs and self._deferred_compile is None:
            return  # the usual call: built and compiled
        self._ensure_built(x)
        deferred = self._deferred_compile
        if deferred is not None:
            _, loss, metrics, kwargs = deferred
            self.compile(self.optimizer, loss, metrics, **kwargs)

    def fit(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._build_for(x)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._build_for(x)
        return super().evaluate(x, y, *args, **kwargs)

    def train_on_batch(self, x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        self._build_for(x)
        return super().train_on_batch(x, y, *args, **kwargs)

    def test_on_batch(self, x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        self._build_for(x)
        return super().test_on_batch(x, y, *args, **kwargs)

    # --- Keras 2's Sequential-only predictions ---------------------------------------

    def predict_proba(self, x: Any, batch_size: int = 32, verbose: int = 0) -> Any:
        """``predict``, with a warning if the outputs are not probabilities (Keras's check)."""
        preds = self.predict(x, batch_size=batch_size, verbose=verbose)
        if preds.min() < 0.0 or preds.max() > 1.0:
            warnings.warn("Network returning invalid probability values. The last layer might not "
                          "normalize predictions into probabilities (like softmax or sigmoid would).",
                          stacklevel=2)
        return preds

    def predict_classes(self, x: Any, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        """Class ids: the argmax of a softmax, or ``output > 0.5`` for one sigmoid unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def summary(self, line_length: int | None = None, positions: Any = None, print_fn: Any = None) -> None:
        if not self.inputs:
            raise ValueError(
                "This model has not yet been built. Build the model first by calling build() or "
                "calling fit() with some data. Or specify input_shape or batch_input_shape in the "
                "first layer for automatic build. "
            )
        super().summary(line_length, positions, print_fn)

    def get_config(self) -> dict[str, Any]:
        """The layers in order; an explicit InputLayer first once the input is known."""
        layers = list(self._stack)
        if self.inputs and not isinstance(layers[0], InputLayer):
            layers.insert(0, self.inputs[0]._keras_history[0])
        return {"name": self.name,
                "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                           for layer in layers]}

    @classmethod
    def from_config(cls, config: Any, custom_objects: dict[str, Any] | None = None) -> Sequential:
        if isinstance(config, list):  # very old Keras stored just the list
            config = {"layers": config}
        model = cls(name=config.get("name"))
        for data in config["layers"]:
            model.add(deserialize_layer(data, custom_objects))
        return model
