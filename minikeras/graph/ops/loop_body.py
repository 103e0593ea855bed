"""A loop's body: the subgraph of one step, built once on per-step placeholders.

A step reads slices of the sequences (``seq_ins``) and the carried values (``carry_ins``)
and makes per-step results (``ys``) and the next carried values (``carry_outs``). Whatever
else its ops read from outside the step (weights, a dropout mask, the learning phase) is a
*capture*: computed once per run by the outer graph and given to every step. The one thing
a student gets wrong: the body is not copied ``T`` times; one plan of it runs ``T`` times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Tensor
from ..topo import topo_sort
from .linalg import MatMul
from .state import AssignOp, Const, Placeholder

__all__: list[str] = []


class Body:
    """The step's graph: its inputs, outputs, captures, and values kept for a gradient.

    ``saved`` lists body tensors whose value at every step the loop keeps (stacked), because
    a gradient loop reads them; it grows when a gradient of the loop is built.
    """

    def __init__(self, seq_ins: Sequence[Tensor], carry_ins: Sequence[Tensor],
                 ys: Sequence[Tensor], carry_outs: Sequence[Tensor]) -> None:
        self.seq_ins, self.carry_ins = list(seq_ins), list(carry_ins)
        self.ys, self.carry_outs = list(ys), list(carry_outs)
        for c_in, c_out in zip(self.carry_ins, self.carry_outs):
            if c_in.dtype != c_out.dtype:
                raise TypeError(f"A loop's step must keep each carried value's dtype: {c_in.name} is "
                                f"{c_in.dtype} but the step returns {c_out.name} of {c_out.dtype}.")
        self.ops, self.captures = self._find_captures()
        made_here = {op for op in self.ops if not op.returns_view and not isinstance(op, (Const, AssignOp))}
        #: per carried value: whether the step makes a new array for it (not a view, not an input)
        self.fresh_carries = [t.op in made_here for t in self.carry_outs]
        #: per capture: whether the step reads it only transposed, as a matrix product's operand
        self.read_transposed = [self._only_transposed(c) for c in self.captures]
        self.saved: list[Tensor] = []
        #: saved values a gradient reads only the shape of: kept as a shape, not copied
        self.shape_only: set[Tensor] = set()
        self._plans: dict[tuple[Tensor, ...], Any] = {}
        self._current: dict[bool, Any] = {}  # the plans for the fetches as they are now

    @property
    def inputs(self) -> list[Tensor]:
        return self.seq_ins + self.carry_ins

    def _find_captures(self) -> tuple[list[Op], list[Tensor]]:
        """The ops of one step (those that read a step input, and their constants) and the
        outside tensors they read, in order of first use."""
        inside = set(self.inputs)
        ops: list[Op] = []
        for op in topo_sort(self.ys + self.carry_outs, stop=self.inputs):
            if any(x in inside for x in op.inputs) or isinstance(op, Const):
                inside.add(op.y)
                ops.append(op)
                if getattr(op, "rng", None) is not None:
                    raise ValueError(
                        f"{op.name} draws random numbers inside a loop's step, which would make the "
                        "loop's runs differ in hidden ways. Draw the random tensor outside the step "
                        "(as Keras's recurrent dropout does with its masks) and use it inside.")
        captured = [x for op in ops for x in op.inputs if x not in inside]
        captured += [t for t in self.ys + self.carry_outs if t not in inside]
        return ops, list(dict.fromkeys(captured))

    def _only_transposed(self, c: Tensor) -> bool:
        """Whether every read of capture ``c`` in the step is a ``MatMul`` reading it transposed
        (``h_{t+1}``'s gradient ``dz U^T`` reads the recurrent kernel so)."""
        reads = [(op, i) for op in self.ops for i, x in enumerate(op.inputs) if x is c]
        return c.ndim == 2 and bool(reads) and c not in self.ys + self.carry_outs and all(
            isinstance(op, MatMul) and (op.transpose_a if i == 0 else op.transpose_b) for op, i in reads)

    def fetches(self) -> list[Tensor]:
        return self.ys + self.carry_outs + self.saved

    def save(self, t: Tensor, shape_only: bool = False) -> int:
        """Keep ``t``'s value (or, if only its shape is read, its shape) at every step, once;
        its index in ``saved``. A value asked for once makes ``t`` fully kept from then on."""
        self._current.clear()
        if t not in self.saved:
            self.saved.append(t)
            if shape_only:
                self.shape_only.add(t)
        elif not shape_only:
            self.shape_only.discard(t)
        return self.saved.index(t)

    def plan(self, shapes: bool = True) -> Any:
        """The plan of one step for the current fetches, made once per set of fetches. Without
        ``shapes``, the values kept only for their shape are not fetched: the plan lets them go
        (and may write a later result into one of their arrays)."""
        found = self._current.get(shapes)
        if found is None:
            from ..plan import Plan  # the plan module imports the ops package: reached at call time

            outs = self.ys + self.carry_outs
            key = tuple(t for t in self.fetches() if shapes or t not in self.shape_only or t in outs)
            if key not in self._plans:
                self._plans[key] = Plan(list(key), feeds=self.inputs + self.captures)
            found = self._current[shapes] = self._plans[key]
        return found


def step_placeholder(like: Tensor, name: str, per_step: bool = True) -> Tensor:
    """A placeholder for one step's slice of ``like`` (its first axis dropped when ``per_step``)."""
    shape = like.shape[1:] if per_step else like.shape
    return Placeholder.apply(name=name, shape=tuple(shape), dtype=like.dtype)


def as_value(a: Any) -> Any:
    """A 0-d array as a NumPy scalar, as a plan's own feeds travel."""
    return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a
