"""One SGD training step of a recurrent classifier: the loop op against BPTT by hand in NumPy.

The step: ``SimpleRNN(128)`` (or ``LSTM(128)``, fused gates: ``implementation=2``) over 28 steps
of 28 features, batch 64, then ``Dense(10)`` with a softmax cross-entropy (mean over the batch),
plain SGD; float32. Each is run, from the same weights and batch, by:

- ``hand-written``: the baseline, backpropagation through time in NumPy, every buffer kept
  between steps (``out=``), the recurrent activations saved per time step in preallocated
  arrays, updates in place;
- ``loop op``: a ``Sequential`` model compiled with ``SGD`` and trained by ``train_on_batch``,
  its time loop one ``Loop`` op (its gradient a ``Loop`` op too);
- ``unrolled``: the same model with ``unroll=True`` (the step's ops repeated 28 times).

One step of each must give the hand-written step's loss and new weights before anything is
timed. Timing is interleaved in one process (``_timing.py``): the ratio to the hand-written
step is the median over rounds. Goals (issue 14): loop op <= 1.15x on both cells, unrolled
<= 1.25x, compiling the LSTM's training function < 0.2 s.

Usage: ``python benchmarks/rnn.py [--quick] [--rounds N] [--cells simple,lstm]``. Exit code 1
only if the implementations disagree. BLAS runs one thread (``OPENBLAS_NUM_THREADS=1`` unless
set): on two shared cores a second BLAS thread makes small products swing tenfold.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS
from collections.abc import Callable

import numpy as np
from _timing import compare, quietness_line

from minikeras import backend as K
from minikeras.layers import LSTM, Dense, SimpleRNN
from minikeras.models import Sequential
from minikeras.optimizers import SGD

T, FEATURES, UNITS, CLASSES, BATCH, LR = 28, 28, 128, 10, 64, 0.01
GOALS = {"loop op": 1.15, "unrolled": 1.25}
COMPILE_GOAL = 0.2


def initial_weights(cell: str, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    gates = 4 if cell == "lstm" else 1
    width = gates * UNITS
    shapes = [(FEATURES, width), (UNITS, width), (width,), (UNITS, CLASSES), (CLASSES,)]
    return [(rng.standard_normal(s, dtype=np.float32) * np.float32(0.1)) for s in shapes]


def make_batch(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, T, FEATURES), dtype=np.float32)
    y = np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, BATCH)]
    return x, y


class HandStep:
    """BPTT by hand; ``cell`` is ``simple`` (tanh) or ``lstm`` (hard-sigmoid gates, Keras 2's)."""

    def __init__(self, weights: list[np.ndarray], cell: str) -> None:
        self.w = [a.copy() for a in weights]
        self.g = [np.empty_like(a) for a in weights]
        self.lstm = cell == "lstm"
        width = 4 * UNITS if self.lstm else UNITS
        self.h = np.zeros((T + 1, BATCH, UNITS), np.float32)
        self.z = np.empty((T, BATCH, width), np.float32)  # pre-activations, then activations
        self.c = np.zeros((T + 1, BATCH, UNITS), np.float32)
        self.tc = np.empty((T, BATCH, UNITS), np.float32)
        self.xt = np.empty((T, BATCH, FEATURES), np.float32)
        self.dz = np.empty((BATCH, width), np.float32)
        self.dh = np.empty((BATCH, UNITS), np.float32)
        self.dc = np.empty((BATCH, UNITS), np.float32)
        self.tmp = np.empty((BATCH, UNITS), np.float32)
        self.hs_grad = np.empty((T, BATCH, width), np.float32)
        self.scale = np.float32(1.0 / BATCH)
        self.lr = np.float32(LR)

    def forward_step(self, t: int) -> None:
        w, u, b = self.w[:3]
        z = self.z[t]
        np.matmul(self.xt[t], w, out=z)
        z += self.h[t] @ u
        z += b
        if not self.lstm:
            np.tanh(z, out=self.h[t + 1])
            return
        n = UNITS
        gates = z.reshape(BATCH, 4, n)
        # hard sigmoid on i, f, o; its gradient (0.2 inside the linear part) kept for later
        hs = self.hs_grad[t].reshape(BATCH, 4, n)
        np.abs(z, out=self.hs_grad[t])
        np.less(hs, 2.5, out=hs, casting="unsafe")
        hs *= np.float32(0.2)
        for k in (0, 1, 3):
            g = gates[:, k]
            g *= np.float32(0.2)
            g += np.float32(0.5)
            np.clip(g, 0, 1, out=g)
        np.tanh(gates[:, 2], out=gates[:, 2])
        c = self.c[t + 1]
        np.multiply(gates[:, 1], self.c[t], out=c)
        c += gates[:, 0] * gates[:, 2]
        np.tanh(c, out=self.tc[t])
        np.multiply(gates[:, 3], self.tc[t], out=self.h[t + 1])

    def backward_step(self, t: int) -> None:
        dz, dh = self.dz, self.dh
        if not self.lstm:
            np.multiply(self.h[t + 1], self.h[t + 1], out=dz)
            np.subtract(1, dz, out=dz)
            dz *= dh
        else:
            n = UNITS
            gates = self.z[t].reshape(BATCH, 4, n)
            d = dz.reshape(BATCH, 4, n)
            tc, dc, tmp = self.tc[t], self.dc, self.tmp
            np.multiply(dh, tc, out=d[:, 3])  # d o
            np.multiply(tc, tc, out=tmp)
            np.subtract(1, tmp, out=tmp)
            tmp *= dh
            tmp *= gates[:, 3]
            dc += tmp  # total gradient at c_t
            np.multiply(dc, gates[:, 2], out=d[:, 0])  # d i
            np.multiply(dc, gates[:, 0], out=d[:, 2])  # d g
            np.multiply(dc, self.c[t], out=d[:, 1])  # d f
            dc *= gates[:, 1]  # to c_{t-1}
            np.multiply(gates[:, 2], gates[:, 2], out=tmp)
            np.subtract(1, tmp, out=tmp)
            d[:, 2] *= tmp
            for k in (0, 1, 3):
                d[:, k] *= self.hs_grad[t].reshape(BATCH, 4, n)[:, k]
        gw, gu, gb = self.g[:3]
        gw += self.xt[t].T @ dz
        gu += self.h[t].T @ dz
        gb += dz.sum(axis=0)
        np.matmul(dz, self.w[1].T, out=dh)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        self.xt[...] = x.transpose(1, 0, 2)
        for t in range(T):
            self.forward_step(t)
        wd, bd = self.w[3:]
        logits = self.h[T] @ wd + bd
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        total = e.sum(axis=1, keepdims=True)
        loss = (np.log(total).sum() - np.vdot(y, logits)) * self.scale
        gl = (e / total - y) * self.scale
        np.matmul(self.h[T].T, gl, out=self.g[3])
        np.sum(gl, axis=0, out=self.g[4])
        np.matmul(gl, wd.T, out=self.dh)
        for g in self.g[:3]:
            g[...] = 0
        self.dc[...] = 0
        for t in range(T - 1, -1, -1):
            self.backward_step(t)
        for w, g in zip(self.w, self.g):
            g *= self.lr
            w -= g
        return float(loss)


def keras_step(weights: list[np.ndarray], cell: str, unroll: bool) -> tuple[Callable[..., float], Sequential]:
    layer = (LSTM(UNITS, implementation=2, unroll=unroll, input_shape=(T, FEATURES)) if cell == "lstm"
             else SimpleRNN(UNITS, unroll=unroll, input_shape=(T, FEATURES)))
    model = Sequential([layer, Dense(CLASSES, activation="softmax")])
    model.compile(SGD(lr=LR), "categorical_crossentropy")
    model.set_weights(weights)
    return lambda x, y: float(model.train_on_batch(x, y)), model


def check(cell: str, weights: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> bool:
    hand = HandStep(weights, cell)
    want = hand(x, y)
    ok = True
    for unroll in (False, True):
        step, model = keras_step(weights, cell, unroll)
        got = step(x, y)
        new = model.get_weights()
        close = abs(got - want) <= 1e-4 * abs(want) and all(
            np.allclose(a - w0, b - w0, rtol=2e-3, atol=1e-6 + 2e-3 * np.abs(b - w0).max())
            for a, b, w0 in zip(new, hand.w, weights))
        label = "unrolled" if unroll else "loop op"
        print(f"  {label}: loss {got:.6f} vs hand-written {want:.6f}; new weights "
              f"{'agree' if close else 'DISAGREE'}")
        ok = ok and close
    return ok


def compile_seconds(cell: str, weights: list[np.ndarray]) -> float:
    """Building the training function (the gradient loop, the optimizer's updates) and compiling
    its plan and the plans of its loops' bodies (which a first call would otherwise do)."""
    K.clear_session()
    _, model = keras_step(weights, cell, unroll=False)
    start = time.perf_counter()
    function = model._make_train_function()
    plan = function.plan
    plan.compiled  # noqa: B018 - compiling is the point
    for step in plan.steps:
        if step.op.type == "Loop":
            step.op.body.plan().compiled  # noqa: B018
            step.op.body.plan(shapes=False).compiled  # noqa: B018
    return time.perf_counter() - start


def run(cell: str, rounds: int, quick: bool) -> bool:
    K.clear_session()
    weights = initial_weights(cell)
    x, y = make_batch()
    title = "SimpleRNN(128)" if cell == "simple" else "LSTM(128), implementation=2"
    print(f"\n{title} over {T} steps of {FEATURES}, batch {BATCH}, Dense({CLASSES}), SGD")
    if not check(cell, weights, x, y):
        return False
    hand = HandStep(weights, cell)
    loop, _ = keras_step(weights, cell, unroll=False)
    unrolled, _ = keras_step(weights, cell, unroll=True)
    cases = {"hand-written": lambda: hand(x, y), "loop op": lambda: loop(x, y),
             "unrolled": lambda: unrolled(x, y)}
    result = compare(cases, "hand-written", rounds=rounds, warmup_seconds=0.3 if quick else 1.0)
    for name in cases:
        timing = result[name]
        q1, q2, q3 = timing.ratio_quartiles()
        goal = GOALS.get(name)
        verdict = "" if goal is None else f"  goal <= {goal}x: {'MET' if q2 <= goal else 'NOT MET'}"
        print(f"  {name:<13} {timing.median_seconds * 1e3:7.2f} ms/step  ratio {q2:.2f}x "
              f"(quartiles {q1:.2f}-{q3:.2f}x), {timing.faults_per_call:.0f} page faults/step{verdict}")
    print("  " + quietness_line(result.others_cpu_share))
    if cell == "lstm":
        seconds = compile_seconds(cell, weights)
        print(f"  compiling the LSTM's training function: {seconds:.3f} s  goal < {COMPILE_GOAL} s: "
              f"{'MET' if seconds < COMPILE_GOAL else 'NOT MET'}")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 20, quick 2)")
    parser.add_argument("--cells", default="simple,lstm")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 20)
    for cell in args.cells.split(","):
        if not run(cell.strip(), rounds, args.quick):
            sys.exit(1)


if __name__ == "__main__":
    main()
