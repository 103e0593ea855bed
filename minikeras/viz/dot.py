"""Small pure helpers for writing DOT text: quoting, attributes, shapes as text."""

from __future__ import annotations

from typing import Any


def quote(text: Any) -> str:
    """A DOT string literal: ``dense_1/MatMul`` -> ``"dense_1/MatMul"`` (ids come from names)."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def attrs(**kwargs: Any) -> str:
    """``[k1="v1", k2="v2"]`` in a fixed order (sorted keys), so the same call gives the same text."""
    items = [f"{key}={quote(value)}" for key, value in sorted(kwargs.items()) if value is not None]
    return f" [{', '.join(items)}]" if items else ""


def shape_text(shape: Any) -> str:
    """``(None, 4)`` as Keras prints shapes; several shapes joined by commas."""
    if isinstance(shape, list):
        return ", ".join(shape_text(s) for s in shape)
    if shape is None:
        return "?"
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def graph_header(rankdir: str, dpi: int | None = None) -> list[str]:
    graph = attrs(rankdir=rankdir, dpi=dpi, fontname="Helvetica", nodesep="0.3", ranksep="0.4")
    lines = ["digraph G {", f"  graph{graph};"]
    lines.append(f"  node{attrs(fontname='Helvetica', fontsize='11')};")
    lines.append(f"  edge{attrs(fontname='Helvetica', fontsize='9', color='#555555')};")
    return lines
