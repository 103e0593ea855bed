"""``plot_graph``: the op graph under a tensor, a ``Function`` or a ``Model``.

Placeholders, variables, constants, ordinary ops, gradient ops and update ops each have
their own shape and colour (a legend says which). Ops are grouped in clusters by their
name scope, so a Dense shows as a box ``dense_1`` around ``MatMul``, ``BiasAdd``, ``Relu``.
For a ``Function``, the ops its plan runs are drawn bold and the ops it does not need are
dimmed; its updates are dashed arrows back into the variables they change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import Function
from ..engine import Network
from ..graph import Op, Tensor, topo_sort
from ..graph.ops.state import AssignOp, Const, Placeholder, Variable
from .dot import attrs, graph_header, quote, shape_text
from .loops import loop_bodies
from .render import Picture

#: kind -> (DOT shape, fill colour, what the legend calls it)
STYLES = {
    "placeholder": ("invhouse", "#fde9b5", "placeholder (fed)"),
    "variable": ("cylinder", "#c9e7c9", "variable (state)"),
    "constant": ("note", "#eeeeee", "constant"),
    "op": ("box", "#dbe8f7", "op"),
    "gradient": ("box", "#f6d5d5", "gradient op"),
    "update": ("box", "#e3d7f3", "update (assign) op"),
}
_GRADIENT_SCOPE = re.compile(r"(^|/)gradients(_\d+)?/")
#: plot_graph's default ``max_nodes``: past this many boxes a picture stops being readable.
MAX_NODES = 60
#: a legend beside a graph of at most this many boxes is one row, not a column taller than it.
_SMALL = 12


def kind(op: Op) -> str:
    """Which of the legend's kinds ``op`` is."""
    if isinstance(op, Placeholder):
        return "placeholder"
    if isinstance(op.outputs[0], Variable):
        return "variable"
    if isinstance(op, Const):
        return "constant"
    if isinstance(op, AssignOp):
        return "update"
    if _GRADIENT_SCOPE.search(op.name):
        return "gradient"
    return "op"


def _targets(what: Any) -> tuple[list[Tensor], Function | None]:
    if isinstance(what, Function):
        return list(what.outputs) + list(what.fetches) + [t for _, t in what.plan.updates], what
    if isinstance(what, Network):
        return list(what.outputs), None
    if isinstance(what, Tensor):
        return [what], None
    if isinstance(what, Sequence) and all(isinstance(t, Tensor) for t in what):
        return list(what), None
    raise TypeError(
        f"plot_graph draws a Tensor, a list of Tensors, a K.function or a Model; got "
        f"{type(what).__name__}. (For a layer, draw layer.output.)"
    )


def _summary(value: Any) -> str:
    """A value in a few characters: small arrays in full, big ones as statistics."""
    if isinstance(value, tuple):  # a loop's value: its stacked results and final states
        shapes = ("-" if v is None else shape_text(np.shape(v)) for v in value)
        return f"{len(value)} parts: " + ", ".join(shapes)
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        return f"{arr.dtype}{shape_text(arr.shape)}"
    if arr.size <= 4:
        text = np.array2string(arr.astype(float) if arr.dtype.kind == "b" else arr, precision=3,
                               separator=", ", suppress_small=True, max_line_width=10_000)
        return "= " + text
    a = arr.astype(float)
    return f"{shape_text(arr.shape)} mean {a.mean():.3g} [{a.min():.3g}, {a.max():.3g}]"


def _scope(name: str, depth: int) -> tuple[str, ...]:
    return tuple(name.split("/")[:-1][:depth])


def graph_to_dot(what: Any, show_shapes: bool = True, show_values: bool = False,
                 show_legend: bool = True, rankdir: str = "TB", cluster_depth: int = 2,
                 max_nodes: int | None = MAX_NODES, collapse: Sequence[str] | bool | None = None,
                 dpi: int | None = 96) -> str:
    """The DOT text of the op graph ``plot_graph`` draws (see there for the options)."""
    targets, function = _targets(what)
    ops = topo_sort(targets)
    run: set[Op] | None = None
    values: dict[Tensor, Any] = {}
    if function is not None:
        plan = function.plan  # what it runs: the ops between its feeds and what it computes
        computed = list(plan.fetches) + [t for _, t in plan.updates]
        run = set(topo_sort(computed, stop=plan.feeds)) | {t.op for t in plan.feeds}
        if show_values:
            if not function.last_values:
                raise ValueError(
                    "This function has no recorded values to show: set f.record_values = True, "
                    "call f once, then draw it."
                )
            values = function.last_values
    elif show_values:
        raise ValueError("show_values needs a K.function (its last call's values are what is shown).")

    collapsed, folded = _collapsed_scopes(ops, collapse, max_nodes)
    group = {op: _group(op, collapsed) for op in ops}
    lines = graph_header(rankdir, dpi)
    if folded:  # say what is hidden, and how to see it
        counts = {name: sum(group[op] == name for op in ops) for name in folded}
        what = ", ".join(f"{name} ({n} ops)" for name, n in counts.items())
        note = (f"{len(ops)} ops, more than max_nodes={max_nodes}: folded {what}.\n"
                "plot_graph(..., max_nodes=None) draws every op; collapse=[...] chooses.")
        lines.append(f"  graph{attrs(fontsize='10', label=note)};")  # a root label sits at the bottom
    boxes = _collapsed_labels(ops, group, targets, show_shapes)
    _emit_clusters(ops, group, boxes, cluster_depth, run, values, show_shapes, lines)
    drawn = [op for op in ops if group[op] == op.name]
    loop_bodies(drawn, lambda op: _node(op, None, {}, show_shapes), lines)
    seen: set[tuple[str, str, bool]] = set()
    for op in ops:
        for i, x in enumerate(op.inputs):
            a, b = group[x.op], group[op]
            update = isinstance(op, AssignOp) and i == 0
            if a == b or (a, b, update) in seen:
                continue
            seen.add((a, b, update))
            if update:
                # The arrow points back into the variable: the assign op writes it (after
                # the run). dir=back keeps the layout flowing downwards.
                style = attrs(dir="back", style="dashed", color="#7b4fb5", label="update")
            else:
                dim = run is not None and (x.op not in run or op not in run)
                style = attrs(color="#cccccc" if dim else None)
            lines.append(f"  {quote(a)} -> {quote(b)}{style};")
    if function is not None:
        for var, value in function.plan.updates:
            if not isinstance(value.op, AssignOp) and value.op in group and var.op in group:
                lines.append(f"  {quote(group[value.op])} -> {quote(group[var.op])}"
                             f"{attrs(style='dashed', color='#7b4fb5', label='update', constraint='false')};")
    if show_legend:
        present = {kind(op) for op in ops if group[op] == op.name}  # only what is drawn
        notes = []
        if boxes:
            notes.append("3-D box: a collapsed scope")
        if run is not None:
            notes.append("bold: run by the function")
            if any(op not in run for op in ops):
                notes.append("grey: in the graph, not run")
            if function is not None and function.plan.updates:
                notes.append("dashed arrow: an update")
        boxes_drawn = len(set(group.values()))
        _legend(lines, [k for k in STYLES if k in present], notes, row=boxes_drawn <= _SMALL)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _collapsed_scopes(ops: list[Op], collapse: Sequence[str] | bool | None,
                      max_nodes: int | None) -> tuple[set[str], list[str]]:
    """The scopes drawn as one box, and those of them folded only because of ``max_nodes``.

    ``collapse`` names scopes at any depth (``"Adam"``, ``"Adam/update_dense_1_kernel"``);
    ``True`` folds every top-level scope. Past ``max_nodes`` ops, the biggest top-level
    scopes are folded, one at a time, until the picture has at most ``max_nodes`` boxes.
    """
    sizes: dict[str, int] = {}
    for op in ops:
        if "/" in op.name:
            top = op.name.split("/")[0]
            sizes[top] = sizes.get(top, 0) + 1
    if collapse is True:
        return set(sizes), []
    chosen = set(collapse or ())
    if max_nodes is None or collapse is not None or len(ops) <= max_nodes:
        return chosen, []
    folded: list[str] = []
    boxes = len(ops)
    for top in sorted(sizes, key=lambda t: -sizes[t]):
        if boxes <= max_nodes or sizes[top] < 2:
            break
        folded.append(top)
        boxes -= sizes[top] - 1
    return chosen | set(folded), folded


def _collapsed_labels(ops: list[Op], group: dict[Op, str], targets: list[Tensor],
                      show_shapes: bool) -> dict[str, str]:
    """The label of each collapsed scope: its name, how many ops it hides, what leaves it."""
    members: dict[str, list[Op]] = {}
    for op in ops:
        if group[op] != op.name:
            members.setdefault(group[op], []).append(op)
    position = {op: i for i, op in enumerate(ops)}
    leaving: dict[str, list[Tensor]] = {name: [] for name in members}
    for op in ops:
        for x in op.inputs:
            name = group[x.op]
            if name in leaving and group[op] != name and x not in leaving[name]:
                leaving[name].append(x)
    for t in targets:
        scope = group.get(t.op)
        if scope is not None and scope in leaving and t not in leaving[scope]:
            leaving[scope].append(t)
    labels = {}
    for name, inside in members.items():
        lines = [name, f"({len(inside)} ops, collapsed)"]
        # The shape of what the scope hands on: the latest tensor leaving it (a layer's
        # output comes after its inner values, which gradient ops may also read). Variables
        # read from outside (by an optimizer) are not what the scope computes.
        outs = [t for t in leaving[name] if not isinstance(t, Variable)]
        if show_shapes and outs:
            lines.append(shape_text(max(outs, key=lambda t: position[t.op]).shape))
        labels[name] = "\n".join(lines)
    return labels


def _group(op: Op, collapsed: set[str]) -> str:
    """The DOT node an op is drawn as: itself, or the outermost collapsed scope around it."""
    parts = op.name.split("/")
    for i in range(1, len(parts)):
        scope = "/".join(parts[:i])
        if scope in collapsed:
            return scope
    return op.name


def _label(op: Op, show_shapes: bool, values: dict[Tensor, Any]) -> str:
    short = op.name.rsplit("/", 1)[-1]
    lines = [short] if short == op.type else [short, op.type]
    if show_shapes:
        lines.append(shape_text(op.outputs[0].shape))
    if op.outputs[0] in values:
        lines.append(_summary(values[op.outputs[0]]))
    return "\n".join(lines)


def _node(op: Op, run: set[Op] | None, values: dict[Tensor, Any], show_shapes: bool) -> str:
    shape, fill, _ = STYLES[kind(op)]
    style = "filled" if shape in ("invhouse", "cylinder", "note") else "rounded,filled"
    extra: dict[str, Any] = {}
    if run is not None and op not in run:
        extra = {"color": "#bbbbbb", "fontcolor": "#999999", "fillcolor": "#f4f4f4"}
    elif run is not None:
        extra = {"penwidth": "2"}
    options = {"label": _label(op, show_shapes, values), "shape": shape, "style": style,
               "fillcolor": fill, **extra}
    return f"{quote(op.name)}{attrs(**options)};"


def _emit_clusters(ops: list[Op], group: dict[Op, str], boxes: dict[str, str], depth: int,
                   run: set[Op] | None, values: dict[Tensor, Any], show_shapes: bool,
                   lines: list[str]) -> None:
    """Nest the nodes in clusters by scope, in the order their first op appears."""
    tree: dict[tuple[str, ...], list[str]] = {}
    order: list[tuple[str, ...]] = []
    for op in ops:
        if group[op] != op.name:  # inside a collapsed scope
            name = group[op]
            box = attrs(label=boxes[name], shape="box3d", style="filled", fillcolor="#dbe8f7")
            entry = f"{quote(name)}{box};"
            scope: tuple[str, ...] = ()
        else:
            entry, scope = _node(op, run, values, show_shapes), _scope(op.name, depth)
        for i in range(len(scope) + 1):
            if scope[:i] not in tree:
                tree[scope[:i]] = []
                order.append(scope[:i])
        if entry not in tree[scope]:
            tree[scope].append(entry)

    def emit(scope: tuple[str, ...], indent: str) -> None:
        for entry in tree[scope]:
            lines.append(indent + entry)
        for child in order:
            if len(child) == len(scope) + 1 and child[: len(scope)] == scope:
                label = child[-1]
                lines.append(f"{indent}subgraph {quote('cluster_' + '/'.join(child))} {{")
                color = "#c98b8b" if _GRADIENT_SCOPE.search("/".join(child) + "/") else "#888888"
                frame = attrs(label=label, style="rounded", color=color, fontsize="10")
                lines.append(f"{indent}  graph{frame};")
                emit(child, indent + "  ")
                lines.append(f"{indent}}}")

    emit((), "  ")


def _legend(lines: list[str], kinds: list[str], notes: Sequence[str] = (), row: bool = False) -> None:
    """A dashed box with one sample node per kind drawn, and a text note for the styles.

    ``row``: the samples side by side, for a small graph that a column would outgrow.
    """
    lines.append(f"  subgraph {quote('cluster_legend')} {{")
    lines.append(f"    graph{attrs(label='legend', style='dashed', color='#aaaaaa', fontsize='10')};")
    if row:
        lines.append("    rank=same;")
    previous = None
    for k in kinds:
        shape, fill, text = STYLES[k]
        style = "filled" if shape in ("invhouse", "cylinder", "note") else "rounded,filled"
        sample = attrs(label=text, shape=shape, style=style, fillcolor=fill, fontsize="9")
        lines.append(f"    {quote('legend_' + k)}{sample};")
        if previous and not row:
            lines.append(f"    {quote(previous)} -> {quote('legend_' + k)}{attrs(style='invis')};")
        previous = "legend_" + k
    if notes:
        # Plain text, not a styled sample: a dimmed sample would look like one more dimmed op.
        text = "\n".join(notes)
        lines.append(f"    {quote('legend_notes')}{attrs(label=text, shape='plaintext', fontsize='9')};")
        if previous and not row:
            lines.append(f"    {quote(previous)} -> {quote('legend_notes')}{attrs(style='invis')};")
    lines.append("  }")


def plot_graph(what: Any, to_file: str | None = None, show_shapes: bool = True,
               show_values: bool = False, show_legend: bool = True, rankdir: str = "TB",
               cluster_depth: int = 2, max_nodes: int | None = MAX_NODES,
               collapse: Sequence[str] | bool | None = None, dpi: int = 96,
               interactive: bool = False, inputs: Sequence[Any] | None = None) -> Any:
    """Draw the ops under ``what``: a Tensor, a list of Tensors, a ``K.function`` or a Model.

    - a Function's ops are drawn bold, the ops it does not run dimmed, its updates dashed;
    - ``show_values=True`` writes the values of the Function's last call on its ops (set
      ``f.record_values = True`` before calling it);
    - ``collapse=["dense_1"]`` (or ``True``) draws a layer's scope as one box; a nested scope
      works too (``"Adam/update_dense_1_kernel"``: one variable's update). With more ops than
      ``max_nodes`` (60 by default; ``None`` draws all) and no ``collapse``, the biggest
      top-level scopes are folded until it fits, and the picture says which.

    - ``interactive=True`` (a Function only) returns ``explore(what, inputs)`` instead: the
      same picture as a page that steps through one call (``to_file`` must end in ``.html``).

    A student's usual surprise: the gradient ops are part of the same graph, in their
    own ``gradients`` scope, drawn in red.
    """
    if interactive:
        from .explore import explore  # explore draws with this module: imported when asked

        if not isinstance(what, Function):
            raise TypeError(f"interactive=True steps through a K.function; got {type(what).__name__}.")
        if to_file and not str(to_file).lower().endswith((".html", ".htm")):
            raise ValueError(f"interactive=True makes a web page: to_file must be .html, not {to_file!r}.")
        explorer = explore(what, inputs, collapse=collapse, max_nodes=max_nodes)
        if to_file:
            explorer.save(to_file)
        return explorer
    source = graph_to_dot(what, show_shapes, show_values, show_legend, rankdir, cluster_depth,
                          max_nodes, collapse, dpi)
    picture = Picture(source, dpi=dpi)
    if to_file:
        picture.save(to_file)
    return picture
