"""Grade a copy: run the task tests once, score each task, write what graders read.

A task's score is its points times the fraction of its tests that pass (a test that grades two
tasks counts for both). The results go to the terminal as a table and, on request, to
Gradescope's ``results.json``, PrairieLearn's ``results.json`` (score from 0 to 1) and a GitHub
Actions step summary (what GitHub Classroom shows).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .kit import AssignmentError, Task, find_tasks
from .student_kit import ASSIGNMENT_FILE

__all__ = ["TaskScore", "gradescope_results", "grade", "markdown_summary", "prairielearn_results",
           "table"]


@dataclass(frozen=True)
class TaskScore:
    """One task's result: ``passed`` of ``total`` tests, worth ``score`` of ``max_score`` points."""

    task: Task
    passed: int
    total: int
    output: str

    @property
    def complete(self) -> bool:
        """Every test of the task passed (and it has tests)."""
        return self.total > 0 and self.passed == self.total

    @property
    def max_score(self) -> float:
        return self.task.points

    @property
    def score(self) -> float:
        # No tests found is no evidence of a solution: zero, not full marks.
        return round(self.task.points * self.passed / self.total, 4) if self.total else 0.0


def grade(root: Path | str = ".", tests: Path | str | None = None, tasks: Sequence[str] | None = None,
          timeout: float = 1800, python: str = sys.executable) -> list[TaskScore]:
    """Run the grading tests of ``tasks`` (all by default) against the copy in ``root``.

    ``root`` holds the ``minikeras`` to grade (a student's copy made by ``make``, or the
    repository); pytest runs there, so that copy is the one imported. ``tests`` defaults to
    ``root/tests/assignments``; ``tasks`` to those ``make`` handed out in that copy (its
    ``assignment.json``), or every task.
    """
    root = Path(root).resolve()
    package = root / "minikeras"
    if not (package / "__init__.py").is_file():
        raise AssignmentError(f"{root} holds no minikeras package to grade; run grade in the copy "
                              "made by 'make' (or pass --root DIR)")
    tests_dir = root / "tests" / "assignments" if tests is None else Path(tests).resolve()
    if not tests_dir.is_dir():
        raise AssignmentError(f"grading tests not found at {tests_dir}; pass --tests DIR")
    known = find_tasks(package)
    if tasks is None and (root / ASSIGNMENT_FILE).is_file():
        tasks = json.loads((root / ASSIGNMENT_FILE).read_text(encoding="utf-8"))["tasks"]
    names = [t.name for t in known] if tasks is None else list(tasks)
    unknown = sorted(set(names) - {t.name for t in known})
    if unknown:
        raise AssignmentError(f"unknown task(s) {unknown}; the tasks are: {', '.join(t.name for t in known)}")
    selected = [t for t in known if t.name in names]

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = {**os.environ, "MINIKERAS_GRADE_REPORT": str(report), "PYTHONPATH": str(root)}
        command = [python, "-m", "pytest", str(tests_dir), "-p", "minikeras.assignments.pytest_report",
                   "-q", "--tb=short", "-p", "no:cacheprovider", "-m",
                   " or ".join(t.marker for t in selected)]
        try:
            run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssignmentError(f"the grading tests took more than {timeout:.0f} s; stopped") from e
        if not report.is_file():
            raise AssignmentError(f"pytest ended (status {run.returncode}) without a report:\n"
                                  f"{run.stdout[-3000:]}{run.stderr[-3000:]}")
        results = json.loads(report.read_text(encoding="utf-8"))
    return [_score(task, results) for task in selected]


def _score(task: Task, results: dict[str, dict]) -> TaskScore:
    mine = {node: r for node, r in results.items() if task.name in r["tasks"]}
    passed = sum(r["outcome"] == "passed" for r in mine.values())
    failures = [f"{node}: {r['outcome']}\n{r['output']}"
                for node, r in mine.items() if r["outcome"] != "passed"]
    head = f"{passed} of {len(mine)} tests passed."
    if failures:
        head += f" First failure{'s' if len(failures) > 1 else ''}:\n\n" + "\n\n".join(failures[:3])
    return TaskScore(task, passed, len(mine), head)


# --- what graders read ---------------------------------------------------------------------


def table(scores: Sequence[TaskScore]) -> str:
    """The terminal's view: one line per task, then the total."""
    width = max([len(s.task.name) for s in scores] + [5])
    lines = [f"{'task':<{width}}  {'tests':>9}  {'score':>12}"]
    for s in scores:
        lines.append(f"{s.task.name:<{width}}  {s.passed:>4} / {s.total:<2}  "
                     f"{s.score:>6.4g} / {s.max_score:<3g}")
    total, most = sum(s.score for s in scores), sum(s.max_score for s in scores)
    lines.append(f"{'total':<{width}}  {'':>9}  {total:>6.4g} / {most:<3g}")
    return "\n".join(lines)


def gradescope_results(scores: Sequence[TaskScore]) -> dict:
    """Gradescope's ``results.json``: one test per task, with ``score`` and ``max_score``."""
    return {
        "score": round(sum(s.score for s in scores), 4),
        "output": "minikeras assignment: one entry per task; a task's score is its share of passing tests.",
        "visibility": "visible",
        "tests": [{"name": f"{s.task.name} ({s.task.function})", "score": s.score,
                   "max_score": s.max_score, "status": "passed" if s.complete else "failed",
                   "output": s.output, "visibility": "visible"} for s in scores],
    }


def prairielearn_results(scores: Sequence[TaskScore]) -> dict:
    """PrairieLearn's external-grader ``results.json``: ``score`` from 0 to 1, points per test."""
    most = sum(s.max_score for s in scores)
    return {
        "gradable": True,
        "score": round(sum(s.score for s in scores) / most, 4) if most else 0.0,
        "message": f"{sum(s.complete for s in scores)} of {len(scores)} tasks complete.",
        "tests": [{"name": s.task.name, "description": f"{s.task.function}: {s.task.statement}",
                   "points": s.score, "max_points": s.max_score, "output": s.output} for s in scores],
    }


def markdown_summary(scores: Sequence[TaskScore]) -> str:
    """A Markdown table for ``$GITHUB_STEP_SUMMARY``: what a GitHub Classroom run shows."""
    rows = [f"| `{s.task.name}` | {s.task.function} | {s.passed} / {s.total} | "
            f"{s.score:.4g} / {s.max_score:g} |" for s in scores]
    total, most = sum(s.score for s in scores), sum(s.max_score for s in scores)
    return "\n".join(["## minikeras assignment", "", "| task | function | tests passed | points |",
                      "|---|---|---|---|", *rows, f"| **total** | | | **{total:.4g} / {most:g}** |", ""])
