"""One SGD training step of an MLP: how close does minikeras get to hand-written NumPy?

The step is forward, backward and the SGD update (``p -= lr * g``) of a ReLU MLP with a
softmax cross-entropy (mean over the batch), all float32, on three workloads:

    W1  64-128-128-10      batch  32   (Python overhead per op dominates)
    W2  784-256-256-10     batch 128
    W3  784-1024-1024-10   batch 512   (GEMM dominates)

Each is run, from the same initial weights and batch, by:

- ``hand-written``: the baseline, a careful NumPy step that allocates nothing per step
  (``out=`` buffers, updates in place). It is the floor for a NumPy engine.
- ``K.function``: a graph built from ``K.dot``, ``K.bias_add``, ``K.relu`` and
  ``K.categorical_crossentropy(..., from_logits=True)``, trained through
  ``K.function([x, y], [loss], updates=SGD(lr).get_updates(loss, params))``.
- ``train_on_batch``: a ``Sequential`` of ``Dense`` layers (softmax on the last) compiled
  with ``SGD(lr)`` and ``categorical_crossentropy``.
- ``torch``: PyTorch CPU eager, only if ``import torch`` works (a reference, not a goal).

Before timing, one step of each must give the same loss and the same updated weights as
the hand-written step (float32 tolerances). Then they are timed interleaved in this one
process (see ``_timing.py``): the ratio to the hand-written step is the median over rounds,
with quartiles; absolute microseconds and minor page faults per step are printed too. On a
shared machine, rounds in which other processes used more than 10% of the cores are left out
when enough quiet ones remain (the ratio line says which rounds it used).
Goals (issue 5): K.function and train_on_batch within 1.3x, 1.08x, 1.03x of the
hand-written step on W1, W2, W3; the peak memory of a W3 step within 1.2x of the
hand-written one's (measured with ``tracemalloc`` in a fresh subprocess per implementation:
everything it allocates, weights, optimizer state and buffers included).

``--profile`` also splits minikeras's time by op type, next to the same forwards replayed
without the executor (what the plan's bookkeeping costs) and the call around ``plan.run``.

Usage: ``python benchmarks/mlp.py [--quick] [--rounds N] [--workloads W1,W2,W3] [--no-torch]
[--no-memory] [--profile]``. The exit code is 0 whether or not the goals are met; it is 1
only if the implementations disagree (the timing would compare different computations).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from _timing import Comparison, compare, quartiles, quietness_line

from minikeras import backend as K
from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD

LR = 0.01
MEMORY_GOAL = 1.2
MEMORY_WORKLOAD = "W3"
RTOL, ATOL = 1e-4, 1e-6  # float32: losses and weights
DELTA_RTOL = 2e-3  # the weight *changes* (-lr * grad), relative to the largest change


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple[int, ...]
    batch: int
    goal: float  # K.function and train_on_batch, x the hand-written step

    @property
    def title(self) -> str:
        return f"{self.name} {'-'.join(map(str, self.sizes))}, batch {self.batch}"


WORKLOADS = {w.name: w for w in (
    Workload("W1", (64, 128, 128, 10), 32, 1.3),
    Workload("W2", (784, 256, 256, 10), 128, 1.08),
    Workload("W3", (784, 1024, 1024, 10), 512, 1.03),
)}

Weights = list[tuple[np.ndarray, np.ndarray]]  # per layer: kernel (in, out), bias (out,)


def initial_weights(sizes: tuple[int, ...], seed: int = 0) -> Weights:
    """Glorot-uniform kernels and small non-zero biases (so the bias gradient is tested)."""
    rng = np.random.default_rng(seed)
    weights = []
    for n_in, n_out in itertools.pairwise(sizes):
        limit = np.float32(math.sqrt(6.0 / (n_in + n_out)))
        kernel = (rng.random((n_in, n_out), dtype=np.float32) * 2 - 1) * limit
        bias = (rng.random(n_out, dtype=np.float32) * 2 - 1) * np.float32(0.1)
        weights.append((kernel, bias))
    return weights


def make_batch(sizes: tuple[int, ...], batch: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal inputs and one-hot float32 targets of random classes."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)]
    return x, y


# --- the baseline: the step by hand ---------------------------------------------------


class HandStep:
    """The step in NumPy, allocating nothing per step but a few row-sized temporaries.

    Forward: ``z = h @ W``, ``z += b``, ReLU in place (the mask for the backward pass is
    ``h > 0``, the same as ``z > 0``). The loss is a log-softmax cross-entropy from the
    logits; its gradient ``(softmax - y) / batch``. Backward: ``gW = h.T @ g``,
    ``gb = sum(g)``, ``g = (g @ W.T) * (h > 0)``; each layer's update ``W -= lr * gW`` runs
    in place right after its ``W`` was last read.
    """

    @staticmethod
    def numpy_calls(layers: int) -> str:
        """What one step calls, counted from the code below."""
        hidden = layers - 1
        forward, backward = 2 * layers + hidden, 2 * layers + 3 * hidden
        return (f"{forward + 10 + backward + 4 * layers} NumPy calls ({layers} matmul, {layers} add, "
                f"{hidden} maximum forward; 10 for the loss and its gradient; {layers + hidden} matmul, "
                f"{layers} sum, {hidden} greater, {hidden} multiply backward; {4 * layers} in-place "
                "updates)")

    def __init__(self, weights: Weights, batch: int, lr: float) -> None:
        self.kernels = [w.copy() for w, _ in weights]
        self.biases = [b.copy() for _, b in weights]
        self.lr = np.float32(lr)
        self.scale = np.float32(1.0 / batch)
        self.outs = [np.empty((batch, w.shape[1]), np.float32) for w, _ in weights]
        self.grads = [np.empty_like(o) for o in self.outs]  # d loss / d each layer's z
        self.masks = [np.empty(o.shape, bool) for o in self.outs]
        self.kernel_grads = [np.empty_like(w) for w in self.kernels]
        self.bias_grads = [np.empty_like(b) for b in self.biases]
        self.exp = np.empty_like(self.outs[-1])

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        last = len(self.kernels) - 1
        h = x
        for k, (w, b, z) in enumerate(zip(self.kernels, self.biases, self.outs)):
            np.matmul(h, w, out=z)
            z += b
            if k < last:
                np.maximum(z, 0, out=z)
            h = z
        logits = self.outs[-1]
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=self.exp)
        total = self.exp.sum(axis=1, keepdims=True)
        loss = (np.log(total).sum() - np.vdot(y, logits)) * self.scale
        g = self.grads[-1]
        np.divide(self.exp, total, out=g)
        g -= y
        g *= self.scale
        for k in range(last, -1, -1):
            h = x if k == 0 else self.outs[k - 1]
            w, gw, gb = self.kernels[k], self.kernel_grads[k], self.bias_grads[k]
            np.matmul(h.T, g, out=gw)
            np.sum(g, axis=0, out=gb)
            if k > 0:
                g_in = self.grads[k - 1]
                np.matmul(g, w.T, out=g_in)
                np.greater(h, 0, out=self.masks[k - 1])
                np.multiply(g_in, self.masks[k - 1], out=g_in)
                g = g_in
            gw *= self.lr
            w -= gw
            gb *= self.lr
            self.biases[k] -= gb
        return float(loss)

    def weights(self) -> Weights:
        return [(w.copy(), b.copy()) for w, b in zip(self.kernels, self.biases)]


# --- minikeras, two ways --------------------------------------------------------------


class KFunctionStep:
    """The graph written with backend ops, trained by ``K.function`` with SGD's updates."""

    def __init__(self, weights: Weights, lr: float) -> None:
        sizes = [weights[0][0].shape[0]] + [w.shape[1] for w, _ in weights]
        self.x = K.placeholder(shape=(None, sizes[0]), name="x")
        self.y = K.placeholder(shape=(None, sizes[-1]), name="y")
        self.params = []
        h = self.x
        for k, (w, b) in enumerate(weights):
            kernel, bias = K.variable(w, name=f"kernel_{k}"), K.variable(b, name=f"bias_{k}")
            self.params += [kernel, bias]
            h = K.bias_add(K.dot(h, kernel), bias)
            if k < len(weights) - 1:
                h = K.relu(h)
        self.loss = K.mean(K.categorical_crossentropy(self.y, h, from_logits=True))
        updates = SGD(lr=lr).get_updates(loss=self.loss, params=self.params)
        self.function = K.function([self.x, self.y], [self.loss], updates=updates)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.function([x, y])[0])

    def weights(self) -> Weights:
        values = K.batch_get_value(self.params)
        return list(zip(values[::2], values[1::2]))


class ModelStep:
    """``Sequential`` of ``Dense`` layers, ``compile(SGD, categorical_crossentropy)``."""

    def __init__(self, weights: Weights, lr: float) -> None:
        n_in = weights[0][0].shape[0]
        layers = [Dense(w.shape[1], activation="relu" if k < len(weights) - 1 else "softmax",
                        **({"input_shape": (n_in,)} if k == 0 else {}))
                  for k, (w, _) in enumerate(weights)]
        self.model = Sequential(layers)
        self.model.compile(optimizer=SGD(lr=lr), loss="categorical_crossentropy")
        self.model.set_weights([a for pair in weights for a in pair])

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.model.train_on_batch(x, y))

    def weights(self) -> Weights:
        values = self.model.get_weights()
        return list(zip(values[::2], values[1::2]))


class TorchStep:
    """PyTorch CPU eager: ``addmm``, ``relu``, ``cross_entropy``, ``backward``, ``p -= lr * g``."""

    def __init__(self, weights: Weights, lr: float, torch: Any) -> None:
        self.torch = torch
        self.params = [torch.tensor(a, requires_grad=True) for pair in weights for a in pair]
        self.lr = lr
        self._batch: tuple[Any, Any, Any] | None = None

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        torch = self.torch
        if self._batch is None or self._batch[0] is not x:  # convert each batch once
            self._batch = (x, torch.from_numpy(x), torch.from_numpy(y.argmax(axis=1)))
        _, h, labels = self._batch
        n = len(self.params) // 2
        for k in range(n):
            h = torch.addmm(self.params[2 * k + 1], h, self.params[2 * k])
            if k < n - 1:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, labels)
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p.add_(p.grad, alpha=-self.lr)
                p.grad = None
        return loss.item()

    def weights(self) -> Weights:
        values = [p.detach().numpy().copy() for p in self.params]
        return list(zip(values[::2], values[1::2]))


def load_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


# --- checking that they compute the same thing ------------------------------------------


def check_agreement(reference: tuple[float, Weights], other: tuple[float, Weights],
                    start: Weights) -> tuple[bool, float]:
    """Same loss and same new weights; also the same *changes* (``-lr * grad``), which the
    weights' own tolerance would hide. Returns (agree, worst change difference relative to
    the largest change of that array).
    """
    loss_ref, new_ref = reference
    loss, new = other
    ok = bool(np.isclose(loss, loss_ref, rtol=RTOL, atol=ATOL))
    worst = 0.0
    for (w_ref, b_ref), (w, b), (w0, b0) in zip(new_ref, new, start):
        for a_ref, a, a0 in ((w_ref, w, w0), (b_ref, b, b0)):
            ok = ok and a.shape == a_ref.shape and a.dtype == np.float32
            ok = ok and bool(np.allclose(a, a_ref, rtol=RTOL, atol=ATOL))
            d_ref, d = a_ref - a0, a - a0
            scale = float(np.abs(d_ref).max())
            diff = float(np.abs(d - d_ref).max()) / scale
            worst = max(worst, diff)
            ok = ok and diff <= DELTA_RTOL
    return ok, worst


# --- memory ---------------------------------------------------------------------------

MAKERS = {"hand-written": "hand", "K.function": "kfunction", "train_on_batch": "model"}


def make_step(kind: str, weights: Weights, batch: int) -> Callable[[np.ndarray, np.ndarray], float]:
    if kind == "hand":
        return HandStep(weights, batch, LR)
    if kind == "kfunction":
        return KFunctionStep(weights, LR)
    if kind == "model":
        return ModelStep(weights, LR)
    raise ValueError(kind)


def memory_worker(spec: str) -> None:
    """In a fresh process: build one implementation, run it, print its memory as JSON.

    ``tracemalloc`` starts after the weights and the batch exist, so it sees everything the
    implementation itself allocates (its copy of the weights, optimizer slots, buffers,
    graph) and every temporary of a step. ``peak`` is the most it held at once during a
    step after warm-up; ``state`` what it held between steps. ``maxrss`` is the process's
    RSS high-water mark, page cache of freed temporaries included; kind ``none`` (build
    nothing) gives the level to subtract.
    """
    name, kind = spec.split(":")
    w = WORKLOADS[name]
    weights = initial_weights(w.sizes)
    x, y = make_batch(w.sizes, w.batch)
    tracemalloc.start()
    state = peak = 0
    if kind != "none":
        step = make_step(kind, weights, w.batch)
        for _ in range(2):
            step(x, y)
        state = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(2):
            step(x, y)
        peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"state": state, "peak": peak, "maxrss": rss_high_water()}))


def rss_high_water() -> int:
    """Bytes: this process's RSS high-water mark. ``VmHWM``, not ``ru_maxrss``, which a child
    inherits from the parent that forked it (the benchmark's own process is large)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_memory(name: str) -> dict[str, dict[str, int]] | None:
    results = {}
    for label, kind in {"nothing": "none", **MAKERS}.items():
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-worker",
                               f"{name}:{kind}"], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"  memory of {label}: the worker failed\n{proc.stderr}")
            return None
        results[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    return results


def report_memory(name: str) -> None:
    results = measure_memory(name)
    if results is None:
        return
    w = WORKLOADS[name]
    print(f"\nMemory of one {w.title} step (tracemalloc, a fresh process each; weights, "
          "optimizer state and buffers included, the batch not)")
    floor = results.pop("nothing")["maxrss"]
    for label, r in results.items():
        print(f"  {label:<15} peak {r['peak'] / 2**20:6.1f} MiB (between steps {r['state'] / 2**20:5.1f}, "
              f"transient {(r['peak'] - r['state']) / 2**20:5.1f})  RSS high-water "
              f"+{(r['maxrss'] - floor) / 2**20:5.1f} MiB over a process that built nothing")
    base = results["hand-written"]
    for label, r in results.items():
        if label == "hand-written":
            continue
        ratio = r["peak"] / base["peak"]
        print(f"memory {name} {label}/hand-written: peak {ratio:.2f}x "
              f"(goal <= {MEMORY_GOAL}x: {'MET' if ratio <= MEMORY_GOAL else 'NOT MET'})")


# --- profile ----------------------------------------------------------------------------


def plan_op_counts(plan: Any) -> Counter[str]:
    return Counter(step.op.type for step in plan.steps)


def describe_counts(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {t}" for t, n in counts.most_common())


def profile_plan(plan: Any, feed: dict[Any, np.ndarray], seconds: float) -> dict[str, list[float]]:
    """Per op type: [steps, seconds per run, minor faults per run], from traced runs of
    ``plan`` (its reference loop, each step's forward called through a timer; the plan's
    variables are restored after). One pass times the forwards (minus what the timer itself
    records around a no-op), another counts their page faults (``getrusage`` is too slow to
    sit inside the timer).
    """
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    clock, usage, me = time.perf_counter, resource.getrusage, resource.RUSAGE_SELF

    def timed(op: Any, args: list[Any]) -> Any:
        entry = totals[op.type]
        start = clock()
        out = op.forward(*args)
        entry[0] += clock() - start
        return out

    def counted(op: Any, args: list[Any]) -> Any:
        entry = totals[op.type]
        faults = usage(me).ru_minflt
        out = op.forward(*args)
        entry[1] += usage(me).ru_minflt - faults
        return out

    class Noop:
        type = "(timer)"

        def forward(self, *args: Any) -> None:
            return None

    noop = Noop()
    for _ in range(10_000):
        timed(noop, [1, 2])
    timer_cost = totals.pop("(timer)")[0] / 10_000

    saved = {v: v.value for v, _ in plan.update_slots}
    runs = [0, 0]
    try:
        for which, call in enumerate((timed, counted)):
            deadline = clock() + seconds / 2
            while clock() < deadline or runs[which] < 3:
                plan.run(feed, call=call)
                runs[which] += 1
    finally:
        for v, value in saved.items():  # the profile must not train the benchmark's model
            v.value = value
    counts = plan_op_counts(plan)
    return {kind: [counts[kind], t / runs[0] - counts[kind] * timer_cost, f / runs[1]]
            for kind, (t, f) in totals.items()}


def replay_of(plan: Any, feed: dict[Any, np.ndarray]) -> Callable[[], None]:
    """The plan's forwards called on one run's recorded arguments, without the executor."""
    saved = {v: v.value for v, _ in plan.update_slots}
    plan.run(feed, record=True)
    values = list(plan.last_values.values())
    by_slot = {s: values[i] for i, s in enumerate(plan.slots.values())}
    for v, value in saved.items():
        v.value = value
    calls = [(fn, tuple(by_slot[i] for i in s.inputs)) for s, fn in zip(plan.steps, plan.compiled.calls)]

    def replay() -> None:
        for fn, args in calls:
            fn(*args)
    return replay


def profile_workload(w: Workload, kstep: KFunctionStep, mstep: ModelStep, hand: HandStep,
                     x: np.ndarray, y: np.ndarray, args: argparse.Namespace) -> None:
    kplan = kstep.function.plan
    mfun = mstep.model._make_train_function()
    mplan = mfun.plan
    kfeed = {kstep.x: x, kstep.y: y}
    mfeed = dict(zip(mfun.inputs, [x, y, np.ones(len(x), np.float32)]))
    seconds = 0.3 if args.quick else 2.0
    print(f"\nProfile of {w.title}")
    for label, plan, feed in (("K.function", kplan, kfeed), ("train_on_batch", mplan, mfeed)):
        prof = profile_plan(plan, feed, seconds)
        total = sum(t for _, t, _ in prof.values())
        print(f"  {label}: {len(plan.steps)} steps; time in each op type's forwards "
              f"({total * 1e6:.0f} us/run in all, timed one by one, not interleaved):")
        for kind, (n, t, f) in sorted(prof.items(), key=lambda kv: -kv[1][1]):
            print(f"    {kind:<14} {int(n):3d} steps {t * 1e6:9.1f} us/run {t / total:6.1%} "
                  f"{f:8.1f} faults/run")
    cases = {
        "hand-written": lambda: hand(x, y),
        "K.function call": lambda: kstep(x, y),
        "K plan.run": lambda: kplan.run(kfeed),
        "K replay": replay_of(kplan, kfeed),
        "train_on_batch": lambda: mstep(x, y),
        "M plan.run": lambda: mplan.run(mfeed),
        "M replay": replay_of(mplan, mfeed),
    }
    rounds = 3 if args.quick else max(10, (args.rounds or 30) // 2)
    block, warmup, pause = timing_params(args)
    result = compare(cases, baseline="hand-written", rounds=rounds, block_seconds=block,
                     warmup_seconds=warmup, pause_seconds=pause)
    used, which = rounds_to_use(result)
    print(f"  where the time goes (interleaved, {which}; 'replay' = the same forwards on "
          "recorded arguments, no executor):")
    for name, timing in result.cases.items():
        seconds = statistics.median(timing.seconds_per_call[r] for r in used)
        print(f"    {name:<16} {seconds * 1e6:9.1f} us/step  x{result.ratio_quartiles(name, used)[1]:.2f}  "
              f"{timing.faults_per_call:8.1f} faults/step")

    def diff(a: str, b: str) -> float:
        """Median over rounds of (a - b) microseconds, both timed in the same round."""
        return statistics.median(result[a].seconds_per_call[r] - result[b].seconds_per_call[r]
                                 for r in used) * 1e6

    print(f"    K.function: executor bookkeeping (plan.run - replay) "
          f"{diff('K plan.run', 'K replay'):.1f} us, the call around plan.run "
          f"{diff('K.function call', 'K plan.run'):.1f} us")
    print(f"    train_on_batch: executor bookkeeping {diff('M plan.run', 'M replay'):.1f} us, "
          f"the call around plan.run {diff('train_on_batch', 'M plan.run'):.1f} us")
    print(f"    {quietness_line(result.others_cpu_share)}")


# --- main -----------------------------------------------------------------------------


def rounds_to_use(result: Comparison) -> tuple[list[int], str]:
    """The rounds to take medians over, and how to say which: on a shared machine, the rounds
    in which other processes were quiet, if there are enough of them; else all."""
    every = list(range(result.rounds))
    quiet = result.quiet_rounds()
    if len(quiet) == result.rounds:
        return every, f"all {result.rounds} rounds quiet"
    if len(quiet) >= max(3, result.rounds // 3):
        return quiet, f"the {len(quiet)} quiet rounds of {result.rounds}"
    return every, f"all {result.rounds} rounds, only {len(quiet)} quiet: SUSPECT"


def timing_params(args: argparse.Namespace) -> tuple[float, float, float]:
    """(block, warm-up, pause) seconds."""
    return (0.02, 0.1, 0.01) if args.quick else (0.15, 1.0, 0.1)


def run_workload(w: Workload, torch: Any, args: argparse.Namespace) -> bool:
    """Check, then time one workload; False if an implementation disagrees."""
    weights = initial_weights(w.sizes)
    x, y = make_batch(w.sizes, w.batch)
    steps: dict[str, Any] = {
        "hand-written": HandStep(weights, w.batch, LR),
        "K.function": KFunctionStep(weights, LR),
        "train_on_batch": ModelStep(weights, LR),
    }
    if torch is not None:
        steps["torch"] = TorchStep(weights, LR, torch)
    params = sum(a.size for pair in weights for a in pair)
    print(f"\n{w.title} ({params:,} parameters, lr {LR})")
    kplan = steps["K.function"].function.plan
    mplan = steps["train_on_batch"].model._make_train_function().plan
    print(f"  K.function plan:     {len(kplan.steps)} steps ({describe_counts(plan_op_counts(kplan))})")
    print(f"  train_on_batch plan: {len(mplan.steps)} steps ({describe_counts(plan_op_counts(mplan))})")
    print(f"  hand-written step:   {HandStep.numpy_calls(len(weights))}")

    results = {name: (step(x, y), step.weights()) for name, step in steps.items()}
    reference = results["hand-written"]
    ok = True
    for name, result in results.items():
        if name == "hand-written":
            continue
        agree, dworst = check_agreement(reference, result, weights)
        ok = ok and agree
        print(f"  check: {name} {'agrees' if agree else 'DISAGREES'} with the hand-written step "
              f"(loss {result[0]:.6f} vs {reference[0]:.6f}; updated weights; largest difference "
              f"in a weight change {dworst:.1e} of the largest change)")
    if not ok:
        print("The implementations compute different steps: no timing.")
        return False
    print(f"  check: all implementations agree (loss {reference[0]:.6f} before the step)")

    rounds = args.rounds or (3 if args.quick else 30)
    block, warmup, pause = timing_params(args)
    cases = {name: (lambda s=step: s(x, y)) for name, step in steps.items()}
    result = compare(cases, baseline="hand-written", rounds=rounds, block_seconds=block,
                     warmup_seconds=warmup, pause_seconds=pause)
    used, which = rounds_to_use(result)
    print(f"  timing ({rounds} interleaved rounds of ~{block} s blocks; {which}):")
    for timing in result.cases.values():
        q1, med, q3 = quartiles([timing.seconds_per_call[r] * 1e6 for r in used])
        print(f"    {timing.name:<15} {med:10.1f} us/step (quartiles {q1:.1f}-{q3:.1f})  "
              f"{timing.faults_per_call:8.1f} minor faults/step")
    print(f"  {quietness_line(result.others_cpu_share)}")
    for name in result.cases:
        if name == "hand-written":
            continue
        q1, med, q3 = result.ratio_quartiles(name, used)
        goal = "" if name == "torch" else (
            f"  goal <= {w.goal}x: {'MET' if med <= w.goal else 'NOT MET'}")
        print(f"ratio {w.name} {name}/hand-written: median {med:.2f}x "
              f"(quartiles {q1:.2f}-{q3:.2f}x, {which}){goal}")
    if args.profile:
        profile_workload(w, steps["K.function"], steps["train_on_batch"], steps["hand-written"],
                         x, y, args)
    return True


Command = tuple[argparse.Namespace, list[str], Any]  # the options, the workloads, torch (or None)


def workload_command(doc: str, workloads: Mapping[str, Any], memory_help: str, profile_help: str,
                     memory_worker: Callable[[str], None]) -> Command | None:
    """The command line the workload benchmarks share (``mlp.py``, ``cnn.py``): the options,
    the workloads asked for (checked), and torch if wanted and installed. ``None`` when the
    process was a memory worker, which has done its work."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few seconds)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 30, quick 3)")
    parser.add_argument("--workloads", default=",".join(workloads),
                        help=f"comma-separated, e.g. {','.join(list(workloads)[::2])}")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    parser.add_argument("--no-memory", action="store_true", help=memory_help)
    parser.add_argument("--profile", action="store_true", help=profile_help)
    parser.add_argument("--memory-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_worker:
        memory_worker(args.memory_worker)
        return None
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in workloads]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(workloads)}")
    torch = None if args.no_torch else load_torch()
    return args, names, torch


def run_workloads(title: str, names: list[str], torch: Any, args: argparse.Namespace,
                  run: Callable[[Any, Any, argparse.Namespace], bool], workloads: Mapping[str, Any]) -> None:
    """Print the header, then run each workload (exit 1 if one's check fails)."""
    print(f"{title}; ratios to the hand-written NumPy step")
    print(f"  PyTorch: {'torch ' + torch.__version__ if torch is not None else 'not available'}; "
          f"NumPy {np.__version__}")
    for name in names:
        if not run(workloads[name], torch, args):
            sys.exit(1)
        K.clear_session()


def main() -> None:
    command = workload_command(__doc__ or "", WORKLOADS, "skip the W3 memory measurement",
                               "also split minikeras's time by op type", memory_worker)
    if command is None:
        return
    args, names, torch = command
    run_workloads("MLP training step (forward, backward, SGD update), float32", names, torch, args,
                  run_workload, WORKLOADS)
    if not args.no_memory and MEMORY_WORKLOAD in names:
        report_memory(MEMORY_WORKLOAD)


if __name__ == "__main__":
    main()
