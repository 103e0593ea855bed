"""``python -m minikeras.assignments list | make OUTDIR [...] | grade [...]``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .grade import grade, gradescope_results, markdown_summary, prairielearn_results, table
from .kit import AssignmentError, Task, find_tasks
from .student_kit import make


def _print_tasks(tasks: Sequence[Task]) -> None:
    width = max((len(t.name) for t in tasks), default=0)
    for t in tasks:
        todo = "" if t.written else "  (not written yet)"
        print(f"  {t.name:<{width}}  {t.path}:{t.start}  {t.function}{todo}")
        print(f"  {'':<{width}}  {t.statement}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for a usage or marker error)."""
    parser = argparse.ArgumentParser(
        prog="python -m minikeras.assignments",
        description="Generate the student version of minikeras from the marked solution, and grade it.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the marked tasks, their files and statements")
    make_cmd = commands.add_parser("make", help="write the student version to OUTDIR")
    make_cmd.add_argument("outdir", type=Path, metavar="OUTDIR", help="a new or empty directory")
    make_cmd.add_argument("--tasks", help="comma-separated task names (default: all)")
    make_cmd.add_argument("--tests", type=Path, metavar="DIR",
                          help="the grading tests to copy (default: tests/assignments of the repository)")
    make_cmd.add_argument("--github-actions", action="store_true",
                          help="also write a GitHub Classroom workflow with one graded step per task")
    grade_cmd = commands.add_parser(
        "grade", help="run the task tests of the copy in the current directory and score each task")
    grade_cmd.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                           help="the copy to grade (default: the current directory)")
    grade_cmd.add_argument("--tests", type=Path, metavar="DIR",
                           help="the grading tests (default: DIR/tests/assignments)")
    grade_cmd.add_argument("--tasks", help="comma-separated task names (default: all)")
    grade_cmd.add_argument("--gradescope", type=Path, metavar="FILE",
                           help="write Gradescope's results.json (e.g. /autograder/results/results.json)")
    grade_cmd.add_argument("--prairielearn", type=Path, metavar="FILE",
                           help="write PrairieLearn's results.json (e.g. /grade/results/results.json)")
    grade_cmd.add_argument("--classroom", action="store_true",
                           help="append a Markdown summary to $GITHUB_STEP_SUMMARY (GitHub Classroom), "
                                "or print it when that is not set")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            tasks = find_tasks()
            print(f"{len(tasks)} tasks (grade one with: python -m pytest tests/assignments -m task_<name>):")
            _print_tasks(tasks)
            return 0
        names = None if args.tasks is None else args.tasks.split(",")
        if args.command == "grade":
            return _grade(args, names)
        done = make(args.outdir, names, tests=args.tests, github_actions=args.github_actions)
    except AssignmentError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"Wrote the student version to {args.outdir}; {len(done)} task(s) now raise NotImplementedError:")
    _print_tasks(done)
    print("Grade one task with:")
    print(f"  cd {args.outdir} && python -m pytest tests/assignments -m {done[0].marker}")
    return 0


def _grade(args: argparse.Namespace, names: list[str] | None) -> int:
    """Grade, print the table, write the files asked for; 0 when every task has full marks."""
    scores = grade(args.root, args.tests, names)
    print(table(scores))
    for path, results in ((args.gradescope, gradescope_results), (args.prairielearn, prairielearn_results)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(results(scores), indent=2) + "\n", encoding="utf-8")
            print(f"wrote {path}")
    if args.classroom:
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as f:
                f.write(markdown_summary(scores) + "\n")
        else:
            print(markdown_summary(scores))
    return 0 if all(s.complete for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
