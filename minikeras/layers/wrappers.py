"""Wrappers: ``TimeDistributed`` (a layer at every time step) and ``Bidirectional`` (an RNN
run both ways, merged). The wrapped layers' weights belong to the wrapper, named under it
(``time_distributed_1/kernel:0``, ``bidirectional_1/forward_lstm_1/kernel:0``)."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..engine import Layer, deserialize_layer
from ..engine.masking import call_takes_mask
from ..graph import Tensor
from .recurrent_cells import _takes_training, build_cell, layer_entry

Shape = tuple[int | None, ...]


class Wrapper(Layer):
    """A layer around another: its weights are the inner layer's."""

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layer = layer

    @property
    def trainable_weights(self) -> list[Any]:
        return self.layer.trainable_weights if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Any]:
        return self.layer.non_trainable_weights if self.trainable else self.layer.weights

    @property
    def losses(self) -> list[Any]:
        return self.layer.losses

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": layer_entry(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)


class TimeDistributed(Wrapper):
    """Apply ``layer`` to every time step of ``(batch, time, ...)`` with the same weights.

    Time folded into the batch (one call of the layer) when the time length is known; a
    ``map_fn`` loop over the steps when it is not."""

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape ` with at least "
                             f"3 dimensions, received: {input_shape}")
        build_cell(self.layer, (input_shape[0], *input_shape[2:]), self.name)
        self.built = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        inner = self.layer.compute_output_shape((input_shape[0], *input_shape[2:]))
        return (inner[0], input_shape[1], *inner[1:])

    def call(self, inputs: Tensor, training: Any = None, mask: Any = None) -> Tensor:
        kwargs = {"training": training} if _takes_training(self.layer) else {}
        shape = K.int_shape(inputs)
        if shape[1] is None:
            steps = K.permute_dimensions(inputs, (1, 0, *range(2, len(shape))))
            out = K.map_fn(lambda x: self.layer.call(x, **kwargs), steps)
            return K.permute_dimensions(out, (1, 0, *range(2, K.ndim(out))))
        folded = K.reshape(inputs, (-1, *shape[2:]))
        y = self.layer.call(folded, **kwargs)
        return K.reshape(y, (-1, shape[1], *K.int_shape(y)[1:]))


_MERGE_MODES = ("sum", "mul", "concat", "ave", None)


class Bidirectional(Wrapper):
    """An RNN over the sequence forwards and a copy of it backwards; outputs merged by
    ``merge_mode`` (``concat``, ``sum``, ``mul``, ``ave``, or ``None`` for both as a list).

    The backward layer's outputs are turned back to forward time before merging, so step
    ``t`` of the result sees the whole sequence."""

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", weights: Any = None,
                 **kwargs: Any) -> None:
        if merge_mode not in _MERGE_MODES:
            raise ValueError("Invalid merge mode. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        super().__init__(layer, **kwargs)
        config = layer.get_config()
        self.forward_layer = type(layer).from_config({**config, "name": "forward_" + layer.name})
        backwards = not getattr(layer, "go_backwards", False)
        self.backward_layer = type(layer).from_config({**config, "name": "backward_" + layer.name,
                                                       "go_backwards": backwards})
        self.merge_mode = merge_mode
        self._bidi_weights = weights
        self.return_sequences = getattr(layer, "return_sequences", False)
        self.return_state = getattr(layer, "return_state", False)
        self.supports_masking = True

    @property
    def trainable_weights(self) -> list[Any]:
        if not self.trainable:
            return []
        return self.forward_layer.trainable_weights + self.backward_layer.trainable_weights

    @property
    def non_trainable_weights(self) -> list[Any]:
        if not self.trainable:
            return self.forward_layer.weights + self.backward_layer.weights
        return self.forward_layer.non_trainable_weights + self.backward_layer.non_trainable_weights

    def build(self, input_shape: Any) -> None:
        for sub in (self.forward_layer, self.backward_layer):
            build_cell(sub, input_shape, f"{self.name}/{sub.name}")
        self.built = True
        if self._bidi_weights is not None:
            self.set_weights(self._bidi_weights)
            self._bidi_weights = None

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], shape[1:]
        if self.merge_mode == "concat":
            shape = (*shape[:-1], shape[-1] * 2)
        outputs = [shape, shape] if self.merge_mode is None else [shape]
        return outputs + states * 2 if self.return_state else (outputs if self.merge_mode is None else shape)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        output_mask = mask if self.return_sequences else None
        n_out = 2 if self.merge_mode is None else 1
        if self.return_state:
            n_states = 2 * len(getattr(self.forward_layer, "states", []))
            return [output_mask] * n_out + [None] * n_states
        return [output_mask] * n_out if n_out == 2 else output_mask

    def call(self, inputs: Tensor, mask: Any = None, training: Any = None) -> Any:
        kwargs: dict[str, Any] = {"training": training}
        if call_takes_mask(self.forward_layer):
            kwargs["mask"] = mask
        y = self.forward_layer.call(inputs, **kwargs)
        y_rev = self.backward_layer.call(inputs, **kwargs)
        states: list[Tensor] = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        merged = self._merge(y, y_rev)
        return merged + states if self.return_state else (merged if self.merge_mode is None else merged[0])

    def _merge(self, y: Tensor, y_rev: Tensor) -> list[Tensor]:
        if self.merge_mode == "concat":
            return [K.concatenate([y, y_rev])]
        if self.merge_mode == "sum":
            return [y + y_rev]
        if self.merge_mode == "ave":
            return [(y + y_rev) / 2]
        if self.merge_mode == "mul":
            return [y * y_rev]
        return [y, y_rev]

    def reset_states(self) -> None:
        self.forward_layer.reset_states()  # type: ignore[attr-defined]
        self.backward_layer.reset_states()  # type: ignore[attr-defined]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "merge_mode": self.merge_mode}
