"""The assignment kit: marked solution bodies become ``NotImplementedError`` skeletons.

A task is a function body between two comments, ``# TASK <name>: <statement>`` and
``# END TASK``. ``python -m minikeras.assignments make OUTDIR`` copies the package and the
grading tests to ``OUTDIR`` with each marked body replaced by
``raise NotImplementedError("TASK <name>: <statement>")``; ``pytest -m task_<name>`` grades
one task. See ``docs/assignments.md``.
"""

from .kit import AssignmentError, Task, find_tasks, make, parse_tasks, skeleton, unwritten

__all__ = ["AssignmentError", "Task", "find_tasks", "make", "parse_tasks", "skeleton", "unwritten"]
