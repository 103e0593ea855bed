"""A loop op in a picture: the ``Loop`` box, and beside it its body, built once, as a cluster.

The body's ops are drawn with their own arrows; dashed arrows say which step results the loop
stacks (``each step``). A gradient loop's body is drawn the same way, in the gradient colour:
backpropagation through time is one more loop.
"""

from __future__ import annotations

from collections.abc import Callable

from ..graph import Op
from ..graph.ops.loops import Loop
from .dot import attrs, quote


def loop_bodies(ops: list[Op], node: Callable[[Op], str], lines: list[str]) -> None:
    """A cluster per ``Loop`` op among ``ops``, holding its body's ops (drawn by ``node``)."""
    drawn: set[Op] = set(ops)
    for op in ops:
        if not isinstance(op, Loop):
            continue
        body = op.body
        inside = [t.op for t in body.inputs if t.op not in drawn] + [o for o in body.ops if o not in drawn]
        direction = "backwards" if op.reverse else "forwards"
        label = f"body of {op.name}: built once, run at every step ({direction})"
        lines.append(f"  subgraph {quote('cluster_body_' + op.name)} {{")
        frame = attrs(label=label, style="rounded,dashed", color="#5b7fb5", fontsize="10")
        lines.append(f"    graph{frame};")
        for inner in inside:
            lines.append("    " + node(inner))
        lines.append("  }")
        drawn.update(inside)
        members = set(body.ops)
        for inner in body.ops:
            for x in inner.inputs:
                if x.op in members or x in body.inputs:
                    lines.append(f"  {quote(x.op.name)} -> {quote(inner.name)};")
        for t in dict.fromkeys(body.ys + body.carry_outs):
            lines.append(f"  {quote(t.op.name)} -> {quote(op.name)}"
                         f"{attrs(style='dashed', color='#5b7fb5', label='each step', constraint='false')};")
