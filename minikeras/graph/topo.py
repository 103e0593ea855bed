"""Topological order: every op after the ops that make its inputs."""

from __future__ import annotations

from collections.abc import Iterable

from .op import Op
from .tensor import Tensor


def topo_sort(targets: Iterable[Tensor], stop: Iterable[Tensor] = ()) -> list[Op]:
    """The ops needed to compute ``targets``, producers first; nothing beyond ``stop``.

    An iterative depth-first search (a recursive one overflows Python's stack on a long
    chain such as a 10,000-step loop). The order is deterministic: inputs are visited in
    the order the op lists them. The ops of ``stop`` tensors are left out: their values
    will be given (fed), not computed.
    """
    # TASK topo_sort: return the ops that compute targets, producers first, each once, none beyond stop
    stopped = {t.op for t in stop}
    order: list[Op] = []
    done: set[Op] = set()
    for target in targets:
        if target.op in done or target.op in stopped:
            continue
        stack: list[tuple[Op, int]] = [(target.op, 0)]
        visiting = {target.op}
        while stack:
            op, i = stack[-1]
            if i < len(op.inputs):
                stack[-1] = (op, i + 1)
                child = op.inputs[i].op
                if child not in done and child not in visiting and child not in stopped:
                    visiting.add(child)
                    stack.append((child, 0))
            else:
                stack.pop()
                done.add(op)
                order.append(op)
    return order
    # END TASK
