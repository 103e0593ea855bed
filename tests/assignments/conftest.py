"""Grading tests for the assignment kit: one pytest marker per task.

These tests grade whichever ``minikeras`` Python imports: the solution in the repository,
or a student's copy (``cd OUTDIR && python -m pytest tests/assignments -m task_adam``).
The header of a run names the copy under test.

A test of a task that is still a skeleton fails at once with the task's statement; set
``GRADING_FAIL_FAST=0`` to run it anyway (``--hypothesis-profile=no-shrink`` keeps that quick).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.errors import InvalidArgument

from minikeras.assignments import find_tasks

#: The tasks, read from their markers in the package under test (the one place they are
#: declared): each is the pytest marker ``task_<name>``, and needs the tasks its marker names
#: with ``after`` (every graph runs through the executor, which orders ops with topo_sort).
TASKS = {t.name: f"{t.function} ({t.path}): {t.statement}" for t in find_tasks()}
NEEDS = {t.name: t.after for t in find_tasks()}


def pytest_configure(config: pytest.Config) -> None:
    for name, what in TASKS.items():
        config.addinivalue_line("markers", f"task_{name}: {what}")


def pytest_report_header(config: pytest.Config) -> str:
    import minikeras

    return f"minikeras under test: {Path(minikeras.__file__).resolve().parent}"


_unwritten: dict[str, Any] | None = None  # task name -> Task, read once


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Fail at once, saying so, when a task the test grades (or needs) is still a skeleton.

    Without this, hypothesis would shrink a ``NotImplementedError`` for seconds per test.
    """
    global _unwritten
    if os.environ.get("GRADING_FAIL_FAST", "1") == "0":
        return
    if _unwritten is None:
        try:
            from minikeras.assignments import unwritten

            _unwritten = {t.name: t for t in unwritten()}
        except Exception:  # no kit in this copy, or a student removed a marker: grade the slow way
            _unwritten = {}
    graded = [m.name.removeprefix("task_") for m in pyfuncitem.iter_markers() if m.name.startswith("task_")]
    for name in graded:
        for needed in (name, *NEEDS.get(name, ())):
            task = _unwritten.get(needed)
            if task is None:
                continue
            why = "" if needed == name else f"\nThe tests of task {name} need it: write {needed} first."
            pytest.fail(
                f"task {needed} is not written yet: {task.path}:{task.start} ({task.function}) still "
                f"raises NotImplementedError.\nWrite: {task.statement}{why}",
                pytrace=False)


# Failing examples are not shrunk: for checking that every test fails against a skeleton.
settings.register_profile("no-shrink", max_examples=3, deadline=None, database=None,
                          phases=[Phase.explicit, Phase.generate])

# A student's copy has no tests/conftest.py: the same hypothesis profiles, if none are loaded yet.
try:
    settings.get_profile("dev")  # hypothesis itself defines a "ci" profile, not "dev"
except InvalidArgument:
    settings.register_profile("dev", max_examples=12, deadline=None)
    settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True, database=None,
                              print_blob=True)
    settings.register_profile("intense", max_examples=600, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
