"""``benchmarks/cnn.py --quick`` runs, and minikeras computes the same CNN step as the
hand-written one. No timing is asserted: only that the checks passed and the lines exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
RATIO = r"median [\d.]+x \(quartiles [\d.]+-[\d.]+x, [^)]*\)"


def test_cnn_quick_runs_and_the_implementations_agree() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "cnn.py"), "--quick", "--no-memory", "--no-torch"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{out}\n{proc.stderr}"
    for workload in ("C1", "C2"):
        for path in ("K.function", "train_on_batch"):
            assert re.search(rf"^ratio {workload} {re.escape(path)}/hand-written: {RATIO}  goal <= [\d.]+x: "
                             r"(MET|NOT MET)$", out, re.M), out
            assert re.search(rf"^faults {workload} {re.escape(path)}/hand-written: [\d.]+x", out, re.M), out
    assert out.count("agrees with the hand-written step") == 4, out
    assert "DISAGREES" not in out, out
