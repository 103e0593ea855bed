"""The assignment kit: markers in the solution, the generated student version, and the grading
tests' verdicts — every task's tests pass against the solution and fail against the skeleton.

The grading runs are pytest subprocesses, started together by one fixture (most of this
file's time); each prints which ``minikeras`` it imported, so we know the copy was graded.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from minikeras.assignments import AssignmentError, find_tasks, make, parse_tasks, skeleton, unwritten
from minikeras.assignments.__main__ import main

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "minikeras"
GRADING = REPO / "tests" / "assignments"

# The tasks are declared once, by their markers in the solution; everything here reads them.
TASKS = [t.name for t in find_tasks()]
WHERE = {t.name: (t.path, t.function) for t in find_tasks()}


# --- the markers in the solution -------------------------------------------------------------


def test_the_solution_marks_the_tasks_the_grading_tests_know() -> None:
    tasks = {t.name: t for t in find_tasks()}
    assert len(tasks) >= 5 and all(t.written for t in tasks.values()) and unwritten() == []
    used = set(re.findall(r"mark\.task_(\w+)", "".join(
        p.read_text(encoding="utf-8") for p in GRADING.glob("test_*.py"))))
    assert used == set(tasks), "every task has grading tests, and every marker used is a task"
    # the grading conftest registers one marker per task, from the same markers
    out = subprocess.run([sys.executable, "-m", "pytest", "tests/assignments", "--markers", "-p",
                          "no:cacheprovider"], cwd=REPO, capture_output=True, text=True, timeout=60).stdout
    assert {m for m in re.findall(r"^@pytest\.mark\.task_(\w+):", out, re.M)} == set(tasks), out


def test_tasks_come_in_dependency_order_topo_sort_first() -> None:
    tasks = find_tasks()
    assert tasks[0].name == "topo_sort" and tasks[0].after == ()
    assert all(t.after == ("topo_sort",) for t in tasks[1:]), "every graph runs through topo_sort"
    for i, t in enumerate(tasks):
        assert set(t.after) <= {u.name for u in tasks[:i]}


def test_marker_options_points_and_order() -> None:
    source = ("def f():\n    # TASK late (2.5 points, after early): y\n    return 1\n    # END TASK\n\n\n"
              "def g():\n    # TASK early: x\n    return 2\n    # END TASK\n")
    (late, early) = parse_tasks(source)
    assert (late.points, late.after, late.statement, early.points) == (2.5, ("early",), "y", 1.0)
    with pytest.raises(AssignmentError, match="unknown task option 'soon'"):
        parse_tasks("def f():\n    # TASK a (soon): x\n    return 1\n    # END TASK\n")


def test_an_order_naming_an_unknown_task_or_a_cycle_is_an_error(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    # TASK a (after b): x\n    return 1\n    # END TASK\n")
    with pytest.raises(AssignmentError, match=r"comes after unknown task\(s\) \['b'\]"):
        find_tasks(package)
    (package / "b.py").write_text("def g():\n    # TASK b (after a): x\n    return 1\n    # END TASK\n")
    with pytest.raises(AssignmentError, match="cycle"):
        find_tasks(package)


# --- the student version ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("student")  # exists and is empty: allowed
    assert [t.name for t in make(out)] == [t.name for t in find_tasks()]
    return out


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("partial") / "new"
    assert [t.name for t in make(out, tasks=["tanh_backward"])] == ["tanh_backward"]
    return out


def test_every_generated_file_compiles(student: Path) -> None:
    files = sorted(student.rglob("*.py"))
    assert len(files) > 40 and (student / "tests" / "assignments" / "conftest.py") in files
    for file in files:
        compile(file.read_text(encoding="utf-8"), str(file), "exec", dont_inherit=True)
    assert (student / "pytest.ini").is_file()


def test_only_the_marked_bodies_change(student: Path) -> None:
    solution_tasks = find_tasks()
    assert [t.name for t in unwritten(student / "minikeras")] == TASKS
    for file in sorted(SOLUTION.rglob("*.py")):
        if "__pycache__" in file.parts:
            continue
        rel = file.relative_to(REPO).as_posix()
        old = file.read_text(encoding="utf-8").splitlines()
        new = (student / rel).read_text(encoding="utf-8").splitlines()
        for t in sorted((t for t in solution_tasks if t.path == rel), key=lambda t: -t.start):
            raise_line = f'{t.indent}raise NotImplementedError("TASK {t.name}: {t.statement}")'
            old[t.start:t.end - 1] = [raise_line]  # markers, signature and docstring stay
        assert new == old, f"{rel} differs from the solution outside the marked bodies"


def test_the_skeleton_raises_the_task_statement(student: Path) -> None:
    code = ("import minikeras.graph as G\nx = G.placeholder((2,))\ntry:\n    G.topo_sort([G.tanh(x)])\n"
            "except NotImplementedError as e:\n    print(e)\nprint(G.__file__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=student, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(student)}, timeout=60, check=True).stdout
    statement = next(t.statement for t in find_tasks() if t.name == "topo_sort")
    message, imported = out.splitlines()
    assert message == f"TASK topo_sort: {statement}"
    assert Path(imported).resolve() == (student / "minikeras" / "graph" / "__init__.py").resolve()


def test_tasks_not_selected_keep_their_solution(partial: Path) -> None:
    assert [t.name for t in unwritten(partial / "minikeras")] == ["tanh_backward"]
    for rel in sorted({path for path, _ in WHERE.values()}):
        if rel != WHERE["tanh_backward"][0]:
            assert (partial / rel).read_text() == (REPO / rel).read_text(), rel
    sigmoid = {t.name: t for t in find_tasks(partial / "minikeras")}["sigmoid_backward"]
    assert sigmoid.written and "self.y" in sigmoid.body


# --- the grading runs --------------------------------------------------------------------------


def pytest_command(cwd: Path, *args: str) -> list[str]:
    """``python -m pytest tests/assignments ARGS``, run in ``cwd`` (so ``cwd``'s minikeras is imported)."""
    # --assert=plain: rewriting asserts costs a second per run; the messages are written out anyway.
    return [sys.executable, "-m", "pytest", "tests/assignments", "-p", "no:cacheprovider", "--color=no",
            "--assert=plain", "-rf", *args]


@pytest.fixture(scope="module")
def runs(student: Path, partial: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Every grading run, a few at a time: name -> (exit status, output)."""
    logs = tmp_path_factory.mktemp("logs")
    # Against the skeleton, the shortcut (fail at once on an unwritten task) is off, so each test
    # really runs into NotImplementedError; no-shrink keeps hypothesis from shrinking it.
    slow = {"GRADING_FAIL_FAST": "0"}
    planned = {f"solution {t}": (REPO, ("-m", f"task_{t}"), {}) for t in TASKS}
    planned |= {f"skeleton {t}": (student, ("-m", f"task_{t}", "--hypothesis-profile=no-shrink"), slow)
                for t in TASKS}
    planned["partial"] = (partial, (), {})
    todo, running, results = list(planned.items()), {}, {}
    while todo or running:
        while todo and len(running) < max(2, os.cpu_count() or 1):
            name, (cwd, args, env) = todo.pop(0)
            log = logs / (name.replace(" ", "_") + ".log")
            environ = {**os.environ, "PYTHONPATH": str(cwd), **env}
            environ.pop("PYTEST_ADDOPTS", None)
            with log.open("w") as sink:  # the child keeps its own copy of the file
                running[name] = (subprocess.Popen(pytest_command(cwd, *args), cwd=cwd, env=environ,
                                                  stdout=sink, stderr=subprocess.STDOUT), log)
        name = next(iter(running))
        process, log = running.pop(name)
        results[name] = (process.wait(timeout=300), log.read_text())
    return results


def counts(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|error)", last)}


def graded_copy(output: str) -> str:
    match = re.search(r"^minikeras under test: (.*)$", output, re.M)
    assert match, "the run does not say which minikeras it imported:\n" + output[-2000:]
    return match.group(1)


@pytest.mark.parametrize("task", TASKS)
def test_the_solution_passes(task: str, runs: dict[str, tuple[int, str]]) -> None:
    status, output = runs[f"solution {task}"]
    assert graded_copy(output) == str(SOLUTION)
    assert status == 0 and counts(output).get("passed", 0) >= 3, output[-4000:]


@pytest.mark.parametrize("task", TASKS)
def test_the_skeleton_fails_every_test(task: str, runs: dict[str, tuple[int, str]], student: Path) -> None:
    status, output = runs[f"skeleton {task}"]
    assert graded_copy(output) == str((student / "minikeras").resolve())
    n = counts(output)
    assert status == 1 and n.get("passed", 0) == 0 and n.get("failed", 0) >= 3, output[-4000:]
    assert "NotImplementedError: TASK" in output


def test_a_partial_skeleton_fails_only_its_task_and_says_so(runs: dict[str, tuple[int, str]],
                                                              partial: Path) -> None:
    status, output = runs["partial"]
    assert graded_copy(output) == str(partial.resolve() / "minikeras")
    failed = re.findall(r"^FAILED (\S+)", output, re.M)
    assert status == 1 and failed and counts(output).get("passed", 0) > 20, output[-4000:]
    assert all(node.endswith("[tanh]") for node in failed), failed
    assert output.count("task tanh_backward is not written yet") >= len(failed)  # the shortcut


# --- the command line ----------------------------------------------------------------------------


def test_list_names_every_task_file_and_statement() -> None:
    out = subprocess.run([sys.executable, "-m", "minikeras.assignments", "list"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    for t in find_tasks():
        assert t.name in out and f"{t.path}:{t.start}" in out and t.statement in out


def test_make_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["make", str(tmp_path / "out"), "--tasks", "adam,topo_sort"]) == 0
    assert "task_" in capsys.readouterr().out
    assert sorted(t.name for t in unwritten(tmp_path / "out" / "minikeras")) == ["adam", "topo_sort"]
    assert main(["make", str(tmp_path / "out")]) == 2  # not empty any more
    assert "not an empty directory" in capsys.readouterr().err
    assert main(["make", str(tmp_path / "other"), "--tasks", "adam,nope"]) == 2
    err = capsys.readouterr().err
    assert "['nope']" in err and "topo_sort" in err
    assert not (tmp_path / "other").exists()


# --- the marker syntax ------------------------------------------------------------------------------

SOURCE = '''\
import functools


class Op:
    @functools.cache
    def backward(self, gy):
        """The gradient."""
        # TASK grad: return [gx] for "y = 2 x"
        def helper(g):
            return 2 * g
        return [helper(gy)]  # a comment
        # END TASK

    async def later(self):
        # TASK wait: await nothing
        return "# TASK not: a marker, a string"
        # END TASK
'''


def test_skeleton_keeps_signature_docstring_and_markers() -> None:
    tasks = parse_tasks(SOURCE)
    assert [(t.name, t.function, t.start, t.end) for t in tasks] == [("grad", "Op.backward", 8, 12),
                                                                     ("wait", "Op.later", 15, 17)]
    text = skeleton(SOURCE, {"grad"})
    namespace: dict[str, object] = {}
    exec(compile(text, "<skeleton>", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r'^TASK grad: return \[gx\] for "y = 2 x"$'):
        namespace["Op"]().backward(1.0)  # type: ignore[operator]
    assert text.splitlines()[6:10] == ['        """The gradient."""', '        # TASK grad: return [gx] for "y = 2 x"',
                                       "        raise NotImplementedError('TASK grad: return [gx] for \"y = 2 x\"')",
                                       "        # END TASK"]
    assert "# TASK not: a marker" in text and 'return "# TASK not' in text  # untouched: wait not selected
    assert [t.written for t in parse_tasks(text)] == [False, True]


@pytest.mark.parametrize(("source", "error"), [
    ("def f():\n    # TASK a: x\n    return 1\n", "has no '# END TASK'"),
    ("def f():\n    return 1\n    # END TASK\n", "without a '# TASK"),
    ("def f():\n    # TASK a x\n    return 1\n    # END TASK\n", "malformed marker"),
    ("def f():\n    # TASK a: x\n    # TASK b: y\n    return 1\n    # END TASK\n", "cannot nest"),
    ("def f():\n    x = 1\n    # TASK a: x\n    return x\n    # END TASK\n", "does not start a function body"),
    ("def f():\n    # TASK a: x\n    return 1\n\n\ndef g():\n    return 2\n    # END TASK\n", "must end after"),
    ("def f():\n    # TASK a: x\n    return 1\n# END TASK\n", "indented 0 columns"),
    ("x = 1  # TASK a: x\n", "alone on its line"),
    ("# TASK a: x\nx = 1\n# END TASK\n", "does not start a function body"),
])
def test_malformed_markers_are_errors(source: str, error: str) -> None:
    with pytest.raises(AssignmentError, match=re.escape(error)):
        parse_tasks(source, "bad.py")


def test_task_names_are_unique_across_files(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    body = "def f():\n    # TASK same: x\n    return 1\n    # END TASK\n"
    (package / "a.py").write_text(body)
    (package / "b.py").write_text(body)
    with pytest.raises(AssignmentError, match="marked twice: pkg/a.py:2 and pkg/b.py:2"):
        find_tasks(package)


# --- the kit a student gets, and the grade ------------------------------------------------------


def test_make_writes_a_kit_that_stands_on_its_own(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    out = tmp_path / "kit"
    done = make(out, github_actions=True)
    assert [t.name for t in done] == TASKS and TASKS[0] == "topo_sort"
    readme = (out / "README.md").read_text()
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", readme, re.M)
    assert [name for _, name in rows] == TASKS  # in dependency order
    assert "`adam` runs code of `topo_sort`: write that first." in readme
    assert "-m minikeras.assignments grade" in readme
    requirements = (out / "requirements.txt").read_text().split()
    assert {r.split(">=")[0] for r in requirements} >= {"numpy", "h5py", "pytest", "hypothesis"}
    assert "--tb=short" in (out / "pytest.ini").read_text()
    assert "__pycache__/" in (out / ".gitignore").read_text()
    workflow = yaml.safe_load((out / ".github" / "workflows" / "classroom.yml").read_text())
    steps = workflow["jobs"]["grade"]["steps"]
    graded = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]
    assert [s["with"]["command"] for s in graded] == [f"python -m pytest -m task_{t}" for t in TASKS]
    assert all(s["with"]["max-score"] == 1 for s in graded)
    reporter = steps[-1]
    assert reporter["with"]["runners"] == ",".join(s["id"] for s in graded)
    assert set(reporter["env"]) == {s["id"].upper() + "_RESULTS" for s in graded}


# Hand-written from each platform's documentation of its results file.
GRADESCOPE_SCHEMA = {
    "type": "object", "required": ["tests"],
    "properties": {
        "score": {"type": "number"}, "output": {"type": "string"},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "tests": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "score", "max_score", "output"],
            "properties": {"name": {"type": "string"}, "score": {"type": "number"},
                           "max_score": {"type": "number"}, "output": {"type": "string"},
                           "status": {"enum": ["passed", "failed"]},
                           "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]}},
        }},
    },
}
PRAIRIELEARN_SCHEMA = {
    "type": "object", "required": ["gradable", "score"],
    "properties": {
        "gradable": {"type": "boolean"}, "score": {"type": "number", "minimum": 0, "maximum": 1},
        "message": {"type": "string"}, "output": {"type": "string"},
        "tests": {"type": "array", "items": {
            "type": "object", "required": ["name", "points", "max_points"],
            "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                           "points": {"type": "number"}, "max_points": {"type": "number"},
                           "message": {"type": "string"}, "output": {"type": "string"}},
        }},
    },
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """A copy handing out sigmoid_backward and adam: adam unwritten, sigmoid half right; graded."""
    out = tmp_path_factory.mktemp("graded") / "student"
    make(out, tasks=["adam", "sigmoid_backward"])
    nn = out / "minikeras" / "graph" / "ops" / "nn.py"
    text = nn.read_text()
    raise_line = next(line for line in text.splitlines() if "TASK sigmoid_backward:" in line and "raise" in line)
    indent = raise_line[:len(raise_line) - len(raise_line.lstrip())]
    nn.write_text(text.replace(raise_line, indent + "return [gy * self.y]  # forgot the (1 - y)"))
    summary = out / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "PYTHONPATH": str(out)}
    run = subprocess.run([sys.executable, "-m", "minikeras.assignments", "grade", "--gradescope",
                          "gs/results.json", "--prairielearn", "pl/results.json", "--classroom"],
                         cwd=out, env=env, capture_output=True, text=True, timeout=600)
    return out, run.returncode, run.stdout + run.stderr


def test_grade_scores_each_task_on_the_terminal(graded: tuple[Path, int, str]) -> None:
    _, status, output = graded
    assert status == 1, output  # not every task has full marks
    lines = {line.split()[0]: line.split() for line in output.splitlines() if line.strip()}
    assert lines["adam"][1:] == ["0", "/", "10", "0", "/", "1"], output
    sigmoid = lines["sigmoid_backward"]
    assert 0 < int(sigmoid[1]) < int(sigmoid[3]), output  # partial marks: some tests pass
    assert "topo_sort" not in lines and "tanh_backward" not in lines  # not handed out in this copy


def test_grade_writes_gradescope_results(graded: tuple[Path, int, str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    out, _, output = graded
    results = json.loads((out / "gs" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    tests = {t["name"].split()[0]: t for t in results["tests"]}
    assert list(tests) == ["sigmoid_backward", "adam"]
    assert tests["adam"]["score"] == 0 and "NotImplementedError" in tests["adam"]["output"] + output
    assert 0 < tests["sigmoid_backward"]["score"] < tests["sigmoid_backward"]["max_score"] == 1
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    assert "task adam is not written yet" in tests["adam"]["output"]


def test_grade_writes_prairielearn_results(graded: tuple[Path, int, str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    out, _, _ = graded
    results = json.loads((out / "pl" / "results.json").read_text())
    jsonschema.validate(results, PRAIRIELEARN_SCHEMA)
    points = sum(t["points"] for t in results["tests"])
    assert 0 < results["score"] < 1 and results["score"] == pytest.approx(points / 2, abs=1e-4)


def test_grade_writes_a_github_step_summary(graded: tuple[Path, int, str]) -> None:
    out, _, _ = graded
    summary = (out / "summary.md").read_text()
    assert re.search(r"^\| `adam` \| Adam\.get_updates \| 0 / 10 \| 0 / 1 \|$", summary, re.M), summary
    assert "| **total** |" in summary


def test_grade_in_the_repository_grades_the_solution(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "--root", str(REPO), "--tasks", "tanh_backward"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^tanh_backward\s+(\d+) / \1\s+1 / 1", out, re.M), out
    assert main(["grade", "--root", str(REPO), "--tasks", "nope"]) == 2
    assert "unknown task(s) ['nope']" in capsys.readouterr().err
