"""Pictures: deterministic DOT (golden files in docs/images), rendering with no system
Graphviz, labels and shapes, Function highlighting, values, errors."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras import graph as G
from minikeras.layers import Dense, Input
from minikeras.utils import plot_model
from minikeras.viz import plot_graph, render

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
make_images = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_images)


@pytest.mark.parametrize("name", sorted(make_images.EXAMPLES))
def test_docs_images_are_up_to_date(name: str) -> None:
    """The committed DOT is what the example draws today (run docs/make_images.py if not)."""
    golden = (make_images.IMAGES / f"{name}.dot").read_text(encoding="utf-8")
    assert make_images.EXAMPLES[name]().source == golden
    assert (make_images.IMAGES / f"{name}.svg").exists()


def test_the_same_graph_built_twice_gives_identical_dot() -> None:
    first = make_images.training_step().source
    assert make_images.training_step().source == first
    assert " at 0x" not in first  # no id() anywhere


@pytest.fixture
def no_system_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PATH without Graphviz's dot: only graphviz-pure (found next to Python) remains."""
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.mark.parametrize("suffix", [".svg", ".png", ".jpg"])
def test_rendering_works_without_system_graphviz(no_system_dot: None, tmp_path: Path, suffix: str) -> None:
    model = keras.Sequential([Dense(4, input_shape=(3,), name="first"), Dense(2, name="second")])
    path = plot_model(model, to_file=str(tmp_path / f"m{suffix}"), show_shapes=True)
    data = (tmp_path / f"m{suffix}").read_bytes()
    assert len(data) > 200 and render.renderer()[0].endswith("graphviz-pure")
    magic = {".svg": b"<?xml", ".png": b"\x89PNG", ".jpg": b"\xff\xd8"}[suffix]
    assert data.startswith(magic)
    assert path.source  # the returned picture


def test_pdf_without_system_graphviz_says_why(no_system_dot: None, tmp_path: Path) -> None:
    model = keras.Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="PDF needs the system Graphviz `dot`.*Save as .svg or .png"):
        plot_model(model, to_file=str(tmp_path / "m.pdf"))


def test_unknown_suffix() -> None:
    model = keras.Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="Cannot tell the picture format from 'm.bmp'"):
        plot_model(model, to_file="m.bmp")


def test_the_picture_shows_layer_names_and_shapes(tmp_path: Path) -> None:
    model = keras.Sequential([Dense(4, input_shape=(3,), name="first"), Dense(2, name="second")])
    svg = plot_model(model, to_file=None, show_shapes=True).pipe("svg").decode()
    for text in ("first: Dense", "second: Dense", "(None, 3)", "(None, 4)", "(None, 2)", "first_input"):
        assert text in svg
    assert "_repr_mimebundle_" in dir(plot_model(model, to_file=None))


def test_op_graph_kinds_clusters_and_legend() -> None:
    x = Input(shape=(3,), name="x")
    y = Dense(2, activation="relu")(x)
    (g,) = K.gradients(K.sum(y), [x])
    dot = plot_graph([y, g]).source
    assert 'subgraph "cluster_dense_1"' in dot and 'subgraph "cluster_gradients"' in dot
    assert '"dense_1/kernel" [fillcolor="#c9e7c9"' in dot      # a variable
    assert '"x" [fillcolor="#fde9b5"' in dot                   # a placeholder
    assert '"legend_gradient"' in dot and "#f6d5d5" in dot      # gradient ops have their colour


def test_a_function_highlights_what_it_runs_and_draws_updates() -> None:
    x = Input(shape=(3,), name="x")
    hidden = Dense(4, name="hidden")(x)
    out = Dense(2, name="out")(hidden)
    v = K.variable(0.0, name="counter")
    f = K.function([hidden], [out], updates=[K.update_add(v, 1.0)])
    dot = plot_graph(f).source
    assert '"hidden/MatMul" [color="#bbbbbb"' in dot              # not run: dimmed
    assert '"out/MatMul" [fillcolor="#dbe8f7", label="MatMul\\n(None, 2)", penwidth="2"' in dot
    assert '"counter" -> "AssignAdd" [color="#7b4fb5", dir="back", label="update", style="dashed"]' in dot


def test_the_legend_explains_a_functions_styles() -> None:
    x = Input(shape=(3,), name="x")
    hidden = Dense(4, name="hidden")(x)
    v = K.variable(0.0, name="counter")
    dot = plot_graph(K.function([hidden], [Dense(2)(hidden)], updates=[K.update_add(v, 1.0)])).source
    assert 'label="bold: run by the function\\ngrey: in the graph, not run\\ndashed arrow: an update"' in dot
    assert "bold: run by" not in plot_graph(hidden).source      # a tensor has no plan


def test_show_values_needs_recorded_values_then_shows_them() -> None:
    x = K.placeholder(shape=(2,), name="x")
    y = K.square(x)
    f = K.function([x], [y])
    with pytest.raises(ValueError, match="set f.record_values = True, call f once"):
        plot_graph(f, show_values=True)
    f.record_values = True
    f([np.array([2.0, 3.0])])
    assert "= [4., 9.]" in plot_graph(f, show_values=True).source


def test_collapse_turns_a_layer_into_one_node() -> None:
    x = Input(shape=(3,), name="x")
    h = Dense(4)(x)
    y = Dense(2, activation="relu")(h)
    dot = plot_graph(y, collapse=["dense_1"]).source
    # One node, saying how many ops it hides and the shape it hands on.
    assert '"dense_1" [fillcolor="#dbe8f7", label="dense_1\\n(4 ops, collapsed)\\n(None, 4)"' in dot
    assert "3-D box: a collapsed scope" in dot                  # the legend says what it is
    assert '"dense_1/MatMul"' not in dot and '"dense_2/MatMul"' in dot
    assert '"dense_1" -> "dense_2/MatMul"' in dot
    assert "ops, collapsed)" in plot_graph(y, max_nodes=3).source


def test_expand_nested_draws_a_cluster() -> None:
    x = Input(shape=(4,))
    inner = keras.Model(x, Dense(3)(x), name="inner")
    y = Input(shape=(4,))
    outer = keras.Model(y, Dense(2)(inner(y)))
    assert 'subgraph "cluster_inner"' in plot_model(outer, to_file=None, expand_nested=True).source
    assert '"inner" [' in plot_model(outer, to_file=None).source


def test_cli_draws_the_example_and_a_saved_model(tmp_path: Path) -> None:
    from minikeras.viz.cli import main

    assert main(["-o", str(tmp_path / "example.svg")]) == 0
    model = keras.Sequential([Dense(2, input_shape=(3,), name="saved_dense")])
    model.save(str(tmp_path / "m.h5"))
    assert main([str(tmp_path / "m.h5"), "-o", str(tmp_path / "m.dot")]) == 0
    assert "saved_dense" in (tmp_path / "m.dot").read_text()
    assert os.path.getsize(tmp_path / "example.svg") > 500


def test_plot_graph_refuses_other_things() -> None:
    with pytest.raises(TypeError, match="For a layer, draw layer.output"):
        plot_graph(Dense(2))


def test_pictures_display_inline_in_jupyter_without_system_graphviz(no_system_dot: None) -> None:
    model = keras.Sequential([Dense(2, input_shape=(3,), name="shown")])
    bundle = plot_model(model, to_file=None)._repr_mimebundle_()
    assert "shown: Dense" in bundle["image/svg+xml"]


def test_collapsing_keeps_update_arrows() -> None:
    from minikeras.optimizers import SGD

    x = K.placeholder(shape=(None, 2), name="x")
    with K.name_scope("layer"):
        w = K.variable(np.ones((2, 1)), name="w")
        y = K.dot(x, w)
    with K.name_scope("step"):
        updates = SGD(lr=0.1).get_updates(loss=K.mean(K.square(y)), params=[w])
    f = K.function([x], [y], updates=updates)
    assert plot_graph(f, collapse=["step"]).source.count('label="update"') >= 1


def test_graphviz_methods_work_without_system_graphviz(no_system_dot: None, tmp_path: Path) -> None:
    """A Picture is a graphviz.Source: render, view's file, copy and save keep graphviz's meaning."""
    model = keras.Sequential([Dense(2, input_shape=(3,), name="kept")])
    picture = plot_model(model, to_file=None, dpi=120)
    assert picture.copy().source == picture.source and picture.copy().dpi == 120
    # graphviz's render: the DOT text in FILE, the picture in FILE.FORMAT beside it
    out = picture.render(str(tmp_path / "m"), format="png")
    assert out == str(tmp_path / "m.png") and Path(out).read_bytes().startswith(b"\x89PNG")
    assert "kept: Dense" in (tmp_path / "m").read_text()
    out = picture.render(outfile=str(tmp_path / "o.jpg"))   # the format from the suffix
    assert Path(out).read_bytes().startswith(b"\xff\xd8") and (tmp_path / "o.gv").exists()
    assert Path(picture.render(str(tmp_path / "c"), cleanup=True)).exists() and not (tmp_path / "c").exists()
    assert picture.render(str(tmp_path / "d")) == str(tmp_path / "d.svg")  # svg, not graphviz's pdf
    # save with a suffix draws that format; without one writes the DOT text, as graphviz does
    assert picture.save(str(tmp_path / "s.svg")) == str(tmp_path / "s.svg")
    assert (tmp_path / "s.svg").read_text().startswith("<?xml")
    picture.save("plain", directory=str(tmp_path))
    assert (tmp_path / "plain").read_text() == picture.source


# --- readable pictures of training ---------------------------------------------------------------


def _adam_step() -> tuple[Any, Any]:
    from minikeras.layers import Dense
    from minikeras.models import Sequential

    model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["acc"])
    return model, model._make_train_function()


def test_optimizer_updates_live_under_its_scope_one_scope_per_variable() -> None:
    model, step = _adam_step()
    update_ops = [op for op in step.plan.ops if op.type in ("Assign", "AssignAdd")]
    assert update_ops and all(op.name.startswith("Adam/") for op in update_ops)
    for w in model.trainable_weights:  # m, v and the weight itself, in the weight's own scope
        scope = "Adam/update_" + w.name.split(":")[0].replace("/", "_") + "/"
        assert sum(op.name.startswith(scope) and op.type == "Assign" for op in step.plan.ops) == 3, scope
    assert not any(op.name.startswith("Adam/") for op in step.plan.ops if "gradients/" in op.name)


def test_collapse_folds_a_whole_update_or_the_whole_optimizer() -> None:
    _, step = _adam_step()
    one = plot_graph(step, collapse=["Adam/update_dense_1_kernel"], max_nodes=None).source
    assert re.search(r'"Adam/update_dense_1_kernel" \[fillcolor="#dbe8f7", label="Adam/update_dense_1_kernel\\n'
                     r'\(\d+ ops, collapsed\)', one)
    assert '"Adam/update_dense_1_kernel/' not in one and '"Adam/update_dense_2_kernel/' in one
    whole = plot_graph(step, collapse=["Adam"]).source
    assert '"Adam" [' in whole and '"Adam/' not in whole


def test_plot_graph_folds_big_graphs_by_default_and_says_what_it_folded() -> None:
    _, step = _adam_step()
    n = len(G.topo_sort(list(step.outputs) + [t for _, t in step.plan.updates]))
    assert n > 100
    dot = plot_graph(step).source
    note = re.search(r'label="(\d+) ops, more than max_nodes=60: folded ([^"]*)"', dot)
    assert note and note.group(2).startswith("Adam (") and "max_nodes=None) draws every op" in dot
    boxes = set(re.findall(r'^\s+"([^"]+)" \[', dot, re.M)) - {n for n in re.findall(r'"(legend[^"]*)"', dot)}
    assert len(boxes) <= 60
    assert "folded" not in plot_graph(step, max_nodes=None).source  # every op, no note
    assert "folded" not in plot_graph(step, collapse=["training"]).source  # the user chose


def test_the_legend_is_one_row_beside_a_small_graph() -> None:
    x = K.placeholder(shape=(2,), name="x")
    small = plot_graph(K.exp(x)).source
    legend = small[small.index("cluster_legend"):]
    assert "rank=same" in legend and "style=invis" not in legend
    _, step = _adam_step()
    big = plot_graph(step).source
    assert "rank=same" not in big[big.index("cluster_legend"):]
