"""The student's copy of the package: skeletons for the chosen tasks, the grading tests, and
what a student needs around them (a README, requirements, pytest settings, optionally a
GitHub Classroom workflow). Standard library only."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from .kit import IGNORE, AssignmentError, Task, find_tasks, package_dir, select_tasks, skeleton

__all__ = ["ASSIGNMENT_FILE", "classroom_workflow", "make", "student_readme"]

_PYTEST_INI = "[pytest]\naddopts = -ra --strict-markers --tb=short\ntestpaths = tests\n"
ASSIGNMENT_FILE = "assignment.json"
_GITIGNORE = "__pycache__/\n*.pyc\n.pytest_cache/\n.hypothesis/\n.venv/\nresults.json\n"
# What the copy needs to run and be graded (minikeras's own dependencies, pytest, hypothesis).
_REQUIREMENTS = "numpy>=1.24\nh5py>=3.0\ngraphviz>=0.20\ngraphviz-pure>=0.2\npytest>=7.4\nhypothesis>=6.80\n"


def make(outdir: Path | str, tasks: Iterable[str] | None = None, package: Path | str | None = None,
         tests: Path | str | None = None, github_actions: bool = False) -> list[Task]:
    """Write the student version to ``outdir``; return the tasks replaced, in dependency order.

    ``outdir`` gets a copy of ``package`` with the bodies of ``tasks`` (all by default)
    replaced, the grading tests ``tests`` (default: ``tests/assignments`` next to the
    package) in ``outdir/tests/assignments``, a ``README.md`` for students, a
    ``requirements.txt``, a ``pytest.ini`` and a ``.gitignore``; with ``github_actions``, a
    GitHub Classroom workflow with one graded step per task. Tasks not selected keep their
    solution. ``outdir`` must not exist or be empty.
    """
    root = package_dir(package)
    tests_dir = root.parent / "tests" / "assignments" if tests is None else Path(tests)
    if not tests_dir.is_dir():
        raise AssignmentError(
            f"grading tests not found at {tests_dir}: pass tests=... (--tests DIR) with the "
            "directory holding them (tests/assignments in a clone of the repository)"
        )
    out = Path(outdir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AssignmentError(f"{out} exists and is not an empty directory; choose a new OUTDIR")
    if out.resolve().is_relative_to(root):
        raise AssignmentError(f"{out} is inside the package it would copy ({root}); choose another OUTDIR")
    known = find_tasks(root)
    selected = select_tasks(known, tasks)

    shutil.copytree(root, out / root.name, ignore=IGNORE, dirs_exist_ok=True)
    for path in sorted({t.path for t in selected}):
        target = out / path
        names = {t.name for t in selected if t.path == path}
        target.write_text(skeleton(target.read_text(encoding="utf-8"), names, path), encoding="utf-8")
    shutil.copytree(tests_dir, out / "tests" / "assignments", ignore=IGNORE)
    (out / "pytest.ini").write_text(_PYTEST_INI, encoding="utf-8")
    (out / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
    (out / "requirements.txt").write_text(_REQUIREMENTS, encoding="utf-8")
    (out / "README.md").write_text(student_readme(selected), encoding="utf-8")
    # Which tasks this copy hands out: grade scores these (the others keep their solution).
    (out / ASSIGNMENT_FILE).write_text(json.dumps({"tasks": [t.name for t in selected]}) + "\n",
                                       encoding="utf-8")
    if github_actions:
        workflow = out / ".github" / "workflows" / "classroom.yml"
        workflow.parent.mkdir(parents=True)
        workflow.write_text(classroom_workflow(selected), encoding="utf-8")
    return selected


def student_readme(tasks: Sequence[Task]) -> str:
    """The student's instructions: set up, the tasks in the order to write them, how to check."""
    rows = "\n".join(
        f"| {i} | `{t.name}` | `{t.path}`, `{t.function}` | {t.statement} | {t.points:g} |"
        for i, t in enumerate(tasks, 1))
    given = {t.name for t in tasks}
    needs = "".join(f"\n- `{t.name}` runs code of {', '.join(f'`{n}`' for n in t.after if n in given)}: "
                    "write that first." for t in tasks if given.intersection(t.after))
    return f"""# minikeras: your assignment

This is minikeras, Keras 2's graph machinery on NumPy, with some function bodies taken out.
Each one now raises `NotImplementedError` with what to write; the markers `# TASK` and
`# END TASK` around it show where. Write the code between them; change nothing else.

## Set up (once)

```sh
python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
```

## The tasks, in the order to write them

| # | task | where | what to write | points |
|---|---|---|---|---|
{rows}
{needs}

## Check your work

```sh
.venv/bin/python -m pytest -m task_{tasks[0].name}          # the tests of one task
.venv/bin/python -m pytest                            # every task
.venv/bin/python -m minikeras.assignments grade       # the score, task by task
```

Run these from this folder, so that Python imports this copy of minikeras. A failing test
says what it expected, what it got, and often a hint. A task's score is its points times the
share of its tests that pass.
"""


def classroom_workflow(tasks: Sequence[Task]) -> str:
    """A GitHub Classroom autograding workflow: one graded step per task, then the reporter."""
    steps = "".join(f"""    - name: {t.name}
      id: {t.name.replace("_", "-")}
      uses: classroom-resources/autograding-command-grader@v1
      with:
        test-name: {t.name}
        setup-command: pip install -q -r requirements.txt
        command: python -m pytest -m task_{t.name}
        timeout: 10
        max-score: {t.points:g}
""" for t in tasks)
    ids = [t.name.replace("_", "-") for t in tasks]  # step ids: the reporter reads <ID>_RESULTS
    env = "".join(f"        {i.upper()}_RESULTS: \"${{{{steps.{i}.outputs.result}}}}\"\n" for i in ids)
    runners = ",".join(ids)
    return f"""name: Autograding
on: [push, workflow_dispatch, repository_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  grade:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
    - uses: actions/checkout@v4
    - uses: actions/setup-python@v5
      with:
        python-version: "3.11"
{steps}    - name: Summary
      if: always()
      run: python -m minikeras.assignments grade --classroom
    - name: Autograding reporter
      uses: classroom-resources/autograding-grading-reporter@v1
      env:
{env}      with:
        runners: {runners}
"""
