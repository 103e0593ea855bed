"""The benchmarks run and compare like with like. No timing is asserted: timed tests flake."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_scalar_graph_quick_runs_and_both_sides_agree() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "scalar_graph.py"), "--quick"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{out}\n{proc.stderr}"
    assert re.search(r"369 gradients agree with the hand-written backprop", out), out
    assert re.search(r"^ratio plan/hand-written: median [\d.]+x \(quartiles [\d.]+-[\d.]+x", out, re.M), out
    assert re.search(r"^goal .*: (MET|NOT MET)$", out, re.M), out
    assert re.search(r"^compile goal .*: (MET|NOT MET)", out, re.M), out
    assert "recursion limit at 200: ok" in out, out
