"""``gradients(ys, xs, grad_ys=None)``: reverse mode as a graph transformation.

Spec: API.md section 2 (last bullet) and ARCHITECTURE.md, "the core idea" (points 2 and 3).
Values are checked in float64 against closed forms.
"""

import numpy as np
import pytest

import minikeras.graph as mg
from minikeras.graph.ops.linalg import TransposedCopy
from minikeras.testing import check_gradients

XS = np.array([-1.5, -0.3, 0.4, 1.1, 2.0])


def f64(name="x", shape=(None,)):
    return mg.placeholder(shape, dtype="float64", name=name)


def run(fetches, feed=None):
    feed = feed or {}
    return mg.Plan(list(fetches), feeds=list(feed)).run(feed)


def grad_value(y, x, xv=XS):
    (g,) = mg.gradients(y, [x])
    return run([g], {x: xv})[0]


# --- first derivatives by value -----------------------------------------------------


@pytest.mark.parametrize(
    ("f", "df"),
    [
        (lambda x: x * 3.0 + 1.0, lambda v: np.full_like(v, 3.0)),
        (lambda x: x**3, lambda v: 3 * v**2),
        (lambda x: 1.0 / x, lambda v: -1 / v**2),
        (lambda x: mg.exp(x), np.exp),
        (lambda x: mg.log(x * x), lambda v: 2 / v),
        (lambda x: mg.tanh(x), lambda v: 1 - np.tanh(v) ** 2),
        (lambda x: mg.sigmoid(x), lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2),
        (lambda x: mg.relu(x), lambda v: (v > 0).astype(float)),
        (lambda x: abs(x) - x, lambda v: np.sign(v) - 1),
        (lambda x: mg.square(x - 1.0), lambda v: 2 * (v - 1)),
    ],
)
def test_first_derivative(f, df):
    x = f64()
    np.testing.assert_allclose(grad_value(f(x), x), df(XS), rtol=1e-12)


def test_gradients_returns_a_list_of_tensors():
    x = f64()
    gs = mg.gradients(x * x, [x])
    assert isinstance(gs, list) and len(gs) == 1
    assert isinstance(gs[0], mg.Tensor)
    assert gs[0].shape == x.shape and gs[0].dtype == x.dtype


def test_gradient_of_a_tensor_with_respect_to_itself_is_ones():
    x = f64()
    np.testing.assert_array_equal(grad_value(x, x), np.ones_like(XS))


def test_unconnected_x_gives_none():
    x, z = f64("x"), f64("z")
    assert mg.gradients(mg.sum(x * 2.0), [z]) == [None]


def test_none_only_for_the_unconnected_entries():
    x, z = f64("x"), f64("z")
    gx, gz = mg.gradients(mg.sum(x * 2.0), [x, z])
    assert gx is not None and gz is None


def test_non_scalar_y_means_the_gradient_of_its_sum():
    x = f64(shape=(5,))
    y = x * x  # shape (5,)
    np.testing.assert_allclose(grad_value(y, x), 2 * XS)
    np.testing.assert_allclose(grad_value(mg.sum(y), x), 2 * XS)


def test_several_ys_are_summed():
    x = f64()
    (g,) = mg.gradients([x * 2.0, x * x], [x])
    np.testing.assert_allclose(run([g], {x: XS})[0], 2 + 2 * XS)


def test_broadcasting_is_undone_in_the_gradient():
    x = mg.placeholder((None, 3), dtype="float64", name="x")
    b = mg.variable(np.zeros(3), dtype="float64", name="b")
    (gb,) = mg.gradients(mg.sum(x + b), [b])
    assert gb.shape == (3,)
    np.testing.assert_array_equal(run([gb], {x: np.ones((4, 3))})[0], [4, 4, 4])


# --- shared sub-expressions ---------------------------------------------------------


def test_x_times_x_accumulates_both_uses():
    x = f64()
    np.testing.assert_allclose(grad_value(x * x, x), 2 * XS)


def test_diamond_accumulates_both_paths():
    x = f64()
    a = x * 2.0
    b = x * 3.0
    y = a * b  # 6 x^2
    np.testing.assert_allclose(grad_value(y, x), 12 * XS)


def test_variable_used_twice():
    w = mg.variable(np.array([1.0, -2.0, 3.0]), dtype="float64", name="w")
    loss = mg.sum(w * w) + mg.sum(w * 3.0)
    (g,) = mg.gradients(loss, [w])
    np.testing.assert_allclose(run([g])[0], 2 * w.get_value() + 3)


def test_gradient_through_a_dense_like_block():
    x = mg.placeholder((None, 2), dtype="float64", name="x")
    with mg.name_scope("dense_1"):
        w = mg.variable(np.array([[1.0, -1.0], [2.0, 0.5]]), dtype="float64", name="kernel")
        b = mg.variable(np.array([0.1, -0.2]), dtype="float64", name="bias")
        y = mg.relu(mg.bias_add(mg.matmul(x, w), b))
    gw, gb = mg.gradients(mg.sum(y), [w, b])
    xv = np.array([[1.0, 1.0], [0.5, -2.0]])
    active = (xv @ w.get_value() + b.get_value()) > 0
    gwv, gbv = run([gw, gb], {x: xv})
    np.testing.assert_allclose(gwv, xv.T @ active)
    np.testing.assert_allclose(gbv, active.sum(axis=0))


def test_gradient_can_be_taken_twice_with_the_same_result():
    x = f64()
    y = mg.tanh(x) * x
    (g1,) = mg.gradients(y, [x])
    (g2,) = mg.gradients(y, [x])
    a, b = run([g1, g2], {x: XS})
    np.testing.assert_array_equal(a, b)


# --- higher order -------------------------------------------------------------------


def test_second_derivative_of_a_cube():
    x = f64()
    (g1,) = mg.gradients(x**3, [x])
    (g2,) = mg.gradients(g1, [x])
    np.testing.assert_allclose(run([g2], {x: XS})[0], 6 * XS, rtol=1e-12)


def test_second_derivative_of_tanh():
    x = f64()
    (g1,) = mg.gradients(mg.tanh(x), [x])
    (g2,) = mg.gradients(g1, [x])
    t = np.tanh(XS)
    np.testing.assert_allclose(run([g2], {x: XS})[0], -2 * t * (1 - t**2), rtol=1e-12)


def test_third_derivative_of_tanh_matches_the_closed_form():
    # d/dx t = 1 - t^2;  d2 = -2t(1 - t^2);  d3 = (1 - t^2)(6t^2 - 2), with t = tanh(x).
    x = f64()
    (g1,) = mg.gradients(mg.tanh(x), [x])
    (g2,) = mg.gradients(g1, [x])
    (g3,) = mg.gradients(g2, [x])
    t = np.tanh(XS)
    np.testing.assert_allclose(run([g3], {x: XS})[0], (1 - t**2) * (6 * t**2 - 2), rtol=1e-10)


def test_third_derivative_of_tanh_matches_finite_differences_of_the_second():
    x = f64()
    (g1,) = mg.gradients(mg.tanh(x), [x])
    (g2,) = mg.gradients(g1, [x])
    (g3,) = mg.gradients(g2, [x])
    plan = mg.Plan([g2, g3], feeds=[x])
    h = 1e-5
    numeric = (plan.run({x: XS + h})[0] - plan.run({x: XS - h})[0]) / (2 * h)
    np.testing.assert_allclose(plan.run({x: XS})[1], numeric, rtol=1e-6, atol=1e-8)


# --- grad_ys ------------------------------------------------------------------------


def test_grad_ys_weights_the_gradient():
    x = f64(shape=(5,))
    weights = np.arange(1.0, 6.0)
    (g,) = mg.gradients(x * x, [x], grad_ys=[weights])
    np.testing.assert_allclose(run([g], {x: XS})[0], 2 * XS * weights)


def test_grad_ys_as_a_tensor():
    x = f64(shape=(5,))
    gy = mg.placeholder((5,), dtype="float64", name="gy")
    (g,) = mg.gradients(x * 3.0, [x], grad_ys=[gy])
    np.testing.assert_allclose(run([g], {x: XS, gy: XS})[0], 3 * XS)


def test_grad_ys_of_the_wrong_length_is_an_error():
    x = f64()
    with pytest.raises(ValueError, match="grad_ys"):
        mg.gradients([x * 2.0, x * 3.0], [x], grad_ys=[np.ones(5)])


def test_grad_ys_array_keeps_the_gradient_in_the_dtype_of_y():
    x = mg.placeholder((3,), name="x")  # float32
    (g,) = mg.gradients(x * x, [x], grad_ys=[np.array([1.0, 2.0, 3.0])])
    assert g.dtype == "float32"


# --- names and which ops are visited ------------------------------------------------


def test_gradient_ops_live_under_the_gradients_scope():
    x = f64()
    y = mg.sum(mg.tanh(x) * x)
    before = {op.name for op in mg.get_default_graph().ops}
    (g,) = mg.gradients(y, [x])
    new = [op.name for op in mg.get_default_graph().ops if op.name not in before]
    assert new
    assert all(name.startswith("gradients/") for name in new), new
    assert g.name.startswith("gradients/")


def test_gradient_ops_are_named_after_the_op_they_differentiate():
    x = mg.placeholder((None, 3), name="x")
    with mg.name_scope("dense_1"):
        w = mg.variable(np.ones((3, 4)), name="kernel")
        y = mg.matmul(x, w)
    (gw,) = mg.gradients(mg.sum(y), [w])
    assert gw.name.startswith("gradients/dense_1/MatMul_grad/")
    assert gw.op.type == "MatMul"


def test_a_second_gradients_call_gets_its_own_scope():
    x = f64()
    mg.gradients(x * x, [x])
    (g,) = mg.gradients(x * 3.0, [x])
    assert g.name.startswith("gradients_1/")


def test_gradient_does_not_need_an_unrelated_placeholder():
    w = mg.variable(np.array([1.0, 2.0, 3.0]), name="w")
    p = mg.placeholder((None, 3), name="p")
    unrelated = mg.sum(p * p)
    loss = mg.sum(w * w) + unrelated
    (g,) = mg.gradients(loss, [w])
    plan = mg.Plan([g])  # no feeds: must not need p
    assert p.op not in plan.ops
    np.testing.assert_allclose(plan.run()[0], [2.0, 4.0, 6.0])


def test_ops_not_between_xs_and_ys_are_never_differentiated():
    w = mg.variable(np.array([1.0, 2.0, 3.0]), name="w")
    p = mg.placeholder((None, 3), name="p")
    unrelated = mg.sum(mg.tanh(p))  # depends on p only
    downstream = mg.exp(w)  # depends on w but does not reach the loss
    loss = mg.sum(w * w) + unrelated
    mg.gradients(loss, [w])
    names = [op.name for op in mg.get_default_graph().ops]
    assert not any(n.startswith("gradients/Tanh_grad") for n in names), names
    assert not any(n.startswith(f"gradients/{unrelated.op.name}_grad") for n in names), names
    assert not any(n.startswith(f"gradients/{downstream.op.name}_grad") for n in names), names


# --- blocked and non-differentiable paths -------------------------------------------


def test_stop_gradient_blocks_one_path():
    x = f64()
    y = x * mg.stop_gradient(x)  # d/dx is x, not 2x
    np.testing.assert_allclose(grad_value(y, x), XS)


def test_stop_gradient_alone_gives_none():
    x = f64()
    assert mg.gradients(mg.sum(mg.stop_gradient(x) * 2.0), [x]) == [None]


@pytest.mark.parametrize(
    "blocked",
    [
        lambda x: mg.cast(mg.argmax(mg.reshape(x, (1, -1))), "float64"),
        lambda x: mg.round(x),
        lambda x: mg.cast(x > 0.0, "float64"),
        lambda x: mg.cast(mg.equal(x, 1.0), "float64"),
    ],
    ids=["argmax", "round", "greater", "equal"],
)
def test_non_differentiable_path_gives_none(blocked):
    x = f64()
    assert mg.gradients(mg.sum(blocked(x)), [x]) == [None]


def test_non_differentiable_path_next_to_a_differentiable_one():
    x = f64()
    y = mg.round(x) + x * 2.0
    np.testing.assert_allclose(grad_value(y, x), np.full_like(XS, 2.0))


@pytest.mark.parametrize(
    ("build", "op_type"),
    [
        (lambda x: mg.argmax(x), "ArgMax"),
        (lambda x: mg.round(x), "Round"),
        (lambda x: x > 0.0, "Greater"),
        (lambda x: mg.equal(x, 0.0), "Equal"),
        (lambda x: mg.random_uniform((2, 3)), "RandomUniform"),
    ],
)
def test_backward_of_a_non_differentiable_op_says_so(build, op_type):
    x = mg.placeholder((2, 3), name="x")
    y = build(x)
    assert y.op.type == op_type
    assert y.op.differentiable is False
    with pytest.raises(mg.NotDifferentiableError, match=rf"{op_type} .* is not differentiable"):
        y.op.backward(mg.ones_like(y))


def test_grad_ys_of_the_wrong_shape_names_the_culprit() -> None:
    x = mg.placeholder((3,), dtype="float64", name="x")
    with pytest.raises(ValueError, match=r"grad_ys for Mul:0 has shape \(4,\), but Mul:0 has shape \(3,\)"):
        mg.gradients(x * x, [x], grad_ys=[np.ones(4)])


# --- a weight shared by several products -----------------------------------------------------

def test_a_weight_shared_by_products_is_transposed_once_for_their_gradients():
    # An unrolled RNN reads its kernel at every step: the gradients read one C-ordered
    # transposed copy (made once per run), not the weight through BLAS's transpose flag.
    rng = np.random.RandomState(0)
    x = mg.placeholder((None, 3), dtype="float64", name="x")
    w = mg.variable(rng.randn(3, 3), dtype="float64", name="w")
    h1 = mg.tanh(mg.matmul(x, w))
    h2 = mg.tanh(mg.matmul(h1, w))
    (gx,) = mg.gradients(mg.sum(mg.matmul(h2, w)), [x])
    ops = mg.topo_sort([gx])
    assert [op.type for op in ops].count("TransposedCopy") == 1
    flagged = [op for op in ops if op.type == "MatMul" and op.transpose_b]
    assert len(flagged) == 1  # the first gradient built keeps the flag
    xv, wv = rng.randn(2, 3), w.value
    a1 = np.tanh(xv @ wv)
    a2 = np.tanh(a1 @ wv)
    g2 = np.ones((2, 3)) @ wv.T * (1 - a2**2)
    want = (g2 @ wv.T * (1 - a1**2)) @ wv.T
    (got,) = mg.Plan([gx], feeds=[x]).run({x: xv})
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_weight_used_once_keeps_the_transpose_flag():
    x = mg.placeholder((None, 3), name="x")
    w = mg.variable(np.ones((3, 2)), name="w")
    (gx,) = mg.gradients(mg.sum(mg.matmul(x, w)), [x])
    assert "TransposedCopy" not in [op.type for op in mg.topo_sort([gx])]


def test_the_transposed_copy_differentiates_twice():
    rng = np.random.RandomState(1)
    c = rng.randn(4, 3)

    def f(a):
        return mg.sum(mg.square(TransposedCopy.apply(a)) * mg.constant(c))

    check_gradients(f, [rng.randn(3, 4)])
    check_gradients(f, [rng.randn(3, 4)], order=2)
