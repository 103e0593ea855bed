"""Recurrent cells: one time step each (``call(inputs, states) -> (output, new_states)``).

``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` and ``StackedRNNCells``, with Keras 2.2's weights
(``kernel``, ``recurrent_kernel``, ``bias``; gates side by side in one matrix, LSTM ``i f c o``,
GRU ``z r h``) and arguments. A student's usual slip: dropout masks are drawn once per batch
and used at every step (Gal & Ghahramani), not redrawn each step; ``RNN`` draws them before
its loop (``prepare_dropout``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations, constraints, initializers, regularizers
from .. import backend as K
from ..engine import Layer
from ..graph import Tensor

Shape = tuple[int | None, ...]


def dropout_masks(ones: Tensor, rate: float, count: int, training: Any = None) -> list[Tensor] | None:
    """``count`` dropout masks shaped like ``ones`` in training, ones at test time (None: no dropout)."""
    if not 0 < rate < 1:
        return None
    return [K.in_train_phase(lambda: K.dropout(ones, rate), ones, training=training) for _ in range(count)]


class _Cell(Layer):
    """What the three cells share: arguments, weights, dropout masks, config."""

    gates = 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.state_size: Any = self.units
        self._dropout_mask: list[Tensor] | None = None
        self._recurrent_dropout_mask: list[Tensor] | None = None

    def build(self, input_shape: Shape) -> None:
        self.input_dim = int(input_shape[-1])  # type: ignore[arg-type]
        width = self.units * self.gates
        self.kernel = self.add_weight("kernel", (self.input_dim, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", self.bias_shape(), initializer=self.bias_init(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def bias_shape(self) -> tuple[int, ...]:
        return (self.units * self.gates,)

    def bias_init(self) -> Any:
        return self.bias_initializer

    def prepare_dropout(self, batch_ones: Tensor, training: Any = None) -> None:
        """Draw the masks for one batch, before the loop: ``batch_ones`` is ``(batch, 1)``."""
        self._dropout_mask = dropout_masks(K.tile(batch_ones, (1, self.input_dim)), self.dropout,
                                           self.gates, training)
        self._recurrent_dropout_mask = dropout_masks(K.tile(batch_ones, (1, self.units)),
                                                     self.recurrent_dropout, self.gates, training)

    def reset_dropout_mask(self) -> None:
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    def masks(self, inputs: Tensor, h_tm1: Tensor, training: Any) -> tuple[list[Any], list[Any]]:
        """The input and recurrent masks (``1.0`` for no dropout), drawn now if not prepared."""
        if self._dropout_mask is None and 0 < self.dropout < 1:
            self._dropout_mask = dropout_masks(K.ones_like(inputs), self.dropout, self.gates, training)
        if self._recurrent_dropout_mask is None and 0 < self.recurrent_dropout < 1:
            self._recurrent_dropout_mask = dropout_masks(K.ones_like(h_tm1), self.recurrent_dropout,
                                                         self.gates, training)
        none = [None] * self.gates
        return self._dropout_mask or none, self._recurrent_dropout_mask or none

    def gate_slices(self, x: Tensor, k: int) -> Tensor:
        return x[:, k * self.units:(k + 1) * self.units]

    def get_config(self) -> dict[str, Any]:
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }
        return {**super().get_config(), **config}


def build_cell(cell: Any, step_shape: Shape, owner: str) -> None:
    """Build ``cell``'s weights named after the layer that runs it (``lstm_1/kernel:0``, as
    Keras 2 names them), not after the cell."""
    if not isinstance(cell, Layer) or cell.built:
        return
    own_name, cell.name = cell.name, owner
    try:
        cell.build(step_shape)
    finally:
        cell.name = own_name
    cell.built = True


def layer_entry(layer: Any) -> dict[str, Any]:
    """A nested layer's ``{"class_name", "config"}``; a built-in one also says its Keras module,
    which Keras 3 needs to find the class of a wrapped layer or a cell."""
    entry = {"class_name": type(layer).__name__, "config": layer.get_config()}
    if type(layer).__module__.startswith("minikeras.layers"):
        entry = {"module": "keras.layers", **entry, "registered_name": None}
    return entry


def _drop(x: Tensor, mask: Tensor | None) -> Tensor:
    return x if mask is None else x * mask


class SimpleRNNCell(_Cell):
    """``h_t = activation(x_t W + h_{t-1} U + b)``; the output is ``h_t``."""

    def call(self, inputs: Tensor, states: list[Tensor],  # type: ignore[override]  # a cell's call
             training: Any = None) -> tuple[Tensor, list[Tensor]]:
        h_tm1 = states[0]
        (dp,), (rec_dp,) = self.masks(inputs, h_tm1, training)
        h = K.dot(_drop(inputs, dp), self.kernel)
        if self.bias is not None:
            h = K.bias_add(h, self.bias)
        output = self.activation(h + K.dot(_drop(h_tm1, rec_dp), self.recurrent_kernel))
        return output, [output]


class _GatedCell(_Cell):
    def __init__(self, units: int, recurrent_activation: Any = "hard_sigmoid", implementation: int = 1,
                 **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.implementation = int(implementation)

    def projections(self, x: Tensor, masks: list[Any], weights: Tensor, bias: Tensor | None) -> list[Tensor]:
        """``x W_k (+ b_k)`` per gate: one product per gate (implementation 1) or one for all (2)."""
        if self.implementation == 2:
            z = K.dot(_drop(x, masks[0]), weights)
            z = z if bias is None else K.bias_add(z, bias)
            return [self.gate_slices(z, k) for k in range(self.gates)]
        out = []
        for k in range(self.gates):
            z = K.dot(_drop(x, masks[k]), self.gate_slices(weights, k))
            out.append(z if bias is None else K.bias_add(z, bias[k * self.units:(k + 1) * self.units]))
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "implementation": self.implementation,
                "recurrent_activation": activations.serialize(self.recurrent_activation)}


class LSTMCell(_GatedCell):
    """Gates ``i f c o``: ``c_t = f c_{t-1} + i tanh(.)``, ``h_t = o tanh(c_t)``; states ``[h, c]``."""

    gates = 4

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = (self.units, self.units)

    def bias_init(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def forget_ones(shape: Any, dtype: Any = None) -> Any:
            parts = [init((units,), dtype=dtype), np.ones(units), init((units * 2,), dtype=dtype)]
            return np.concatenate([K.eval(p) if isinstance(p, Tensor) else np.asarray(p) for p in parts])
        return forget_ones

    def call(self, inputs: Tensor, states: list[Tensor],  # type: ignore[override]  # a cell's call
             training: Any = None) -> tuple[Tensor, list[Tensor]]:
        h_tm1, c_tm1 = states[0], states[1]
        dp, rec_dp = self.masks(inputs, h_tm1, training)
        xi, xf, xc, xo = self.projections(inputs, dp, self.kernel, self.bias)
        hi, hf, hc, ho = self.projections(h_tm1, rec_dp, self.recurrent_kernel, None)
        i = self.recurrent_activation(xi + hi)
        f = self.recurrent_activation(xf + hf)
        c = f * c_tm1 + i * self.activation(xc + hc)
        o = self.recurrent_activation(xo + ho)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_GatedCell):
    """Gates ``z r h``: ``h_t = z h_{t-1} + (1 - z) hh``. With ``reset_after`` the reset gate
    multiplies ``h_{t-1} U_h`` (CuDNN's order) and the bias is ``(2, 3 units)``: input, recurrent."""

    gates = 3

    def __init__(self, units: int, reset_after: bool = False, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def bias_shape(self) -> tuple[int, ...]:
        return (2, self.units * 3) if self.reset_after else (self.units * 3,)

    def call(self, inputs: Tensor, states: list[Tensor],  # type: ignore[override]  # a cell's call
             training: Any = None) -> tuple[Tensor, list[Tensor]]:
        h_tm1 = states[0]
        dp, rec_dp = self.masks(inputs, h_tm1, training)
        in_bias = rec_bias = None
        if self.bias is not None:
            in_bias, rec_bias = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
        xz, xr, xh = self.projections(inputs, dp, self.kernel, in_bias)
        if self.reset_after:
            hz, hr, hh = self.projections(h_tm1, rec_dp, self.recurrent_kernel, rec_bias)
            z = self.recurrent_activation(xz + hz)
            r = self.recurrent_activation(xr + hr)
            candidate = self.activation(xh + r * hh)
        else:
            rec = self.recurrent_kernel
            hz, hr = (K.dot(_drop(h_tm1, rec_dp[k]), self.gate_slices(rec, k)) for k in range(2))
            z = self.recurrent_activation(xz + hz)
            r = self.recurrent_activation(xr + hr)
            candidate = self.activation(xh + K.dot(_drop(r * h_tm1, rec_dp[2]), self.gate_slices(rec, 2)))
        h = z * h_tm1 + (1 - z) * candidate
        return h, [h]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}


class StackedRNNCells(Layer):
    """Several cells as one: each step runs them in order, each feeding the next."""

    def __init__(self, cells: list[Any], **kwargs: Any) -> None:
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError("All cells must have a `call` method and a `state_size` attribute. "
                                 f"received cells: {cells}")
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self) -> tuple[int, ...]:
        sizes: list[int] = []
        for cell in self.cells:
            size = cell.state_size
            sizes += list(size) if isinstance(size, (list, tuple)) else [size]
        return tuple(sizes)

    def build(self, input_shape: Shape) -> None:
        for cell in self.cells:
            build_cell(cell, input_shape, self.name)
            size = cell.state_size
            input_shape = (input_shape[0], size[0] if isinstance(size, (list, tuple)) else size)
        self.built = True

    def prepare_dropout(self, batch_ones: Tensor, training: Any = None) -> None:
        for cell in self.cells:
            if hasattr(cell, "prepare_dropout"):
                cell.prepare_dropout(batch_ones, training)

    def reset_dropout_mask(self) -> None:
        for cell in self.cells:
            if hasattr(cell, "reset_dropout_mask"):
                cell.reset_dropout_mask()

    def call(self, inputs: Tensor, states: list[Tensor],  # type: ignore[override]  # a cell's call
             training: Any = None) -> tuple[Tensor, list[Tensor]]:
        new_states: list[Tensor] = []
        for cell in self.cells:
            n = len(cell.state_size) if isinstance(cell.state_size, (list, tuple)) else 1
            own, states = states[:n], states[n:]
            inputs, out_states = cell.call(inputs, own, training=training) if _takes_training(cell) \
                else cell.call(inputs, own)
            new_states += list(out_states)
        return inputs, new_states

    @property
    def weights(self) -> list[Any]:
        return [w for cell in self.cells if isinstance(cell, Layer) for w in cell.weights]

    @property
    def trainable_weights(self) -> list[Any]:
        return [w for cell in self.cells if isinstance(cell, Layer) for w in cell.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[Any]:
        return [w for cell in self.cells if isinstance(cell, Layer) for w in cell.non_trainable_weights]

    def get_config(self) -> dict[str, Any]:
        cells = [layer_entry(c) for c in self.cells]
        return {**super().get_config(), "cells": cells}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StackedRNNCells:
        from ..engine import deserialize_layer

        config = dict(config)
        cells = [deserialize_layer(c) for c in config.pop("cells")]
        return cls(cells, **config)


def _takes_training(cell: Any) -> bool:
    import inspect

    return "training" in inspect.signature(cell.call).parameters
