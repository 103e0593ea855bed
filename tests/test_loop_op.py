"""The loop op and ``K.rnn``: values against NumPy, unrolled == loop, gradients as loops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minikeras import backend as K
from minikeras import graph as G
from minikeras.testing import check_gradients
from minikeras.testing.strategies import expression_graphs


def simple_step(w: G.Tensor, u: G.Tensor):
    def step(x_t, states):
        h = K.tanh(K.dot(x_t, w) + K.dot(states[0], u))
        return h, [h]
    return step


def numpy_rnn(x, h0, w, u, mask=None, backwards=False):
    h, outs = h0, []
    steps = range(x.shape[1])[::-1] if backwards else range(x.shape[1])
    for t in steps:
        new = np.tanh(x[:, t] @ w + h @ u)
        if mask is not None:
            m = mask[:, t][:, None]
            new = np.where(m, new, h)
        h = new
        outs.append(h)
    return h, np.stack(outs, axis=1)


@pytest.mark.parametrize("unroll", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_rnn_against_numpy(unroll, go_backwards):
    x = K.placeholder((None, 4, 3))
    h0 = K.placeholder((None, 2))
    w, u = K.variable(np.random.randn(3, 2)), K.variable(np.random.randn(2, 2))
    last, outputs, states = K.rnn(simple_step(w, u), x, [h0], go_backwards=go_backwards, unroll=unroll)
    assert K.int_shape(outputs) == (None, 4, 2)
    xv, hv = np.random.randn(5, 4, 3), np.random.randn(5, 2)
    got = K.function([x, h0], [last, outputs, states[0]])([xv, hv])
    h, outs = numpy_rnn(xv, hv, w.get_value(), u.get_value(), backwards=go_backwards)
    np.testing.assert_allclose(got[0], outs[:, -1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], outs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[2], h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("unroll", [False, True])
def test_a_masked_step_carries_the_state_over(unroll):
    x = K.placeholder((None, 4, 3))
    mask = K.placeholder((None, 4), dtype="bool")
    w, u = K.variable(np.random.randn(3, 2)), K.variable(np.random.randn(2, 2))
    h0 = K.zeros((2, 2))
    _, outputs, states = K.rnn(simple_step(w, u), x, [h0], mask=mask, unroll=unroll)
    xv = np.random.randn(2, 4, 3)
    mv = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    got = K.function([x, mask], [outputs, states[0]])([xv, mv])
    h, outs = numpy_rnn(xv, np.zeros((2, 2)), w.get_value(), u.get_value(), mask=mv)
    np.testing.assert_allclose(got[0], outs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_unrolled_and_loop_give_the_same_values_and_gradients(go_backwards):
    x = K.placeholder((3, 5, 2), dtype="float64")
    w = K.variable(np.random.randn(2, 4), dtype="float64")
    u = K.variable(np.random.randn(4, 4) * 0.5, dtype="float64")
    h0 = K.variable(np.random.randn(3, 4), dtype="float64")
    results = []
    for unroll in (False, True):
        _, outputs, states = K.rnn(simple_step(w, u), x, [h0], unroll=unroll, go_backwards=go_backwards)
        loss = K.sum(K.square(outputs)) + K.sum(states[0] * 3)
        grads = K.gradients(loss, [x, w, u, h0])
        results.append(K.function([x], [loss, *grads])([np.random.RandomState(0).randn(3, 5, 2)]))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_gradient_of_a_loop_is_a_loop():
    x = K.placeholder((None, 5, 2))
    w, u = K.variable(np.random.randn(2, 4)), K.variable(np.random.randn(4, 4))
    _, outputs, _ = K.rnn(simple_step(w, u), x, [K.zeros((2, 4))])
    (gw,) = K.gradients(K.sum(outputs), [w])
    loops = [op for op in G.topo_sort([gw]) if op.type == "Loop"]
    assert len(loops) == 2  # the forward loop and the backward one
    forward, backward = loops
    assert forward.reverse is False and backward.reverse is True
    assert len(forward.body.ops) < 10  # one step's ops, not five copies


def _loop_loss(x, h0, w, u):
    _, outputs, states = K.rnn(simple_step(w, u), x, [h0])
    return K.sum(outputs * outputs) + K.sum(states[0])


def test_check_gradients_on_the_loop_first_and_second_order():
    rng = np.random.RandomState(1)
    args = [rng.randn(2, 4, 3), rng.randn(2, 2), rng.randn(3, 2) * 0.5, rng.randn(2, 2) * 0.5]
    check_gradients(_loop_loss, args)
    check_gradients(_loop_loss, args, order=2)


def test_check_gradients_with_an_unknown_number_of_steps_and_a_mask():
    rng = np.random.RandomState(2)
    mask = K.constant(np.array([[1, 1, 0], [1, 0, 0]], bool))

    def f(x, w):
        _, outputs, _ = K.rnn(simple_step(w, w[:, :2] * 0 + w[:2] * 0.5), x,
                                   [K.zeros((2, 2), dtype="float64")], mask=mask)
        return outputs

    check_gradients(f, [rng.randn(2, 3, 2), rng.randn(2, 2)], placeholder_shapes=[(2, None, 2), (2, 2)])


@given(expression_graphs(min_inputs=2, max_inputs=2, max_steps=4), st.integers(1, 4))
def test_check_gradients_on_loops_with_random_bodies(drawn, steps):
    """A random expression of (x_t, carried) is the body; the next carried value is a squashed
    sum of it, reduced to the carried value's shape."""
    expr, (x_value, carry_value) = drawn
    seq = np.stack([x_value * (0.5 + 0.25 * t) for t in range(steps)])

    def f(xs, carry):
        def step(slices, carried):
            y = expr(slices[0], carried[0])
            new = G.sum_to(K.tanh(y + K.zeros_like(carried[0])), carried[0]) * 0.5
            return [y], [new]
        (ys,), (last,) = G.loop(step, [xs], [carry])
        return K.sum(ys) + K.sum(last * last)

    check_gradients(f, [seq, carry_value])


def test_map_fn_foldl_foldr():
    x = K.placeholder((None, 3))
    xv = np.arange(12, dtype="float32").reshape(4, 3)
    squares = K.map_fn(lambda r: r * r, x)
    left = K.foldl(lambda acc, r: acc * 0.5 + r, x)
    right = K.foldr(lambda acc, r: acc * 0.5 + r, x)
    total = K.foldl(lambda acc, r: acc + K.sum(r), x, initializer=K.constant(0.0))
    got = K.function([x], [squares, left, right, total])([xv])
    np.testing.assert_allclose(got[0], xv ** 2)
    acc = xv[0]
    for r in xv[1:]:
        acc = acc * 0.5 + r
    np.testing.assert_allclose(got[1], acc)
    acc = xv[-1]
    for r in xv[-2::-1]:
        acc = acc * 0.5 + r
    np.testing.assert_allclose(got[2], acc)
    assert got[3] == pytest.approx(xv.sum())


def test_a_random_op_inside_a_step_is_refused_with_the_way_out():
    x = K.placeholder((None, 4, 3))

    def step(x_t, states):
        h = K.dropout(x_t, 0.5)
        return h, [h]

    with pytest.raises(ValueError, match="Draw the random tensor outside the step"):
        K.rnn(step, x, [K.zeros((2, 3))])


def test_sequences_of_different_lengths_are_an_error_naming_them():
    a, b = K.placeholder((None, 2)), K.placeholder((None, 2))
    (out,), _ = G.loop(lambda xs, _: ([xs[0] + xs[1]], []), [a, b])
    f = K.function([a, b], [out])
    with pytest.raises(ValueError, match="same number of steps"):
        f([np.zeros((3, 2)), np.zeros((4, 2))])


def test_unrolling_needs_a_known_number_of_steps():
    x = K.placeholder((None, None, 3))
    with pytest.raises(ValueError, match="fixed number of timesteps"):
        K.rnn(simple_step(K.variable(np.ones((3, 2))), K.variable(np.ones((2, 2)))), x,
              [K.zeros((1, 2))], unroll=True)


def test_constants_reach_every_step():
    x = K.placeholder((None, 3, 2))
    c = K.placeholder((None, 2))

    def step(x_t, states):
        prev, const = states
        h = prev + x_t * const
        return h, [h]

    _, outputs, (last,) = K.rnn(step, x, [K.zeros((2, 2))], constants=[c])
    xv, cv = np.random.randn(2, 3, 2), np.random.randn(2, 2)
    got = K.function([x, c], [outputs, last])([xv, cv])
    np.testing.assert_allclose(got[0], np.cumsum(xv * cv[:, None], axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], (xv * cv[:, None]).sum(1), rtol=1e-5, atol=1e-6)


def test_the_forward_loop_keeps_only_what_its_gradient_reads():
    """tanh's gradient reads tanh's output (a per-step result, stacked anyway) and the product
    h U's gradient reads h (the carried value entering the step); the sums' gradients read only
    shapes, which are kept without copying a value."""
    x = K.placeholder((None, 5, 2))
    w, u = K.variable(np.random.randn(2, 4)), K.variable(np.random.randn(4, 4))
    _, outputs, _ = K.rnn(simple_step(w, u), x, [K.zeros((2, 4))])
    K.gradients(K.sum(outputs), [w, u])
    forward = next(op for op in G.topo_sort([outputs]) if op.type == "Loop")
    valued = [t for t in forward.body.saved if t not in forward.body.shape_only]
    assert valued == forward.body.carry_ins


@pytest.mark.parametrize("go_backwards", [False, True])
def test_the_carried_values_entering_the_steps_are_the_stacked_results_kept_once(go_backwards):
    """h enters step t as the result of the step before (or as h0): the forward loop keeps one
    buffer of h0 and every step's h, so the stacked outputs and the saved entering values are
    two views of it, not two copies."""
    xv = np.random.randn(5, 3, 2).astype("float32")  # time-major: 5 steps
    h0 = np.random.randn(3, 4).astype("float32")
    w, u = K.variable(np.random.randn(2, 4)), K.variable(np.random.randn(4, 4))

    def step(xs, hs):
        h, _ = simple_step(w, u)(xs[0], hs)
        return [h], [h]

    (outputs,), _ = G.loop(step, [K.constant(xv)], [K.constant(h0)], reverse=go_backwards)
    K.gradients(K.sum(outputs), [w, u])
    forward = outputs.op.inputs[0].op
    assert forward.body.ys[0] is forward.body.carry_outs[0]
    parts = forward.forward(xv, h0, *[c.op.value if c.op.type == "Const" else c.value
                                      for c in forward.body.captures])
    stacked = parts[0]
    entering = parts[2 + forward.body.saved.index(forward.body.carry_ins[0])]
    assert np.shares_memory(stacked, entering)
    order = range(4, -1, -1) if go_backwards else range(5)
    h = h0
    for t in order:
        np.testing.assert_array_equal(entering[t], h)
        h = stacked[t]


def test_a_carried_value_that_changes_shape_is_refused_naming_it():
    """As TF's while_loop: an initial state of 1 row that the step makes 3 rows would stack
    steps of different shapes and give its gradient the wrong shape."""
    x = K.placeholder((None, 4, 3))
    w, u = K.variable(np.random.randn(3, 2)), K.variable(np.random.randn(2, 2))
    _, outputs, _ = K.rnn(simple_step(w, u), x, [K.zeros((1, 2))])
    f = K.function([x], K.gradients(K.sum(outputs), [w]))
    with pytest.raises(ValueError, match=r"carried_0.*shape \(1, 2\).*\(3, 2\) after one step"):
        f([np.random.randn(3, 4, 3)])


def test_final_carried_values_are_not_written_over_by_the_next_run():
    """The stacks are reused from run to run; the final carried values are the last step's own
    new arrays (or copies), so a value handed out by one run survives the next."""
    w = K.variable(np.random.randn(3, 3))

    def step(xs, hs):
        h = K.tanh(K.dot(xs[0], w) + hs[0])
        return [h], [h, hs[1]]  # h is made by the step; the second carried value passes through

    x, h0 = K.placeholder((4, 2, 3)), K.placeholder((2, 3))
    _, finals = G.loop(step, [x], [h0, h0])
    forward = finals[0].op.inputs[0].op
    w_value = w.get_value()
    a, b = np.random.randn(4, 2, 3).astype("float32"), np.random.randn(2, 3).astype("float32")
    first = forward.forward(a, b, b, w_value)
    kept = [np.array(first[1]), np.array(first[2])]
    forward.forward(a * 2, b * 3, b * 3, w_value)
    np.testing.assert_array_equal(first[1], kept[0])
    np.testing.assert_array_equal(first[2], kept[1])
    assert not np.shares_memory(first[2], b)


def test_a_capture_read_only_transposed_is_laid_out_once_per_run_for_it():
    """The gradient loop reads the recurrent kernel only as ``dz U^T``: it is fed, once per run,
    laid out so that ``U^T`` is C-ordered (BLAS reads it row by row at every step); the forward
    loop reads ``U`` as it is and gets it as it is. The values are the same."""
    x = K.placeholder((None, 5, 2))
    w, u = K.variable(np.random.randn(2, 4)), K.variable(np.random.randn(4, 4))
    _, outputs, _ = K.rnn(simple_step(w, u), x, [K.zeros((3, 4))])
    (gu,) = K.gradients(K.sum(outputs), [u])
    forward, backward = [op for op in G.topo_sort([gu]) if op.type == "Loop"]
    assert not any(forward.body.read_transposed)
    assert [c for c, t in zip(backward.body.captures, backward.body.read_transposed) if t] == [u]
    seen = []
    real = backward.body.plan(shapes=False).execute

    def spy(vals, *args, **kwargs):
        seen.append(vals[backward.body.plan(shapes=False).feed_slots[u]])
        return real(vals, *args, **kwargs)

    backward.body.plan(shapes=False).execute = spy
    xv = np.random.randn(3, 5, 2)
    (got,) = K.function([x], [gu])([xv])
    assert seen and seen[0].T.flags.c_contiguous and np.array_equal(seen[0], u.get_value())
    want = K.function([x], K.gradients(K.sum(K.rnn(simple_step(w, u), x, [K.zeros((3, 4))], unroll=True)[1]), [u]))
    np.testing.assert_allclose(got, want([xv])[0], rtol=1e-5, atol=1e-6)
