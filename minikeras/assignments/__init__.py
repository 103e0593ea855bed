"""The assignment kit: marked solution bodies become ``NotImplementedError`` skeletons.

A task is a function body between two comments, ``# TASK <name>: <statement>`` and
``# END TASK``. ``python -m minikeras.assignments make OUTDIR`` copies the package and the
grading tests to ``OUTDIR`` with each marked body replaced by
``raise NotImplementedError("TASK <name>: <statement>")``, with a README, requirements and
pytest settings for students; ``pytest -m task_<name>`` runs one task's tests and
``python -m minikeras.assignments grade`` scores every task (a table, Gradescope's and
PrairieLearn's ``results.json``, a GitHub Classroom summary). See ``docs/assignments.md``.
"""

from .grade import TaskScore, grade
from .kit import AssignmentError, Task, find_tasks, parse_tasks, skeleton, unwritten
from .student_kit import make

__all__ = ["AssignmentError", "Task", "TaskScore", "find_tasks", "grade", "make", "parse_tasks", "skeleton",
           "unwritten"]
