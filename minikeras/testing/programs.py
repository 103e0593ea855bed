"""Random programs over the public ``K`` API, with a NumPy interpreter of the same program:
the material of a differential fuzzer.

A ``Program`` is a list of steps, each an op of ``program_ops``/``program_shapes`` applied to
earlier nodes. ``program(*placeholders)`` builds it with ``K``; ``program.numpy(*arrays)``
computes every node again in plain NumPy. The ``programs()`` strategy draws the program and
its inputs together, so each op is drawn only where its derivative is defined at the drawn
values: the mistake it prevents is a "bug" that is only a kink the fuzzer stepped on.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from minikeras import backend as K
from minikeras import graph as G

from .program_ops import ELEMENTWISE, LOSSES, REDUCTIONS, OpSpec
from .program_shapes import MAX_SIZE, SHAPE_OPS
from .strategies import arrays, shapes

__all__ = ["OPS", "Program", "programs"]

OPS: dict[str, OpSpec] = {**ELEMENTWISE, **REDUCTIONS, **SHAPE_OPS, **LOSSES}
"""Every op a program may use, by name."""

Step = tuple[str, tuple[int, ...], dict[str, Any]]


class Program:
    """Steps ``(op, argument nodes, params)``; the op ``"input"`` takes the next input.

    Nodes are numbered in order. The output is the one node nothing uses, or, when several
    are unused, the sum of each one weighted by a fixed array (so every element counts).
    """

    def __init__(self, steps: tuple[Step, ...], shapes: tuple[tuple[int, ...], ...]) -> None:
        self.steps = steps
        self.shapes = shapes  # each node's shape, known even when the placeholders' is not

    @property
    def n_inputs(self) -> int:
        return sum(name == "input" for name, _, _ in self.steps)

    @property
    def outputs(self) -> list[int]:
        """Computed nodes nothing uses: they make the output."""
        used = {k for _, args, _ in self.steps for k in args}
        return [k for k, (name, _, _) in enumerate(self.steps) if name != "input" and k not in used]

    def nodes(self, *xs: G.Tensor) -> list[G.Tensor]:
        """Every node, built with ``K`` from the input tensors ``xs``."""
        return self._run(xs, lambda spec: spec.keras)

    def numpy(self, *xs: np.ndarray) -> list[np.ndarray]:
        """Every node, computed in NumPy from the input arrays ``xs``."""
        return [np.asarray(v) for v in self._run(xs, lambda spec: spec.numpy)]

    def __call__(self, *xs: G.Tensor) -> G.Tensor:
        nodes = self.nodes(*xs)
        outs = self.outputs
        if len(outs) == 1:
            return nodes[outs[0]]
        return G.add_n([K.sum(nodes[k] * G.constant(self.weight(k).astype(nodes[k].dtype))) for k in outs])

    def output_numpy(self, *xs: np.ndarray) -> np.ndarray:
        """What ``__call__`` computes, in NumPy."""
        values = self.numpy(*xs)
        outs = self.outputs
        if len(outs) == 1:
            return values[outs[0]]
        return np.asarray(sum(np.sum(values[k] * self.weight(k)) for k in outs))

    def weight(self, k: int) -> np.ndarray:
        """The fixed weights of output node ``k``: distinct, so a permuted gradient shows."""
        shape = self.shapes[k]
        return np.cos(np.arange(math.prod(shape), dtype=np.float64) + k).reshape(shape)

    def _run(self, xs: tuple[Any, ...], pick: Any) -> list[Any]:
        if len(xs) != self.n_inputs:
            raise TypeError(f"this program takes {self.n_inputs} inputs, got {len(xs)}")
        inputs = iter(xs)
        nodes: list[Any] = []
        for name, args, params in self.steps:
            if name == "input":
                nodes.append(next(inputs))
            else:
                nodes.append(pick(OPS[name])(*(nodes[k] for k in args), **params))
        return nodes

    def __repr__(self) -> str:
        lines = []
        for k, (name, args, params) in enumerate(self.steps):
            if name == "input":
                lines.append(f"t{k} = input{params['shape']}")
                continue
            shown = [f"t{a}" for a in args] + [f"{p}={_short(v)}" for p, v in params.items()]
            lines.append(f"t{k} = {name}({', '.join(shown)})")
        return "Program(" + "; ".join(lines) + ")"


def _short(v: Any) -> str:
    return np.array2string(v, separator=",").replace("\n", "") if isinstance(v, np.ndarray) else repr(v)


@st.composite
def programs(draw: st.DrawFn, min_steps: int = 1, max_steps: int = 8, max_inputs: int = 3,
             ops: tuple[str, ...] | None = None, zeros: bool = True,
             bound: float = 50.0) -> tuple[Program, list[np.ndarray]]:
    """``(program, input_arrays)``: a random ``K`` program and inputs where it is smooth.

    Inputs lie in ``[-2, 2]``; with ``zeros=True`` some hold exact zeros, to reach the points
    where the derivative is defined but the code is easy to get wrong (a logit of 0, a
    product with a zero). An op is drawn only where its derivative is defined at these
    values (``OpSpec.safe``), keeps every value finite and below ``bound``, and no node
    exceeds 36 elements. ``ops`` limits the op names used (default: all of ``OPS``).
    """
    names = tuple(OPS) if ops is None else ops
    unknown = [n for n in names if n not in OPS]
    if unknown or not names or not 1 <= min_steps <= max_steps or max_inputs < 1:
        raise InvalidArgument(f"programs: need known ops (not {unknown}), 1 <= min_steps <= max_steps, "
                              "max_inputs >= 1")
    steps: list[Step] = []
    values: list[np.ndarray] = []
    inputs: list[np.ndarray] = []

    def new_input(shape: tuple[int, ...]) -> np.ndarray:
        # Round numbers are hypothesis's favourites and the usual kinks (clip bounds, relu,
        # hinge): kept off them, the ops that need distance from a kink still get drawn.
        v = draw(arrays(shape, -2.0, 2.0, avoid=(-1.0, -0.5, 0.0, 0.5, 1.0), margin=0.01))
        if zeros and draw(st.integers(0, 3)) == 0:
            hits = draw(st.lists(st.booleans(), min_size=v.size, max_size=v.size))
            v.reshape(-1)[np.array(hits, dtype=bool)] = 0.0
        return v

    def commit_input(v: np.ndarray) -> int:
        steps.append(("input", (), {"shape": v.shape}))
        values.append(v)
        inputs.append(v)
        return len(values) - 1

    commit_input(new_input(draw(shapes(0, 3, 1, 3) if draw(st.integers(0, 5)) == 0 else shapes(1, 3, 1, 3))))
    for _ in range(draw(st.integers(min_steps, max_steps))):
        first = len(values) - 1 - draw(st.integers(0, len(values) - 1))  # shrinks to the newest
        # A few uniform picks (on this node, then on any node that fits them), then every op
        # in turn: an op with a narrow domain (sqrt, abs) finds a node where it is defined.
        tries = [draw(st.sampled_from(names)) for _ in range(4)]
        others = [k for k in reversed(range(len(values))) if k != first]
        attempts = [(n, first) for n in tries] + [(n, k) for n in tries for k in others]
        for name, node in attempts + [(n, first) for n in draw(st.permutations(names))]:
            step = _try(draw, OPS[name], node, values, new_input, len(inputs) < max_inputs, bound)
            if step is not None:
                args, params, value, fresh = step
                if fresh is not None:
                    args = (args[0], commit_input(fresh))
                steps.append((name, args, params))
                values.append(value)
                break
    program = Program(tuple(steps), tuple(v.shape for v in values))
    if not program.outputs:
        raise InvalidArgument(f"programs: no op of {names} fits the inputs drawn; allow more ops")
    return program, inputs


def _try(draw: st.DrawFn, spec: OpSpec, first: int, values: list[np.ndarray], new_input: Any,
         may_add_input: bool, bound: float) -> tuple[tuple[int, ...], dict[str, Any], np.ndarray,
                                                     np.ndarray | None] | None:
    """``spec`` applied to node ``first``, if it fits: ``(args, params, value, new input or None)``."""
    planned = spec.plan(draw, values[first])
    if planned is None:
        return None
    params, other = planned
    args: tuple[int, ...] = (first,)
    fresh = None
    operands = [values[first]]
    if spec.arity == 2:
        assert other is not None
        same = [k for k, v in enumerate(values) if v.shape == other]
        if same and (not may_add_input or draw(st.booleans())):
            args += (draw(st.sampled_from(same)),)
            operands.append(values[args[1]])
        elif may_add_input:
            fresh = new_input(other)
            args += (-1,)
            operands.append(fresh)
        else:
            return None
    with np.errstate(all="ignore"):
        value = np.asarray(spec.numpy(*operands, **params), dtype=np.float64)
        small = value.size <= MAX_SIZE and bool(np.all(np.abs(value) <= bound))
        ok = small and spec.safe(*operands, **params)
    return (args, params, value, fresh) if ok else None
