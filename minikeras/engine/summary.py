"""``model.summary()``: the table Keras 2 prints, column for column."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from .. import backend as K


def _is_sequential_like(model: Any) -> bool:
    """One node per depth, none with several inputs, no layer used twice: a simple chain."""
    if type(model).__name__ == "Sequential":
        return True
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].inbound_layers) > 1):
            return False
        nodes += depth_nodes
    for layer in model.layers:
        if sum(node in nodes for node in layer._inbound_nodes) > 1:
            return False
    return True


def _row(fields: Sequence[Any], positions: Sequence[int]) -> str:
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "  # the last character of a too-long field gives way
        line += str(field)
        line = line[: positions[i]]
        line += " " * (positions[i] - len(line))
    return line


def _output_shape(layer: Any) -> Any:
    try:
        return layer.output_shape
    except AttributeError:
        return "multiple"


def print_summary(model: Any, line_length: int | None = None,
                  positions: Sequence[float] | None = None,
                  print_fn: Callable[[str], Any] | None = None) -> None:
    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    cols = [int(p) for p in positions]
    relevant = [node for nodes in model._nodes_by_depth.values() for node in nodes]

    print_fn("_" * line_length)
    print_fn(_row(header, cols))
    print_fn("=" * line_length)
    for i, layer in enumerate(model.layers):
        name = f"{layer.name} ({type(layer).__name__})"
        if sequential_like:
            print_fn(_row([name, _output_shape(layer), layer.count_params()], cols))
        else:
            connections = [
                f"{inbound.name}[{node_index}][{tensor_index}]"
                for node in layer._inbound_nodes if node in relevant
                for inbound, node_index, tensor_index in zip(node.inbound_layers, node.node_indices,
                                                             node.tensor_indices)
            ]
            first = connections[0] if connections else ""
            print_fn(_row([name, _output_shape(layer), layer.count_params(), first], cols))
            for extra in connections[1:]:
                print_fn(_row(["", "", "", extra], cols))
        print_fn(("=" if i == len(model.layers) - 1 else "_") * line_length)

    trainable = sum(K.count_params(w) for w in model.trainable_weights)
    non_trainable = sum(K.count_params(w) for w in model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)


def summary_html(model: Any) -> str:
    """``model.summary()`` as an HTML table: what a notebook shows for a model on its own."""
    sequential_like = _is_sequential_like(model)
    relevant = [node for nodes in model._nodes_by_depth.values() for node in nodes]
    header = ["Layer (type)", "Output Shape", "Param #"] + ([] if sequential_like else ["Connected to"])
    rows = []
    for layer in model.layers:
        cells = [f"{layer.name} ({type(layer).__name__})", str(_output_shape(layer)),
                 f"{layer.count_params():,}"]
        if not sequential_like:
            cells.append("<br>".join(
                html.escape(f"{inbound.name}[{node_index}][{tensor_index}]")
                for node in layer._inbound_nodes if node in relevant
                for inbound, node_index, tensor_index in zip(node.inbound_layers, node.node_indices,
                                                             node.tensor_indices)))
        rows.append("<tr>" + "".join(
            f"<td>{c if i == 3 else html.escape(c)}</td>" for i, c in enumerate(cells)) + "</tr>")
    trainable = sum(K.count_params(w) for w in model.trainable_weights)
    non_trainable = sum(K.count_params(w) for w in model.non_trainable_weights)
    head = "".join(f"<th style='text-align:left'>{h}</th>" for h in header)
    return (f"<p><b>Model: {html.escape(model.name)}</b></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p>Total params: {trainable + non_trainable:,}<br>Trainable params: {trainable:,}<br>"
            f"Non-trainable params: {non_trainable:,}</p>")
