"""``python -m minikeras``: the demo. Builds a tiny graph, differentiates it, runs both."""

from __future__ import annotations

import numpy as np

from minikeras import graph as G


def demo() -> None:
    x = G.placeholder((None, 3), dtype="float64", name="x")
    w = G.variable(np.array([[0.5, -1.0], [0.25, 2.0], [-0.75, 0.5]]), dtype="float64", name="w")
    b = G.variable(np.zeros(2), dtype="float64", name="b")
    with G.name_scope("dense_1"):
        y = G.relu(G.bias_add(G.matmul(x, w), b))
    loss = G.mean(G.square(y))
    grad_w, grad_b = G.gradients(loss, [w, b])

    print("Nothing has been computed yet: these are graph nodes.")
    for t in (y, y.op.inputs[0], loss, grad_w, grad_b):
        print(f"  {t!r:70} made by a {t.op.type} op")
    print(f"  the graph holds {len(G.get_default_graph().ops)} ops")

    plan = G.Plan([loss, grad_w, grad_b], feeds=[x])
    xv = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    loss_v, gw, gb = plan.run({x: xv})
    print(f"\nOne run of {plan}:")
    print(f"  loss = {float(loss_v):.6f}")
    print("  d loss / d w =")
    print("    " + np.array2string(gw, precision=6, prefix="    "))
    print("  d loss / d b = " + np.array2string(gb, precision=6))

    # The same numbers by hand, so the demo checks itself.
    z = xv @ w.get_value() + b.get_value()
    gy = 2 * np.maximum(z, 0) * (z > 0) / z.size
    assert np.allclose(gw, xv.T @ gy) and np.allclose(gb, gy.sum(0))
    print("\nThe symbolic gradient matches the hand-derived one.")


if __name__ == "__main__":
    demo()
