"""The README's python example runs, and its two commands are exactly what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_python_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})


def test_ci_runs_the_readme_test_command() -> None:
    commands = [c for c in re.findall(r"```sh\n(.*?)\n```", README, re.S) if "pytest" in c]
    default, ci = commands  # the first leaves real Keras out; CI adds it
    assert "interop" not in default and ci == default.replace("[test]", "[test,interop]")
    assert ci in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_names_no_file_outside_the_repository() -> None:
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link
    assert "shared/" not in README and "/work/" not in README
