"""The gradient of a loop is a loop: backpropagation through time as a graph.

For ``(y_t, c_{t+1}) = f(x_t, c_t, w)``, the gradient loop runs the steps backwards, carrying
``lam`` (the gradient arriving at the carried value) and the sum of the captures' gradients:

    gx_t, gc_t, gw_t = vjp of f at step t, given (gy_t, lam)
    lam <- gc_t;  gw_acc <- gw_acc + gw_t

Its body is the forward body's symbolic gradient, built once. The forward values that body
reads (a ``tanh``'s output, the carried value entering a step) are kept by the forward loop
at every step (``Body.saved``), so nothing of the forward step is computed twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..op import Op
from ..tensor import Tensor
from ..topo import topo_sort
from .array import ReshapeLike
from .broadcast import BroadcastTo, SumTo
from .compare import cast
from .index import ShapeOp, SliceGrad
from .loop_body import Body, step_placeholder
from .math import AddN, OnesLike, ZerosLike, add, zeros_like
from .state import Const

if TYPE_CHECKING:
    from .loops import Loop

__all__: list[str] = []


def _is_float(t: Tensor) -> bool:
    return np.dtype(t.dtype).kind == "f"


def _as_dtype(t: Tensor, dtype: str) -> Tensor:
    return t if t.dtype == dtype else cast(t, dtype)


def _present(gy: Tensor) -> set[int] | None:
    """The parts a gradient can arrive at, read off the graph; ``None`` when unknown."""
    from .loops import TupleCotangent

    terms = gy.op.inputs if isinstance(gy.op, AddN) else [gy]
    found = set()
    for t in terms:
        if not isinstance(t.op, TupleCotangent):
            return None
        found.add(t.op.index)
    return found


def _reads_only_the_shape(op: Op, i: int) -> bool:
    """Whether ``op`` reads nothing of its input ``i`` but its shape (and dtype)."""
    return (isinstance(op, (SumTo, BroadcastTo, ReshapeLike, SliceGrad)) and i == 1) or \
        (isinstance(op, (ZerosLike, OnesLike, ShapeOp)) and i == 0)


def _forward_values_read(b: Body, grads: list[Tensor],
                         stop: list[Tensor]) -> tuple[list[Tensor], set[Tensor]]:
    """The forward step's values that the gradient graph reads (kept at every step), and those
    of them it reads only the shape of (a ``SumTo``'s target): their values need no keeping."""
    fwd = set(b.ops)
    need: list[Tensor] = []
    valued: set[Tensor] = set(t for t in grads if t.op in fwd)
    for op in topo_sort(grads, stop=stop):
        if op in fwd:
            continue
        for i, x in enumerate(op.inputs):
            if (x.op in fwd and not isinstance(x.op, Const)) or x in b.carry_ins:
                need.append(x)
                if not _reads_only_the_shape(op, i):
                    valued.add(x)
    need += [g for g in grads if g.op in fwd and not isinstance(g.op, Const)]
    need = list(dict.fromkeys(need))
    return need, {t for t in need if t not in valued}


def loop_gradient(op: Loop, gy: Tensor, wanted: list[bool] | None = None) -> list[Tensor | None]:
    """The gradients of ``op``'s ``wanted`` inputs given ``gy`` (a ``Parts``), as outputs of a new
    loop. Carried values always get theirs: the loop carries them back through time."""
    from ..gradients import gradients
    from .loops import Loop, TuplePart, loop_output

    b = op.body
    ny, nc, ns = len(b.ys), len(b.carry_ins), len(b.seq_ins)
    present = _present(gy)

    def arrives(k: int) -> bool:
        return present is None or k in present

    def cotangent(k: int) -> Tensor:
        return TuplePart.apply(gy, loop_output(op.y, k), index=k)

    # Per-step results that receive a gradient, and a placeholder for its slice at one step.
    outs = [(k, y) for k, y in enumerate(b.ys) if arrives(k) and _is_float(y)]
    outs += [(ny + nc + j, s) for j, s in enumerate(b.saved) if arrives(ny + nc + j) and _is_float(s)]
    seeds = [step_placeholder(y, f"grad_{y.op.name.rsplit('/', 1)[-1]}", per_step=False) for _, y in outs]
    carried = [k for k in range(nc) if _is_float(b.carry_ins[k])]
    lams = [step_placeholder(b.carry_ins[k], f"lambda_{k}", per_step=False) for k in carried]
    asked = [True] * len(op.inputs) if wanted is None else wanted
    seqs = [x for i, x in enumerate(b.seq_ins) if _is_float(x) and asked[i]]
    caps = [c for i, c in enumerate(b.captures) if _is_float(c) and asked[ns + nc + i]]
    ys = [y for _, y in outs] + [b.carry_outs[k] for k in carried]
    if not ys:
        return [None] * len(op.inputs)
    wrt = seqs + [b.carry_ins[k] for k in carried] + caps
    grads = gradients(ys, wrt, grad_ys=seeds + lams, stop_gradients=b.inputs + b.captures)
    g_seq, g_carry = grads[:len(seqs)], grads[len(seqs):len(seqs) + len(carried)]
    g_cap = grads[len(seqs) + len(carried):]
    caps_used = [(c, g) for c, g in zip(caps, g_cap) if g is not None]
    accs = [step_placeholder(g, f"grad_sum_{i}", per_step=False) for i, (_, g) in enumerate(caps_used)]

    made = [g for g in grads if g is not None]
    need, shape_only = _forward_values_read(b, made, stop=b.inputs + seeds + lams)
    # A value the loop stacks already (a per-step result) is read from there, not kept twice.
    saved_parts = [b.ys.index(t) if t in b.ys else ny + nc + b.save(t, t in shape_only) for t in need]

    body = Body(
        seq_ins=b.seq_ins + need + seeds,
        carry_ins=lams + accs,
        ys=[g if g is not None else zeros_like(x) for x, g in zip(seqs, g_seq)],
        carry_outs=[zeros_like(lam) if g is None else _as_dtype(g, lam.dtype)
                    for lam, g in zip(lams, g_carry)] + [add(acc, g) for acc, (_, g) in zip(accs, caps_used)],
    )
    sequences = op.inputs[:ns] + [loop_output(op.y, k) for k in saved_parts] + [cotangent(k) for k, _ in outs]
    inits = [cotangent(ny + k) if arrives(ny + k) else zeros_like(loop_output(op.y, ny + k)) for k in carried]
    inits += [_as_dtype(zeros_like(c), g.dtype) for c, g in caps_used]
    back = Loop.apply(*sequences, *inits, *body.captures, name="Loop", body=body, reverse=not op.reverse)

    result: list[Tensor | None] = [None] * len(op.inputs)
    for i, x in enumerate(seqs):
        result[b.seq_ins.index(x)] = loop_output(back, i)
    for i, k in enumerate(carried):
        result[ns + k] = loop_output(back, len(seqs) + i)
    for i, (c, _) in enumerate(caps_used):
        result[ns + nc + b.captures.index(c)] = loop_output(back, len(seqs) + len(carried) + i)
    return result
