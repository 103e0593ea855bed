"""``Model``: a network of layers that can also predict (and, later, train)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend as K
from ..engine import Network


class Model(Network):
    """``Model(inputs, outputs)``: the layers are found from the tensors, not listed.

    ``predict`` runs one compiled ``K.function`` over the data in batches, with the
    learning phase fed as 0 (test): Dropout does nothing, BatchNormalization uses its
    moving statistics.
    """

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None,
                 **kwargs: Any) -> None:
        self._predict_function: K.Function | None = None
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

    def _init_graph_network(self, inputs: Any, outputs: Any) -> None:
        super()._init_graph_network(inputs, outputs)
        self._predict_function = None  # compiled for the old graph

    # --- feeding arrays -------------------------------------------------------------

    def _standardize(self, x: Any, tensors: Sequence[Any], names: Sequence[str],
                     what: str) -> list[np.ndarray]:
        """``x`` as a list of arrays, one per tensor, with shapes checked like Keras does."""
        if isinstance(x, dict):
            missing = [n for n in names if n not in x]
            if missing:
                raise ValueError(f"No data provided for {missing}. Need data for each key in: {list(names)}")
            arrays = [x[n] for n in names]
        else:
            arrays = list(x) if isinstance(x, (list, tuple)) and len(tensors) > 1 else [x]
        if len(arrays) != len(tensors):
            raise ValueError(
                f"Error when checking model {what}: the list of Numpy arrays that you are passing "
                f"to your model is not the size the model expected. Expected to see "
                f"{len(tensors)} array(s) ({', '.join(names)}), but instead got {len(arrays)}."
            )
        out = []
        for t, name, a in zip(tensors, names, arrays):
            a = np.asarray(a)
            shape = K.int_shape(t)
            if a.ndim == len(shape) - 1 and len(shape) == 2 and shape[-1] == 1:
                a = a[:, None]  # Keras accepts (n,) data for a (None, 1) input
            if a.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape[1:], a.shape[1:])):
                raise ValueError(
                    f"Error when checking {what}: expected {name} to have shape {shape[1:]} but got "
                    f"array with shape {a.shape[1:] if a.ndim else a.shape}"
                )
            out.append(a)
        if len({len(a) for a in out}) > 1:
            raise ValueError(
                f"All input arrays (x) should have the same number of samples. Got array shapes: "
                f"{[a.shape for a in out]}"
            )
        return out

    def _make_predict_function(self) -> K.Function:
        if self._predict_function is None:
            inputs = list(self._feed_inputs)
            if self.uses_learning_phase:
                inputs.append(K.learning_phase())
            self._predict_function = K.function(inputs, self.outputs, name="predict_function")
        return self._predict_function

    def _phase(self) -> list[Any]:
        return [0] if self.uses_learning_phase else []

    def predict(self, x: Any, batch_size: int | None = 32, verbose: int = 0,
                steps: int | None = None) -> Any:
        """Outputs for every sample of ``x``, computed ``batch_size`` samples at a time."""
        arrays = self._standardize(x, self._feed_inputs, self.input_names, "input")
        f = self._make_predict_function()
        n = len(arrays[0])
        batch_size = batch_size or 32
        chunks: list[list[np.ndarray]] = [[] for _ in self.outputs]
        for start in range(0, n, batch_size):
            batch = [a[start : start + batch_size] for a in arrays]
            for chunk, out in zip(chunks, f(batch + self._phase())):
                chunk.append(out)
        results = [np.concatenate(c) if c else np.zeros((0,) + tuple(K.int_shape(y)[1:]))
                   for c, y in zip(chunks, self.outputs)]
        return results[0] if len(results) == 1 else results

    def predict_on_batch(self, x: Any) -> Any:
        arrays = self._standardize(x, self._feed_inputs, self.input_names, "input")
        results = self._make_predict_function()(arrays + self._phase())
        return results[0] if len(results) == 1 else results
