"""The graph as a data structure: tensors, ops, operators, static shapes, discarded graphs.

Spec: API.md section 2 and ARCHITECTURE.md, "the core idea" (points 1 and 2).
"""

import numpy as np
import pytest

import minikeras.graph as mg


def dense_like():
    """``relu(bias_add(matmul(x, w), b))`` under ``dense_1``, as a Dense layer builds it."""
    x = mg.placeholder((None, 3), name="x")
    with mg.name_scope("dense_1"):
        w = mg.variable(np.ones((3, 4)), name="kernel")
        b = mg.variable(np.zeros(4), name="bias")
        y = mg.relu(mg.bias_add(mg.matmul(x, w), b))
    return x, w, b, y


# --- tensors and ops ----------------------------------------------------------------


def test_op_and_owner_are_the_same_object():
    *_, y = dense_like()
    assert y.op is y.owner


def test_tensor_belongs_to_the_default_graph():
    *_, y = dense_like()
    assert y.graph is mg.get_default_graph()
    assert y.op in y.graph.ops


def test_op_outputs_hold_the_tensor_itself():
    *_, y = dense_like()
    assert y.op.outputs == [y]
    assert y.op.outputs[0] is y


def test_op_inputs_are_the_tensors_it_was_built_from():
    x, w, b, y = dense_like()
    bias_add = y.op.inputs[0].op
    matmul = bias_add.inputs[0].op
    assert matmul.inputs[0] is x and matmul.inputs[1] is w
    assert bias_add.inputs[1] is b


def test_value_before_the_activation_idiom():
    *_, y = dense_like()
    pre = y.op.inputs[0]
    assert pre.name == "dense_1/BiasAdd:0"
    assert pre.op.type == "BiasAdd"


def test_walking_back_with_the_theano_idiom():
    *_, y = dense_like()
    assert y.owner.inputs[0].owner.inputs[0].name == "dense_1/MatMul:0"


def test_op_names_of_a_dense_like_block():
    *_, y = dense_like()
    assert y.op.name == "dense_1/Relu"
    assert y.op.inputs[0].op.inputs[0].op.name == "dense_1/MatMul"


@pytest.mark.parametrize(
    ("build", "op_type"),
    [
        (lambda: mg.placeholder((None, 3)), "Placeholder"),
        (lambda: mg.variable(np.zeros(3)), "VariableV2"),
        (lambda: mg.constant([1.0, 2.0]), "Const"),
        (lambda: mg.matmul(mg.placeholder((2, 3)), mg.placeholder((3, 4))), "MatMul"),
        (lambda: mg.bias_add(mg.placeholder((2, 3)), mg.variable(np.zeros(3))), "BiasAdd"),
        (lambda: mg.relu(mg.placeholder((3,))), "Relu"),
        (lambda: mg.sigmoid(mg.placeholder((3,))), "Sigmoid"),
        (lambda: mg.sum(mg.placeholder((3,))), "Sum"),
        (lambda: mg.argmax(mg.placeholder((2, 3))), "ArgMax"),
        (lambda: mg.concatenate([mg.placeholder((2,)), mg.placeholder((3,))]), "ConcatV2"),
        (lambda: mg.assign(mg.variable(np.zeros(3)), 1.0), "Assign"),
    ],
)
def test_op_type(build, op_type):
    assert build().op.type == op_type


def test_placeholder_attrs():
    x = mg.placeholder((None, 3), dtype="float64", name="x")
    assert x.op.attrs["shape"] == (None, 3)
    assert x.op.attrs["dtype"] == "float64"


def test_op_attrs_record_the_parameters():
    x = mg.placeholder((None, 3))
    assert mg.relu(x, alpha=0.1).op.attrs["alpha"] == 0.1
    assert mg.bias_add(x, mg.variable(np.zeros(3))).op.attrs["data_format"] == "channels_last"
    assert mg.sum(x, axis=1, keepdims=True).op.attrs["axis"] == (1,)


def test_const_attrs_hold_the_value():
    c = mg.constant([1.0, 2.0])
    np.testing.assert_array_equal(c.op.attrs["value"], [1.0, 2.0])
    assert c.dtype == "float32"


def test_tensor_static_properties():
    _, w, _, y = dense_like()
    assert (y.shape, y.dtype, y.ndim) == ((None, 4), "float32", 2)
    assert w.shape == (3, 4)
    assert isinstance(y.dtype, str)


# --- identity semantics -------------------------------------------------------------


def test_equality_is_identity_and_returns_a_bool():
    a = mg.placeholder((3,))
    b = mg.placeholder((3,))
    assert (a == b) is False
    assert (a != b) is True
    assert (a == a) is True


def test_tensors_work_as_dict_keys():
    a = mg.placeholder((3,))
    b = mg.placeholder((3,))  # same shape and dtype: must still be a different key
    d = {a: "a", b: "b"}
    assert len(d) == 2
    assert d[a] == "a" and d[b] == "b"


def test_list_index_finds_the_identical_tensor():
    ts = [mg.placeholder((3,)) for _ in range(3)]
    assert ts.index(ts[2]) == 2
    assert ts[1] in ts
    assert mg.placeholder((3,)) not in ts


def test_hash_is_stable_and_set_membership_works():
    a = mg.placeholder((3,))
    assert hash(a) == hash(a)
    assert len({a, a, mg.placeholder((3,))}) == 2


# --- Python operators ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "op_type"),
    [
        (lambda a, b: a + b, "Add"),
        (lambda a, b: a - b, "Sub"),
        (lambda a, b: a * b, "Mul"),
        (lambda a, b: a / b, "RealDiv"),
        (lambda a, b: a**b, "Pow"),
        (lambda a, b: a @ b, "MatMul"),
        (lambda a, b: -a, "Neg"),
        (lambda a, b: abs(a), "Abs"),
        (lambda a, b: a[1:], "StridedSlice"),
        (lambda a, b: a.T, "Transpose"),
    ],
)
def test_operator_builds_op(build, op_type):
    a = mg.placeholder((3, 3))
    b = mg.placeholder((3, 3))
    t = build(a, b)
    assert isinstance(t, mg.Tensor)
    assert t.op.type == op_type
    assert t.op.inputs[0] is a


@pytest.mark.parametrize(
    ("build", "op_type"),
    [
        (lambda a, b: a < b, "Less"),
        (lambda a, b: a <= b, "LessEqual"),
        (lambda a, b: a > b, "Greater"),
        (lambda a, b: a >= b, "GreaterEqual"),
    ],
)
def test_comparisons_are_elementwise_with_bool_dtype(build, op_type):
    a = mg.placeholder((None, 3))
    b = mg.placeholder((3,))
    t = build(a, b)
    assert t.op.type == op_type
    assert (t.shape, t.dtype) == ((None, 3), "bool")


def test_reflected_operators_keep_operand_order():
    a = mg.placeholder((3,))
    t = 2.0 - a
    assert t.op.type == "Sub"
    assert t.op.inputs[1] is a
    assert t.op.inputs[0].op.type == "Const"


def test_python_number_keeps_the_tensor_dtype():
    a = mg.placeholder((3,), dtype="float64")
    assert (a * 2).dtype == "float64"
    assert (2.5 + mg.placeholder((3,))).dtype == "float32"


@pytest.mark.parametrize(
    ("build", "op_type"),
    [
        (lambda a: np.ones(3) + a, "Add"),
        (lambda a: np.ones(3) - a, "Sub"),
        (lambda a: np.ones(3) * a, "Mul"),
        (lambda a: np.ones(3) / a, "RealDiv"),
        (lambda a: np.ones((3, 3)) @ a, "MatMul"),
    ],
)
def test_numpy_array_on_the_left_gives_a_tensor(build, op_type):
    a = mg.placeholder((3, 3))
    t = build(a)
    assert isinstance(t, mg.Tensor)
    assert t.op.type == op_type
    assert t.op.inputs[1] is a


def test_numpy_array_compared_with_tensor_gives_a_tensor():
    a = mg.placeholder((3,))
    t = np.ones(3) < a
    assert isinstance(t, mg.Tensor)
    assert t.dtype == "bool"


def test_bool_of_a_tensor_raises_a_helpful_type_error():
    a = mg.placeholder((3,), name="x")
    with pytest.raises(TypeError, match=r"truth value of symbolic tensor x:0"):
        bool(a)


def test_if_on_a_comparison_raises():
    a = mg.placeholder((3,))
    with pytest.raises(TypeError, match="unknown until the graph runs"):
        if a > 0:
            pass


def test_iterating_a_tensor_raises_a_helpful_type_error():
    a = mg.placeholder((2,), name="x")
    with pytest.raises(TypeError, match=r"x:0 is not iterable"):
        list(a)
    with pytest.raises(TypeError, match="not iterable"):
        _first, _second = a


# --- static shapes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "shape"),
    [
        (lambda x: x @ mg.placeholder((3, 4)), (None, 4)),
        (lambda x: x + mg.placeholder((3,)), (None, 3)),
        (lambda x: x * mg.placeholder((None, 1)), (None, 3)),
        (lambda x: x[1:], (None, 3)),
        (lambda x: x[:, 0], (None,)),
        (lambda x: x[:, :2], (None, 2)),
        (lambda x: x.T, (3, None)),
        (lambda x: mg.sum(x, axis=0), (3,)),
        (lambda x: mg.sum(x, axis=1, keepdims=True), (None, 1)),
        (lambda x: mg.reshape(x, (-1, 3, 1)), (None, 3, 1)),
    ],
)
def test_static_shape_with_unknown_batch(build, shape):
    x = mg.placeholder((None, 3))
    assert build(x).shape == shape


class Boom(mg.Op):
    """A primitive whose forward must never run while a graph is only being built."""

    def forward(self, x):
        raise AssertionError("forward ran at build time")


def test_building_computes_nothing():
    x = mg.placeholder((None, 3))
    y = mg.relu(Boom.apply(x) * 2.0)
    assert y.shape == (None, 3)
    assert y.op.inputs[0].op.inputs[0].op.type == "Boom"


def test_incompatible_broadcast_is_an_error_at_build_time():
    a = mg.placeholder((2, 3))
    b = mg.placeholder((4,))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\) cannot be broadcast"):
        a + b


def test_matmul_inner_dimensions_are_checked_at_build_time():
    a = mg.placeholder((None, 3), name="a")
    b = mg.placeholder((4, 5), name="b")
    with pytest.raises(ValueError, match=r"a:0 of shape \(None, 3\).*b:0 of shape \(4, 5\)"):
        a @ b


def test_reshape_to_the_wrong_size_is_an_error_at_build_time():
    a = mg.placeholder((2, 3), name="a")
    with pytest.raises(ValueError, match=r"Cannot reshape a:0 of shape \(2, 3\) .*to \(4,\)"):
        mg.reshape(a, (4,))


def test_bias_of_the_wrong_size_is_an_error_at_build_time():
    x = mg.placeholder((None, 3))
    with pytest.raises(ValueError, match="3 channels"):
        mg.bias_add(x, mg.variable(np.zeros(4)))


def test_failed_build_adds_no_op():
    a = mg.placeholder((2, 3))
    b = mg.placeholder((4, 5))
    n = len(mg.get_default_graph().ops)
    with pytest.raises(ValueError):
        a @ b
    assert len(mg.get_default_graph().ops) == n


# --- discarded graphs ---------------------------------------------------------------


def test_new_op_on_a_discarded_tensor_is_rejected():
    old = mg.placeholder((3,), name="x")
    mg.reset_default_graph()
    with pytest.raises(ValueError, match=r"x:0 belongs to a graph that was discarded"):
        mg.relu(old)


def test_mixing_a_discarded_tensor_with_a_new_one_is_rejected():
    old = mg.placeholder((3,), name="x")
    mg.reset_default_graph()
    new = mg.placeholder((3,), name="x")
    with pytest.raises(ValueError, match="discarded"):
        new + old


def test_plan_fetching_a_discarded_tensor_is_rejected():
    old = mg.placeholder((3,), name="x")
    y = old * 2
    mg.reset_default_graph()
    with pytest.raises(ValueError, match=r"Mul:0 belongs to a graph discarded"):
        mg.Plan([y], feeds=[old])


def test_plan_feeding_a_discarded_tensor_is_rejected():
    old = mg.placeholder((3,), name="x")
    mg.reset_default_graph()
    new = mg.placeholder((3,), name="x")
    with pytest.raises(ValueError, match="discarded"):
        mg.Plan([new * 2], feeds=[new, old])


def test_plan_with_an_assign_op_of_a_discarded_graph_is_rejected():
    v = mg.variable(np.zeros(3), name="v")
    update = mg.assign_add(v, 1.0)
    mg.reset_default_graph()
    with pytest.raises(ValueError, match="discarded"):
        mg.Plan([], updates=[update])


def test_plan_updating_a_variable_of_a_discarded_graph_is_rejected():
    v = mg.variable(np.zeros(3), name="v")
    mg.reset_default_graph()
    with pytest.raises(ValueError, match="discarded"):
        mg.Plan([], updates=[(v, 1.0)])


def test_gradients_of_a_discarded_graph_are_rejected():
    x = mg.placeholder((3,), name="x")
    y = mg.sum(x * x)
    mg.reset_default_graph()
    with pytest.raises(ValueError, match="discarded"):
        mg.gradients(y, [x])


# --- an op's parameters are declared on its class ---------------------------------------


def test_op_parameters_are_declared_annotations_with_defaults() -> None:
    assert mg.ops.nn.Relu.params == ("alpha", "max_value")
    assert mg.ops.reduce.Sum.params == ("axis", "keepdims")
    x = mg.placeholder((None, 3), name="x")
    assert mg.ops.nn.Relu.apply(x).op.attrs == {"alpha": 0.0, "max_value": None}


def test_an_unknown_or_missing_op_parameter_is_a_type_error_naming_the_op() -> None:
    x = mg.placeholder((None, 3), name="x")
    with pytest.raises(TypeError, match=r"Softmax has no parameter 'axes'.*\['axis'\]"):
        mg.ops.nn.Softmax.apply(x, axes=1)
    with pytest.raises(TypeError, match="Softmax needs its parameter 'axis'"):
        mg.ops.nn.Softmax.apply(x)


def test_a_tensor_outside_any_layer_has_keras_defaults() -> None:
    t = mg.placeholder((2,), name="t")
    assert t._keras_history is None and t._keras_shape is None and t._uses_learning_phase is False
