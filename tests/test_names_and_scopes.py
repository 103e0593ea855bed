"""Names: unique per graph, scoped, ``<op name>:<index>``, reset by ``reset_default_graph``.

Spec: API.md section 2 ("Names are unique per graph ...") and ARCHITECTURE.md, the core idea.
"""

import numpy as np

import minikeras.graph as mg


def square_matrix(name="a"):
    return mg.placeholder((2, 2), name=name)


# --- unique names -------------------------------------------------------------------


def test_ops_of_the_same_type_get_numbered_suffixes():
    a = square_matrix()
    names = [mg.matmul(a, a).op.name for _ in range(3)]
    assert names == ["MatMul", "MatMul_1", "MatMul_2"]


def test_tensor_name_is_op_name_colon_output_index():
    a = square_matrix()
    t = mg.matmul(a, a)
    assert t.value_index == 0
    assert t.name == "MatMul:0"
    assert t.name == f"{t.op.name}:{t.value_index}"


def test_explicit_names_are_used_and_made_unique():
    first = mg.placeholder((3,), name="x")
    second = mg.placeholder((3,), name="x")
    assert (first.name, second.name) == ("x:0", "x_1:0")


def test_default_placeholder_and_variable_names():
    assert mg.placeholder((3,)).name == "Placeholder:0"
    assert mg.variable(np.zeros(3)).name == "Variable:0"
    assert mg.constant(1.0).name == "Const:0"


def test_an_explicit_name_that_looks_generated_never_collides():
    a = square_matrix()
    auto = [mg.matmul(a, a).op.name for _ in range(2)]  # MatMul, MatMul_1
    explicit = mg.identity(a, name="MatMul_1").op.name
    assert explicit not in auto
    assert len({*auto, explicit}) == 3


# --- name scopes --------------------------------------------------------------------


def test_two_ops_in_the_same_scope():
    a = square_matrix()
    with mg.name_scope("block"):
        first = mg.matmul(a, a)
        second = mg.matmul(a, a)
    assert (first.name, second.name) == ("block/MatMul:0", "block/MatMul_1:0")


def test_tensors_made_in_a_scope_carry_it_in_their_name():
    with mg.name_scope("dense_1"):
        w = mg.variable(np.zeros((3, 4)), name="kernel")
    assert w.name == "dense_1/kernel:0"


def test_re_entered_scope_gets_a_new_name():
    a = square_matrix()
    with mg.name_scope("block"):
        first = mg.matmul(a, a)
    with mg.name_scope("block"):
        second = mg.matmul(a, a)
    assert (first.name, second.name) == ("block/MatMul:0", "block_1/MatMul:0")


def test_name_scope_yields_the_scope_it_opened():
    with mg.name_scope("block") as first:
        pass
    with mg.name_scope("block") as second:
        pass
    assert (first, second) == ("block", "block_1")


def test_nested_scopes_join_with_slashes():
    a = square_matrix()
    with mg.name_scope("outer"), mg.name_scope("inner"):
        t = -a
    assert t.name == "outer/inner/Neg:0"


def test_nested_scope_re_entered_through_its_parent():
    a = square_matrix()
    for _ in range(2):
        with mg.name_scope("outer"), mg.name_scope("inner"):
            t = -a
    assert t.name == "outer_1/inner/Neg:0"


def test_a_scope_and_an_op_share_one_namespace():
    a = square_matrix(name="block")
    with mg.name_scope("block"):
        t = -a
    assert t.name == "block_1/Neg:0"


def test_scope_closes_after_the_with_block():
    a = square_matrix()
    with mg.name_scope("block"):
        pass
    assert (-a).name == "Neg:0"


def test_scope_name_with_trailing_slash_re_enters_that_exact_scope():
    a = square_matrix()
    with mg.name_scope("block"):
        first = -a
    with mg.name_scope("block/"):
        second = -a
    assert (first.name, second.name) == ("block/Neg:0", "block/Neg_1:0")


def test_name_scope_none_goes_back_to_the_top_level():
    a = square_matrix()
    with mg.name_scope("outer"), mg.name_scope(None):
        t = -a
    assert t.name == "Neg:0"


# --- reset and uids -----------------------------------------------------------------


def test_reset_default_graph_restarts_names():
    a = square_matrix()
    with mg.name_scope("block"):
        mg.matmul(a, a)
    mg.reset_default_graph()
    a = square_matrix()
    with mg.name_scope("block"):
        t = mg.matmul(a, a)
    assert (a.name, t.name) == ("a:0", "block/MatMul:0")


def test_reset_default_graph_returns_the_new_default_graph():
    old = mg.get_default_graph()
    new = mg.reset_default_graph()
    assert new is mg.get_default_graph()
    assert new is not old
    assert not old.alive and new.alive
    assert new.ops == []


def test_get_uid_is_a_one_based_counter_per_prefix():
    g = mg.get_default_graph()
    assert [g.get_uid("dense") for _ in range(3)] == [1, 2, 3]
    assert g.get_uid("conv2d") == 1


def test_reset_uids_restarts_the_counters():
    g = mg.get_default_graph()
    g.get_uid("dense")
    g.get_uid("dense")
    g.reset_uids()
    assert g.get_uid("dense") == 1


def test_reset_default_graph_restarts_the_uids():
    mg.get_default_graph().get_uid("dense")
    mg.reset_default_graph()
    assert mg.get_default_graph().get_uid("dense") == 1


# --- repr ---------------------------------------------------------------------------


def dense_like():
    x = mg.placeholder((None, 3), name="x")
    with mg.name_scope("dense_1"):
        w = mg.variable(np.ones((3, 4)), name="kernel")
        b = mg.variable(np.zeros(4), name="bias")
        y = mg.relu(mg.bias_add(mg.matmul(x, w), b))
    return x, w, b, y


def test_tensor_repr_matches_the_documented_form():
    *_, y = dense_like()
    assert repr(y) == "<Tensor 'dense_1/Relu:0' shape=(None, 4) dtype=float32>"


def test_variable_repr():
    _, w, b, _ = dense_like()
    assert repr(w) == "<Variable 'dense_1/kernel:0' shape=(3, 4) dtype=float32>"
    assert repr(b) == "<Variable 'dense_1/bias:0' shape=(4,) dtype=float32>"


def test_scalar_tensor_repr():
    assert repr(mg.constant(2.0)) == "<Tensor 'Const:0' shape=() dtype=float32>"


# --- determinism --------------------------------------------------------------------


def build_names():
    x, _, _, y = dense_like()
    loss = mg.mean(mg.square(y - 1.0))
    mg.gradients(loss, [x])
    return [op.name for op in mg.get_default_graph().ops]


def test_building_the_same_graph_after_a_reset_gives_identical_names():
    first = build_names()
    mg.reset_default_graph()
    second = build_names()
    assert first == second
    assert len(set(first)) == len(first)
