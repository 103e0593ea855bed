"""``explore``: watch one run of a ``K.function``, op by op, in an offline page.

The page is the ``plot_graph`` picture of the function (same SVG, clusters and colours)
with a step control: step k lights up the op the plan runs at step k, the ops already run
stay lit, the rest wait faded. The forward ops come first, then the gradient ops (in
reverse), then the ops that compute the new values, and last the updates, written into the
variables after the outputs are returned. Clicking a node shows its recorded value.

Everything is in one ``.html`` file: the SVG, the plan's steps and values as JSON, and a
small script (``explore.js`` beside this file). Nothing is fetched when it is viewed.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import Function
from ..graph import Op, topo_sort
from ..graph.ops.state import AssignOp
from .dot import shape_text
from .ops import _collapsed_scopes, _group, graph_to_dot, kind
from .render import render

HERE = Path(__file__).resolve().parent
FULL_SIZE = 64  #: arrays with at most this many entries are shown in full
FIRST_ENTRIES = 8  #: how many entries a summarised array shows
MAX_VALUE_CHARS = 1_000_000  #: the cap on the values' text embedded in one page
PHASES = {
    "forward": "forward op",
    "gradient": "gradient op",
    "update": "computes an update's new value",
    "assign": "update written into the variable",
}


def describe_value(value: Any) -> str:
    """A recorded value as text: small arrays in full, big ones as statistics and a few entries."""
    if isinstance(value, tuple):  # a loop's value: one part per stacked result, final state, ...
        parts = ("none" if v is None else describe_value(v) for v in value)
        return "\n\n".join(f"part {k}: {text}" for k, text in enumerate(parts))
    arr = np.asarray(value)
    head = f"shape {shape_text(arr.shape)}, {arr.dtype}"
    if arr.size <= FULL_SIZE or arr.dtype.kind not in "biuf":
        body = np.array2string(arr, precision=6, separator=", ", threshold=FULL_SIZE + 1,
                               max_line_width=72)
        return f"{head}\n{body}"
    flat = arr.reshape(-1).astype(np.float64)
    first = np.array2string(flat[:FIRST_ENTRIES], precision=6, separator=", ", max_line_width=72)
    return (f"{head}, {arr.size} entries (summarised)\n"
            f"min {flat.min():.6g}  mean {flat.mean():.6g}  max {flat.max():.6g}\n"
            f"first {FIRST_ENTRIES}: {first[:-1]}, ...]")


class Explorer:
    """One or more recorded calls of a ``Function``, as a page that steps through them.

    ``explorer.save("step.html")`` writes the page; in Jupyter it displays inline.
    ``add_call(inputs)`` runs the function once more and appends that call, so a second
    training step shows the weights moving. ``outputs`` holds what each call returned.

    A student's usual surprise: exploring is running. A training function explored once
    has trained once: its updates were applied, as after any call.
    """

    def __init__(self, function: Function, collapse: Sequence[str] | bool | None = None,
                 max_nodes: int | None = None, max_value_chars: int = MAX_VALUE_CHARS) -> None:
        if not isinstance(function, Function):
            raise TypeError(
                f"explore steps through a K.function; got {type(function).__name__}. Build one "
                "with K.function(inputs, outputs, updates) (for a model: model._make_train_function())."
            )
        self.function = function
        self.max_value_chars = max_value_chars
        self.outputs: list[list[np.ndarray]] = []
        self._calls: list[dict[str, Any]] = []
        self._chars = 0
        self._summarised: set[str] = set()
        self._left_out: list[str] = []
        self.dot = graph_to_dot(function, max_nodes=max_nodes, collapse=collapse)
        plan = function.plan
        ops = topo_sort(list(function.outputs) + list(function.fetches) + [t for _, t in plan.updates])
        collapsed, _ = _collapsed_scopes(ops, collapse, max_nodes)
        self._node_of = {op: _group(op, collapsed) for op in ops}
        self._steps = self._describe_steps()
        self._nodes = self._describe_nodes(ops)

    # --- what the page shows ------------------------------------------------------

    def _describe_steps(self) -> list[dict[str, Any]]:
        """The plan's steps, each with its phase, then one step per update written."""
        plan = self.function.plan
        ops = [step.op for step in plan.steps]
        grads = [op for op in ops if kind(op) == "gradient"]
        forward = set(topo_sort(list(plan.fetches), stop=plan.feeds))
        forward |= set(topo_sort([op.outputs[0] for op in grads], stop=plan.feeds))
        steps = []
        for op in ops:
            phase = "gradient" if op in grads else "forward" if op in forward else "update"
            if isinstance(op, AssignOp):
                phase = "update"
            args = ", ".join(x.name for x in op.inputs)
            steps.append({"node": self._node_of[op], "op": op.name, "phase": phase,
                          "text": f"{op.outputs[0].name} = {op.type}({args})"})
        for var, new in plan.updates:
            steps.append({"node": self._node_of[var.op], "op": var.op.name, "phase": "assign",
                          "text": f"{var.name} \u2190 {new.name}"})
        return steps

    def _describe_nodes(self, ops: list[Op]) -> dict[str, dict[str, Any]]:
        nodes: dict[str, dict[str, Any]] = {}
        for op in ops:
            node = nodes.setdefault(self._node_of[op], {"ops": []})
            node["ops"].append({
                "name": op.name, "type": op.type, "kind": kind(op),
                "tensors": [{"name": t.name, "shape": shape_text(t.shape), "dtype": str(t.dtype)}
                            for t in op.outputs],
            })
        return nodes

    # --- recording calls ------------------------------------------------------------

    def add_call(self, inputs: Sequence[Any]) -> list[np.ndarray]:
        """Call the function on ``inputs`` with its values recorded; add that call to the page."""
        f = self.function
        was = f.record_values
        f.record_values = True
        try:
            outputs = f(inputs)
        finally:
            f.record_values = was
        self.add_recorded_call(outputs)
        return outputs

    def add_recorded_call(self, outputs: Sequence[Any] | None = None) -> None:
        """Add the function's last recorded call (``f.record_values = True`` was set)."""
        values = self.function.last_values
        if not values:
            raise ValueError(
                "This function has no recorded values: set f.record_values = True and call it, "
                "or give explore the inputs to call it with."
            )
        number = len(self._calls) + 1
        call: dict[str, Any] = {"values": {}, "after": {}}
        for t, value in values.items():
            call["values"][t.name] = self._embed(value, f"{t.name} (call {number})")
        for var, new in self.function.plan.updates:
            after = np.asarray(values[new], dtype=var.dtype)
            call["after"][var.name] = self._embed(after, f"{var.name} after the update (call {number})")
        self._calls.append(call)
        fetched = outputs if outputs is not None else [values[t] for t in self.function.outputs]
        self.outputs.append([np.asarray(v) for v in fetched])

    def _embed(self, value: Any, what: str) -> str | None:
        text = describe_value(value)
        if self._chars + len(text) > self.max_value_chars:
            self._left_out.append(what)
            return None
        self._chars += len(text)
        if not isinstance(value, tuple) and np.asarray(value).size > FULL_SIZE:
            self._summarised.add(what)
        return text

    # --- the page -------------------------------------------------------------------

    def notes(self) -> list[str]:
        """What the page says it left out of its values."""
        notes = [f"Arrays of more than {FULL_SIZE} entries are shown as min/mean/max and their "
                 f"first {FIRST_ENTRIES} entries ({len(self._summarised)} values here)."]
        if self._left_out:
            shown = ", ".join(self._left_out[:5]) + (", ..." if len(self._left_out) > 5 else "")
            notes.append(f"{len(self._left_out)} values were left out to keep the page under "
                         f"{self.max_value_chars:,} characters of values: {shown}.")
        return notes

    def data(self) -> dict[str, Any]:
        """The JSON the page's script reads: nodes, steps, and each call's values."""
        f = self.function
        title = f.name or "K.function"
        return {"title": f"{title}: [{', '.join(t.name for t in f.inputs)}] -> "
                         f"[{', '.join(t.name for t in f.outputs)}]",
                "phases": PHASES, "nodes": self._nodes, "steps": self._steps,
                "calls": self._calls, "notes": self.notes()}

    def svg(self) -> str:
        """The picture as inline SVG, without the XML prologue, comments or namespace URLs."""
        text = render(self.dot, "svg").decode("utf-8")
        text = text[text.index("<svg"):]
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        # Inline SVG in HTML needs no namespace declarations; dropping them keeps the page
        # free of any URL (the names are identifiers, but a reader should not have to know).
        return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)

    def to_html(self) -> str:
        """The whole page: one self-contained, offline HTML document."""
        if not self._calls:
            raise ValueError("Nothing recorded yet: call add_call(inputs) first.")
        page = (HERE / "explore.html").read_text(encoding="utf-8")
        script = (HERE / "explore.js").read_text(encoding="utf-8")
        data = self.data()
        # "</" inside a <script> would end it early: JSON allows "<\/" for "</".
        text = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        parts = {"title": html.escape(data["title"]), "svg": self.svg(), "data": text, "script": script}
        # One pass, so that a "{{...}}" inside the values is never taken for a slot.
        return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], page)

    def save(self, filename: str | os.PathLike[str]) -> str:
        """Write the page to ``filename`` (``.html``); open it in any browser, no server needed."""
        path = Path(filename)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"explore saves a web page: give a .html file name, not {path.name!r}.")
        text = self.to_html()  # built before the file is opened: an error leaves no half page
        path.write_text(text, encoding="utf-8")
        return str(path)

    def _repr_html_(self) -> str:
        # In an iframe, so that two explorers in one notebook keep their ids and styles apart.
        page = html.escape(self.to_html(), quote=True)
        return (f'<iframe srcdoc="{page}" style="width: 100%; height: 640px; border: 1px solid #ccc" '
                'title="minikeras explore"></iframe>')

    def __repr__(self) -> str:
        return (f"<Explorer: {len(self._calls)} call(s) of {self.function!r}, "
                f"{len(self._steps)} steps each>")


def explore(function: Function, inputs: Sequence[Any] | None = None,
            collapse: Sequence[str] | bool | None = None, max_nodes: int | None = None,
            max_value_chars: int = MAX_VALUE_CHARS) -> Explorer:
    """Run ``function`` once on ``inputs`` with its values recorded; return the page of that run.

    ``inputs`` is the list ``function`` is called with (``f([x, y])`` -> ``explore(f, [x, y])``).
    Without it, the function's last recorded call is shown (``f.record_values = True`` before
    calling it). ``.add_call(inputs)`` adds another call; ``.save("step.html")`` writes the page.
    ``collapse``/``max_nodes`` draw layer scopes as single boxes, as in ``plot_graph``.
    """
    explorer = Explorer(function, collapse=collapse, max_nodes=max_nodes,
                        max_value_chars=max_value_chars)
    if inputs is None:
        explorer.add_recorded_call()
    else:
        explorer.add_call(inputs)
    return explorer


__all__ = ["Explorer", "describe_value", "explore"]
