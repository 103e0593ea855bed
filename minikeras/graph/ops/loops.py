"""Loops in a graph: one ``Loop`` op whose body is a subgraph built once, run once per step.

``loop(step, sequences, initial)`` builds ``step`` once on placeholders for one slice of
each sequence and for the carried values, and returns a ``Loop`` op. Running it runs the
body's plan ``T`` times (``T`` is the sequences' first axis, known only at run time), and
stacks what each step returns. Its value is a tuple (``Parts``): the stacked per-step results,
the final carried values, and whatever a gradient asked it to keep; ``LoopOutput`` picks one.

The gradient of a loop is a loop too (``loop_grad.py``): the body's symbolic gradient, run
backwards through time (BPTT). As in Theano's ``scan`` and TF1's ``while_loop``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Shape, Tensor
from .loop_body import Body, as_value, step_placeholder
from .state import FLOATX, as_tensor

__all__ = ["loop", "loop_output"]


class Parts(tuple):  # type: ignore[type-arg]
    """A loop's value (or a gradient arriving at one): one array per part, ``None`` = zeros.

    Two gradients of a loop add up part by part, which is how ``AddN`` meets them."""

    def __add__(self, other: Any) -> Parts:
        n = max(len(self), len(other))
        a = list(self) + [None] * (n - len(self))
        b = list(other) + [None] * (n - len(other))
        return Parts(x if y is None else y if x is None else x + y for x, y in zip(a, b))


class Loop(Op):
    """Run ``body`` for each step of the sequences (first axis), carrying values along.

    Inputs: the sequences, the initial carried values, then the body's captures. With
    ``reverse`` the steps run from the last to the first; results stay at their step's index.
    """

    body: Body
    reverse: bool = False

    def infer(self, *xs: Tensor) -> tuple[Shape, str]:
        b = self.body
        counts = (len(b.seq_ins), len(b.carry_ins), len(b.captures))
        if len(xs) != sum(counts) or not b.seq_ins:
            raise ValueError(f"A loop needs at least one sequence and takes its sequences, initial "
                             f"values and captures, {counts}; got {len(xs)} inputs.")
        return (), FLOATX  # a tuple of arrays travels in one slot; LoopOutput picks a part

    def spec(self, k: int) -> tuple[Shape, str]:
        """The static shape and dtype of part ``k``: stacked results, final carries, saved."""
        b = self.body
        steps = self.inputs[0].shape[:1]
        ny, nc = len(b.ys), len(b.carry_ins)
        if k < ny:
            return steps + b.ys[k].shape, b.ys[k].dtype
        if k < ny + nc:
            init = self.inputs[len(b.seq_ins) + k - ny]
            return init.shape, init.dtype
        saved = b.saved[k - ny - nc]
        return steps + saved.shape, saved.dtype

    def forward(self, *xs: Any) -> Parts:
        return self.run(xs, compiled=False)

    def kernel(self) -> Callable[..., Any]:
        return lambda *xs: self.run(xs, compiled=True)

    def run(self, xs: Sequence[Any], compiled: bool) -> Parts:
        """Every step, by the body plan's compiled function or by its reference loop."""
        b = self.body
        ns, nc, ny = len(b.seq_ins), len(b.carry_ins), len(b.ys)
        seqs, carry = xs[:ns], [as_value(c) for c in xs[ns:ns + nc]]
        steps = _length(self, seqs)
        plan, feed_slots, fetch_slots = b.plan()
        run = plan.compiled.run if compiled else plan.execute
        base = plan.template.copy()  # the captures are the same at every step: filled once
        for s, c in zip(feed_slots[ns + nc:], xs[ns + nc:]):
            base[s] = as_value(c)
        seq_slots, carry_slots = feed_slots[:ns], feed_slots[ns:ns + nc]
        kept = b.ys + b.saved
        stacks: list[np.ndarray | None] = [None] * len(kept)  # found at the first step: shapes known
        reuse = self._buffers()
        for t in range(steps - 1, -1, -1) if self.reverse else range(steps):
            vals = base.copy()
            for s, x in zip(seq_slots, seqs):
                vals[s] = x[t]  # a view (or, from a vector, a NumPy scalar)
            for s, v in zip(carry_slots, carry):
                vals[s] = v
            run(vals)
            out = [vals[s] for s in fetch_slots]
            carry = out[ny:ny + nc]
            for i, v in enumerate(out[:ny] + out[ny + nc:]):
                stack = stacks[i]
                if stack is None or stack.shape[1:] != np.shape(v):
                    shape_only = kept[i] in b.shape_only
                    stack = stacks[i] = _buffer(reuse, i, (steps, *np.shape(v)), kept[i].dtype, shape_only)
                if stack.flags.writeable:
                    stack[t] = v
        finals = [np.array(c, dtype=t.dtype) for c, t in zip(carry, b.carry_ins)]
        return Parts([*stacks[:ny], *finals, *stacks[ny:]])

    def _buffers(self) -> dict[int, np.ndarray]:
        """This thread's stacks of the last run, written over by the next: every step writes
        its slot before anything reads it, so no value survives from one run to the next, and a
        plan copies a loop's results before handing them out. Fresh multi-MB arrays each run
        would cost thousands of page faults (PERFORMANCE.md)."""
        local = self.__dict__.setdefault("_local", threading.local())
        if not hasattr(local, "stacks"):
            local.stacks = {}
        return local.stacks  # type: ignore[no-any-return]

    backward_takes_wanted = True

    def backward(self, gy: Tensor, wanted: list[bool] | None = None) -> list[Tensor | None]:
        """A gradient loop computing the gradients of the ``wanted`` inputs (default: all)."""
        from .loop_grad import loop_gradient  # builds a loop from this one: reached at call time

        return loop_gradient(self, gy, wanted)


def _buffer(reuse: dict[int, np.ndarray], i: int, shape: tuple[int, ...], dtype: str,
            shape_only: bool) -> np.ndarray:
    """A stack for part ``i``; for a value only the shape of which is read, a read-only array
    of that shape with no memory of its own (zeros, never written)."""
    if shape_only:
        return np.broadcast_to(np.zeros((), dtype), shape)
    old = reuse.get(i)
    if old is None or old.shape != shape or old.dtype != np.dtype(dtype):
        old = reuse[i] = np.empty(shape, dtype)
    return old


def _length(op: Loop, seqs: Sequence[Any]) -> int:
    lengths = {len(x) for x in seqs}
    if len(lengths) != 1:
        names = ", ".join(f"{x.name}: {len(v)}" for x, v in zip(op.inputs, seqs))
        raise ValueError(f"{op.name}: the sequences of a loop must have the same number of steps "
                         f"(first axis); got {names}.")
    (steps,) = lengths
    if steps == 0:
        raise ValueError(f"{op.name}: a loop needs at least one step; its sequences have length 0.")
    return steps


class LoopOutput(Op):
    """Part ``index`` of a loop's value: a stacked result, a final carried value, a saved one."""

    returns_view = True
    index: int

    def infer(self, parts: Tensor) -> tuple[Shape, str]:
        if not isinstance(parts.op, Loop):
            raise TypeError(f"LoopOutput reads a Loop op's value, not {parts.name}")
        return parts.op.spec(self.index)

    def forward(self, parts: Parts) -> Any:
        return parts[self.index]

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [TupleCotangent.apply(gy, index=self.index)]


def loop_output(parts: Tensor, index: int) -> Tensor:
    """Part ``index`` of a loop's value (see ``Loop.spec`` for the order of the parts)."""
    return LoopOutput.apply(parts, index=index)


class TupleCotangent(Op):
    """A gradient arriving at one part of a loop, as a ``Parts`` with only that part."""

    returns_view = True
    index: int

    def infer(self, gy: Tensor) -> tuple[Shape, str]:
        return (), FLOATX

    def forward(self, gy: Any) -> Parts:
        return Parts([None] * self.index + [gy])

    def backward(self, g: Tensor) -> list[Tensor | None]:
        return [TuplePart.apply(g, self.inputs[0], index=self.index)]


class TuplePart(Op):
    """Part ``index`` of a gradient ``Parts``, zeros shaped like ``like`` where none arrived."""

    returns_view = True
    index: int

    def infer(self, parts: Tensor, like: Tensor) -> tuple[Shape, str]:
        return like.shape, like.dtype

    def forward(self, parts: Parts, like: Any) -> Any:
        if self.index < len(parts) and parts[self.index] is not None:
            return parts[self.index]
        return np.zeros_like(like)

    def backward(self, g: Tensor) -> list[Tensor | None]:
        return [TupleCotangent.apply(g, index=self.index), None]


Step = Callable[[list[Tensor], list[Tensor]], tuple[Sequence[Tensor], Sequence[Tensor]]]


def loop(step: Step, sequences: Sequence[Any], initial: Sequence[Any] = (), reverse: bool = False,
         name: str | None = None) -> tuple[list[Tensor], list[Tensor]]:
    """``(stacked per-step results, final carried values)`` of ``step`` run along ``sequences``.

    ``step(slices, carried)`` receives one slice of each sequence and the carried values (lists
    of placeholders) and returns ``(results, new carried values)``; it is called once.
    """
    seqs = [as_tensor(s) for s in sequences]
    inits = [as_tensor(c) for c in initial]
    seq_ins = [step_placeholder(s, f"step_input_{i}") for i, s in enumerate(seqs)]
    carry_ins = [step_placeholder(c, f"carried_{i}", per_step=False) for i, c in enumerate(inits)]
    ys, carry_outs = step(seq_ins, carry_ins)
    ys = [as_tensor(y) for y in ys]
    carry_outs = [as_tensor(c, c_in.dtype) for c, c_in in zip(carry_outs, carry_ins)]
    if len(carry_outs) != len(carry_ins):
        raise ValueError(f"A loop's step must return as many carried values as it receives "
                         f"({len(carry_ins)}); it returned {len(carry_outs)}.")
    body = Body(seq_ins, carry_ins, ys, carry_outs)
    parts = Loop.apply(*seqs, *inits, *body.captures, name=name or "Loop", body=body, reverse=reverse)
    stacked = [loop_output(parts, k) for k in range(len(ys))]
    finals = [loop_output(parts, len(ys) + k) for k in range(len(inits))]
    return stacked, finals
