"""Every lesson runs as a script within its time limit and draws its pictures."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

LESSONS = sorted((Path(__file__).resolve().parent.parent / "lessons").glob("[0-9][0-9]_*.py"))
TIME_LIMIT = 180  # seconds per lesson


def test_there_are_at_least_twelve_lessons() -> None:
    assert len(LESSONS) >= 12, [p.name for p in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_and_draws(lesson: Path, tmp_path: Path) -> None:
    # One BLAS thread: on two shared cores, spinning BLAS threads make timings swing 10x.
    env = dict(os.environ, MINIKERAS_LESSON_OUT=str(tmp_path), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(lesson)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=TIME_LIMIT)
    assert done.returncode == 0, f"{lesson.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    pictures = [p for p in tmp_path.iterdir() if p.suffix in (".svg", ".png")]
    assert pictures, f"{lesson.name} drew no picture into MINIKERAS_LESSON_OUT"
    text = lesson.read_text(encoding="utf-8")
    assert text.count("# %% [markdown]") >= 3, "a lesson explains itself in markdown cells"


# --- the same lessons as notebooks --------------------------------------------------------------

DRAWS = re.compile(r"\b(plot_graph|plot_model|show)\(")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_as_a_notebook_and_shows_every_picture(lesson: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    if importlib.util.find_spec("ipykernel") is None:  # not imported here: Progbar would think it runs in Jupyter
        pytest.skip("ipykernel (the lessons extra) is not installed")
    monkeypatch.setenv("MINIKERAS_LESSON_OUT", str(tmp_path))  # the kernel inherits the environment
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    notebook = jupytext.read(lesson)
    nbclient.NotebookClient(notebook, timeout=TIME_LIMIT, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    drawing = [cell for cell in notebook.cells if cell.cell_type == "code" and DRAWS.search(cell.source)]
    assert drawing, f"{lesson.name} draws nothing"
    for cell in drawing:
        kinds = {kind for out in cell.outputs for kind in out.get("data", {})}
        assert kinds & {"image/svg+xml", "image/png"}, (
            f"{lesson.name}: this cell draws but shows no picture in a notebook:\n{cell.source}")
    if lesson.stem.startswith("11_"):  # trains with a live bar: redrawn in place, as in Keras
        text = "".join(out.get("text", "") for cell in notebook.cells
                       if cell.cell_type == "code" for out in cell.outputs)
        assert "Epoch 15/15" in text and "\r" in text and "[====" in text, text[-2000:]
    below = [i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "markdown" and re.search(r"picture below|below is the picture", cell.source)]
    for i in below:
        following = next(c for c in notebook.cells[i + 1:] if c.cell_type == "code")
        assert following in drawing, f"{lesson.name}: 'the picture below' has no picture below it"


def test_notebooks_made_from_lessons_are_ignored_by_git() -> None:
    ignored = (Path(__file__).resolve().parent.parent / ".gitignore").read_text(encoding="utf-8").split()
    assert "lessons/*.ipynb" in ignored
