"""Task ``topo_sort``: the executor's topological sort (``minikeras/graph/topo.py``).

``topo_sort(targets, stop)`` returns the ops that compute ``targets``: each op after the
ops that make its inputs, each op once, none that only serve a ``stop`` tensor (its value
will be fed), and without recursion, so that a 10,000-op chain works.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minikeras import graph as G
from minikeras.testing import Expression, expression_graphs

pytestmark = pytest.mark.task_topo_sort

Graph = tuple[Expression, list[np.ndarray]]


# --- what a correct order is, checked with messages that say what went wrong ----------


def ancestors(targets: Sequence[G.Tensor], stop: Sequence[G.Tensor] = ()) -> set[G.Op]:
    """The reference *set* of ops (not their order): everything reachable, not through ``stop``."""
    stopped = {t.op for t in stop}
    seen: set[G.Op] = set()
    todo = [t.op for t in targets if t.op not in stopped]
    while todo:
        op = todo.pop()
        if op not in seen:
            seen.add(op)
            todo += [x.op for x in op.inputs if x.op not in stopped]
    return seen


def check_order(order: object, targets: Sequence[G.Tensor], stop: Sequence[G.Tensor] = ()) -> None:
    """Assert ``order`` is a valid topological order of exactly the ops ``targets`` need."""
    assert isinstance(order, list), (
        f"topo_sort must return a list of ops; received {type(order).__name__}: {order!r}")
    assert all(isinstance(op, G.Op) for op in order), (
        f"topo_sort must return Op objects (tensor.op), not tensors; received {order[:3]!r}...")
    position: dict[G.Op, int] = {}
    for i, op in enumerate(order):
        assert op not in position, (
            f"op {op.name!r} appears twice in the order (positions {position[op]} and {i}); expected "
            "each op once.\nHint: an op reached by two paths (a diamond, x * x) must be added once: "
            "keep a set of the ops already done.")
        position[op] = i
    want = ancestors(targets, stop)
    missing = sorted(op.name for op in want - set(position))
    extra = sorted(op.name for op in set(position) - want)
    assert not missing, (
        f"expected every op the targets need, but these are missing: {missing}.\n"
        "Hint: follow every input of every op (op.inputs[i].op), not only the first.")
    assert not extra, (
        f"received ops the targets do not need (or that only produce a stop tensor): {extra}.\n"
        "Hint: the ops of `stop` tensors are fed, not computed: do not add them, and do not walk "
        "past them.")
    for op in order:
        for x in op.inputs:
            if x.op in position:
                assert position[x.op] < position[op], (
                    f"op {op.name!r} (position {position[op]}) comes before {x.op.name!r} (position "
                    f"{position[x.op]}), which makes its input {x.name!r}; expected producers first.\n"
                    "Hint: append an op only after all of its inputs' ops have been appended "
                    "(post-order of a depth-first search).")


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Fail (instead of hanging) when the block runs longer than ``seconds`` (Unix only)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum: int, frame: object) -> None:
        raise AssertionError(what)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def build(graph: Graph) -> tuple[list[G.Tensor], G.Tensor]:
    G.reset_default_graph()
    expr, values = graph
    xs = [G.placeholder(v.shape, dtype="float64", name=f"x{i}") for i, v in enumerate(values)]
    return xs, expr(*xs)


# NumPy twins of the strategy's building blocks, to check the values the executor computes.
NUMPY = {
    "tanh": np.tanh, "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "softplus": lambda a: np.logaddexp(0, a),
    "negative": np.negative, "square": np.square, "exp": np.exp,
    "mean": lambda a: np.mean(a, axis=-1, keepdims=True),
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
    "divide": lambda a, b: a / (2.0 + np.tanh(b)),
}


def evaluate(expr: Expression, values: list[np.ndarray]) -> np.ndarray:
    nodes = list(values)
    for name, args in expr.steps:
        nodes.append(NUMPY[name](*(nodes[k] for k in args)))
    return sum(nodes[k] for k in expr.outputs)


# --- the tests ---------------------------------------------------------------------------


@given(expression_graphs(max_steps=10))
def test_random_expression_order(graph: Graph) -> None:
    _, y = build(graph)
    check_order(G.topo_sort([y]), [y])


@given(expression_graphs(max_steps=10))
def test_the_executor_computes_random_expressions(graph: Graph) -> None:
    """``Plan`` runs the ops in ``topo_sort``'s order, feeding the placeholders."""
    xs, y = build(graph)
    expr, values = graph
    (got,) = G.Plan([y], feeds=xs).run(dict(zip(xs, values)))
    want = evaluate(expr, values)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=(
        f"the executor computed a different value for {expr!r}: expected (left) NumPy's, received "
        "(right) Plan's, which runs the ops in topo_sort's order"))


@given(expression_graphs(max_steps=10), st.data())
def test_stop_tensors_are_not_computed(graph: Graph, data: st.DataObject) -> None:
    _, y = build(graph)
    inner = sorted(ancestors([y]) - {y.op}, key=lambda op: op.name)
    stop = [data.draw(st.sampled_from(inner)).y] if inner else []
    check_order(G.topo_sort([y], stop=stop), [y], stop)


@given(expression_graphs(max_steps=6), expression_graphs(max_steps=6))
def test_several_targets_share_their_ops(first: Graph, second: Graph) -> None:
    _, y = build(first)
    xs2 = [G.placeholder(v.shape, dtype="float64") for v in second[1]]
    z = second[0](*xs2)
    both = G.tanh(y) + G.mean(z)  # depends on y: the targets overlap
    check_order(G.topo_sort([y, both, z, y]), [y, both, z, y])


def test_a_diamond() -> None:
    G.reset_default_graph()
    x = G.placeholder((2,), dtype="float64", name="x")
    a, b = G.tanh(x), G.exp(x)
    y = a * b
    order = G.topo_sort([y])
    check_order(order, [y])
    assert order[0] is x.op and order[-1] is y.op, (
        f"expected x first and y last; received {[op.name for op in order]}")


def test_x_times_x_uses_one_op_twice() -> None:
    G.reset_default_graph()
    x = G.placeholder((), dtype="float64", name="x")
    y = x * x
    check_order(G.topo_sort([y]), [y])


def test_nothing_to_compute() -> None:
    G.reset_default_graph()
    x = G.placeholder((3,), dtype="float64", name="x")
    y = G.square(x)
    assert G.topo_sort([]) == [], "expected [] for no targets"
    assert G.topo_sort([y], stop=[y]) == [], (
        f"expected [] when the target itself is a stop tensor (it is fed); received "
        f"{[op.name for op in G.topo_sort([y], stop=[y])]}")


def test_many_diamonds_in_a_row_take_linear_time() -> None:
    """40 diamonds in a row: 2**40 paths from the output to the input, 121 ops."""
    G.reset_default_graph()
    x = G.placeholder((), dtype="float64", name="x")
    y = x
    for _ in range(40):
        y = G.tanh(y) + G.sigmoid(y)
    with time_limit(5.0, "topo_sort took more than 5 s on 40 diamonds in a row (121 ops but 2**40 "
                         "paths): it visits an op again for every path that reaches it.\nHint: mark "
                         "an op done when it is added, and skip done ops."):
        start = time.perf_counter()
        order = G.topo_sort([y])
        elapsed = time.perf_counter() - start
    check_order(order, [y])
    assert len(order) == 121
    assert elapsed < 1.0, f"expected well under a second for 121 ops; took {elapsed:.2f} s"


def test_a_10000_op_chain_needs_no_recursion() -> None:
    G.reset_default_graph()
    x = G.placeholder((), dtype="float64", name="x")
    y = x
    for _ in range(10_000):
        y = y + 1.0
    try:
        order = G.topo_sort([y])
    except RecursionError as e:
        raise AssertionError(
            "topo_sort recursed once per op and hit Python's recursion limit on a 10,000-op chain "
            "(a 10,000-step loop makes one).\nHint: keep your own stack of (op, next input index) "
            "pairs instead of calling topo_sort's helper recursively.") from e
    check_order(order, [y])
    (value,) = G.Plan([y], feeds=[x]).run({x: np.float64(0.5)})
    assert value == pytest.approx(10_000.5), f"expected 10000.5 from the executor, received {value}"


def test_the_order_is_deterministic() -> None:
    G.reset_default_graph()
    x = G.placeholder((2,), dtype="float64", name="x")
    w = G.placeholder((2,), dtype="float64", name="w")
    y = G.sum(G.tanh(x * w) + G.exp(w) - x)
    first = [op.name for op in G.topo_sort([y])]
    again = [op.name for op in G.topo_sort([y])]
    assert first == again, (
        f"two calls on the same graph gave different orders:\n{first}\n{again}\nHint: iterating "
        "over a set of ops is not deterministic; follow op.inputs in order and keep a list.")
