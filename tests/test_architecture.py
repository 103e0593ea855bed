"""The house rules, checked: floors only import downward, no import cycles, reading budgets,
small functions in the kernel, a clean lint, checked types.

Floors are ARCHITECTURE.md's: graph (0), backend (1), engine (2), layers and their kin (3),
saving (4), models (5), viz (6). ``testing`` stands on graph and backend only; the Keras
helpers (``utils``, ``preprocessing``, ``datasets``) and the tools (``assignments``, the package's
own ``__init__``/``__main__``) sit on top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "minikeras"

FLOOR_3 = {"layers", "activations", "initializers", "losses", "metrics", "optimizers", "callbacks",
           "regularizers", "constraints", "objects", "adaptive_optimizers"}
TOP = 7


def floor_of(module: str) -> float:
    """``minikeras.engine.base_layer`` -> 2; ``minikeras.testing`` -> 1.5 (beside backend)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__",):
        return TOP
    first = parts[1]
    floors = {"graph": 0, "backend": 1, "testing": 1.5, "engine": 2, "saving": 4, "models": 5, "viz": 6}
    if first in floors:
        return floors[first]
    if first in FLOOR_3:
        return 3
    return TOP  # utils, preprocessing, datasets, assignments


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def resolve(module: str, is_package: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The ``minikeras`` modules an import statement names (submodules where it names them)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "minikeras"]
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "minikeras":
        return []
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        out.append(sub if MODULES.get(sub) else target)
    return out


def _is_type_checking(node: ast.If) -> bool:
    return (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING") or (
        isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at import time?) for every import in the file; an import inside
    a function or under ``if TYPE_CHECKING`` does not run when the module is imported."""
    module = module_name(path)
    tree = ast.parse(path.read_text())
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, eager: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((m, child.lineno, eager) for m in resolve(module, path.name == "__init__.py", child))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                visit(child, False)
            else:
                visit(child, eager)

    visit(tree, True)
    return found


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(p): p for p in FILES}


def test_every_import_goes_down_a_floor_or_stays_on_it() -> None:
    upward = []
    for path in FILES:
        here = module_name(path)
        for target, line, _ in imports_of(path):
            if floor_of(target) > floor_of(here):
                upward.append(f"{path.relative_to(ROOT)}:{line}: {here} (floor {floor_of(here)}) imports "
                              f"{target} (floor {floor_of(target)})")
    assert not upward, "imports that go up a floor:\n" + "\n".join(upward)


def test_testing_helpers_stand_on_graph_and_backend_only() -> None:
    bad = [f"{p.relative_to(ROOT)}:{line}: {t}" for p in FILES if module_name(p).startswith("minikeras.testing")
           for t, line, _ in imports_of(p) if not t.startswith(("minikeras.graph", "minikeras.backend",
                                                                 "minikeras.testing"))]
    assert not bad, "\n".join(bad)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the import graph, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start in sorted(edges):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def test_no_import_cycles() -> None:
    edges = {module_name(p): {t for t, _, eager in imports_of(p) if eager and t in MODULES and t != module_name(p)}
             for p in FILES}
    # A package's __init__ gathers its submodules; a submodule reaching its own package's
    # __init__ (which Python imports first anyway) is not a cycle of its own making.
    for module, targets in edges.items():
        edges[module] = {t for t in targets if not module.startswith(t + ".")}
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


# --- reading budgets -------------------------------------------------------------------------

KERNEL = ["tensor.py", "op.py", "graph.py", "topo.py", "gradients.py"]


def lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_the_autodiff_kernel_reads_in_600_lines() -> None:
    sizes = {name: lines(PACKAGE / "graph" / name) for name in KERNEL}
    assert sum(sizes.values()) <= 600, sizes


def test_the_plan_reads_in_250_lines() -> None:
    assert lines(PACKAGE / "graph" / "plan.py") <= 250


def test_no_file_is_over_400_lines() -> None:
    big = {str(p.relative_to(ROOT)): lines(p) for p in FILES if lines(p) > 400}
    assert not big, f"split these by idea: {big}"


def test_no_function_of_floor_0_is_too_complex() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "C901",
                           "--config", "lint.mccabe.max-complexity = 12", "minikeras/graph"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("where", ["minikeras", "tests", "benchmarks", "lessons", "docs"])
def test_ruff_is_clean(where: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", where],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_finds_no_errors() -> None:
    """Types checked (pyproject.toml's [tool.mypy]): a declared attribute, not a guessed one."""
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
