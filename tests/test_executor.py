"""The one executor, ``Plan``: compile once, run many times; feeds, updates, freeing, state.

Spec: ARCHITECTURE.md "one executor" (point 4) and "variables hold state" (point 5), and the
update semantics of API.md section 3.1, which ``K.function`` delegates to ``Plan``.
"""

import weakref
from typing import ClassVar

import numpy as np
import pytest

import minikeras.graph as mg
import minikeras.graph.compile as compile_pass
import minikeras.graph.plan as plan_module
import minikeras.graph.topo as topo


def run(fetches, feed=None, updates=()):
    feed = feed or {}
    return mg.Plan(list(fetches), updates=list(updates), feeds=list(feed)).run(feed)


# --- compile once, run many ---------------------------------------------------------


def test_plan_runs_many_times_with_the_same_results():
    x = mg.placeholder((None, 2), name="x")
    plan = mg.Plan([mg.sum(x * x, axis=1)], feeds=[x])
    first = plan.run({x: [[1, 2], [3, 4]]})
    second = plan.run({x: [[1, 2], [3, 4]]})
    np.testing.assert_array_equal(first[0], [5, 25])
    np.testing.assert_array_equal(second[0], first[0])


def test_plan_steps_are_not_rebuilt_between_runs():
    x = mg.placeholder((None, 2), name="x")
    plan = mg.Plan([mg.relu(x) * 2.0], feeds=[x])
    steps = plan.steps
    snapshot = list(steps)
    plan.run({x: np.ones((1, 2))})
    plan.run({x: np.ones((3, 2))})
    assert plan.steps is steps
    assert plan.steps == snapshot


def test_running_never_sorts_the_graph_again(monkeypatch):
    x = mg.placeholder((None, 2), name="x")
    plan = mg.Plan([mg.tanh(x) + 1.0], feeds=[x])

    def no_sorting(*args, **kwargs):
        raise AssertionError("Plan.run walked the graph again")

    monkeypatch.setattr(plan_module, "topo_sort", no_sorting)
    monkeypatch.setattr(mg, "topo_sort", no_sorting)
    monkeypatch.setattr(topo, "topo_sort", no_sorting)
    np.testing.assert_allclose(plan.run({x: np.zeros((2, 2))})[0], np.ones((2, 2)))


def test_building_a_plan_computes_nothing():
    v = mg.variable(np.zeros(2), name="v")
    mg.Plan([v * 2.0], updates=[(v, v + 1.0)])
    np.testing.assert_array_equal(v.get_value(), [0, 0])


def test_results_are_a_list_in_fetch_order_with_duplicates():
    x = mg.placeholder((2,), name="x")
    a, b = x * 2.0, x + 1.0
    out = run([b, a, b], {x: [1.0, 2.0]})
    assert isinstance(out, list) and len(out) == 3
    np.testing.assert_array_equal(out[0], [2, 3])
    np.testing.assert_array_equal(out[1], [2, 4])
    np.testing.assert_array_equal(out[2], [2, 3])


# --- pruning ------------------------------------------------------------------------


def test_ops_not_needed_are_pruned():
    x = mg.placeholder((None, 2), name="x")
    needed = mg.relu(x)
    unneeded = mg.exp(x)
    plan = mg.Plan([needed], feeds=[x])
    assert needed.op in plan.ops
    assert unneeded.op not in plan.ops


def test_ops_are_in_topological_order():
    x = mg.placeholder((None, 2), name="x")
    a = x * 2.0
    b = mg.tanh(a)
    c = a + b
    plan = mg.Plan([c], feeds=[x])
    pos = {op: i for i, op in enumerate(plan.ops)}
    for op in plan.ops:
        for t in op.inputs:
            if t.op in pos:
                assert pos[t.op] < pos[op]


def test_unneeded_placeholder_need_not_be_fed():
    x = mg.placeholder((2,), name="x")
    other = mg.placeholder((2,), name="other")
    _ = other * 3.0
    np.testing.assert_array_equal(run([x * 2.0], {x: [1.0, 2.0]})[0], [2, 4])


# --- feeding ------------------------------------------------------------------------


def test_unfed_placeholder_is_an_error_at_construction_naming_it_and_the_fetch():
    x = mg.placeholder((None, 4), name="x")
    y = mg.identity(x * 2.0, name="y")
    with pytest.raises(ValueError, match=r"Placeholder x:0 .*needed to compute y:0"):
        mg.Plan([y])


def test_unfed_placeholder_needed_by_an_update_names_the_update_value():
    v = mg.variable(np.zeros(4), name="v")
    x = mg.placeholder((4,), name="x")
    new_value = mg.identity(v + x, name="new_value")
    with pytest.raises(ValueError, match=r"x:0 .*needed to compute new_value:0"):
        mg.Plan([], updates=[(v, new_value)])


def test_declared_feed_without_a_value_is_an_error_at_run_time():
    x = mg.placeholder((None, 4), name="x")
    plan = mg.Plan([x * 2.0], feeds=[x])
    with pytest.raises(ValueError, match=r"must feed a value for x:0"):
        plan.run({})


def test_feeding_the_wrong_shape_gives_the_documented_message():
    x = mg.placeholder((None, 4), name="x")
    plan = mg.Plan([x * 2.0], feeds=[x])
    message = "Cannot feed value of shape (5, 3) for placeholder x:0, which has shape (None, 4)"
    with pytest.raises(ValueError) as info:
        plan.run({x: np.zeros((5, 3))})
    assert str(info.value) == message


def test_feeding_the_wrong_rank_is_an_error():
    x = mg.placeholder((None, 4), name="x")
    plan = mg.Plan([x * 2.0], feeds=[x])
    with pytest.raises(ValueError, match=r"shape \(4,\) for placeholder x:0"):
        plan.run({x: np.zeros(4)})


def test_feeding_a_value_that_is_not_a_number_names_the_placeholder():
    x = mg.placeholder((2,), name="x")
    plan = mg.Plan([x * 2.0], feeds=[x])
    with pytest.raises(ValueError, match="x:0"):
        plan.run({x: ["a", "b"]})


def test_none_dimension_accepts_any_size():
    x = mg.placeholder((None, 2), name="x")
    plan = mg.Plan([mg.sum(x)], feeds=[x])
    assert plan.run({x: np.ones((1, 2))})[0] == 2
    assert plan.run({x: np.ones((7, 2))})[0] == 14


@pytest.mark.parametrize(
    "value",
    [[[1, 2], [3, 4]], np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float64")],
    ids=["list", "float64"],
)
def test_fed_values_are_cast_to_the_placeholder_dtype(value):
    x = mg.placeholder((None, 2), name="x")
    fed, doubled = run([x, x * 2.0], {x: value})
    assert fed.dtype == np.float32 and doubled.dtype == np.float32
    np.testing.assert_array_equal(doubled, [[2, 4], [6, 8]])


def test_feeding_an_intermediate_tensor_cuts_the_graph():
    x = mg.placeholder((None, 2), name="x")
    h = mg.exp(x)
    y = h + 1.0
    plan = mg.Plan([y], feeds=[h])  # x need not be fed
    assert h.op not in plan.ops and x.op not in plan.ops
    np.testing.assert_array_equal(plan.run({h: [[1.0, 2.0]]})[0], [[2, 3]])


def test_placeholder_with_default_is_used_when_not_fed():
    d = mg.placeholder_with_default(np.float32(3.0), name="d")
    np.testing.assert_array_equal(run([d * 2.0])[0], 6.0)


def test_placeholder_with_default_declared_as_feed_may_be_left_out():
    d = mg.placeholder_with_default(np.float32(3.0), name="d")
    plan = mg.Plan([d * 2.0], feeds=[d])
    assert plan.run({})[0] == 6.0
    assert plan.run({d: 5})[0] == 10.0
    assert plan.run({})[0] == 6.0


# --- updates ------------------------------------------------------------------------


def test_outputs_are_computed_from_pre_update_values():
    v = mg.variable([1.0, 2.0], name="v")
    plan = mg.Plan([v, v * 10.0], updates=[(v, v + 1.0)])
    before, scaled = plan.run()
    np.testing.assert_array_equal(before, [1, 2])
    np.testing.assert_array_equal(scaled, [10, 20])
    np.testing.assert_array_equal(v.get_value(), [2, 3])


def test_each_run_applies_the_updates_once():
    v = mg.variable(0.0, name="v")
    plan = mg.Plan([v], updates=[(v, v + 1.0)])
    seen = [float(plan.run()[0]) for _ in range(3)]
    assert seen == [0.0, 1.0, 2.0]
    assert v.get_value() == 3.0


def test_updates_are_simultaneous_a_swap_really_swaps():
    a = mg.variable([1.0, 2.0], name="a")
    b = mg.variable([3.0, 4.0], name="b")
    run([], updates=[(a, b), (b, a)])
    np.testing.assert_array_equal(a.get_value(), [3, 4])
    np.testing.assert_array_equal(b.get_value(), [1, 2])


def test_update_values_read_pre_update_state_of_other_variables():
    a = mg.variable(1.0, name="a")
    b = mg.variable(10.0, name="b")
    run([], updates=[(a, a + b), (b, a * 2.0)])
    assert (a.get_value(), b.get_value()) == (11.0, 2.0)


def test_update_value_may_be_a_python_number():
    v = mg.variable([1.0, 2.0], name="v")
    run([], updates=[(v, 0.5)])
    np.testing.assert_array_equal(v.get_value(), [0.5, 0.5])


@pytest.mark.parametrize(
    ("make", "expected"),
    [(mg.assign, [5, 5]), (mg.assign_add, [6, 7]), (mg.assign_sub, [-4, -3])],
    ids=["assign", "assign_add", "assign_sub"],
)
def test_assign_op_given_as_update(make, expected):
    v = mg.variable([1.0, 2.0], name="v")
    run([], updates=[make(v, 5.0)])
    np.testing.assert_array_equal(v.get_value(), expected)


@pytest.mark.parametrize(
    ("make", "expected"),
    [(mg.assign, [5, 5]), (mg.assign_add, [6, 7]), (mg.assign_sub, [-4, -3])],
    ids=["assign", "assign_add", "assign_sub"],
)
def test_fetched_assign_op_returns_the_new_value_and_applies_it_after_the_run(make, expected):
    v = mg.variable([1.0, 2.0], name="v")
    old, new = run([v, make(v, 5.0)])
    np.testing.assert_array_equal(old, [1, 2])
    np.testing.assert_array_equal(new, expected)
    np.testing.assert_array_equal(v.get_value(), expected)


def test_assign_op_not_run_changes_nothing():
    v = mg.variable([1.0, 2.0], name="v")
    mg.assign(v, 5.0)
    run([v * 1.0])
    np.testing.assert_array_equal(v.get_value(), [1, 2])


def test_assign_op_given_as_an_op_object():
    v = mg.variable(1.0, name="v")
    run([], updates=[mg.assign_add(v, 2.0).op])
    assert v.get_value() == 3.0


def test_assign_op_inside_an_update_value_is_applied():
    v = mg.variable(0.0, name="v")
    w = mg.variable(1.0, name="w")
    run([], updates=[(v, mg.assign_add(w, 1.0))])
    assert (v.get_value(), w.get_value()) == (2.0, 2.0)


def test_an_update_that_is_not_a_pair_or_assign_op_is_a_type_error():
    v = mg.variable(1.0, name="v")
    with pytest.raises(TypeError, match="update must be"):
        mg.Plan([], updates=[v + 1.0])


@pytest.mark.parametrize(
    "updates",
    [
        lambda v, w: [(v, w), (v, w * 2.0)],
        lambda v, w: [mg.assign(v, 1.0), mg.assign_add(v, 2.0)],
        lambda v, w: [(v, w), mg.assign_sub(v, 1.0)],
    ],
    ids=["pairs", "assign-ops", "mixed"],
)
def test_variable_updated_twice_is_an_error_naming_it(updates):
    v = mg.variable([1.0, 2.0], name="v")
    w = mg.variable([3.0, 4.0], name="w")
    with pytest.raises(ValueError, match=r"Variable v:0 is updated twice"):
        mg.Plan([], updates=updates(v, w))


def test_fetched_assign_plus_update_of_the_same_variable_is_an_error():
    v = mg.variable([1.0, 2.0], name="v")
    with pytest.raises(ValueError, match="v:0"):
        mg.Plan([mg.assign(v, 0.0)], updates=[(v, v + 1.0)])


def test_assign_of_an_impossible_shape_is_an_error_at_build_time():
    v = mg.variable(np.zeros(3), name="v")
    with pytest.raises(ValueError, match=r"variable v:0 of shape \(3,\) with a value of shape \(4,\)"):
        mg.assign(v, np.ones(4, dtype="float32"))


def test_update_pair_of_an_impossible_shape_is_an_error_at_construction():
    v = mg.variable(np.zeros(3), name="v")
    new_value = mg.constant(np.ones(4, dtype="float32"))
    with pytest.raises(ValueError, match=r"variable v:0 of shape \(3,\) with a value of shape \(4,\)"):
        mg.Plan([], updates=[(v, new_value)])


def test_update_of_an_impossible_shape_at_run_time_names_the_variable_and_both_shapes():
    v = mg.variable(np.zeros(3), name="v")
    x = mg.placeholder((None,), name="x")
    plan = mg.Plan([], updates=[(v, x * 1.0)], feeds=[x])
    with pytest.raises(ValueError, match=r"variable v:0 .*shape \(4,\).*shape \(3,\)"):
        plan.run({x: np.ones(4)})


def test_update_value_broadcasts_to_the_variable_shape():
    v = mg.variable(np.zeros((2, 3)), name="v")
    run([], updates=[(v, mg.constant(np.array([1.0, 2.0, 3.0], dtype="float32")))])
    np.testing.assert_array_equal(v.get_value(), [[1, 2, 3], [1, 2, 3]])


# --- failed runs change nothing -----------------------------------------------------


def test_a_run_failing_in_an_op_changes_no_variable():
    a = mg.variable([1.0, 2.0], name="a")
    w = mg.variable(np.ones((3, 2)), name="w")
    x = mg.placeholder((None, None), name="x")
    out = mg.matmul(x, w)  # inner size only known at run time
    plan = mg.Plan([out], updates=[(a, a + 1.0), (w, w * 2.0)], feeds=[x])
    with pytest.raises(ValueError):
        plan.run({x: np.ones((2, 4))})
    np.testing.assert_array_equal(a.get_value(), [1, 2])
    np.testing.assert_array_equal(w.get_value(), np.ones((3, 2)))


def test_a_run_failing_in_an_update_changes_no_variable():
    a = mg.variable([1.0, 2.0], name="a")
    b = mg.variable(np.zeros(3), name="b")
    x = mg.placeholder((None,), name="x")
    plan = mg.Plan([], updates=[(a, a + 1.0), (b, x * 1.0)], feeds=[x])
    with pytest.raises(ValueError, match="b:0"):
        plan.run({x: np.ones(4)})
    np.testing.assert_array_equal(a.get_value(), [1, 2])
    np.testing.assert_array_equal(b.get_value(), [0, 0, 0])


def test_the_plan_still_works_after_a_failed_run():
    a = mg.variable(0.0, name="a")
    x = mg.placeholder((None,), name="x")
    plan = mg.Plan([mg.sum(x)], updates=[(a, a + 1.0)], feeds=[x])
    with pytest.raises(ValueError):
        plan.run({x: np.ones((2, 2))})
    assert plan.run({x: np.ones(3)})[0] == 3.0
    assert a.get_value() == 1.0


def test_exception_inside_a_step_gets_a_note_naming_the_op():
    w = mg.variable(np.ones((3, 2)), name="w")
    x = mg.placeholder((None, None), name="x")
    with mg.name_scope("dense_1"):
        out = mg.matmul(x, w)
    plan = mg.Plan([out], feeds=[x])
    with pytest.raises(ValueError) as info:
        plan.run({x: np.ones((2, 4))})
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "dense_1/MatMul" in notes
    assert "MatMul op" in notes
    assert "x:0: (2, 4)" in notes and "w:0: (3, 2)" in notes


# --- freeing intermediate buffers ---------------------------------------------------


def test_steps_free_an_intermediate_after_its_last_use():
    x = mg.placeholder((None, 2), name="x")
    a = x * 2.0
    b = mg.tanh(a)
    c = mg.sum(b)
    plan = mg.Plan([c], feeds=[x])
    kinds = [step.op.y for step in plan.steps]
    assert kinds == [a, b, c]
    step_a, step_b, step_c = plan.steps
    assert step_b.inputs == (step_a.out,) and step_a.out in step_b.free
    assert step_c.inputs == (step_b.out,) and step_b.out in step_c.free
    assert all(step_c.out not in step.free for step in plan.steps)


def test_fetched_and_update_slots_are_never_freed():
    v = mg.variable(np.zeros(2), name="v")
    x = mg.placeholder((2,), name="x")
    a = x * 2.0
    b = a + 1.0
    c = b * 3.0
    plan = mg.Plan([a, c], updates=[(v, b)], feeds=[x])
    slot = {step.op.y: step.out for step in plan.steps}
    freed = {s for step in plan.steps for s in step.free}
    assert slot[a] not in freed and slot[b] not in freed and slot[c] not in freed
    fa, fc = plan.run({x: [1.0, 2.0]})
    np.testing.assert_array_equal(fa, [2, 4])
    np.testing.assert_array_equal(fc, [9, 15])
    np.testing.assert_array_equal(v.get_value(), [3, 5])


class Record(mg.Op):
    """``2 * x``, remembering a weak reference to every array it produced."""

    produced: ClassVar[list] = []

    def forward(self, x):
        y = x * 2.0
        Record.produced.append(weakref.ref(y))
        return y


class Probe(mg.Op):
    """The identity, noting whether the arrays ``Record`` made are still alive."""

    alive: ClassVar[list] = []

    def forward(self, x):
        Probe.alive.append([ref() is not None for ref in Record.produced])
        return x


@pytest.mark.usefixtures("plain_runs")
def test_intermediate_array_is_released_during_the_run():
    Record.produced, Probe.alive = [], []
    x = mg.placeholder((None, 1000), name="x")
    big = Record.apply(x)
    total = Probe.apply(mg.sum(big))  # big's last use is the Sum, before the Probe
    plan = mg.Plan([total], feeds=[x])
    assert plan.run({x: np.ones((10, 1000))})[0] == 20000
    assert Probe.alive == [[False]]


@pytest.mark.usefixtures("plain_runs")
def test_fetched_intermediate_is_kept_alive():
    Record.produced, Probe.alive = [], []
    x = mg.placeholder((None, 3), name="x")
    big = Record.apply(x)
    total = Probe.apply(mg.sum(big))
    plan = mg.Plan([big, total], feeds=[x])
    fetched, _ = plan.run({x: np.ones((2, 3))})
    assert Probe.alive == [[True]]
    np.testing.assert_array_equal(fetched, np.full((2, 3), 2.0))


# --- variables' values are never shared with the user -------------------------------


@pytest.mark.parametrize(
    "view",
    [
        lambda v: v,
        lambda v: mg.identity(v),
        lambda v: mg.reshape(v, (6,)),
        lambda v: v.T,
        lambda v: v[0],
        lambda v: mg.stop_gradient(v),
    ],
    ids=["variable", "identity", "reshape", "transpose", "slice", "stop_gradient"],
)
def test_mutating_a_fetched_value_does_not_change_the_variable(view):
    v = mg.variable(np.arange(6.0).reshape(2, 3), name="v")
    (out,) = run([view(v)])
    out[...] = -1.0
    np.testing.assert_array_equal(v.get_value(), np.arange(6.0).reshape(2, 3))


def test_mutating_a_fetched_update_value_does_not_change_the_variable():
    v = mg.variable([1.0, 2.0], name="v")
    (new,) = run([mg.assign_add(v, 1.0)])
    new[...] = -1.0
    np.testing.assert_array_equal(v.get_value(), [2, 3])


def test_mutating_a_fetched_constant_does_not_change_the_graph():
    c = mg.constant(np.array([1.0, 2.0], dtype="float32"))
    plan = mg.Plan([c])
    out = plan.run()[0]
    if out.flags.writeable:
        out[...] = -1.0
    np.testing.assert_array_equal(plan.run()[0], [1, 2])


def test_mutating_a_fed_array_after_an_update_does_not_change_the_variable():
    v = mg.variable(np.zeros(3), name="v")
    x = mg.placeholder((3,), name="x")
    plan = mg.Plan([], updates=[(v, x)], feeds=[x])
    fed = np.ones(3, dtype="float32")
    plan.run({x: fed})
    fed[...] = 5.0
    np.testing.assert_array_equal(v.get_value(), [1, 1, 1])


def test_get_value_returns_a_copy():
    v = mg.variable([1.0, 2.0], name="v")
    got = v.get_value()
    got[...] = -1.0
    np.testing.assert_array_equal(v.get_value(), [1, 2])


def test_set_value_copies_and_casts():
    v = mg.variable([1.0, 2.0], name="v")
    source = np.array([3.0, 4.0])
    v.set_value(source)
    source[...] = -1.0
    np.testing.assert_array_equal(v.get_value(), [3, 4])
    assert v.get_value().dtype == np.float32


def test_set_value_with_the_wrong_shape_raises_naming_both_shapes():
    v = mg.variable(np.zeros((2, 3)), name="v")
    with pytest.raises(ValueError, match=r"shape \(3,\) to variable v:0, which has shape \(2, 3\)"):
        v.set_value(np.zeros(3))
    np.testing.assert_array_equal(v.get_value(), np.zeros((2, 3)))


def test_variable_copies_its_initial_value():
    init = np.array([1.0, 2.0])
    v = mg.variable(init, name="v")
    init[...] = -1.0
    np.testing.assert_array_equal(v.get_value(), [1, 2])


def test_set_value_is_seen_by_an_existing_plan():
    v = mg.variable([1.0, 2.0], name="v")
    plan = mg.Plan([v * 2.0])
    v.set_value([5.0, 6.0])
    np.testing.assert_array_equal(plan.run()[0], [10, 12])


# --- random ops ---------------------------------------------------------------------


def seeded_draws(make):
    mg.reset_default_graph()
    plan = mg.Plan([make((2, 3), seed=1234)])
    return [plan.run()[0] for _ in range(3)]


@pytest.mark.parametrize("make", [mg.random_uniform, mg.random_normal], ids=["uniform", "normal"])
def test_seeded_random_op_gives_the_same_sequence_in_two_fresh_graphs(make):
    first = seeded_draws(make)
    second = seeded_draws(make)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [mg.random_uniform, mg.random_normal], ids=["uniform", "normal"])
def test_seeded_random_op_draws_anew_on_each_run(make):
    draws = seeded_draws(make)
    assert not np.array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[1], draws[2])


def test_random_uniform_range_shape_and_dtype():
    (r,) = run([mg.random_uniform((100,), minval=2.0, maxval=3.0, seed=0)])
    assert r.shape == (100,) and r.dtype == np.float32
    assert np.all((r >= 2.0) & (r < 3.0))


def test_one_random_tensor_fetched_twice_in_a_run_is_one_draw():
    r = mg.random_uniform((4,), seed=7)
    a, b = run([r, r * 1.0])
    np.testing.assert_array_equal(a, b)


def test_feeding_a_tensor_that_is_not_a_feed_is_an_error() -> None:
    x = mg.placeholder((), name="x")
    z = mg.placeholder((), name="z")
    plan = mg.Plan([x * 2], feeds=[x])
    with pytest.raises(ValueError, match="z:0 is fed but is not one of this plan's feeds"):
        plan.run({x: 1.0, z: 2.0})


def test_fetching_a_fed_tensor_returns_a_copy() -> None:
    x = mg.placeholder((3,), name="x")
    a = np.ones(3, np.float32)
    (out,) = mg.Plan([x], feeds=[x]).run({x: a})
    assert out is not a and np.array_equal(out, a)


def test_updates_never_share_an_array_with_a_feed_another_variable_or_a_fetch():
    x = mg.placeholder((3,), name="x")
    v, u = mg.variable(np.zeros(3), name="v"), mg.variable(np.zeros(3), name="u")
    fed = np.ones(3, np.float32)
    mg.Plan([], updates=[mg.assign(v, x)], feeds=[x]).run({x: fed})
    fed[0] = 42
    assert v.get_value()[0] == 1
    mg.Plan([], updates=[mg.assign(u, v)]).run()
    assert u.value is not v.value
    t = v * 2
    (out,) = mg.Plan([t], updates=[mg.assign(u, t)]).run()
    out[0] = -1
    assert u.get_value()[0] == 2


def test_two_variables_updated_with_one_value_get_two_arrays():
    v = mg.variable(np.zeros(3), name="v")
    w1, w2 = mg.variable(np.zeros(3), name="w1"), mg.variable(np.zeros(3), name="w2")
    s = v + 1
    mg.Plan([], updates=[mg.assign(w1, s), mg.assign(w2, s)]).run()
    assert w1.value is not w2.value


# --- the plan as Python source ------------------------------------------------------


def test_plan_source_is_one_line_per_step_naming_each_op():
    x = mg.placeholder((None, 2), name="x")
    with mg.name_scope("dense_1"):
        y = mg.tanh(x * 2.0)
    plan = mg.Plan([mg.sum(y)], feeds=[x])
    calls = [line for line in plan.source.splitlines() if ")  # " in line]
    assert len(calls) == len(plan.steps) == 3
    for line, step in zip(calls, plan.steps):
        assert step.op.type in line and step.op.y.name in line


def test_a_traced_run_calls_back_for_every_step_in_order():
    x = mg.placeholder((3,), name="x")
    y = mg.exp(x) * 2.0
    plan = mg.Plan([y], feeds=[x])
    seen: list = []

    def trace(op, args):
        seen.append((op.type, [np.shape(a) for a in args]))
        return op.forward(*args)

    (out,) = plan.run({x: np.zeros(3)}, call=trace)
    assert seen == [("Exp", [(3,)]), ("Mul", [(3,), ()])]
    np.testing.assert_array_equal(out, np.full(3, 2.0, dtype=np.float32))


def test_recorded_run_keeps_every_value_and_gives_the_same_results():
    x = mg.placeholder((None, 3), name="x")
    a = x * 2.0
    b = mg.exp(a)
    c = mg.sum(b)
    plan = mg.Plan([c], feeds=[x])
    value = np.arange(6.0).reshape(2, 3)
    (plain,) = plan.run({x: value})
    (recorded,) = plan.run({x: value}, record=True)
    assert plain == recorded
    np.testing.assert_array_equal(plan.last_values[a], value * 2)
    np.testing.assert_allclose(plan.last_values[b], np.exp(value * 2))


# --- donation: a dying array takes the next result ------------------------------------


def _donations(plan):
    into = plan.compiled.into
    return {step.op.y: into[k] for k, step in enumerate(plan.steps) if into[k] >= 0}


def test_a_chain_of_elementwise_ops_reuses_one_array():
    x = mg.placeholder((None, 4), name="x")
    a = x * 2.0  # the fed x is not the plan's to overwrite
    b = mg.exp(a)
    c = -b
    plan = mg.Plan([c], feeds=[x])
    slots = {step.op.y: step.out for step in plan.steps}
    assert _donations(plan) == {b: slots[a], c: slots[b]}
    assert "out=" in plan.source
    value = np.arange(8.0).reshape(2, 4)
    (out,) = plan.run({x: value})
    np.testing.assert_allclose(out, -np.exp(value * 2))
    np.testing.assert_array_equal(value, np.arange(8.0).reshape(2, 4))


def test_a_donation_into_an_array_surely_in_c_order_is_written_without_a_check():
    # A 2-D product is made in C order, and so is a ufunc's result written into it; a fed
    # array may be in any order, so what is computed from it alone is checked at run time.
    x = mg.placeholder((None, 3), name="x")
    w = mg.variable(np.ones((3, 2)), name="w")
    h = mg.matmul(x, w)
    y = mg.exp(-(h + 1.0))  # the add, neg and exp write into the product's array
    z = mg.exp(x * 2.0)  # its array comes from the fed x
    plan = mg.Plan([y, z], feeds=[x])
    donating = {line.split("  # ")[1].split()[1]: line for line in plan.source.splitlines() if "out=" in line}
    assert sorted(donating) == ["Add:0", "Exp:0", "Exp_1:0", "Neg:0"], plan.source
    assert all(".flags" not in donating[name] for name in ("Add:0", "Neg:0", "Exp:0")), plan.source
    assert ".flags.c_contiguous" in donating["Exp_1:0"], plan.source
    xf = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    yv, zv = plan.run({x: xf})
    np.testing.assert_allclose(yv, np.exp(-(xf @ np.ones((3, 2)) + 1.0)))
    np.testing.assert_allclose(zv, np.exp(xf * 2.0))


@pytest.mark.usefixtures("plain_runs")
def test_donation_halves_the_peak_memory_of_a_chain():
    import tracemalloc

    x = mg.placeholder((None,), name="x")
    y = mg.sqrt(mg.exp(mg.square(x * 0.5)) + 1.0)
    plan = mg.Plan([y], feeds=[x])
    value = np.random.default_rng(0).random(1_000_000)
    plan.run({x: value})
    tracemalloc.start()
    plan.run({x: value})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.5 * value.nbytes, f"peak {peak / value.nbytes:.2f} arrays: intermediates were not reused"


def test_an_array_still_needed_later_is_not_donated():
    x = mg.placeholder((3,), name="x")
    a = x * 2.0
    b = mg.exp(a)  # a is read again below: exp must not overwrite it
    c = a + b
    plan = mg.Plan([c], feeds=[x])
    assert b not in _donations(plan)
    value = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(plan.run({x: value})[0], value * 2 + np.exp(value * 2))


def test_an_array_seen_through_a_view_is_not_donated():
    x = mg.placeholder((2, 3), name="x")
    a = x * 2.0
    view = mg.reshape(a, (3, 2))  # shares a's memory
    b = mg.exp(a)  # a's last reader, but the view is fetched after it
    plan = mg.Plan([view, b], feeds=[x])
    assert b not in _donations(plan)
    value = np.arange(6.0).reshape(2, 3)
    got_view, got_b = plan.run({x: value})
    np.testing.assert_array_equal(got_view, (value * 2).reshape(3, 2))
    np.testing.assert_allclose(got_b, np.exp(value * 2))


def test_an_update_value_is_not_donated_to_a_later_step():
    v = mg.variable(np.full(3, 2.0), name="v")
    new = v - 1.0
    after = mg.exp(mg.assign(v, new))  # reads the assigned array itself
    also = new * 3.0  # new's last reader: writing 3.0 into it would change what v gets
    plan = mg.Plan([after, also])
    got_after, got_also = plan.run()
    np.testing.assert_array_equal(v.get_value(), np.ones(3))
    np.testing.assert_allclose(got_after, np.full(3, np.e))
    np.testing.assert_array_equal(got_also, np.full(3, 3.0))


def test_a_variable_is_never_written_into():
    v = mg.variable(np.full(3, 2.0), name="v")
    y = mg.square(mg.identity(v)) + 1.0
    plan = mg.Plan([y])
    for _ in range(2):
        np.testing.assert_array_equal(plan.run()[0], np.full(3, 5.0))
    np.testing.assert_array_equal(v.get_value(), np.full(3, 2.0))


class Passthrough(mg.Op):
    """A user's op that returns its input as it is (and does not say so)."""

    def forward(self, x):
        return x


def test_an_op_from_outside_the_library_is_not_trusted_with_memory():
    assert Passthrough.returns_view and not mg.Op.returns_view
    x = mg.placeholder((3,), name="x")
    a = x * 2.0
    same = Passthrough.apply(a)
    b = mg.exp(a)  # a's last reader; `same` is the very same array, fetched afterwards
    plan = mg.Plan([same, b], feeds=[x])
    assert b not in _donations(plan)
    got_same, _ = plan.run({x: np.ones(3)})
    np.testing.assert_array_equal(got_same, np.full(3, 2.0))


def test_broadcasting_ops_donate_only_when_the_shape_is_known_to_fit():
    x = mg.placeholder((None, 3), name="x")
    z = mg.placeholder((None, 3), name="z")
    a = mg.exp(x)
    c = a * z  # at run time z may be (4, 3) while a is (1, 3): a cannot hold the product
    plan = mg.Plan([c], feeds=[x, z])
    assert c not in _donations(plan)
    out = plan.run({x: np.zeros((1, 3)), z: np.ones((4, 3))})[0]
    np.testing.assert_array_equal(out, np.ones((4, 3)))


# --- long plans: a loop on the first run, then compiled in pieces, same results --------------


def _mixed_plan():
    v = mg.variable(np.full(3, 2.0), name="v")
    x = mg.placeholder((None, 3), name="x")
    a = mg.exp(x * 0.5)
    view = mg.reshape(a, (-1,))
    b = mg.relu(a - 1.0) * v
    new = v - mg.sum(b, axis=0) * 0.1
    plan = mg.Plan([view, b, mg.sum(b)], updates=[(v, new)], feeds=[x])
    return v, x, plan


def test_a_plan_past_the_compile_limit_runs_a_loop_then_compiled_pieces_with_the_same_results(monkeypatch):
    value = np.arange(6.0).reshape(2, 3) / 4
    v, x, plan = _mixed_plan()
    whole = [plan.run({x: value}) + [v.get_value()] for _ in range(3)]
    mg.reset_default_graph()
    monkeypatch.setattr(compile_pass, "COMPILE_LIMIT", 2)
    v, x, plan = _mixed_plan()
    assert len(plan.compiled.chunks) == 5 and plan.compiled.run == plan.compiled._loop  # 10 steps
    assert any(k >= 0 for k in plan.compiled.into)
    looped = plan.run({x: value}) + [v.get_value()]
    assert plan.compiled.run == plan.compiled._compile_and_run  # the second run compiles
    pieces = [looped] + [plan.run({x: value}) + [v.get_value()] for _ in range(2)]
    assert "run_4" in plan.compiled.codes.values()
    for expected, got in zip(whole, pieces):
        for a, b in zip(expected, got):
            np.testing.assert_array_equal(a, b)
    assert "def run_0(vals)" in plan.source and "def run_4(vals)" in plan.source
    assert "np.exp" in plan.source


@pytest.mark.parametrize("runs_before", [0, 1, 2])
def test_an_error_in_a_long_plan_names_the_op_and_shapes(monkeypatch, runs_before):
    monkeypatch.setattr(compile_pass, "COMPILE_LIMIT", 1)
    w = mg.variable(np.ones((3, 2)), name="w")
    x = mg.placeholder((None, None), name="x")
    with mg.name_scope("dense_1"):
        out = mg.relu(mg.matmul(mg.exp(x), w))
    plan = mg.Plan([out], feeds=[x])
    for _ in range(runs_before):
        plan.run({x: np.ones((2, 3))})
    with pytest.raises(ValueError) as info:
        plan.run({x: np.ones((2, 4))})
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "dense_1/MatMul" in notes and "dense_1/Exp:0: (2, 4)" in notes and "w:0: (3, 2)" in notes
