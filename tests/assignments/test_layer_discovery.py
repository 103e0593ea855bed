"""Task ``layer_discovery``: how ``Model(inputs, outputs)`` finds its layers
(``Network._map_graph_network`` in ``minikeras/engine/network.py``).

Walking back from the outputs (``tensor._keras_history`` -> layer -> node -> the layers that
made the node's inputs) finds every node and layer. The method fills:

- ``_network_nodes``: ``"<layer name>_ib-<node index>"`` for each node met;
- ``_nodes_by_depth`` and ``_layers_by_depth``: ``{depth: [...]}``, depth 0 at the outputs,
  a node one deeper than the deepest node that uses its outputs; a layer as deep as its
  deepest node;
- ``_layers``: deepest first (the inputs), ties in the order the walk first met them;

and raises ``ValueError("Graph disconnected: ...")`` when a node needs a tensor that the
model's inputs do not give, and ``ValueError`` when two layers share a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras as keras
from minikeras import backend as K
from minikeras import layers

pytestmark = pytest.mark.task_layer_discovery


def names(items: Sequence[object]) -> list[str]:
    return [item.name for item in items]  # type: ignore[attr-defined]


def assert_layers(model: keras.Model, want: list[str], why: str) -> None:
    got = names(model.layers)
    assert got == want, (
        f"model.layers: expected {want}, received {got}.\n{why}\nHint: _layers lists the layers "
        "deepest first (the inputs have the largest depth); layers of equal depth in the order "
        "the walk from the outputs first met them.")


def dense(units: int, name: str) -> layers.Dense:
    return layers.Dense(units, name=name, kernel_initializer="glorot_uniform")


# --- hand-built models with known answers ------------------------------------------------


def test_a_chain() -> None:
    K.clear_session()
    x = keras.Input(shape=(4,), name="x")
    y = dense(2, "c")(dense(3, "b")(dense(5, "a")(x)))
    assert_layers(keras.Model(x, y), ["x", "a", "b", "c"], "A chain: its layers from input to output.")


def test_branches_are_ordered_by_depth_then_by_discovery() -> None:
    K.clear_session()
    x = keras.Input(shape=(3,), name="x")
    long = dense(3, "long_2")(dense(3, "long_1")(x))
    short = dense(3, "short")(x)
    model = keras.Model(x, layers.Add(name="add")([long, short]))
    assert_layers(model, ["x", "long_1", "long_2", "short", "add"],
                  "long_1 is 2 steps from the output, long_2 and short 1 step: long_1 comes first.")
    depths = {d: sorted(names(ls)) for d, ls in model._layers_by_depth.items()}
    assert depths == {0: ["add"], 1: ["long_2", "short"], 2: ["long_1"], 3: ["x"]}, (
        "_layers_by_depth (each list sorted here): expected {0: ['add'], 1: ['long_2', 'short'], "
        f"2: ['long_1'], 3: ['x']}}, received {depths}")
    swapped = keras.Model(x, layers.Add(name="add_swapped")([short, long]))
    assert_layers(swapped, ["x", "long_1", "short", "long_2", "add_swapped"],
                  "Same depths, but Add now lists short first: the walk meets short before long_2.")


def test_several_inputs_and_outputs() -> None:
    K.clear_session()
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(3,), name="b")
    ha, hb = dense(3, "da")(a), dense(3, "db")(b)
    merged = layers.Add(name="add")([ha, hb])
    out1, out2 = dense(1, "out1")(merged), dense(2, "out2")(hb)
    model = keras.Model([a, b], [out1, out2])
    assert_layers(model, ["a", "b", "da", "db", "add", "out1", "out2"],
                  "Two inputs (depth 3), then da and db (2), add (1), the two outputs (0).")
    assert model._network_nodes == {"a_ib-0", "b_ib-0", "da_ib-0", "db_ib-0", "add_ib-0",
                                     "out1_ib-0", "out2_ib-0"}, (
        f"_network_nodes: expected one '<layer>_ib-0' per layer, received {sorted(model._network_nodes)}")


def test_a_shared_layer_is_listed_once_at_its_deepest_node() -> None:
    K.clear_session()
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(3,), name="b")
    shared = dense(3, "shared")
    deep = dense(3, "deep")(shared(a))
    model = keras.Model([a, b], layers.Add(name="add")([deep, shared(b)]))
    assert_layers(model, ["a", "shared", "b", "deep", "add"],
                  "shared is called twice (nodes at depths 2 and 1): the layer takes the larger, 2, "
                  "like b;\nthe walk from add meets shared (through deep) before b.")
    assert model._network_nodes == {"a_ib-0", "b_ib-0", "shared_ib-0", "shared_ib-1", "deep_ib-0",
                                    "add_ib-0"}, (
        f"_network_nodes: expected both of shared's nodes (shared_ib-0 and shared_ib-1); "
        f"received {sorted(model._network_nodes)}")
    depths = {d: sorted(n.outbound_layer.name for n in ns) for d, ns in model._nodes_by_depth.items()}
    assert depths == {0: ["add"], 1: ["deep", "shared"], 2: ["b", "shared"], 3: ["a"]}, (
        "_nodes_by_depth (by the nodes' layer names): expected {0: ['add'], 1: ['deep', 'shared'], "
        f"2: ['b', 'shared'], 3: ['a']}}, received {depths}")


def test_layers_that_do_not_lead_to_the_outputs_are_left_out() -> None:
    K.clear_session()
    x = keras.Input(shape=(3,), name="x")
    h = dense(3, "hidden")(x)
    dense(2, "elsewhere")(x)  # called on x, but not on the way to the outputs
    full = keras.Model(x, dense(1, "out")(h))
    assert_layers(full, ["x", "hidden", "out"], "'elsewhere' uses x, but the outputs do not need it.")
    assert_layers(keras.Model(x, h), ["x", "hidden"], "An inner model: the layers up to `hidden` only.")


def test_a_disconnected_graph_is_an_error() -> None:
    K.clear_session()
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(3,), name="b")
    out = dense(1, "out")(layers.Add(name="add")([a, b]))
    try:
        keras.Model(a, out)
    except ValueError as e:
        assert "Graph disconnected" in str(e), (
            f"expected the message to start 'Graph disconnected: cannot obtain value for tensor ...'; "
            f"received {e}")
        return
    raise AssertionError(
        "Model(a, out) must raise ValueError('Graph disconnected: ...'): `add` needs input b, which "
        "is not among the model's inputs.\nHint: after ordering the nodes, go from the deepest to "
        "the shallowest and check each node's input tensors were given or computed already.")


def test_two_layers_with_one_name_are_an_error() -> None:
    K.clear_session()
    x = keras.Input(shape=(3,), name="x")
    y = dense(2, "twin")(dense(2, "twin")(x))
    with pytest.raises(ValueError, match="unique"):
        keras.Model(x, y)


# --- random functional models --------------------------------------------------------------


class Step(NamedTuple):
    """``kind`` is 'dense' (a new layer), 'shared' (call dense ``layer`` again) or 'add'."""

    kind: str
    args: tuple[int, ...]
    layer: int = -1


@st.composite
def functional_graphs(draw: st.DrawFn) -> tuple[int, list[Step]]:
    """A random DAG of Dense and Add layers over one or two inputs, every tensor of width 3."""
    n_inputs = draw(st.integers(1, 2))
    n_tensors, dense_steps, steps = n_inputs, [], []
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["dense", "add", "shared"] if dense_steps else ["dense", "add"]))
        if kind == "add" and n_tensors >= 2:
            args = tuple(draw(st.lists(st.integers(0, n_tensors - 1), min_size=2, max_size=2, unique=True)))
            steps.append(Step("add", args))
        elif kind == "shared":
            steps.append(Step("shared", (draw(st.integers(0, n_tensors - 1)),), draw(st.sampled_from(dense_steps))))
        else:
            dense_steps.append(len(steps))
            steps.append(Step("dense", (draw(st.integers(0, n_tensors - 1)),)))
        n_tensors += 1
    used = {k for s in steps for k in s.args}
    if any(k not in used for k in range(n_inputs)):  # every input must reach an output
        steps.append(Step("add", (0, n_inputs - 1)) if n_inputs == 2 else Step("dense", (0,)))
    return n_inputs, steps


def build_model(n_inputs: int, steps: list[Step]) -> tuple[keras.Model, list[layers.Layer], list[tuple[str, str]]]:
    """The model, its layers in creation order, and every (producer, consumer) layer-name edge."""
    K.clear_session()
    inputs = [keras.Input(shape=(3,), name=f"in{i}") for i in range(n_inputs)]
    tensors, made, edges, by_step = list(inputs), [t._keras_history[0] for t in inputs], [], {}
    for i, step in enumerate(steps):
        if step.kind == "add":
            layer = layers.Add(name=f"add{i}")
        elif step.kind == "shared":
            layer = by_step[step.layer]
        else:
            layer = by_step[i] = dense(3, f"dense{i}")
        args = [tensors[k] for k in step.args]
        tensors.append(layer(args if len(args) > 1 else args[0]))
        if layer not in made:
            made.append(layer)
        edges += [(tensors[k]._keras_history[0].name, layer.name) for k in step.args]
    used = {k for s in steps for k in s.args}
    outputs = [t for k, t in enumerate(tensors) if k >= n_inputs and k not in used]
    return keras.Model(inputs, outputs), made, edges


@given(functional_graphs())
def test_random_models_list_every_layer_once_producers_first(graph: tuple[int, list[Step]]) -> None:
    model, made, edges = build_model(*graph)
    got = names(model.layers)
    assert sorted(got) == sorted(names(made)), (
        f"model.layers: expected each of {sorted(names(made))} once; received {got}")
    position = {name: i for i, name in enumerate(got)}
    called_once = {layer.name for layer in made if len(layer._inbound_nodes) == 1}
    for producer, consumer in edges:  # a shared layer can be on both sides of an edge: skipped
        if producer in called_once and consumer in called_once:
            assert position[producer] < position[consumer], (
                f"model.layers = {got}: {consumer!r} is listed before {producer!r}, whose output it "
                "uses; expected deeper layers first.")
    depth_of = {node: d for d, nodes in model._nodes_by_depth.items() for node in nodes}
    for node, depth in depth_of.items():
        for inbound, index in zip(node.inbound_layers, node.node_indices):
            parent = inbound._inbound_nodes[index]
            where = f"node {index} of {inbound.name!r}"
            assert parent in depth_of, f"_nodes_by_depth: expected {where} (an input of a node); missing"
            assert depth_of[parent] > depth, (
                f"_nodes_by_depth: a node of {node.outbound_layer.name!r} at depth {depth} uses {where}, "
                f"at depth {depth_of[parent]}; expected a node deeper than every node using it.")


@given(functional_graphs(), st.integers(1, 4))
def test_random_models_compute_what_their_graph_computes(graph: tuple[int, list[Step]], batch: int) -> None:
    """Calling the model on new inputs re-runs its layers in ``_nodes_by_depth`` order."""
    model, _, _ = build_model(*graph)
    fresh = [keras.Input(shape=(3,)) for _ in model.inputs]
    data = [np.random.default_rng(i).standard_normal((batch, 3)) for i in range(len(fresh))]
    direct = K.function(model.inputs, model.outputs)(data)
    again = K.function(fresh, list(np.atleast_1d(model(fresh if len(fresh) > 1 else fresh[0]))))(data)
    for i, (want, got) in enumerate(zip(direct, again)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=(
            f"output {i}: expected (left) the value of the original graph, received (right) the model "
            "called on new inputs, which re-applies the layers of _nodes_by_depth, deepest first"))
