"""Reverse mode as a graph transformation: ``gradients(ys, xs)`` builds *new ops*.

Walk the ops between ``xs`` and ``ys`` from the outputs back, ask each for the gradients
of its inputs (``op.backward(gy)``), and add up what arrives at a tensor by several paths.
The result is ordinary tensors: fetch them, draw them, or differentiate them again.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import Any

import numpy as np

from .graph import get_default_graph
from .ops.math import add_n, ones_like
from .ops.state import constant
from .tensor import Tensor
from .topo import topo_sort


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def gradients(ys: Tensor | Sequence[Tensor], xs: Tensor | Sequence[Tensor],
              grad_ys: Any = None, stop_gradients: Sequence[Tensor] = ()) -> list[Tensor | None]:
    """Symbolic ``d(sum of ys)/d(x)`` for each ``x`` in ``xs``; ``None`` if ``x`` is unconnected.

    ``grad_ys`` (one per ``y``) seeds the walk; by default ones, so a non-scalar ``y`` is
    differentiated as ``sum(y)``. New ops go under the ``gradients`` name scope, named
    after the op they differentiate (``gradients/dense_1/MatMul_grad/MatMul``).
    ``stop_gradients`` (TF's argument) are held constant: nothing flows through them.
    """
    enabled = gc.isenabled()
    gc.disable()  # every new op is kept: a collection would only walk the whole graph again
    try:
        return _gradients(ys, xs, grad_ys, stop_gradients)
    finally:
        if enabled:
            gc.enable()


def _gradients(ys: Tensor | Sequence[Tensor], xs: Tensor | Sequence[Tensor], grad_ys: Any,
               stop_gradients: Sequence[Tensor]) -> list[Tensor | None]:
    """The walk itself (``gradients`` runs it with the garbage collector paused)."""
    ys, xs = _as_list(ys), _as_list(xs)
    seeds = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(seeds) != len(ys):
        raise ValueError(f"gradients: {len(ys)} ys but {len(seeds)} grad_ys")
    for t in list(ys) + list(xs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradients expects Tensors, got {type(t).__name__}: {t!r}")

    order = topo_sort(ys, stop=stop_gradients)
    # Tensors that depend on some x: only they carry gradients back to the xs.
    reach = set(xs)
    for op in order:
        if any(t in reach for t in op.inputs):
            reach.update(op.outputs)

    grads: dict[Tensor, list[Tensor]] = {}
    with get_default_graph().name_scope("gradients"):
        for y, gy in zip(ys, seeds):
            if y in reach and np.dtype(y.dtype).kind == "f":
                grads.setdefault(y, []).append(_seed(y) if gy is None else _given_seed(y, gy))
        for op in reversed(order):
            y = op.outputs[0]
            if y not in grads or not op.differentiable or not op.inputs:
                continue
            gy = add_n(grads[y])
            grads[y] = [gy]
            backward: Any = op.backward  # a loop's also takes which inputs' gradients are wanted
            with get_default_graph().name_scope(f"{op.name}_grad"):
                gxs = backward(gy, wanted=[x in reach for x in op.inputs]) if op.backward_takes_wanted \
                    else backward(gy)
            for x, gx in zip(op.inputs, gxs):
                if gx is not None and x in reach and np.dtype(x.dtype).kind == "f":
                    grads.setdefault(x, []).append(gx)
        out = [add_n(grads[x]) if x in grads else None for x in xs]
    return out


def _given_seed(y: Tensor, gy: Any) -> Tensor:
    """A ``grad_ys`` entry as a tensor of ``y``'s dtype, checked against ``y``'s shape."""
    g = gy if isinstance(gy, Tensor) else constant(np.asarray(gy), dtype=y.dtype)
    if len(g.shape) != len(y.shape) or any(
        a is not None and b is not None and a != b for a, b in zip(g.shape, y.shape)
    ):
        raise ValueError(f"grad_ys for {y.name} has shape {g.shape}, but {y.name} has shape {y.shape}")
    return g


def _seed(y: Tensor) -> Tensor:
    """Ones shaped like ``y``: a constant when ``y``'s shape is known."""
    if None in y.shape:
        return ones_like(y)
    return constant(np.ones(y.shape, dtype=y.dtype), name="grad_ys")
