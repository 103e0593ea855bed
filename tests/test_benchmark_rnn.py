"""benchmarks/rnn.py runs and its sides agree (no timing is asserted: timed tests flake)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_rnn_benchmark_quick_runs_and_every_side_agrees_with_bptt_by_hand() -> None:
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "rnn.py"), "--quick", "--rounds", "1"],
                          capture_output=True, text=True, timeout=300, check=False)
    out = proc.stdout
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{out}\n{proc.stderr}"
    assert len(re.findall(r"new weights agree", out)) == 4, out
    assert len(re.findall(r"^  loop op .* goal <= 1.15x: (MET|NOT MET)$", out, re.M)) == 2, out
    assert re.search(r"compiling the LSTM's training function: [\d.]+ s", out), out
