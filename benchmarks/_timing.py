"""Interleaved timing for benchmarks on noisy machines (see design/PERFORMANCE.md).

The vCPUs swing between a fast and a slow mode every 0.1-2 s, so an absolute time taken
a minute ago says little about one taken now. What can be trusted is a *ratio* taken in
the same moment: every case runs in short blocks, round-robin, in rotating order, and
each round gives ``block time / baseline block time``. The result is the median over
rounds of that ratio, with its quartiles as the spread.

Around that: a warm-up (which also sizes the blocks), an untimed pause before each block
(OpenBLAS threads spin ~0.1 s after a call and would steal the cores), ``gc.collect();
gc.freeze()`` before timing, minor page faults per step, and how busy the *other*
processes kept the machine while we measured (from ``/proc/stat``).
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass
class CaseTiming:
    """What the rounds measured for one case."""

    name: str
    calls_per_block: int = 1
    seconds_per_call: list[float] = field(default_factory=list)  # one per round
    ratios: list[float] = field(default_factory=list)  # one per round, to the baseline
    calls: int = 0
    minor_faults: int = 0

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds_per_call)

    @property
    def faults_per_call(self) -> float:
        return self.minor_faults / max(self.calls, 1)

    def ratio_quartiles(self) -> tuple[float, float, float]:
        """(first quartile, median, third quartile) of the per-round ratios."""
        return quartiles(self.ratios)


@dataclass
class Comparison:
    baseline: str
    cases: dict[str, CaseTiming]
    rounds: int
    block_seconds: float
    others_cpu_share: float | None  # other processes' share of all cores, 0..1
    # The same share in each round: on a shared machine, a round where another process ran
    # can be left out of the ratios (``quiet_rounds``).
    round_others: list[float | None] = field(default_factory=list)

    def __getitem__(self, name: str) -> CaseTiming:
        return self.cases[name]

    def quiet_rounds(self, limit: float = 0.10) -> list[int]:
        """Indices of the rounds in which other processes used at most ``limit`` of the cores."""
        return [r for r, share in enumerate(self.round_others) if share is not None and share <= limit]

    def ratio_quartiles(self, name: str, rounds: list[int] | None = None) -> tuple[float, float, float]:
        """Quartiles of ``name``'s per-round ratios, over ``rounds`` (default: all of them)."""
        ratios = self.cases[name].ratios
        return quartiles(ratios if rounds is None else [ratios[r] for r in rounds])


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


class CpuMonitor:
    """How much CPU *other* processes used between ``start()`` and ``stop()``.

    ``/proc/stat`` counts every core's busy time; ``getrusage`` counts ours (all our
    threads). The difference, over the elapsed capacity of all cores, is the noise
    that other processes added. Returns ``None`` where ``/proc/stat`` does not exist.
    """

    def __init__(self) -> None:
        self._start: tuple[float, float, float] | None = None

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
        idle = fields[3] + fields[4]
        own = resource.getrusage(resource.RUSAGE_SELF)
        return total / tick, (total - idle) / tick, own.ru_utime + own.ru_stime

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> float | None:
        end = self._sample()
        if self._start is None or end is None:
            return None
        total, busy, own = (e - s for e, s in zip(end, self._start))
        if total <= 0:
            return None
        return max(0.0, (busy - own) / total)


def _time_block(fn: Callable[[], object], calls: int) -> tuple[float, int]:
    """Seconds for ``calls`` calls of ``fn``, and the minor page faults they took."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    elapsed = time.perf_counter() - start
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def compare(cases: Mapping[str, Callable[[], object]], baseline: str, *, rounds: int = 30,
            block_seconds: float = 0.15, warmup_seconds: float = 1.0,
            pause_seconds: float = 0.1) -> Comparison:
    """Time zero-argument callables interleaved; ratios are to ``cases[baseline]``.

    The warm-up runs the cases round-robin for ``warmup_seconds`` and sizes each one's
    block to about ``block_seconds``. Each round then runs one block of every case, the
    order rotated by one each round, after an untimed ``pause_seconds`` sleep.
    """
    if baseline not in cases:
        raise ValueError(f"baseline {baseline!r} is not one of the cases {list(cases)}")
    names = list(cases)
    spent = dict.fromkeys(names, 0.0)
    done = dict.fromkeys(names, 0)
    deadline = time.perf_counter() + warmup_seconds
    while time.perf_counter() < deadline or min(done.values()) == 0:
        for name in names:
            # Doubling (1, 1, 2, 4, ... calls) until a warm-up block is as long as a timed one.
            calls = 1 if not spent[name] else min(done[name], round(block_seconds * done[name] / spent[name]))
            calls = max(1, calls)
            seconds, _ = _time_block(cases[name], calls)
            spent[name] += seconds
            done[name] += calls
    timings = {
        name: CaseTiming(name, calls_per_block=max(1, round(block_seconds * done[name] / spent[name])))
        for name in names
    }

    monitor, round_monitor = CpuMonitor(), CpuMonitor()
    round_others: list[float | None] = []
    gc.collect()
    gc.freeze()
    monitor.start()
    try:
        for r in range(rounds):
            round_monitor.start()
            order = names[r % len(names):] + names[:r % len(names)]
            per_call = {}
            for name in order:
                timing = timings[name]
                time.sleep(pause_seconds)
                seconds, faults = _time_block(cases[name], timing.calls_per_block)
                per_call[name] = seconds / timing.calls_per_block
                timing.seconds_per_call.append(per_call[name])
                timing.calls += timing.calls_per_block
                timing.minor_faults += faults
            for name in names:
                timings[name].ratios.append(per_call[name] / per_call[baseline])
            round_others.append(round_monitor.stop())
    finally:
        others = monitor.stop()
        gc.unfreeze()
    return Comparison(baseline, timings, rounds, block_seconds, others, round_others)


def quietness_line(share: float | None, limit: float = 0.10) -> str:
    """A line saying whether other processes kept the cores busy while we timed."""
    if share is None:
        return "machine quietness: unknown (no /proc/stat)"
    verdict = "quiet" if share <= limit else "BUSY: other processes ran, the numbers are suspect"
    return f"machine quietness: other processes used {share:.1%} of all cores ({verdict})"
