"""Every lesson runs as a script within its time limit and draws its pictures."""

from __future__ import annotations

import os
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
