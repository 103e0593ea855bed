"""K.function: Keras 2's backend tests (their intent), and one test per error of API.md 3.1."""

from __future__ import annotations

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.graph import plan as plan_module

# --- Keras 2's backend tests, ported ------------------------------------------------


def test_function_outputs_see_pre_update_values() -> None:
    val = np.random.random((4, 2))
    x = K.variable(val)
    y = K.placeholder(ndim=2)
    f = K.function([y], [K.square(x) + y], updates=[(x, x * 2)])
    inp = np.random.random((4, 2))
    (out,) = f([inp])
    np.testing.assert_allclose(out, val**2 + inp, rtol=1e-5)
    np.testing.assert_allclose(K.get_value(x), val * 2, rtol=1e-6)


def test_fetches_run_but_are_not_returned() -> None:
    x_ph = K.placeholder(shape=())
    x = K.variable(0.0)
    y = K.variable(0.0)
    f = K.function([x_ph], [x_ph * 3], updates=[(x, x_ph + 1)], fetches=[K.update(y, 5.0)])
    assert f([10.0]) == [30.0]
    assert K.get_value(x) == 11.0
    assert K.get_value(y) == 5.0


def test_feed_dict_is_kept_by_reference() -> None:
    x_ph = K.placeholder(shape=())
    y_ph = K.placeholder(shape=())
    x = K.variable(0.0)
    feed_dict = {y_ph: 3.0}
    f = K.function([x_ph], [x_ph + y_ph], updates=[(x, x_ph * y_ph)], feed_dict=feed_dict)
    assert f([10.0]) == [13.0]
    assert K.get_value(x) == 30.0
    feed_dict[y_ph] = 4.0  # the caller mutates the same dict: the next call sees it
    assert f([20.0]) == [24.0]
    assert K.get_value(x) == 80.0


def test_gradient_ignores_a_stopped_term() -> None:
    val = np.random.random((4, 2))
    x = K.placeholder(shape=(4, 2))
    ex = x * K.exp(x)
    loss = K.sum(ex)
    (grad,) = K.gradients(loss + K.stop_gradient(loss), [ex])
    f = K.function([x], [grad])
    np.testing.assert_allclose(f([val])[0], np.ones((4, 2)))


def test_stop_gradient_takes_a_tensor_or_a_list() -> None:
    a, b = K.placeholder(shape=(2,)), K.placeholder(shape=(2,))
    c, d = K.stop_gradient([a, b])
    assert isinstance(K.stop_gradient([a, b]), list)
    assert c.op.type == d.op.type == "StopGradient"
    assert K.stop_gradient(a).op.type == "StopGradient"


def test_gradients_of_an_unconnected_variable_are_none() -> None:
    w, v = K.variable(np.ones(3)), K.variable(np.ones(3))
    assert K.gradients(K.sum(w * 2), [w, v])[1] is None


def test_value_manipulation() -> None:
    val = np.random.random((4, 2))
    x = K.variable(val)
    np.testing.assert_allclose(K.get_value(x), val, rtol=1e-6)
    assert K.count_params(x) == 8
    assert K.int_shape(x) == (4, 2)
    assert K.ndim(x) == 2
    assert K.dtype(x) == "float32"
    K.set_value(x, np.zeros((4, 2)))
    assert not K.get_value(x).any()
    K.batch_set_value([(x, np.ones((4, 2)))])
    assert K.batch_get_value([x, K.sum(x)])[1] == 8.0


def test_update_ops_change_the_variable_when_evaluated() -> None:
    x = K.variable(np.ones((2, 2)))
    op = K.update(x, np.full((2, 2), 3.0))
    assert K.get_value(x)[0, 0] == 1.0  # building the op changed nothing
    K.eval(op)
    assert K.get_value(x)[0, 0] == 3.0
    K.eval(K.update_add(x, 2.0))
    K.eval(K.update_sub(x, 1.0))
    np.testing.assert_allclose(K.get_value(x), np.full((2, 2), 4.0))
    K.eval(K.moving_average_update(x, np.zeros((2, 2)), momentum=0.75))
    np.testing.assert_allclose(K.get_value(x), np.full((2, 2), 3.0))


def test_sparse_dot_equals_dense_dot() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(0)
    dense = rng.random((5, 4)) * (rng.random((5, 4)) > 0.6)
    w = rng.random((4, 3))
    x = K.placeholder(shape=(None, 4), sparse=True)
    assert K.is_sparse(x)
    f = K.function([x], [K.dot(x, K.variable(w))])
    np.testing.assert_allclose(f([sparse.csr_matrix(dense)])[0], dense @ w, rtol=1e-5)
    np.testing.assert_allclose(f([dense])[0], dense @ w, rtol=1e-5)


def test_lists_and_float64_arrays_are_cast_to_the_placeholder_dtype() -> None:
    x = K.placeholder(shape=(None, 2))
    f = K.function([x], [x * 2])
    (out,) = f([[[1, 2], [3, 4]]])
    assert out.dtype == np.float32
    assert f([np.array([[0.5, 1.5]], dtype=np.float64)])[0].dtype == np.float32


def test_returns_a_list_of_arrays_in_order_with_duplicates() -> None:
    x = K.placeholder(shape=())
    f = K.function([x], [x + 1, x * 2, x + 1])
    out = f([3.0])
    assert isinstance(out, list) and all(isinstance(o, np.ndarray) for o in out)
    assert [float(o) for o in out] == [4.0, 6.0, 4.0]


def test_two_updates_swapping_two_variables_swap_them() -> None:
    a, b = K.variable(1.0), K.variable(2.0)
    K.function([], [], updates=[(a, b), (b, a)])([])
    assert (K.get_value(a), K.get_value(b)) == (2.0, 1.0)


def test_a_failing_call_leaves_every_variable_unchanged() -> None:
    x = K.placeholder(shape=(None, 3))
    a, b = K.variable(np.zeros(3)), K.variable(np.zeros((2, 3)))
    # a's update is fine; b's new value only fits b when the batch has 2 rows
    f = K.function([x], [K.sum(x)], updates=[(a, a + 1), (b, x * 2)])
    f([np.ones((2, 3))])
    assert K.get_value(a)[0] == 1.0
    with pytest.raises(ValueError, match="variable .* has shape"):
        f([np.ones((5, 3))])
    assert K.get_value(a)[0] == 1.0
    np.testing.assert_allclose(K.get_value(b), np.full((2, 3), 2.0))


def test_calling_twice_does_not_re_sort_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    x = K.placeholder(shape=(None, 2))
    w = K.variable(np.ones((2, 2)))
    f = K.function([x], [K.relu(K.dot(x, w))], updates=[(w, w * 0.5)])
    calls = []
    original = plan_module.topo_sort
    monkeypatch.setattr(plan_module, "topo_sort", lambda *a, **k: calls.append(1) or original(*a, **k))
    plan = f.plan
    f([np.ones((1, 2))])
    f([np.ones((3, 2))])
    assert calls == [] and f.plan is plan


def test_trailing_inputs_with_defaults_may_be_left_out() -> None:
    x = K.placeholder(shape=())
    y = K.in_train_phase(x * 10, x)
    f = K.function([x, K.learning_phase()], [y])
    assert f([2.0]) == [2.0]
    assert f([2.0, None]) == [2.0]
    assert f([2.0, 1]) == [20.0]


def test_feeding_an_intermediate_tensor() -> None:
    x = K.placeholder(shape=(None, 2))
    hidden = K.relu(x)
    out = hidden * 3
    f = K.function([hidden], [out])
    np.testing.assert_allclose(f([np.array([[-1.0, 2.0]])])[0], [[-3.0, 6.0]])


# --- one test per error of API.md 3.1 -------------------------------------------------


@pytest.mark.parametrize("which", ["inputs", "outputs", "updates"])
def test_non_list_arguments(which: str) -> None:
    x = K.placeholder(shape=(None, 2))
    args = {"inputs": [x], "outputs": [x * 2], "updates": []}
    args[which] = x if which != "updates" else K.update(K.variable(0.0), 1.0)
    sentence = {
        "inputs": "`inputs` to a minikeras backend function should be a list or tuple.",
        "outputs": "`outputs` of a minikeras backend function should be a list or tuple.",
        "updates": "`updates` in a minikeras backend function should be a list or tuple.",
    }[which]
    with pytest.raises(TypeError) as err:
        K.function(**args)
    assert sentence in str(err.value)
    assert "K.function([x], [y]" in str(err.value)


def test_invalid_kwarg() -> None:
    x = K.placeholder(shape=())
    expected = 'Invalid argument "frobnicate" passed to K.function with minikeras backend'
    with pytest.raises(ValueError, match=expected):
        K.function([x], [x], frobnicate=True)


def test_name_is_accepted() -> None:
    x = K.placeholder(shape=())
    assert K.function([x], [x], name="f").name == "f"


def test_an_update_that_is_neither_a_pair_nor_an_op() -> None:
    x = K.placeholder(shape=())
    with pytest.raises(TypeError, match="update must be a .*got float"):
        K.function([x], [x], updates=[3.0])


def test_an_update_of_something_that_is_not_a_variable() -> None:
    x = K.placeholder(shape=())
    with pytest.raises(TypeError, match="Only variables can be updated.*Placeholder"):
        K.function([x], [x], updates=[(x, x + 1)])


def test_a_variable_updated_twice() -> None:
    v = K.variable(0.0, name="counter")
    with pytest.raises(ValueError, match="counter:0 is updated twice"):
        K.function([], [v], updates=[(v, v + 1), K.update_add(v, 2.0)])


def test_an_update_of_the_wrong_shape() -> None:
    v = K.variable(np.zeros((3, 2)), name="kernel")
    with pytest.raises(ValueError, match=r"kernel:0 of shape \(3, 2\) with a value of shape \(4,\)"):
        K.function([], [], updates=[(v, K.constant(np.zeros(4)))])


def test_a_needed_placeholder_that_is_not_an_input() -> None:
    x = K.placeholder(shape=(None, 4), name="input_1")
    y = K.placeholder(shape=(None, 4), name="input_2")
    out = K.sum(x + y)
    with pytest.raises(ValueError) as err:
        K.function([x], [out])
    assert "input_2:0" in str(err.value) and "Sum:0" in str(err.value)


def test_calling_with_a_non_list() -> None:
    x = K.placeholder(shape=(None, 2))
    f = K.function([x], [x])
    with pytest.raises(TypeError) as err:
        f(np.ones((1, 2)))
    assert "`inputs` should be a list or tuple." in str(err.value)
    assert "f([x])" in str(err.value)


def test_calling_with_too_many_values() -> None:
    x = K.placeholder(shape=(None, 2), name="x")
    f = K.function([x], [x])
    with pytest.raises(ValueError, match=r"takes 1 inputs \(x:0\) but was called with 2"):
        f([np.ones((1, 2)), np.ones((1, 2))])


def test_calling_with_too_few_values() -> None:
    x, y = K.placeholder(shape=(), name="x"), K.placeholder(shape=(), name="y")
    f = K.function([x, y], [x + y])
    with pytest.raises(ValueError, match="no value for y:0"):
        f([1.0])


def test_none_for_an_input_without_default() -> None:
    x = K.placeholder(shape=(), name="x")
    f = K.function([x], [x])
    with pytest.raises(ValueError, match=r"inputs\[0\] \(x:0\) was given None"):
        f([None])


def test_a_value_of_the_wrong_shape() -> None:
    x = K.placeholder(shape=(None, 4), name="input_1")
    f = K.function([x], [x])
    with pytest.raises(ValueError) as err:
        f([np.ones((5, 3))])
    assert str(err.value) == (
        "Cannot feed value of shape (5, 3) for placeholder input_1:0, which has shape (None, 4)"
    )


def test_a_value_of_the_wrong_dtype() -> None:
    x = K.placeholder(shape=(), name="x")
    f = K.function([x], [x])
    with pytest.raises(ValueError, match="Cannot convert the value fed for x:0 to float32"):
        f(["seven"])


def test_a_layer_passed_instead_of_its_output() -> None:
    class FakeLayer:
        output = None

        def get_weights(self) -> list:
            return []

    x = K.placeholder(shape=())
    with pytest.raises(TypeError, match=r"outputs\[0\] must be a tensor.*use its .output"):
        K.function([x], [FakeLayer()])


def test_record_values_keeps_every_intermediate_of_the_last_call() -> None:
    x = K.placeholder(shape=(None, 2), name="x")
    v = K.variable(np.ones(2), name="v")
    hidden = K.relu(x * v)
    f = K.function([x], [K.sum(hidden)], updates=[(v, v * 3)])
    f([np.array([[1.0, -2.0]])])
    assert f.last_values == {}
    f.record_values = True
    f([np.array([[1.0, -2.0]])])
    np.testing.assert_allclose(f.last_values[hidden], [[3.0, 0.0]])
    np.testing.assert_allclose(f.last_values[v], [3.0, 3.0])  # as it was before this call's update
    np.testing.assert_allclose(K.get_value(v), [9.0, 9.0])
