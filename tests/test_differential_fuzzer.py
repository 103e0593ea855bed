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
from minikeras.graph import compile as compile_module
from minikeras.graph.compile import COMPILE_LIMIT
from minikeras.testing import OPS, Program, check_gradients, programs

_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
# Sized so the whole module takes about 20 s in CI; `intense` runs many more.
_EXAMPLES = {"ci": 120, "intense": 2000}.get(_PROFILE, 40)
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
def test_what_a_run_fetches_does_not_change_its_values(drawn: Drawn) -> None:
    """Every node and every gradient fetched by one run (sharing arrays, some written in
    place) are bit for bit what runs of the gradients alone and of each node alone give."""
    program, inputs = drawn
    xs = [G.placeholder(v.shape, dtype="float64") for v in inputs]
    feed = dict(zip(xs, inputs))
    nodes = program.nodes(*xs)
    grads = [g for g in G.gradients(program(*xs), xs) if g is not None]
    together = G.Plan(nodes + grads, feeds=xs).run(feed)
    alone = G.Plan(grads, feeds=xs).run(feed) + [G.Plan([t], feeds=xs).run(feed)[0] for t in nodes]
    for tensor, a, b in zip(grads + nodes, alone, together[len(nodes):] + together[:len(nodes)]):
        np.testing.assert_array_equal(a, b, err_msg=f"{tensor.name} of {program!r}")


@_fuzz
@given(programs())
def test_random_programs_have_the_gradients_of_finite_differences(drawn: Drawn) -> None:
    program, inputs = drawn
    first = check_gradients(program, inputs, order=1)
    np.testing.assert_allclose(first.output, program.output_numpy(*inputs), rtol=1e-9, atol=1e-12)
    check_gradients(program, inputs, order=2, atol=1e-5)


@settings(max_examples=max(_EXAMPLES // 3, 10))
@given(programs())
def test_random_programs_stay_in_float32(drawn: Drawn) -> None:
    """Keras's default dtype: every node, value and gradient stays float32 (no silent
    promotion to float64 on the way), and the values are NumPy's to float32 precision."""
    program, inputs = drawn
    xs = [G.placeholder(v.shape, dtype="float32") for v in inputs]
    nodes = program.nodes(*xs)
    grads = [g for g in K.gradients(program(*xs), xs) if g is not None]
    got = G.Plan(nodes + grads, feeds=xs).run({x: v.astype(np.float32) for x, v in zip(xs, inputs)})
    for tensor, value in zip(nodes + grads, got):
        assert tensor.dtype == "float32" and np.asarray(value).dtype == np.float32, f"{tensor.name} of {program!r}"
    for k, (value, want) in enumerate(zip(got, program.numpy(*inputs))):
        np.testing.assert_allclose(value, want, rtol=2e-3, atol=2e-3, err_msg=f"node t{k} of {program!r}")


# With an unknown batch axis (as Keras models have), shapes are read at run time. `dot` of
# two tensors with unknown leading axes, and `batch_flatten` of one whose unknown axis was
# moved off axis 0, need a reshape to a shape computed at run time, which the graph does not
# have (they say so, naming the tensor); every other op must give the same numbers.
_STATIC_RESHAPES = {"dot", "batch_flatten"}
@settings(max_examples=max(_EXAMPLES // 3, 10))
@given(programs(ops=tuple(name for name in OPS if name not in _STATIC_RESHAPES)))
def test_random_programs_with_an_unknown_batch_axis(drawn: Drawn) -> None:
    program, inputs = drawn
    unknown = [(None,) + v.shape[1:] if v.ndim else () for v in inputs]
    nodes, got = _run_nodes(program, inputs, unknown)
    _assert_nodes_match(program, inputs, nodes, got)
    check_gradients(program, inputs, order=1, placeholder_shapes=unknown)
    check_gradients(program, inputs, order=2, atol=1e-5, placeholder_shapes=unknown)


# --- what the fuzzer found --------------------------------------------------------------


@pytest.mark.parametrize("limit", [COMPILE_LIMIT, 0], ids=["compiled", "long-plan loop"])
def test_found_a_donated_array_in_transposed_layout_changes_the_sum(limit: int,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the fuzzer: ``tanh(transpose(x)) * R`` summed. The compiled plan wrote the
    product into tanh's (transposed, Fortran-ordered) array while the reference loop made a
    fresh C-ordered one; ``sum`` then added in another order and the last bits differed.
    An array is now donated only if it is in C order (so is a fresh result then)."""
    monkeypatch.setattr(compile_module, "COMPILE_LIMIT", limit)
    x = G.placeholder((1, 3, 3), dtype="float64")
    r = np.random.default_rng(0).standard_normal((3, 3, 1))
    total = G.sum(K.tanh(K.transpose(x)) * G.constant(r))
    plan = G.Plan([total], feeds=[x])
    for j in range(9):  # the points check_gradients visited
        v = np.array([[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]])
        v.reshape(-1)[j] += 1e-6
        (got,) = plan.run({x: v})  # plans_run_both_ways: the compiled run must equal the reference
        assert got == pytest.approx(np.sum(np.tanh(v.T) * r), rel=1e-12)


# --- kinks: where the derivative is defined, and where only a convention is --------------

_kinks = settings(max_examples=max(_EXAMPLES // 5, 10))


def _grads(f: object, values: list[np.ndarray]) -> list[np.ndarray]:
    """The gradients of ``sum(f(*xs))`` at ``values``, from ``K.gradients``."""
    xs = [K.placeholder(shape=v.shape, dtype="float64") for v in values]
    grads = K.gradients(K.sum(f(*xs)), xs)  # type: ignore[operator]
    return K.function(xs, grads)(values)


@_kinks
@given(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=1, max_size=6),
       st.sampled_from(["logits", "sigmoid"]))
def test_binary_crossentropy_at_a_logit_of_exactly_zero(targets: list[float], how: str) -> None:
    """The loss is smooth at z = 0: gradient sigmoid(0) - t = 0.5 - t, second derivative
    sigmoid'(0) = 1/4, checked directly and by finite differences (a Sigmoid's output is
    read as its logits, so both ways meet the same op)."""
    t = np.array(targets)
    z = np.zeros_like(t)

    def loss(x: G.Tensor) -> G.Tensor:
        return K.binary_crossentropy(t, x, from_logits=True) if how == "logits" \
            else K.binary_crossentropy(t, K.sigmoid(x))

    (g,) = _grads(loss, [z])
    np.testing.assert_allclose(g, 0.5 - t, rtol=0, atol=1e-15)
    (h,) = _grads(lambda x: K.gradients(K.sum(loss(x)), [x])[0], [z])
    np.testing.assert_allclose(h, np.full_like(t, 0.25), rtol=1e-12)
    check_gradients(loss, [z], order=2)


@_kinks
@given(st.lists(st.sampled_from([0.0, 0.0, -1.5, 0.5, 2.0, 3.0]), min_size=1, max_size=5),
       st.booleans())
def test_prod_with_zeros_has_the_product_of_the_others_as_gradient(values: list[float], keepdims: bool) -> None:
    """Exact at any number of zeros (not 0/0), and its own gradient too (order 2)."""
    x = np.array(values).reshape(1, -1)
    (g,) = _grads(lambda t: K.prod(t, axis=-1, keepdims=keepdims), [x])
    others = [np.prod(np.delete(x[0], j)) for j in range(x.shape[1])]
    np.testing.assert_array_equal(g, np.array([others]))
    assert np.all(np.isfinite(g))
    check_gradients(lambda t: K.prod(t, axis=-1, keepdims=keepdims), [x], order=2)


@_kinks
@given(st.lists(st.tuples(st.sampled_from([-1.0, 0.0, 2.0]), st.booleans()), min_size=1, max_size=6))
def test_ties_in_maximum_and_minimum_send_the_gradient_to_the_first_argument(pairs: list[tuple[float, bool]]) -> None:
    """TensorFlow's convention: ``x >= y`` (``x <= y`` for minimum) picks ``x``."""
    a = np.array([v for v, _ in pairs])
    b = np.array([v if tie else v + 1.0 for v, tie in pairs])
    for f, first in ((K.maximum, a >= b), (K.minimum, a <= b)):
        ga, gb = _grads(f, [a, b])
        np.testing.assert_array_equal(ga, first.astype(float))
        np.testing.assert_array_equal(gb, (~first).astype(float))


def test_conventions_at_the_kinks_of_activations_follow_tensorflow() -> None:
    """relu, abs at 0: gradient 0; elu at 0: 1; clip and hard_sigmoid: the bound itself
    still passes the gradient (TF's clip_by_value is inclusive); a tie for ``max`` splits
    the gradient evenly."""
    zero = np.zeros(3)
    np.testing.assert_array_equal(_grads(K.relu, [zero])[0], zero)
    np.testing.assert_array_equal(_grads(K.abs, [zero])[0], zero)
    np.testing.assert_array_equal(_grads(K.elu, [zero])[0], np.ones(3))
    at_bounds = np.array([-2.5, 2.5])
    np.testing.assert_allclose(_grads(K.hard_sigmoid, [at_bounds])[0], [0.2, 0.2])
    np.testing.assert_array_equal(_grads(lambda x: K.clip(x, 0.0, 1.0), [np.array([0.0, 1.0])])[0], [1.0, 1.0])
    tie = np.array([[1.0, 3.0, 3.0, 3.0]])
    np.testing.assert_allclose(_grads(lambda x: K.max(x, axis=-1), [tie])[0], [[0, 1 / 3, 1 / 3, 1 / 3]])
