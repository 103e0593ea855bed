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
from .parts import Parts, TupleCotangent
from .state import FLOATX, as_tensor

__all__ = ["loop", "loop_output"]


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
        """Every step, by the body plan's compiled function or by its reference loop.

        Worked out once per run, not at every step: the slots, the stacks, which values are
        copied. The first step's plan also fetches the values kept only for their shape (to
        learn it); the other steps' plan lets them go, so their arrays can be reused at once.
        """
        b = self.body
        ns, nc, ny = len(b.seq_ins), len(b.carry_ins), len(b.ys)
        seqs, carry = xs[:ns], [as_value(c) for c in xs[ns:ns + nc]]
        steps = _length(self, seqs)
        order = range(steps - 1, -1, -1) if self.reverse else range(steps)
        plans = [b.plan(), b.plan(shapes=False)]
        runs = [p.compiled.run if compiled else p.execute for p in plans]
        captures = [_transposed_layout(c, self._buffers(), ("transposed", i)) if b.read_transposed[i] else c
                    for i, c in enumerate(xs[ns + nc:])]
        bases, feeds = _bases(plans, b, seqs, captures)
        carry_slots = [plans[0].feed_slots[t] for t in b.carry_ins]  # the same in both plans
        vals = _fed(bases[0], feeds, order[0], carry_slots, carry)
        runs[0](vals)
        stacks, copies = _Stacks(self, steps, self._buffers()).first_step(vals, plans, carry, order[0])
        carry = self._same_shapes(carry, [vals[plans[0].slots[t]] for t in b.carry_outs])
        run, base = runs[1], bases[1]
        outs = [plans[1].slots[t] for t in b.carry_outs]
        for step in order[1:]:
            vals = _fed(base, feeds, step, carry_slots, carry)
            run(vals)
            carry = [vals[s] for s in outs]
            for s, stack, off, shape in copies:
                v = vals[s]
                if getattr(v, "shape", ()) != shape:
                    raise ValueError(f"{self.name}: a loop's step must give values of the same shape "
                                     f"at every step; got {np.shape(v)} after {shape}.")
                stack[step + off] = v
        finals = [_final(c, t.dtype, made) for c, t, made in zip(carry, b.carry_ins, b.fresh_carries)]
        return Parts([*stacks[:ny], *finals, *stacks[ny:]])

    def _same_shapes(self, init: list[Any], new: list[Any]) -> list[Any]:
        """``new``, once checked: a carried value keeps its shape from step to step (as in TF's
        ``while_loop``), so that every step's values stack, and its gradient has its shape."""
        for t, a, b in zip(self.body.carry_ins, init, new):
            if getattr(a, "shape", ()) != getattr(b, "shape", ()):  # NumPy scalars have one too
                raise ValueError(
                    f"{self.name}: the carried value {t.name} enters the loop with shape {np.shape(a)} but "
                    f"has shape {np.shape(b)} after one step; a carried value must keep its shape (give "
                    "an initial state the batch size, as the recurrent layers' initial states have).")
        return new

    def _buffers(self) -> dict[Any, np.ndarray]:
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


def _bases(plans: list[Any], b: Body, seqs: Sequence[Any], captures: Sequence[Any]
           ) -> tuple[list[list[Any]], list[tuple[int, Any]]]:
    """Per plan, the slots every step starts from: the captures, and a sequence that repeats
    one array (a broadcast along the steps, as a shape kept by ``_Stacks``), fed once; and the
    other sequences with their slots (the feeds are numbered alike in both plans)."""
    bases = [p.template.copy() for p in plans]
    feeds = [(plans[0].feed_slots[t], x) for t, x in zip(b.seq_ins, seqs)]
    repeats = [(s, x[0]) for s, x in feeds if isinstance(x, np.ndarray) and x.strides[0] == 0]
    for p, base in zip(plans, bases):
        for t, c in zip(b.captures, captures):
            base[p.feed_slots[t]] = as_value(c)
        for s, first in repeats:
            base[s] = first
    skipped = {s for s, _ in repeats}
    return bases, [(s, x) for s, x in feeds if s not in skipped]


def _transposed_layout(x: Any, reuse: dict[Any, np.ndarray], key: Any) -> Any:
    """A matrix the step reads only transposed, with the same values laid out (once per run,
    in a buffer kept between runs) so that its transpose is C-ordered: BLAS then reads it row
    by row at every step, not across rows (``dz U^T`` costs ~20% more with ``U`` as it is)."""
    if not (isinstance(x, np.ndarray) and x.ndim == 2 and x.flags.c_contiguous):
        return x
    buf = reuse.get(key)
    if buf is None or buf.shape != x.shape[::-1] or buf.dtype != x.dtype:
        buf = reuse[key] = np.empty(x.shape[::-1], x.dtype)
    np.copyto(buf, x.T)
    return buf.T


def _fed(base: list[Any], feeds: list[tuple[int, Any]], t: int, carry_slots: list[int],
         carry: list[Any]) -> list[Any]:
    """The slots of one step: the captures (in ``base``), the sequences' slices, the carries."""
    vals = base.copy()
    for s, x in feeds:
        vals[s] = x[t]  # a view (or, from a vector, a NumPy scalar)
    for s, v in zip(carry_slots, carry):
        vals[s] = v
    return vals


Copy = tuple[int, np.ndarray, int, tuple[int, ...]]  # (slot, stack, row offset, shape)


class _Stacks:
    """The stacks of one run, made at its first step (when the shapes are known).

    A carried value that a gradient reads at every step is kept in one buffer of ``steps + 1``
    rows: the initial value and each step's new value. The values entering the steps are one
    end of it and those leaving are the other, so a per-step result that *is* the new carried
    value (an RNN's ``h``) is read there too, not copied twice.
    """

    def __init__(self, op: Loop, steps: int, reuse: dict[Any, np.ndarray]) -> None:
        self.op, self.steps, self.reuse = op, steps, reuse
        self.leaving = 0 if op.reverse else 1  # the row of step t's new carried value: t + this

    def buffer(self, key: Any, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        old = self.reuse.get(key)
        if old is None or old.shape != shape or old.dtype != np.dtype(dtype):
            old = self.reuse[key] = np.empty(shape, dtype)
        return old

    def first_step(self, vals: list[Any], plans: list[Any], init: list[Any], t: int
                   ) -> tuple[list[np.ndarray], list[Copy]]:
        """The stacks (``b.ys + b.saved``) with step ``t`` written, and what each later step
        copies where: ``(slot in the later steps' plan, stack, row offset, shape)``."""
        b, n, off = self.op.body, self.steps, self.leaving
        first, later = plans
        carried = self._carry_buffers(init)
        stacks: list[np.ndarray] = []
        copies: list[Copy] = []
        for i, x in enumerate(b.ys + b.saved):
            shape = np.shape(vals[first.slots[x]])
            k_in = next((k for k in carried if x is b.carry_ins[k]), None)
            k_out = next((k for k in carried if x is b.carry_outs[k]), None)
            if x in b.shape_only and x not in b.ys:  # a shape, no memory of its own
                stacks.append(np.broadcast_to(np.zeros((), x.dtype), (n, *shape)))
            elif k_in is not None:  # the values entering the steps
                stacks.append(carried[k_in][1 - off:1 - off + n])
            elif k_out is not None:  # the values leaving them, written once (below)
                stacks.append(carried[k_out][off:off + n])
            else:
                stack = self.buffer(("stack", i), (n, *shape), x.dtype)
                stack[t] = vals[first.slots[x]]
                stacks.append(stack)
                copies.append((later.slots[x], stack, 0, shape))
        for k, buf in carried.items():
            buf[t + off] = vals[first.slots[b.carry_outs[k]]]
            copies.append((later.slots[b.carry_outs[k]], buf, off, buf.shape[1:]))
        return stacks, copies

    def _carry_buffers(self, init: list[Any]) -> dict[int, np.ndarray]:
        """A ``steps + 1``-row buffer per carried value whose entering values are kept, its
        initial value written in."""
        b, n = self.op.body, self.steps
        found: dict[int, np.ndarray] = {}
        for k, c_in in enumerate(b.carry_ins):
            if c_in in b.saved and c_in not in b.shape_only:
                found[k] = self.buffer(("carried", k), (n + 1, *np.shape(init[k])), c_in.dtype)
                found[k][n if self.op.reverse else 0] = init[k]
        return found


def _final(value: Any, dtype: str, made: bool) -> Any:
    """A final carried value as the loop hands it out: copied unless the last step made it as
    a new array of the right dtype (then nothing else holds it)."""
    if made and isinstance(value, np.ndarray) and value.dtype == dtype:
        return value
    return np.array(value, dtype=dtype)


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
