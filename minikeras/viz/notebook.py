"""Pictures in lessons: where they are written, and showing them in a notebook's cell.

A notebook shows a cell's *last* value only; a picture drawn earlier in the cell is lost
unless it is displayed explicitly. ``show`` does that in Jupyter and nothing in a script, so
one lesson file works both ways.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from ..callbacks import in_jupyter

__all__ = ["in_notebook", "pictures_folder", "show"]

T = TypeVar("T")


def in_notebook() -> bool:
    """True inside a Jupyter kernel, which is what displays rich output."""
    return in_jupyter()


def pictures_folder(script: str | os.PathLike[str] | None = None) -> Path:
    """The folder a lesson draws into, created if needed.

    ``$MINIKERAS_LESSON_OUT`` if set (the tests use it), else ``_pictures/`` next to
    ``script`` (pass ``globals().get("__file__")``: a notebook has no ``__file__``, and then the
    folder is ``_pictures/`` in the current directory, which is the notebook's own).
    """
    default = (Path(script).resolve().parent if script else Path.cwd()) / "_pictures"
    folder = Path(os.environ.get("MINIKERAS_LESSON_OUT") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def show(picture: T) -> T:
    """Display ``picture`` in a notebook's cell (a ``Picture``, or a ``.png``/``.svg`` file's path)
    and return it; in a script, only return it."""
    if in_notebook():
        from IPython.display import SVG, Image, display

        if isinstance(picture, (str, os.PathLike)):
            path = Path(picture)
            display(SVG(filename=str(path)) if path.suffix == ".svg" else Image(filename=str(path)))
        else:
            display(picture)
    return picture
