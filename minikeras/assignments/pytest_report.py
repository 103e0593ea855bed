"""A pytest plugin for ``grade``: each test's outcome and task markers, as JSON.

Loaded with ``-p minikeras.assignments.pytest_report``; writes to the file named by
``MINIKERAS_GRADE_REPORT`` when the session ends. A test counts as passed only if its setup,
call and teardown all pass.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_results: dict[str, dict[str, Any]] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:  # after -m deselected the tasks not graded
        tasks = sorted({m.name.removeprefix("task_") for m in item.iter_markers()
                        if m.name.startswith("task_")})
        _results[item.nodeid] = {"tasks": tasks, "outcome": "passed", "output": ""}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    result = _results.get(report.nodeid)
    if result is None or result["outcome"] != "passed":
        return  # the first failure of a test is the one to show
    if report.failed or (report.skipped and report.when == "call"):
        result["outcome"] = "failed" if report.failed else "skipped"
        result["output"] = report.longreprtext.strip()[-3000:]
    elif report.skipped:  # skipped in setup: a skip mark, or a missing optional dependency
        result["outcome"] = "skipped"
        result["output"] = report.longreprtext.strip()[-3000:]


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("MINIKERAS_GRADE_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_results, f)
