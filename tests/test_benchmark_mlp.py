"""``benchmarks/mlp.py --quick`` runs, and every implementation computes the same step.

No timing is asserted (timed tests flake on shared machines): only that the run succeeds,
that the correctness check passed, and that the ratio and memory lines are printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
RATIO = r"median [\d.]+x \(quartiles [\d.]+-[\d.]+x, [^)]*\)"


def test_mlp_quick_runs_and_the_implementations_agree() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "mlp.py"), "--quick"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{out}\n{proc.stderr}"
    assert "DISAGREES" not in out, out
    for workload in ("W1", "W2", "W3"):
        for path in ("K.function", "train_on_batch"):
            assert re.search(rf"check: {re.escape(path)} agrees with the hand-written step", out), out
            assert re.search(rf"^ratio {workload} {re.escape(path)}/hand-written: {RATIO}  goal <= [\d.]+x: "
                             r"(MET|NOT MET)$", out, re.M), out
    assert out.count("check: all implementations agree") == 3, out
    assert re.search(r"^memory W3 K\.function/hand-written: peak [\d.]+x \(goal <= 1\.2x: (MET|NOT MET)\)$",
                     out, re.M), out
    assert re.search(r"^memory W3 train_on_batch/hand-written: peak [\d.]+x", out, re.M), out


def test_mlp_profile_splits_the_time_by_op_type() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "mlp.py"), "--quick", "--workloads", "W1", "--no-memory",
         "--no-torch", "--profile"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{out}\n{proc.stderr}"
    assert re.search(r"^  K\.function: \d+ steps; time in each op type's forwards", out, re.M), out
    assert re.search(r"^    MatMul +8 steps", out, re.M), out
    assert "executor bookkeeping" in out, out
