"""The documentation site builds with ``mkdocs build --strict`` (broken links fail)."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    site = tmp_path / "site"
    assert (site / "reference" / "graph" / "index.html").exists()
    assert "check_gradients" in (site / "reference" / "testing" / "index.html").read_text()
    check_reference_names(site)
    check_home_page_and_theme(site)
    shutil.rmtree(site)


def public_names(module: Any) -> list[str]:
    """``__all__``, or the functions and classes a module defines and does not hide."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [n for n, o in vars(module).items() if not n.startswith("_") and not inspect.ismodule(o)
            and (inspect.isfunction(o) or inspect.isclass(o)) and o.__module__ == module.__name__]


def headings(page: Path) -> set[str]:
    """The text of every object heading mkdocstrings wrote on ``page``."""
    text = page.read_text(encoding="utf-8")
    return set(re.findall(r'class="doc doc-heading">\s*(?:<span[^>]*>)?\s*(?:<code>)?([\w.]+)', text))


def check_reference_names(site: Path) -> None:
    """Every public name of K, and of the other public modules, has an entry, by its import path."""
    from minikeras import activations, backend, constraints, initializers, regularizers, saving

    k_names = [n for n in dir(backend) if not n.startswith("_") and not inspect.ismodule(getattr(backend, n))]
    assert len(k_names) > 100
    found = headings(site / "reference" / "backend" / "index.html")
    missing = [n for n in k_names if f"minikeras.backend.{n}" not in found]
    assert not missing, f"docs/reference/backend.md lacks K.{missing}: add an entry for each"
    modules = site / "reference" / "modules" / "index.html"
    ids = set(re.findall(r'id="([\w.]+)"', modules.read_text(encoding="utf-8")))
    for module in (activations, initializers, regularizers, constraints, saving):
        missing = [n for n in public_names(module) if f"{module.__name__}.{n}" not in ids]
        assert not missing, f"docs/reference/modules.md lacks {module.__name__}.{missing}"
    assert "minikeras.utils.plot_model" in ids
    signature = (site / "reference" / "backend" / "index.html").read_text(encoding="utf-8")
    assert "doc-signature" in signature  # parameters listed


def check_home_page_and_theme(site: Path) -> None:
    """The home page shows the README's picture and example; a light/dark toggle; code wraps."""
    home = (site / "index.html").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'src="images/dense_ops.svg"' in home and "docs/images/dense_ops.svg" in readme
    example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert example in (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert home.count('data-md-component="palette"') == 1 and 'for="__palette_1"' in home
    css = (site / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    assert "white-space: pre-wrap" in css and "stylesheets/extra.css" in home
