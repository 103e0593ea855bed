"""A micrograd-style scalar graph: how much does the compiled plan cost per op?

The workload is the one micrograd is demonstrated on: a 4-16-16-1 MLP (ReLU hidden
layers, linear output) on ONE sample, every weight and bias its own scalar variable,
each neuron ``b + w0*x0 + w1*x1 + ...`` written as a chain of scalar ``*`` and ``+``,
then a squared error. About 1,100 ops forward, 1,700 with the gradients. The arrays are
0-d, so NumPy does no real work: what is measured is the executor's overhead per op.

The baseline is the same step (loss and every parameter's gradient) written by hand on
Python floats, run in the same process, interleaved (see ``_timing.py``). Goal: the plan
within 35x of it; micrograd and PyTorch eager are ~74x here.

Also measured: how long compiling a ``G.Plan`` takes for 1,000 to 10,000 ops (it should
grow linearly, apart from the step where plans stop being compiled to Python source;
goal: 10,000 ops in < 0.3 s), and that a 10,000-long chain compiles and differentiates
without recursion.

Usage: ``python benchmarks/scalar_graph.py [--quick] [--rounds N]``. The exit code is 0
whether or not the speed goals are met; it is 1 only if a correctness check fails: the
plan and the hand-written step disagree (then the timing would compare two different
computations), or the long chain recurses or computes a wrong value.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from _timing import compare, quartiles, quietness_line

from minikeras import graph as G
from minikeras.graph.compile import COMPILE_LIMIT

SIZES = (4, 16, 16, 1)
RATIO_GOAL = 35.0
COMPILE_GOAL_SECONDS = 0.3
COMPILE_SIZES = (1_000, 5_000, 10_000)

Layers = list[tuple[list[list[float]], list[float]]]  # per layer: (W[out][in], b[out])


# --- the graph ------------------------------------------------------------------------


@dataclass
class ScalarMLP:
    inputs: list[G.Tensor]  # 4 scalar placeholders
    target: G.Tensor
    params: list[G.Variable]  # per layer, per neuron: its weights, then its bias
    loss: G.Tensor
    layers: Layers  # the same initial values as Python floats, for the hand-written step


def build_scalar_mlp(seed: int = 0) -> ScalarMLP:
    """The micrograd MLP as a graph of scalar ops (``Neuron``: ``sum(w*x, b)`` then ReLU)."""
    rng = random.Random(seed)
    inputs = [G.placeholder((), "float64", name=f"x{i}") for i in range(SIZES[0])]
    target = G.placeholder((), "float64", name="target")
    params: list[G.Variable] = []
    layers: Layers = []
    h: list[G.Tensor] = inputs
    n_layers = len(SIZES) - 1
    for k, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        W = [[rng.uniform(-1, 1) for _ in range(n_in)] for _ in range(n_out)]
        b = [rng.uniform(-0.5, 0.5) for _ in range(n_out)]
        layers.append((W, b))
        outs = []
        for j in range(n_out):
            ws = [G.variable(w, dtype="float64", name=f"w{k}_{j}_{i}") for i, w in enumerate(W[j])]
            bias = G.variable(b[j], dtype="float64", name=f"b{k}_{j}")
            params += [*ws, bias]
            act = bias
            for w, x in zip(ws, h):
                act = act + w * x
            outs.append(G.relu(act) if k < n_layers - 1 else act)
        h = outs
    loss = G.square(h[0] - target)
    return ScalarMLP(inputs, target, params, loss, layers)


# --- the baseline: the same step by hand ----------------------------------------------


def step_by_hand(layers: Layers, x: list[float], target: float) -> tuple[float, Layers]:
    """Loss and the gradient of every weight and bias, by manual backprop on floats."""
    last = len(layers) - 1
    ins, pre = [], []  # each layer's input and pre-activation, kept for the backward pass
    h = x
    for k, (W, b) in enumerate(layers):
        z = []
        for row, bj in zip(W, b):
            s = bj
            for w, hi in zip(row, h):
                s += w * hi
            z.append(s)
        ins.append(h)
        pre.append(z)
        h = z if k == last else [v if v > 0 else 0.0 for v in z]
    diff = h[0] - target
    loss = diff * diff

    grads: Layers = [([], [])] * len(layers)
    gh = [2.0 * diff]  # d loss / d (this layer's output)
    for k in range(last, -1, -1):
        W, _ = layers[k]
        a = ins[k]
        gz = gh if k == last else [g if v > 0 else 0.0 for g, v in zip(gh, pre[k])]
        grads[k] = ([[g * ai for ai in a] for g in gz], gz)
        if k > 0:
            gh = [0.0] * len(a)
            for row, g in zip(W, gz):
                for i, w in enumerate(row):
                    gh[i] += w * g
    return loss, grads


def flatten(layers: Layers) -> list[float]:
    """Values in the order of ``ScalarMLP.params``: per neuron, its weights then its bias."""
    return [v for W, b in layers for row, bj in zip(W, b) for v in (*row, bj)]


# --- compile-time graphs ----------------------------------------------------------------


def chain(n_ops: int) -> tuple[G.Tensor, G.Tensor, G.Variable, G.Variable]:
    """``((x + v) * w + v) * w ...``, ``n_ops`` ops in all: returns ``y, x, w, v``."""
    x = G.placeholder((), "float64", name="x")
    w = G.variable(1.0, dtype="float64", name="w")
    v = G.variable(0.5, dtype="float64", name="v")
    y = x
    for i in range(n_ops - 3):
        y = y * w if i % 2 else y + v
    return y, x, w, v


def chain_graph(n_ops: int) -> tuple[list[G.Tensor], list[G.Tensor]]:
    """One long chain of scalar ops: (fetches, feeds)."""
    y, x, _, _ = chain(n_ops)
    return [y], [x]


def sum_of_products_graph(n_ops: int) -> tuple[list[G.Tensor], list[G.Tensor]]:
    """``a0*b0 + a1*b1 + ...`` over distinct scalar variables: 4 ops per term."""
    terms = [G.variable(0.5, dtype="float64") * G.variable(2.0, dtype="float64")
             for _ in range(n_ops // 4)]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return [total], []


def measure_compile(rounds: int, block: float, warmup: float, pause: float) -> bool:
    """Time ``G.Plan(...)`` on graphs of 1,000 to 10,000 ops; True if the goal is met."""
    builders: dict[str, Callable[[int], tuple[list[G.Tensor], list[G.Tensor]]]] = {
        "chain": chain_graph, "sum of products": sum_of_products_graph,
    }
    cases: dict[str, Callable[[], object]] = {}
    ops: dict[str, int] = {}
    for kind, build in builders.items():
        for n in COMPILE_SIZES:
            fetches, feeds = build(n)
            name = f"{kind} {n:,}"
            ops[name] = len(G.Plan(fetches, feeds=feeds).ops) + len(feeds)
            cases[name] = lambda f=fetches, d=feeds: G.Plan(f, feeds=d)
    mlp = build_scalar_mlp()
    fetches = [mlp.loss, *G.gradients(mlp.loss, mlp.params)]
    feeds = [*mlp.inputs, mlp.target]
    ops["scalar MLP fwd+bwd"] = len(G.Plan(fetches, feeds=feeds).ops) + len(feeds)
    cases["scalar MLP fwd+bwd"] = lambda: G.Plan(fetches, feeds=feeds)

    result = compare(cases, baseline=next(iter(cases)), rounds=rounds, block_seconds=block,
                     warmup_seconds=warmup, pause_seconds=pause)
    print(f"\nCompiling G.Plan ({rounds} interleaved rounds; median, per-op cost vs the "
          "1,000-op graph of the same kind in the same round)")
    worst = 0.0
    growth: dict[str, float] = {}
    for name, timing in result.cases.items():
        seconds = timing.median_seconds
        line = (f"  {name:<24} {ops[name]:>6,} ops  {seconds * 1e3:8.2f} ms  "
                f"{seconds / ops[name] * 1e6:6.2f} us/op")
        kind = next((k for k in builders if name.startswith(k + " ")), None)
        if kind is not None:
            base = result[f"{kind} {COMPILE_SIZES[0]:,}"]
            rel = [t / ops[name] / (b / ops[base.name])
                   for t, b in zip(timing.seconds_per_call, base.seconds_per_call)]
            line += f"  per-op x{statistics.median(rel):.2f}"
            if ops[name] >= COMPILE_SIZES[-1] - 10:
                worst = max(worst, seconds)
                growth[kind] = statistics.median(rel) * ops[name] / ops[base.name]
        print(line)
    for kind, g in growth.items():
        print(f"  {kind}: {COMPILE_SIZES[-1] // COMPILE_SIZES[0]}x the ops takes x{g:.1f} the time "
              f"(linear: x{COMPILE_SIZES[-1] // COMPILE_SIZES[0]}, quadratic: "
              f"x{(COMPILE_SIZES[-1] // COMPILE_SIZES[0]) ** 2})")
    print(f"  (a plan of more than {COMPILE_LIMIT:,} steps runs as a loop over them on its first run, "
          "and is written out and compiled as Python source in pieces on its second)")
    print(f"  {quietness_line(result.others_cpu_share)}")
    met = worst < COMPILE_GOAL_SECONDS
    print(f"compile goal (10,000 ops in < {COMPILE_GOAL_SECONDS} s): "
          f"{'MET' if met else 'NOT MET'} (slowest 10,000-op graph: {worst:.3f} s)")
    return met


def check_long_chain(n_ops: int = 10_000, limit: int = 200) -> None:
    """A 10,000-long chain sorts, differentiates, compiles and runs with the recursion limit at 200."""
    y, x, _, v = chain(n_ops)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        order = G.topo_sort([y])
        gx, gv = G.gradients(y, [x, v])
        value, dx, dv = G.Plan([y, gx, gv], feeds=[x]).run({x: np.array(3.0)})
    except RecursionError as e:
        print(f"long chain: FAILED, something recurses per op ({e})")
        sys.exit(1)
    finally:
        sys.setrecursionlimit(old)
    adds = (n_ops - 3 + 1) // 2
    ok = np.isclose(value, 3.0 + 0.5 * adds) and np.isclose(dx, 1.0) and np.isclose(dv, adds)
    print(f"long chain: topo_sort, gradients, Plan and run on {len(order):,} ops with the "
          f"recursion limit at {limit}: {'ok' if ok else 'WRONG VALUES'}")
    if not ok:
        print(f"long chain computed {value}, {dx}, {dv}")
        sys.exit(1)


# --- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few seconds)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 40, quick 3)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 40)
    block, warmup, pause = (0.02, 0.1, 0.01) if args.quick else (0.15, 1.0, 0.1)

    mlp = build_scalar_mlp(seed=0)
    forward = G.topo_sort([mlp.loss])
    grads = G.gradients(mlp.loss, mlp.params)
    fetches = [mlp.loss, *grads]
    feeds = [*mlp.inputs, mlp.target]
    both = G.topo_sort(fetches)
    start = time.perf_counter()
    plan = G.Plan(fetches, feeds=feeds)
    compile_seconds = time.perf_counter() - start

    def kinds(ops: list[G.Op]) -> str:
        return ", ".join(f"{n} {t}" for t, n in Counter(op.type for op in ops).most_common())

    print("Scalar graph: 4-16-16-1 ReLU MLP on one sample, every weight and bias a scalar variable")
    print(f"  forward graph:      {len(forward):,} ops ({kinds(forward)})")
    print(f"  forward + backward: {len(both):,} ops ({kinds(both)})")
    steps = sum(1 for op in both if op.inputs)  # what a run computes; leaves are read or fed
    print(f"  compiled plan:      {steps:,} computed ops, {len(mlp.params)} gradients fetched, "
          f"compiled in {compile_seconds * 1e3:.1f} ms")

    rng = random.Random(1)
    x = [rng.uniform(-2, 2) for _ in range(SIZES[0])]
    target = 0.7
    feed = {t: np.array(v) for t, v in zip(mlp.inputs, x)}
    feed[mlp.target] = np.array(target)

    loss, *plan_grads = plan.run(feed)
    hand_loss, hand_grads = step_by_hand(mlp.layers, x, target)
    hand_flat = flatten(hand_grads)
    agree = (np.allclose(loss, hand_loss, rtol=1e-12, atol=1e-15)
             and np.allclose(plan_grads, hand_flat, rtol=1e-12, atol=1e-15))
    diff = max(abs(float(p) - h) for p, h in zip([loss, *plan_grads], [hand_loss, *hand_flat]))
    active = [sum(v > 0 for v in z) for z in _pre_activations(mlp.layers, x)[:-1]]
    print(f"  check: loss {float(loss):.6g}; {len(hand_flat)} gradients "
          f"{'agree' if agree else 'DISAGREE'} with the hand-written backprop "
          f"(max abs diff {diff:.1e}; active ReLUs {active[0]}/16, {active[1]}/16)")
    if not agree:
        print("The two sides compute different things: no timing.")
        sys.exit(1)

    result = compare(
        {"hand-written": lambda: step_by_hand(mlp.layers, x, target), "plan.run": lambda: plan.run(feed)},
        baseline="hand-written", rounds=rounds, block_seconds=block, warmup_seconds=warmup,
        pause_seconds=pause,
    )
    print(f"\nTiming forward + backward ({rounds} interleaved rounds of ~{block} s blocks per side)")
    for timing in result.cases.values():
        lo, hi = quartiles([s * 1e6 for s in timing.seconds_per_call])[::2]
        print(f"  {timing.name:<13} {timing.median_seconds * 1e6:9.1f} us/step "
              f"(quartiles {lo:.1f}-{hi:.1f})  {timing.faults_per_call:.3f} minor faults/step")
    per_step = result["plan.run"].median_seconds / steps
    print(f"  plan.run per computed op: {per_step * 1e9:.0f} ns")
    print(f"  {quietness_line(result.others_cpu_share)}")
    q1, med, q3 = result["plan.run"].ratio_quartiles()
    print(f"ratio plan/hand-written: median {med:.1f}x (quartiles {q1:.1f}-{q3:.1f}x, {rounds} rounds)")
    print(f"goal (<= {RATIO_GOAL:.0f}x; micrograd and PyTorch eager ~74x): "
          f"{'MET' if med <= RATIO_GOAL else 'NOT MET'}")

    if args.quick:
        measure_compile(rounds=2, block=0.01, warmup=0.05, pause=0.01)
    else:
        measure_compile(rounds=max(5, rounds // 4), block=block, warmup=warmup, pause=pause)
    check_long_chain()


def _pre_activations(layers: Layers, x: list[float]) -> list[list[float]]:
    """Each layer's ``W h + b``, to report how many ReLUs are active (both branches tested)."""
    out, h = [], x
    for k, (W, b) in enumerate(layers):
        z = [b[j] + sum(W[j][i] * h[i] for i in range(len(h))) for j in range(len(W))]
        out.append(z)
        h = [v if v > 0 else 0.0 for v in z] if k < len(layers) - 1 else z
    return out


if __name__ == "__main__":
    main()
