"""Turning DOT text into pictures, with or without a system Graphviz.

The system ``dot`` is used when it is on the PATH; otherwise ``graphviz-pure``, a
self-contained port of Graphviz's ``dot`` installed from PyPI with minikeras (same flags;
svg, png and jpeg, no pdf). Students on any machine get pictures, no system install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import graphviz

FORMATS = {".svg": "svg", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".dot": "dot", ".gv": "dot",
           ".pdf": "pdf"}


def renderer() -> list[str]:
    """The command that renders DOT: the system ``dot`` first, else ``graphviz-pure``."""
    system = shutil.which("dot")
    if system:
        return [system]
    names = ["graphviz-pure", "graphviz-pure.exe"]
    for directory in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        for name in names:
            candidate = Path(directory) / name
            if candidate.exists():
                return [str(candidate)]
    found = shutil.which("graphviz-pure")
    if found:
        return [found]
    raise RuntimeError(
        "No Graphviz renderer found: neither the system `dot` nor `graphviz-pure` is installed. "
        "`pip install graphviz-pure` (it needs no system install); the DOT text itself is in "
        "picture.source."
    )


def render(source: str, fmt: str, dpi: int | None = None) -> bytes:
    """``source`` (DOT text) rendered to ``fmt`` (``svg``, ``png``, ``jpeg``, ``pdf``) as bytes."""
    command = renderer()
    if fmt == "pdf" and not command[0].endswith(("dot", "dot.exe")):
        raise ValueError(
            "PDF needs the system Graphviz `dot`, which is not installed; graphviz-pure renders "
            "svg, png and jpeg. Save as .svg or .png (or install Graphviz for PDF)."
        )
    args = command + [f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi and fmt in ("png", "jpeg") else [])
    done = subprocess.run(args, input=source.encode("utf-8"), capture_output=True, timeout=120,
                          env={**os.environ, "LC_ALL": "C"})
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace")
        raise RuntimeError(f"{Path(command[0]).name} failed on the graph: {message}")
    return done.stdout


class Picture(graphviz.Source):
    """DOT text that draws itself: inline in Jupyter, or to a file with ``save``.

    It is a ``graphviz.Source`` whose rendering goes through ``render`` above, so it works
    without a system Graphviz. ``picture.source`` is the DOT text (deterministic: the same
    graph gives the same text).
    """

    def __init__(self, source: str, dpi: int | None = None) -> None:
        super().__init__(source)
        self.dpi = dpi

    def pipe(self, format: str | None = None, *args: Any, encoding: str | None = None,  # noqa: A002
             **kwargs: Any) -> Any:
        data = render(self.source, format or "svg", self.dpi)
        return data.decode(encoding) if encoding else data

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the picture; the format comes from the suffix (.svg .png .jpg .dot .pdf)."""
        path = Path(path)
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"Cannot tell the picture format from {path.name!r}: use one of "
                f"{', '.join(sorted(FORMATS))}."
            )
        data = self.source.encode("utf-8") if fmt == "dot" else render(self.source, fmt, self.dpi)
        path.write_bytes(data)
        return path
