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


def format_for(path: str | os.PathLike[str]) -> str:
    """The renderer's format for a file name: ``model.png`` -> ``png``; a clear error if unknown."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"Cannot tell the picture format from {Path(path).name!r}: use one of "
            f"{', '.join(sorted(FORMATS))}."
        )
    return FORMATS[suffix]


def render(source: str, fmt: str, dpi: int | None = None, engine: str = "dot") -> bytes:
    """``source`` (DOT text) rendered to ``fmt`` (``svg``, ``png``, ``jpeg``, ``pdf``) as bytes."""
    command = renderer()
    if fmt == "pdf" and not command[0].endswith(("dot", "dot.exe")):
        raise ValueError(
            "PDF needs the system Graphviz `dot`, which is not installed; graphviz-pure renders "
            "svg, png and jpeg. Save as .svg or .png (or install Graphviz for PDF)."
        )
    args = command + [f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi and fmt in ("png", "jpeg") else [])
    if engine != "dot":  # graphviz-pure has the same eight layout engines as Graphviz
        args.append(f"-K{engine}")
    done = subprocess.run(args, input=source.encode("utf-8"), capture_output=True, timeout=120,
                          env={**os.environ, "LC_ALL": "C"})
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace")
        raise RuntimeError(f"{Path(command[0]).name} failed on the graph: {message}")
    return done.stdout


class Picture(graphviz.Source):
    """DOT text that draws itself: inline in Jupyter, or to a file with ``save``.

    It is a ``graphviz.Source`` whose drawing (``pipe``, ``render``, ``view``, Jupyter's
    display) goes through ``render`` above, so it works without a system Graphviz.
    ``picture.source`` is the DOT text (deterministic: the same graph gives the same text).
    ``save("model.png")`` picks the format from the suffix; ``render`` keeps graphviz's
    meaning (write the DOT file, then ``<file>.<format>`` beside it).
    """

    def __init__(self, source: str, *args: Any, dpi: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("format", "svg")  # graphviz's default, pdf, needs a system Graphviz
        super().__init__(source, *args, **kwargs)
        self.dpi = dpi

    def _copy_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # graphviz's copy() rebuilds the object from these: dpi must survive it.
        return super()._copy_kwargs(dpi=self.dpi, **kwargs)

    def pipe(self, format: str | None = None, *args: Any, encoding: str | None = None,  # noqa: A002
             engine: str | None = None, **kwargs: Any) -> Any:
        """The picture as bytes (``str`` with ``encoding``), in ``format`` (default ``svg``)."""
        data = render(self.source, format or self.format, self.dpi, engine or self.engine)
        return data.decode(encoding) if encoding else data

    def save(self, filename: str | os.PathLike[str] | None = None,
             directory: str | os.PathLike[str] | None = None, *,
             skip_existing: bool | None = False) -> str:
        """Write the picture; the format comes from the suffix (.svg .png .jpg .dot .pdf).

        A name without a suffix gets the DOT text, as ``graphviz.Source.save`` writes it.
        """
        if filename is None or not Path(filename).suffix:
            return super().save(filename, directory=directory, skip_existing=skip_existing)
        path = Path(directory or "", filename)
        fmt = format_for(path)
        data = self.source.encode("utf-8") if fmt == "dot" else render(self.source, fmt, self.dpi,
                                                                       self.engine)
        path.write_bytes(data)
        return str(path)

    def render(self, filename: str | os.PathLike[str] | None = None,  # type: ignore[override]
               directory: str | os.PathLike[str] | None = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, *,  # noqa: A002
               outfile: str | os.PathLike[str] | None = None, engine: str | None = None,
               quiet: bool = False, quiet_view: bool = False) -> str:
        """graphviz's ``render``: save the DOT file, draw it to ``<file>.<format>`` (or
        ``outfile``), return that path; ``view=True`` opens it. (``quiet`` is accepted for
        graphviz's ``view``; the renderer's messages are always captured.)"""
        fmt = format_for(outfile) if outfile is not None and format is None else format or self.format
        if outfile is not None and filename is None:
            filename = Path(outfile).with_suffix(".gv")  # the DOT file goes beside the picture
        # graphviz's own save: FILE always gets the DOT text here, whatever its suffix.
        source_path = graphviz.Source.save(self, filename, directory=directory)
        target = Path(directory or "", outfile) if outfile is not None else Path(f"{source_path}.{fmt}")
        target.write_bytes(render(self.source, fmt, self.dpi, engine or self.engine))
        if cleanup:
            os.remove(source_path)
        if view or quiet_view:
            graphviz.view(str(target), quiet=quiet_view)
        return str(target)
