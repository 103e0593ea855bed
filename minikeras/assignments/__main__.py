"""``python -m minikeras.assignments list | make OUTDIR [--tasks a,b] [--tests DIR]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .kit import AssignmentError, Task, find_tasks, make


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
        description="Generate the student version of minikeras from the marked solution.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the marked tasks, their files and statements")
    make_cmd = commands.add_parser("make", help="write the student version to OUTDIR")
    make_cmd.add_argument("outdir", type=Path, metavar="OUTDIR", help="a new or empty directory")
    make_cmd.add_argument("--tasks", help="comma-separated task names (default: all)")
    make_cmd.add_argument("--tests", type=Path, metavar="DIR",
                          help="the grading tests to copy (default: tests/assignments of the repository)")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            tasks = find_tasks()
            print(f"{len(tasks)} tasks (grade one with: python -m pytest tests/assignments -m task_<name>):")
            _print_tasks(tasks)
            return 0
        names = None if args.tasks is None else args.tasks.split(",")
        done = make(args.outdir, names, tests=args.tests)
    except AssignmentError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"Wrote the student version to {args.outdir}; {len(done)} task(s) now raise NotImplementedError:")
    _print_tasks(done)
    print("Grade one task with:")
    print(f"  cd {args.outdir} && python -m pytest tests/assignments -m {done[0].marker}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
