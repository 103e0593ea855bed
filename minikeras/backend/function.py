"""``K.function``: compile a graph once, then call it with a list of arrays, many times.

``f = K.function([x, K.learning_phase()], [y], updates=[(v, v + 1)])`` compiles a plan
that computes ``y`` from the values fed for ``x`` (and the phase); ``f([x_value, 0])``
returns ``[y_value]`` and *then* sets ``v`` to its old value plus one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import graph as G

_KWARGS = ("name", "feed_dict", "fetches")
_NO_EXTRA: frozenset[Any] = frozenset()  # the usual call: no feed_dict beyond the inputs


def _require_list(value: Any, sentence: str, example: str) -> None:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{sentence} Received: {_describe(value)}. Wrap it in a list: {example}.")


def _describe(value: Any) -> str:
    if isinstance(value, G.Tensor):
        return f"the tensor {value.name}"
    return f"a {type(value).__module__}.{type(value).__qualname__}"


class Function:
    """A compiled call: ``inputs`` fed by position, ``outputs`` returned, ``updates`` applied.

    The one thing students get wrong: it takes *one list* of values, ``f([x])``, not
    ``f(x)``, and returns a list, even for a single output.
    """

    def __init__(self, inputs: Sequence[G.Tensor], outputs: Sequence[G.Tensor],
                 updates: Sequence[Any] | None = None, name: str | None = None,
                 **session_kwargs: Any) -> None:
        updates = [] if updates is None else updates
        _require_list(inputs, "`inputs` to a minikeras backend function should be a list or tuple.",
                      "K.function([x], [y])")
        _require_list(outputs, "`outputs` of a minikeras backend function should be a list or tuple.",
                      "K.function([x], [y])")
        _require_list(updates, "`updates` in a minikeras backend function should be a list or tuple.",
                      "K.function([x], [y], updates=[(v, v + 1)])")
        for key in session_kwargs:
            if key not in _KWARGS:
                raise ValueError(f'Invalid argument "{key}" passed to K.function with minikeras backend')
        self.inputs = [_check_tensor(t, f"inputs[{i}]", "the placeholder (e.g. model.input)")
                       for i, t in enumerate(inputs)]
        self.outputs = [_check_tensor(t, f"outputs[{i}]", "a tensor such as layer.output")
                        for i, t in enumerate(outputs)]
        feed_dict = session_kwargs.get("feed_dict")
        self.feed_dict: dict[G.Tensor, Any] = {} if feed_dict is None else feed_dict
        fetches = session_kwargs.get("fetches", [])
        self.fetches = list(fetches) if isinstance(fetches, (list, tuple)) else [fetches]
        self.updates = list(updates)
        self.name = name
        #: Set to True to keep every intermediate value of each call in ``last_values``
        #: (what ``viz.plot_graph(f, show_values=True)`` draws).
        self.record_values = False
        self.last_values: dict[G.Tensor, Any] = {}
        self._plans: dict[frozenset[G.Tensor], G.Plan] = {}
        self.plan = self._plan_for(frozenset(self.feed_dict))

    def _plan_for(self, extra: frozenset[G.Tensor]) -> G.Plan:
        """The compiled plan; a new one only if ``feed_dict`` gained or lost keys."""
        plan = self._plans.get(extra)
        if plan is None:
            feeds = self.inputs + [t for t in self.feed_dict if t not in self.inputs]
            plan = G.Plan(self.outputs + self.fetches, self.updates, feeds=feeds)
            self._plans[extra] = plan
        return plan

    def __call__(self, inputs: Sequence[Any]) -> list[np.ndarray]:
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(
                f"`inputs` should be a list or tuple. Received: {_describe(inputs)}. Call the "
                "function with one list of values, one per input: f([x]), not f(x)."
            )
        if len(inputs) > len(self.inputs):
            raise ValueError(
                f"This function takes {len(self.inputs)} inputs ({_names(self.inputs)}) but was "
                f"called with {len(inputs)} values."
            )
        feed = dict(self.feed_dict)
        for i, (t, value) in enumerate(zip(self.inputs, inputs)):
            if value is not None:
                feed[t] = value if type(value) is np.ndarray else _as_feed(t, value)
            elif not _has_default(t):
                raise ValueError(
                    f"inputs[{i}] ({t.name}) was given None, which means 'use the default', "
                    "but it has no default value. Give it an array."
                )
        missing = [t for t in self.inputs[len(inputs):] if not _has_default(t)]
        if missing:
            raise ValueError(
                f"This function takes {len(self.inputs)} inputs but was called with "
                f"{len(inputs)} values; no value for {_names(missing)}. Only trailing inputs with "
                "a default (such as the learning phase) may be left out."
            )
        plan = self._plan_for(frozenset(self.feed_dict) if self.feed_dict else _NO_EXTRA)
        values = plan.run(feed, record=self.record_values)
        if self.record_values:
            self.last_values = plan.last_values
        return [np.asarray(v) for v in values[: len(self.outputs)]]

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return (f"<Function{name}: [{_names(self.inputs)}] -> [{_names(self.outputs)}], "
                f"{len(self.plan.updates)} updates>")


def function(inputs: Sequence[G.Tensor], outputs: Sequence[G.Tensor],
             updates: Sequence[Any] | None = None, **kwargs: Any) -> Function:
    """Instantiate a ``Function``; only ``name``, ``feed_dict`` and ``fetches`` are accepted."""
    for key in kwargs:
        if key not in _KWARGS:
            raise ValueError(f'Invalid argument "{key}" passed to K.function with minikeras backend')
    return Function(inputs, outputs, updates=updates, **kwargs)


def _check_tensor(t: Any, where: str, hint: str) -> G.Tensor:
    if not isinstance(t, G.Tensor):
        extra = ""
        if hasattr(t, "output") and hasattr(t, "get_weights"):
            extra = " It looks like a layer or a model: use its .output (or .input)."
        raise TypeError(
            f"K.function {where} must be a tensor, {hint}; got {_describe(t)}.{extra} "
            "Arrays are given when the function is called, not when it is built."
        )
    return t


def _names(ts: Sequence[G.Tensor]) -> str:
    return ", ".join(t.name for t in ts)


def _has_default(t: G.Tensor) -> bool:
    return isinstance(t.op, G.ops.state.PlaceholderWithDefault) or isinstance(t, G.Variable)


def _as_feed(t: G.Tensor, value: Any) -> Any:
    """A sparse matrix (anything with ``tocoo``) becomes a dense array; the rest goes as is."""
    if type(value) is not np.ndarray and hasattr(value, "tocoo"):
        coo = value.tocoo()
        dense = np.zeros(coo.shape, dtype=t.dtype)
        np.add.at(dense, (coo.row, coo.col), coo.data)
        return dense
    return value
