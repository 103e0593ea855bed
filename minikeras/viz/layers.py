"""``plot_model``: Keras's picture of a model, one box per layer, arrows along the calls."""

from __future__ import annotations

from typing import Any

from ..engine import InputLayer, Network
from .dot import attrs, graph_header, quote, shape_text
from .render import Picture


def _layers(model: Network) -> list[Any]:
    return list(model._layers)  # the network's own list: a Sequential's InputLayer included


def _label(layer: Any, show_shapes: bool, show_dtype: bool, show_layer_names: bool) -> str:
    title = f"{layer.name}: {type(layer).__name__}" if show_layer_names else type(layer).__name__
    if show_dtype:
        title += f" ({layer.dtype})"
    if not show_shapes:
        return title
    try:
        inp = shape_text(layer.input_shape)
    except (AttributeError, RuntimeError):
        inp = "multiple"
    try:
        out = shape_text(layer.output_shape)
    except (AttributeError, RuntimeError):
        out = "multiple"
    return f"{title}\ninput: {inp}\noutput: {out}"


def _emit(model: Network, lines: list[str], options: dict[str, Any], indent: str,
          entry: dict[str, list[str]], exit_: dict[str, list[str]]) -> None:
    """Write ``model``'s layers (and, expanded, nested models as clusters) into ``lines``.

    ``entry[name]``/``exit_[name]`` say which drawn node an edge into / out of a layer
    should use: the layer itself, or the input/output layers inside an expanded model.
    """
    for layer in _layers(model):
        if isinstance(layer, Network) and options["expand_nested"]:
            lines.append(f"{indent}subgraph {quote('cluster_' + layer.name)} {{")
            lines.append(f"{indent}  graph{attrs(label=layer.name, style='rounded', color='#888888')};")
            _emit(layer, lines, options, indent + "  ", entry, exit_)
            lines.append(f"{indent}}}")
            entry[layer.name] = [x._keras_history[0].name for x in layer.inputs]
            exit_[layer.name] = [y._keras_history[0].name for y in layer.outputs]
            continue
        fill = "#fde9b5" if isinstance(layer, InputLayer) else "#dbe8f7"
        label = _label(layer, options["show_shapes"], options["show_dtype"], options["show_layer_names"])
        box = attrs(label=label, shape="box", style="rounded,filled", fillcolor=fill)
        lines.append(f"{indent}{quote(layer.name)}{box};")
        entry[layer.name] = exit_[layer.name] = [layer.name]


def model_to_dot(model: Network, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False,
                 dpi: int | None = 96) -> str:
    """The DOT text of ``model``'s layer graph (what ``plot_model`` draws)."""
    options = {"show_shapes": show_shapes, "show_dtype": show_dtype,
               "show_layer_names": show_layer_names, "expand_nested": expand_nested}
    lines = graph_header(rankdir, dpi)
    entry: dict[str, list[str]] = {}
    exit_: dict[str, list[str]] = {}
    _emit(model, lines, options, "  ", entry, exit_)
    edges: list[str] = []
    _edges(model, edges, entry, exit_, expand_nested)
    lines += edges
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edges(model: Network, edges: list[str], entry: dict[str, list[str]], exit_: dict[str, list[str]],
           expand_nested: bool) -> None:
    for layer in _layers(model):
        if isinstance(layer, Network) and expand_nested:
            _edges(layer, edges, entry, exit_, expand_nested)
        for index, node in enumerate(layer._inbound_nodes):
            if f"{layer.name}_ib-{index}" not in model._network_nodes:
                continue
            targets = entry[layer.name]
            for i, inbound in enumerate(node.inbound_layers):
                sources = exit_[inbound.name]
                source = sources[node.tensor_indices[i]] if len(sources) > 1 else sources[0]
                target = targets[i] if len(targets) == len(node.inbound_layers) else targets[0]
                line = f"  {quote(source)} -> {quote(target)};"
                if source != target and line not in edges:  # an expanded model's own input
                    edges.append(line)


def plot_model(model: Network, to_file: str | None = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 96) -> Picture:
    """Draw ``model``'s layers (Keras's ``plot_model``); returns a picture that shows in Jupyter.

    ``to_file`` picks the format from its suffix; ``None`` writes nothing. No system
    Graphviz is needed.
    """
    picture = Picture(model_to_dot(model, show_shapes, show_dtype, show_layer_names, rankdir,
                                   expand_nested, dpi), dpi=dpi)
    if to_file:
        picture.save(to_file)
    return picture
