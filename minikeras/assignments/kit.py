"""Find task markers in the solution and write the student version (standard library only).

A marker pair encloses the *whole* body of one function, after its docstring, at the body's
indentation::

    def topo_sort(targets, stop=()):
        \"\"\"Docstring: kept in the student version.\"\"\"
        # TASK topo_sort: return the ops that compute targets, producers first
        ...the solution...
        # END TASK

The marker may carry options in parentheses: points (default 1) and the tasks whose code this
one's tests run (listed first, and graded first)::

    # TASK adam (2 points, after topo_sort): build Keras 2's Adam step; return the updates

Markers are read with ``tokenize`` (so text in strings, such as this docstring, is never
taken for one) and checked against ``ast``: a pair that does not enclose exactly one
function's body is an error, so the generated file always keeps a valid function.
"""

from __future__ import annotations

import ast
import io
import re
import shutil
import tokenize
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["AssignmentError", "Task", "find_tasks", "parse_tasks", "skeleton", "unwritten"]

_TASK = re.compile(r"# TASK (?P<name>[A-Za-z_]\w*)(?: \((?P<options>[^()]*)\))?: (?P<statement>\S.*?)\s*")
_POINTS = re.compile(r"(?P<points>\d+(?:\.\d+)?) points?")
_AFTER = re.compile(r"after (?P<names>[A-Za-z_]\w*(?:(?: and |, | )[A-Za-z_]\w*)*)")
_END = "# END TASK"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
# Pins pytest's rootdir to OUTDIR: no ini file of an enclosing project is picked up. Short
# tracebacks: a student reads the assertion's message, not the grading test's internals.
class AssignmentError(ValueError):
    """A malformed marker, an unknown task name, or an output directory in the way."""


@dataclass(frozen=True)
class Task:
    """One marked function body: lines ``start`` (``# TASK``) to ``end`` (``# END TASK``), 1-based.

    ``body`` is the text between the markers: the solution, or the student version's raise.
    """

    name: str
    statement: str
    path: str
    function: str
    start: int
    end: int
    indent: str
    body: str = field(default="", repr=False)
    points: float = 1.0
    after: tuple[str, ...] = ()

    @property
    def written(self) -> bool:
        """False while the body is still the ``raise NotImplementedError`` of the student version."""
        lines = [line.strip() for line in self.body.splitlines() if line.strip()]
        return lines != [f"raise NotImplementedError({_literal(self.message)})"]

    @property
    def message(self) -> str:
        """What the student version raises: ``TASK <name>: <statement>``."""
        return f"TASK {self.name}: {self.statement}"

    @property
    def marker(self) -> str:
        """The pytest marker that selects this task's grading tests."""
        return f"task_{self.name}"


def parse_tasks(source: str, path: str = "<source>") -> list[Task]:
    """The tasks marked in one file's ``source``, in file order.

    Raises:
        AssignmentError: naming the file and line of a marker that is malformed, unpaired,
            nested, or does not enclose exactly one function's body.
    """
    pairs = _marker_pairs(source, path)
    if not pairs:
        return []
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        raise AssignmentError(f"{path}: cannot parse the solution: {e}") from e
    lines = source.splitlines()
    functions = list(_functions(tree, ""))
    tasks = []
    for name, options, statement, start, end in pairs:
        task = _task(name, statement, path, start, end, lines, functions)
        points, after = _options(options, f"{path}:{start}")
        tasks.append(replace(task, points=points, after=after))
    return tasks


def skeleton(source: str, names: Collection[str] | None = None, path: str = "<source>") -> str:
    """``source`` with the bodies of tasks ``names`` (all by default) replaced by a raise.

    The markers, the signature and the docstring stay; the result is checked to compile.
    """
    lines = source.splitlines(keepends=True)
    for task in reversed(parse_tasks(source, path)):
        if names is not None and task.name not in names:
            continue
        # Only the lines strictly between the markers go: the markers stay, to show where to write.
        raise_line = f"{task.indent}raise NotImplementedError({_literal(task.message)})\n"
        lines[task.start:task.end - 1] = [raise_line]
    text = "".join(lines)
    try:
        compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as e:  # a bug here, not in the markers: they were checked above
        raise AssignmentError(f"{path}: the student version does not compile: {e}") from e
    return text


def find_tasks(package: Path | str | None = None) -> list[Task]:
    """Every task marked in ``package`` (default: the installed ``minikeras``), in dependency
    order: each task after the tasks it names with ``after``, otherwise by path.

    ``Task.path`` is relative to the package's parent, e.g. ``minikeras/graph/topo.py``.
    This is the one list of tasks: the grading tests, the kit's README and workflow, and
    ``grade`` all read it.
    """
    root = package_dir(package)
    tasks: list[Task] = []
    for file in sorted(root.rglob("*.py")):
        if "__pycache__" in file.parts:
            continue
        text = file.read_text(encoding="utf-8")
        if "# TASK" in text or _END in text:
            tasks += parse_tasks(text, file.relative_to(root.parent).as_posix())
    seen: dict[str, Task] = {}
    for task in tasks:
        if task.name in seen:
            first = seen[task.name]
            raise AssignmentError(
                f"task {task.name!r} is marked twice: {first.path}:{first.start} and "
                f"{task.path}:{task.start}; task names must be unique (they name pytest markers)"
            )
        seen[task.name] = task
    return _dependency_order(tasks)


def unwritten(package: Path | str | None = None) -> list[Task]:
    """The tasks of ``package`` whose body still raises ``NotImplementedError`` (a skeleton)."""
    return [t for t in find_tasks(package) if not t.written]


# --- helpers ---------------------------------------------------------------------------


def package_dir(package: Path | str | None) -> Path:
    if package is None:
        return Path(__file__).resolve().parent.parent
    root = Path(package).resolve()
    if not (root / "__init__.py").is_file():
        raise AssignmentError(f"{root} is not a Python package (no __init__.py)")
    return root


def select_tasks(known: list[Task], names: Iterable[str] | None) -> list[Task]:
    if names is None:
        return known
    wanted = [n.strip() for n in names if n.strip()]
    unknown = sorted(set(wanted) - {t.name for t in known})
    if unknown or not wanted:
        what = f"unknown task(s) {unknown}" if unknown else "no task selected"
        raise AssignmentError(f"{what}; the tasks are: {', '.join(t.name for t in known)}")
    return [t for t in known if t.name in wanted]


def _options(text: str | None, where: str) -> tuple[float, tuple[str, ...]]:
    """``(points, after)`` from a marker's parenthesised options, e.g. ``2 points, after topo_sort``."""
    points = 1.0
    after: tuple[str, ...] = ()
    for item in (text or "").split(","):
        item = item.strip()
        if (m := _POINTS.fullmatch(item)) is not None:
            points = float(m["points"])
        elif (m := _AFTER.fullmatch(item)) is not None:
            after += tuple(n for n in re.split(r",? and |, | ", m["names"]) if n)
        elif item or text is not None:
            raise AssignmentError(
                f"{where}: unknown task option {item!r}; options are 'N points' and 'after <task>', "
                "e.g. '# TASK adam (2 points, after topo_sort): ...'"
            )
    return points, after


def _dependency_order(tasks: list[Task]) -> list[Task]:
    """``tasks`` with each after the tasks it names in ``after`` (stable otherwise)."""
    by_name = {t.name: t for t in tasks}
    for t in tasks:
        unknown = [n for n in t.after if n not in by_name]
        if unknown:
            raise AssignmentError(f"{t.path}:{t.start}: task {t.name!r} comes after unknown task(s) "
                                  f"{unknown}; the tasks are: {', '.join(by_name)}")
    done: list[Task] = []
    placed: set[str] = set()
    while len(done) < len(tasks):
        ready = [t for t in tasks if t.name not in placed and placed.issuperset(t.after)]
        if not ready:
            stuck = [t.name for t in tasks if t.name not in placed]
            raise AssignmentError(f"tasks {stuck} come after each other in a cycle; break it")
        done.append(ready[0])
        placed.add(ready[0].name)
    return done


def _marker_pairs(source: str, path: str) -> list[tuple[str, str | None, str, int, int]]:
    """``(name, options, statement, start, end)`` for each marker pair, from the comment tokens."""
    pairs: list[tuple[str, str | None, str, int, int]] = []
    open_: tuple[str, str | None, str, int, int] | None = None  # name, options, statement, line, col
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as e:
        raise AssignmentError(f"{path}: cannot read the solution: {e}") from e
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        (line, col), text = tok.start, tok.string.rstrip()
        is_end = text == _END
        if not is_end and not (text == "# TASK" or text.startswith(("# TASK ", "# TASK:"))):
            continue
        where = f"{path}:{line}"
        if tok.line[:col].strip():
            raise AssignmentError(f"{where}: a task marker must be alone on its line: {text!r}")
        if is_end:
            if open_ is None:
                raise AssignmentError(f"{where}: '# END TASK' without a '# TASK <name>: ...' above it")
            if col != open_[4]:
                raise AssignmentError(
                    f"{where}: '# END TASK' is indented {col} columns but its '# TASK {open_[0]}' "
                    f"(line {open_[3]}) {open_[4]}; both belong at the body's indentation"
                )
            pairs.append((open_[0], open_[1], open_[2], open_[3], line))
            open_ = None
            continue
        match = _TASK.fullmatch(text)
        if match is None:
            raise AssignmentError(
                f"{where}: malformed marker {text!r}; write '# TASK <name>: <statement>' "
                "(a Python identifier, optionally '(N points, after <task>)', a colon, a one-line "
                "statement)"
            )
        if open_ is not None:
            raise AssignmentError(
                f"{where}: task {match['name']!r} starts inside task {open_[0]!r} (line {open_[3]}); "
                "tasks cannot nest: close it with '# END TASK' first"
            )
        open_ = (match["name"], match["options"], match["statement"], line, col)
    if open_ is not None:
        raise AssignmentError(f"{path}:{open_[3]}: task {open_[0]!r} has no '# END TASK'")
    return pairs


def _functions(node: ast.AST, prefix: str) -> Iterable[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function under ``node`` with its qualified name (``Tanh.backward``)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = prefix + child.name
            if not isinstance(child, ast.ClassDef):
                yield name, child
            yield from _functions(child, name + ".")
        else:
            yield from _functions(child, prefix)


def _first_line(stmt: ast.stmt) -> int:
    decorators = getattr(stmt, "decorator_list", [])
    return min([stmt.lineno] + [d.lineno for d in decorators])


def _task(name: str, statement: str, path: str, start: int, end: int, lines: list[str],
          functions: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]) -> Task:
    """Check that lines ``start..end`` enclose one function's whole body, and describe it."""
    where = f"{path}:{start}"
    for qualname, fn in functions:
        body = fn.body
        after = fn.lineno
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            after, body = body[0].end_lineno or body[0].lineno, body[1:]
        if not body or not after < start < _first_line(body[0]):
            continue
        last = body[-1].end_lineno or body[-1].lineno
        between = lines[start:_first_line(body[0]) - 1] + lines[last:end - 1]
        if end <= last or any(s.strip() and not s.strip().startswith("#") for s in between):
            raise AssignmentError(
                f"{where}: task {name!r} must end after the last line of {qualname} (line {last}) "
                f"and before anything else, but its '# END TASK' is on line {end}"
            )
        indent = lines[start - 1][:len(lines[start - 1]) - len(lines[start - 1].lstrip())]
        if len(indent) != body[0].col_offset:
            raise AssignmentError(
                f"{where}: task {name!r} is indented {len(indent)} columns but the body of "
                f"{qualname} {body[0].col_offset}; markers belong at the body's indentation"
            )
        return Task(name, statement, path, qualname, start, end, indent, "\n".join(lines[start:end - 1]))
    raise AssignmentError(
        f"{where}: task {name!r} does not start a function body; put '# TASK {name}: ...' on "
        "the line after the docstring (or after the def line) and '# END TASK' after the body"
    )


def _literal(text: str) -> str:
    """``text`` as a double-quoted Python string literal."""
    if '"' in text or "\\" in text or not text.isprintable():
        return repr(text)
    return f'"{text}"'
