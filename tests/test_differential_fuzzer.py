"""A differential fuzzer: random programs over the public ``K`` ops, checked against a NumPy
interpreter of the same program (values and static shapes), and their first- and
second-order gradients against central differences in float64.

The programs (``minikeras.testing.programs``) draw each op only where its derivative is
defined, but they do reach the points where it is defined and easy to get wrong: inputs hold
exact zeros, so a logit of exactly 0 meets the binary cross-entropy and a zero meets
``prod``. The points where the derivative is a *convention* (relu at 0, ties in ``maximum``)
cannot be checked by finite differences; the tests at the end check TensorFlow's choices.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import backend as K
from minikeras import graph as G
from minikeras.testing import OPS, Program, check_gradients, programs

_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
# Sized so the whole module takes about 20 s in CI; `intense` runs many more.
_EXAMPLES = {"ci": 150, "intense": 2000}.get(_PROFILE, 40)
_fuzz = settings(max_examples=_EXAMPLES)

Drawn = tuple[Program, list[np.ndarray]]


def _run_nodes(program: Program, inputs: list[np.ndarray],
               shapes_: list[tuple[int | None, ...]] | None = None) -> tuple[list[G.Tensor], list[np.ndarray]]:
    xs = [G.placeholder(s if shapes_ else v.shape, dtype="float64")
          for s, v in zip(shapes_ or inputs, inputs)]
    nodes = program.nodes(*xs)
    return nodes, G.Plan(nodes, feeds=xs).run(dict(zip(xs, inputs)))


def _assert_nodes_match(program: Program, inputs: list[np.ndarray], nodes: list[G.Tensor],
                        got: list[np.ndarray]) -> None:
    """Node by node, so a failure names the first op that differs."""
    for k, (tensor, value, want) in enumerate(zip(nodes, got, program.numpy(*inputs))):
        where = f"node t{k} of {program!r}"
        assert len(tensor.shape) == want.ndim and all(d in (None, w) for d, w in zip(tensor.shape, want.shape)), \
            f"static shape {tensor.shape} but NumPy's is {want.shape}: {where}"
        assert np.shape(value) == want.shape, f"shape {np.shape(value)} but NumPy's is {want.shape}: {where}"
        assert np.asarray(value).dtype == np.float64, f"dtype {np.asarray(value).dtype}: {where}"
        np.testing.assert_allclose(value, want, rtol=1e-9, atol=1e-12, err_msg=where)


@_fuzz
@given(programs())
def test_random_programs_compute_what_numpy_computes(drawn: Drawn) -> None:
    program, inputs = drawn
    nodes, got = _run_nodes(program, inputs)
    assert all(None not in t.shape for t in nodes), "every shape is known when the inputs' are"
    _assert_nodes_match(program, inputs, nodes, got)


@_fuzz
@given(programs())
def test_random_programs_have_the_gradients_of_finite_differences(drawn: Drawn) -> None:
    program, inputs = drawn
    first = check_gradients(program, inputs, order=1)
    np.testing.assert_allclose(first.output, program.output_numpy(*inputs), rtol=1e-9, atol=1e-12)
    check_gradients(program, inputs, order=2, atol=1e-5)


# With an unknown batch axis (as Keras models have), shapes are read at run time. `dot` of
# two tensors with unknown leading axes needs a reshape to a run-time shape, which the graph
# does not have (it says so); the others must give the same numbers.
@settings(max_examples=max(_EXAMPLES // 3, 10))
@given(programs(ops=tuple(name for name in OPS if name != "dot")))
def test_random_programs_with_an_unknown_batch_axis(drawn: Drawn) -> None:
    program, inputs = drawn
    unknown = [(None,) + v.shape[1:] if v.ndim else () for v in inputs]
    nodes, got = _run_nodes(program, inputs, unknown)
    _assert_nodes_match(program, inputs, nodes, got)
    check_gradients(program, inputs, order=1, placeholder_shapes=unknown)
    check_gradients(program, inputs, order=2, atol=1e-5, placeholder_shapes=unknown)


# --- what the fuzzer found --------------------------------------------------------------


def test_found_a_donated_array_in_transposed_layout_changes_the_sum() -> None:
    """Found by the fuzzer: ``tanh(transpose(x)) * R`` summed. The compiled plan wrote the
    product into tanh's (transposed, Fortran-ordered) array while the reference loop made a
    fresh C-ordered one; ``sum`` then added in another order and the last bits differed.
    A donation now needs every input in C order."""
    x = G.placeholder((1, 3, 3), dtype="float64")
    r = np.random.default_rng(0).standard_normal((3, 3, 1))
    total = G.sum(K.tanh(K.transpose(x)) * G.constant(r))
    plan = G.Plan([total], feeds=[x])
    for j in range(9):  # the points check_gradients visited
        v = np.array([[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]])
        v.reshape(-1)[j] += 1e-6
        (got,) = plan.run({x: v})  # plans_run_both_ways: the compiled run must equal the reference
        assert got == pytest.approx(np.sum(np.tanh(v.T) * r), rel=1e-12)
