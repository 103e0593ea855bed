"""Recurrent layers: ``RNN(cell)`` runs a cell along the time axis with ``K.rnn``;
``SimpleRNN``, ``LSTM`` and ``GRU`` are ``RNN`` with their cell, Keras 2.2's arguments.

The time loop is one ``Loop`` op (its body is the cell's step, built once) or, with
``unroll=True``, the step repeated ``T`` times. ``stateful=True`` keeps the last states in
variables between batches (the batch size must be fixed: ``batch_input_shape``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend as K
from ..engine import Layer, deserialize_layer
from ..graph import Tensor
from .recurrent_cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    _takes_training,
    build_cell,
    layer_entry,
)

Shape = tuple[int | None, ...]
_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")


def _sizes(cell: Any) -> list[int]:
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


class RNN(Layer):
    """Runs ``cell`` over ``(batch, time, features)``; the cell gives ``state_size`` and
    ``call(inputs, states) -> (output, new_states)``.

    Returns the last output ``(batch, units)``, or every step's with ``return_sequences``;
    with ``return_state`` also the final states. Masked steps (``Masking``,
    ``Embedding(mask_zero=True)``) carry the states over.
    """

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 **kwargs: Any) -> None:
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError("`cell` should have a `call` method and a `state_size` attribute. "
                             f"The RNN was passed: {cell}")
        if "input_shape" not in kwargs and ("input_dim" in kwargs or "input_length" in kwargs):
            kwargs["input_shape"] = (kwargs.pop("input_length", None), kwargs.pop("input_dim", None))
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        self.states: list[Any] = [None] * len(_sizes(cell))
        self._num_initial_states = 0

    # --- shapes and weights ---------------------------------------------------------------

    def compute_output_shape(self, input_shape: Any) -> Any:
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        units = _sizes(self.cell)[0]
        output = (input_shape[0], input_shape[1], units) if self.return_sequences else (input_shape[0], units)
        if self.return_state:
            return [output] + [(input_shape[0], size) for size in _sizes(self.cell)]
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        mask = mask[0] if isinstance(mask, list) else mask
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * len(_sizes(self.cell)) if self.return_state else output_mask

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        step_shape = (input_shape[0], *input_shape[2:])
        build_cell(self.cell, step_shape, self.name)
        if self.stateful:
            self.reset_states(batch_size=input_shape[0])
        self.built = True

    @property
    def trainable_weights(self) -> list[Any]:
        return list(self.cell.trainable_weights) if self.trainable and isinstance(self.cell, Layer) else []

    @property
    def non_trainable_weights(self) -> list[Any]:
        if not isinstance(self.cell, Layer):
            return []
        return list(self.cell.non_trainable_weights) if self.trainable else list(self.cell.weights)

    @property
    def losses(self) -> list[Any]:
        return list(self._losses) + (list(self.cell.losses) if isinstance(self.cell, Layer) else [])

    # --- the call -----------------------------------------------------------------------

    def __call__(self, inputs: Any, initial_state: Any = None, **kwargs: Any) -> Any:
        """``initial_state`` tensors become inputs of the layer's node, as in Keras 2.2, so a
        model finds the layers that made them."""
        if initial_state is None:
            self._num_initial_states = 0
            return super().__call__(inputs, **kwargs)
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != len(_sizes(self.cell)):
            raise ValueError(f"Layer {self.name} expects {len(_sizes(self.cell))} states, but it received "
                             f"{len(states)} state values. Input received: {initial_state}")
        self._num_initial_states = len(states)
        return super().__call__([inputs, *states], **kwargs)

    def get_initial_state(self, inputs: Tensor) -> list[Tensor]:
        """Zeros ``(batch, size)`` for each state, the batch read from ``inputs`` at run time."""
        batch_zeros = K.expand_dims(K.zeros_like(inputs[:, 0, 0]), -1)  # (batch, 1)
        return [K.tile(batch_zeros, (1, size)) for size in _sizes(self.cell)]

    def call(self, inputs: Any, mask: Any = None, training: Any = None,
             initial_state: Any = None) -> Any:
        if isinstance(inputs, list):
            inputs, initial_state = inputs[0], inputs[1:] or initial_state
        if isinstance(mask, list):
            mask = mask[0]
        if initial_state is None:
            initial_state = self.states if self.stateful else self.get_initial_state(inputs)
        timesteps = K.int_shape(inputs)[1]
        if self.unroll and timesteps is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined. \n- If using a "
                             "Sequential model, specify the time dimension by passing an `input_shape` or "
                             "`batch_input_shape` argument to your first layer.\n- If using the functional "
                             "API, specify the time dimension by passing a `shape` or `batch_shape` "
                             "argument to your Input layer.")
        cell = self.cell
        if hasattr(cell, "prepare_dropout"):
            cell.prepare_dropout(K.expand_dims(K.ones_like(inputs[:, 0, 0]), -1), training)
        takes_training = _takes_training(cell)

        def step(x_t: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
            if takes_training:
                out, new = cell.call(x_t, states, training=training)
            else:
                out, new = cell.call(x_t, states)
            return out, list(new) if isinstance(new, (list, tuple)) else [new]

        last, outputs, states = K.rnn(step, inputs, list(initial_state), go_backwards=self.go_backwards,
                                      mask=mask, unroll=self.unroll, input_length=timesteps)
        if hasattr(cell, "reset_dropout_mask"):
            cell.reset_dropout_mask()
        if self.stateful:
            self.add_update([K.update(v, s) for v, s in zip(self.states, states)], inputs)
        output = outputs if self.return_sequences else last
        if getattr(cell, "dropout", 0) or getattr(cell, "recurrent_dropout", 0):
            output._uses_learning_phase = True
        return [output, *states] if self.return_state else output

    # --- state ----------------------------------------------------------------------------

    def reset_states(self, states: Any = None, batch_size: int | None = None) -> None:
        """Zero the kept states (or set them to ``states``); only for ``stateful=True``."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        batch = batch_size if batch_size is not None else getattr(self, "_batch_size", None)
        if batch is None:
            raise ValueError("If a RNN is stateful, it needs to know its batch size. Specify the batch "
                             "size of your input tensors: \n- If using a Sequential model, specify the "
                             "batch size by passing a `batch_input_shape` argument to your first layer.\n"
                             "- If using the functional API, specify the batch size by passing a "
                             "`batch_shape` argument to your Input layer.")
        self._batch_size = batch
        values = [np.zeros((batch, size)) for size in _sizes(self.cell)] if states is None else \
            [np.asarray(s) for s in (states if isinstance(states, (list, tuple)) else [states])]
        if self.states[0] is None:
            with K.name_scope(self.name + "/"):
                self.states = [K.variable(v, name=f"state_{i}") for i, v in enumerate(values)]
            return
        for var, value in zip(self.states, values):
            var.set_value(value)

    # --- configuration ----------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        config = {key: getattr(self, key) for key in _RNN_ARGS}
        config["cell"] = layer_entry(self.cell)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RNN:
        config = dict(config)
        cell = deserialize_layer(config.pop("cell"))
        return cls(cell, **config)


class _CellRNN(RNN):
    """An ``RNN`` built around its own cell class, whose arguments it takes and shows."""

    cell_class: type = SimpleRNNCell

    def __init__(self, units: int, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 **kwargs: Any) -> None:
        layer_keys = {"input_shape", "batch_input_shape", "batch_size", "dtype", "name", "trainable",
                      "weights", "input_dim", "input_length"}
        layer_kwargs = {k: v for k, v in kwargs.items() if k in layer_keys}
        cell_kwargs = {k: v for k, v in kwargs.items() if k not in layer_keys}
        # Keras 3's and tf.keras's extra arguments, read from their files and not needed here
        for key in ("activity_regularizer", "zero_output_for_mask", "seed", "use_cudnn", "time_major"):
            cell_kwargs.pop(key, None)
        cell = self.cell_class(units, **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **layer_kwargs)

    def __getattr__(self, name: str) -> Any:
        # units, activation, kernel, dropout, ...: the cell's, as Keras's properties give them
        if name.startswith("_") or name == "cell":
            raise AttributeError(name)
        return getattr(self.cell, name)

    def get_config(self) -> dict[str, Any]:
        config = {**self.cell.get_config(), **super().get_config()}
        for key in ("cell",):
            config.pop(key)
        config["name"] = self.name
        config["trainable"] = self.trainable
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RNN:
        return cls(**config)


class SimpleRNN(_CellRNN):
    """A fully connected RNN: ``h_t = tanh(x_t W + h_{t-1} U + b)``."""

    cell_class = SimpleRNNCell


class LSTM(_CellRNN):
    """Long short-term memory (Hochreiter 1997): states ``[h, c]``."""

    cell_class = LSTMCell


class GRU(_CellRNN):
    """Gated recurrent unit (Cho et al. 2014); ``reset_after=True`` is the CuDNN-compatible form."""

    cell_class = GRUCell
