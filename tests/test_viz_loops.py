"""Pictures of loops: a loop op is one box with its body, built once, as a cluster beside it;
the unrolled form is the step repeated; the gradient loop has its body drawn too."""

from __future__ import annotations

from minikeras import Input, Model, layers
from minikeras import backend as K
from minikeras.viz.ops import graph_to_dot


def rnn_model(unroll: bool) -> Model:
    x = Input((5, 3))
    return Model(x, layers.SimpleRNN(4, unroll=unroll)(x))


def test_a_loop_op_is_one_box_and_its_body_one_cluster():
    dot = graph_to_dot(rnn_model(unroll=False).outputs)
    assert dot.count("subgraph \"cluster_body_") == 1
    assert "body of simple_rnn_1/rnn: built once, run at every step (forwards)" in dot
    assert dot.count("MatMul\\n") + dot.count('"simple_rnn_1/MatMul"') >= 1
    assert "each step" in dot
    assert "Loop" in dot


def test_the_unrolled_form_is_the_step_repeated():
    dot = graph_to_dot(rnn_model(unroll=True).outputs)
    assert "cluster_body_" not in dot
    assert sum(1 for line in dot.splitlines() if "Tanh" in line and "label=" in line) == 5


def test_backpropagation_through_time_is_a_second_loop_drawn_with_its_body():
    model = rnn_model(unroll=False)
    grads = K.gradients(K.sum(model.outputs[0]), model.trainable_weights)
    dot = graph_to_dot(grads)
    assert dot.count("subgraph \"cluster_body_") == 2
    assert "run at every step (backwards)" in dot
    assert graph_to_dot(grads) == dot  # deterministic text


def test_values_of_a_loop_are_shown_part_by_part(tmp_path):
    import numpy as np

    from minikeras.viz import explore, plot_graph

    model = rnn_model(unroll=False)
    grads = K.gradients(K.sum(model.outputs[0]), model.trainable_weights)
    f = K.function(model.inputs, model.outputs + grads)
    f.record_values = True
    f([np.ones((1, 5, 3), "float32")])
    plot_graph(f, show_values=True, to_file=str(tmp_path / "values.svg"))
    assert "parts: (5, 1, 4)" in graph_to_dot(f, show_values=True)
    page = explore(f, [np.ones((1, 5, 3), "float32")])
    page.save(str(tmp_path / "loop.html"))
    assert "part 0: shape (5, 1, 4)" in (tmp_path / "loop.html").read_text()
