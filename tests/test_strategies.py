"""The strategies are test machinery, so they are tested too: a strategy that never
broadcasts or never shares a node would make the gradient tests pass vacuously.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from minikeras import graph as G
from minikeras.testing import (
    OPS,
    Expression,
    Program,
    arrays,
    broadcastable_shapes,
    expression_graphs,
    programs,
    shapes,
)

# Whether a strategy ever produces something is a property of many draws: fixed, cheap ones.
_collecting = settings(max_examples=200, derandomize=True, database=None)


@given(data=st.data(), lo_dims=st.integers(0, 3), lo_side=st.integers(0, 3))
def test_shapes_respect_bounds(data: st.DataObject, lo_dims: int, lo_side: int) -> None:
    hi_dims, hi_side = lo_dims + data.draw(st.integers(0, 2)), lo_side + data.draw(st.integers(0, 2))
    shape = data.draw(shapes(lo_dims, hi_dims, lo_side, hi_side))
    assert isinstance(shape, tuple)
    assert lo_dims <= len(shape) <= hi_dims
    assert all(lo_side <= d <= hi_side for d in shape)


@given(num=st.integers(1, 4), data=st.data())
def test_broadcastable_shapes_really_broadcast(num: int, data: st.DataObject) -> None:
    group = data.draw(broadcastable_shapes(num, min_dims=0, max_dims=4))
    assert len(group) == num
    result = np.broadcast_shapes(*group)
    for shape in group:
        assert len(shape) <= len(result)
        padded = (1,) * (len(result) - len(shape)) + shape
        assert all(d in (1, r) for d, r in zip(padded, result))


def test_broadcastable_shapes_do_broadcast_sometimes() -> None:
    """Not only equal shapes: some pairs differ in rank and some stretch a size-1 axis."""
    seen = set()

    @_collecting
    @given(broadcastable_shapes(min_dims=1, max_dims=3, min_side=2))
    def collect(pair: tuple[tuple[int, ...], ...]) -> None:
        a, b = pair
        if len(a) != len(b):
            seen.add("rank")
        elif a != b:
            seen.add("stretch")

    collect()
    assert seen == {"rank", "stretch"}


@given(shape=shapes(), lo=st.floats(-5, 4), width=st.floats(0.5, 5), data=st.data())
def test_arrays_respect_bounds_and_dtype(shape: tuple[int, ...], lo: float, width: float,
                                         data: st.DataObject) -> None:
    a = data.draw(arrays(shape, lo, lo + width))
    assert a.dtype == np.float64 and a.shape == shape
    assert np.all((lo <= a) & (a <= lo + width))


@given(arrays(shapes(1, 3), -2.0, 2.0, avoid=(0.0, 1.0), margin=0.25))
def test_arrays_keep_away_from_kinks(a: np.ndarray) -> None:
    assert np.all(np.abs(a) >= 0.25) and np.all(np.abs(a - 1.0) >= 0.25)


@given(arrays(shapes(1, 3, max_side=5), 0.1, 4.0))
def test_positive_arrays_for_log_and_sqrt(a: np.ndarray) -> None:
    assert np.all(a >= 0.1)


@given(arrays(shapes(1, 3, max_side=5), -1.0, 1.0, avoid=(0.0,), margin=0.01, distinct=True))
def test_distinct_arrays_have_no_ties(a: np.ndarray) -> None:
    flat = np.sort(a.reshape(-1))
    assert np.all(np.diff(flat) >= 0.01 - 1e-12)
    assert np.all(np.abs(flat) >= 0.01)


def test_arrays_reject_impossible_requests() -> None:
    with pytest.raises(InvalidArgument, match="distinct"):
        arrays((10,), 0.0, 0.1, margin=0.05, distinct=True)
    with pytest.raises(InvalidArgument, match="below"):
        arrays((2,), 1.0, 1.0)


def _uses(y: G.Tensor) -> dict[G.Tensor, int]:
    """How many op input slots each tensor of ``y``'s graph fills."""
    count: dict[G.Tensor, int] = {}
    for op in G.topo_sort([y]):
        for t in op.inputs:
            count[t] = count.get(t, 0) + 1
    return count


@given(expression_graphs())
def test_expression_graphs_share_sub_expressions(graph: tuple[Expression, list[np.ndarray]]) -> None:
    expr, values = graph
    assert expr.shared, "the strategy promises a computed node used at least twice"
    xs = [G.placeholder(v.shape, dtype="float64") for v in values]
    y = expr(*xs)
    # Seen in the built graph too: some op's output (not a placeholder) feeds two slots.
    shared = [t for t, n in _uses(y).items() if n >= 2 and t.op.type != "Placeholder"]
    assert shared
    assert all(op.differentiable for op in G.topo_sort([y]) if op.type != "Placeholder")


@given(expression_graphs(max_steps=10))
def test_expression_graphs_stay_bounded(graph: tuple[Expression, list[np.ndarray]]) -> None:
    expr, values = graph
    assert len(values) == expr.n_inputs
    assert all(v.dtype == np.float64 and np.all(np.abs(v) <= 2) for v in values)
    xs = [G.placeholder(v.shape, dtype="float64") for v in values]
    (out,) = G.Plan([expr(*xs)], feeds=xs).run(dict(zip(xs, values)))
    np.broadcast_shapes(out.shape, *(v.shape for v in values))
    # The result is a sum of outputs, each below the default bound of 8.
    assert np.all(np.isfinite(out)) and np.all(np.abs(out) <= 8 * len(expr.outputs))


def test_expression_repr_reads_like_the_formula() -> None:
    expr = Expression(1, (("tanh", (0,)), ("multiply", (1, 1))))
    assert repr(expr) == "Expression(t1 = tanh(x0); t2 = t1 * t1; y = t2)"
    assert expr.shared == [1] and expr.outputs == [2]


def test_expression_graphs_use_every_recipe_eventually() -> None:
    names = set()

    @_collecting
    @given(expression_graphs())
    def collect(graph: tuple[Expression, list[np.ndarray]]) -> None:
        names.update(op for op, _ in graph[0].steps)

    collect()
    assert names == {"tanh", "sigmoid", "softplus", "negative", "square", "exp", "mean",
                     "add", "subtract", "multiply", "divide"}


def _draw_once(strategy: st.SearchStrategy[object]) -> None:
    @settings(max_examples=1, database=None)
    @given(strategy)
    def run(_: object) -> None:
        pass

    run()


def test_expression_graphs_reject_bad_bounds() -> None:
    with pytest.raises(InvalidArgument, match="bound >= 2"):
        _draw_once(expression_graphs(bound=1.0))
    with pytest.raises(InvalidArgument, match="min_steps"):
        _draw_once(expression_graphs(min_steps=0))


# --- random K programs ----------------------------------------------------------------


def test_programs_use_every_op_and_reach_the_defined_kinks() -> None:
    """Every op of ``OPS`` is drawn, and exact zeros reach a binary cross-entropy's logits
    and a product: the points where a gradient is defined but easy to get wrong."""
    names: set[str] = set()
    kinks: set[str] = set()

    @_collecting
    @given(programs(min_steps=8, max_steps=10))
    def collect(drawn: tuple[Program, list[np.ndarray]]) -> None:
        program, inputs = drawn
        values = program.numpy(*inputs)
        for name, args, params in program.steps:
            names.add(name)
            first = values[args[0]] if args else None
            if name == "binary_crossentropy" and params["how"] != "probabilities" and np.any(first == 0):
                kinks.add("logit 0")
            if name == "prod" and np.any(first == 0):
                kinks.add("prod with a zero")

    collect()
    assert names == set(OPS) | {"input"}
    assert kinks == {"logit 0", "prod with a zero"}


@given(programs(max_steps=10))
def test_programs_stay_smooth_small_and_finite(drawn: tuple[Program, list[np.ndarray]]) -> None:
    """Each op meets values where its derivative is defined (``OpSpec.safe``), and no node is
    large, huge or infinite: what makes finite differences a fair judge."""
    program, inputs = drawn
    assert len(inputs) == program.n_inputs and all(v.dtype == np.float64 for v in inputs)
    values = program.numpy(*inputs)
    assert [v.shape for v in values] == list(program.shapes)
    for name, args, params in program.steps:
        if name != "input":
            assert OPS[name].safe(*(values[k] for k in args), **params), name
    assert all(v.size <= 36 and np.all(np.isfinite(v)) and np.all(np.abs(v) <= 50) for v in values)
    assert program.outputs and np.ndim(program.output_numpy(*inputs)) == (
        values[program.outputs[0]].ndim if len(program.outputs) == 1 else 0)


def test_program_repr_and_output() -> None:
    program = Program((("input", (), {"shape": (2,)}), ("tanh", (0,), {}), ("sum", (0,), {"axis": None,
                                                                                          "keepdims": False})),
                      ((2,), (2,), ()))
    assert repr(program) == "Program(t0 = input(2,); t1 = tanh(t0); t2 = sum(t0, axis=None, keepdims=False))"
    assert program.outputs == [1, 2] and program.n_inputs == 1
    x = np.array([0.5, -1.0])
    want = np.sum(np.tanh(x) * np.cos([1.0, 2.0])) + np.sum(x) * np.cos(2.0)
    assert program.output_numpy(x) == pytest.approx(want)
    ph = G.placeholder((2,), dtype="float64")
    (got,) = G.Plan([program(ph)], feeds=[ph]).run({ph: x})
    assert got == pytest.approx(want)


def test_programs_reject_unknown_ops() -> None:
    with pytest.raises(InvalidArgument, match="known ops"):
        _draw_once(programs(ops=("tanh", "no_such_op")))
