"""One SGD training step of a small CNN: how close does minikeras get to hand-written NumPy?

The step is forward, backward and the SGD update (``p -= lr * g``) with a softmax
cross-entropy (mean over the batch), all float32, channels_last, on two workloads:

    C1  8x8x1 -> Conv2D(16, 3, same, relu) -> MaxPool2 -> Conv2D(32, 3, same, relu) -> MaxPool2
        -> Flatten -> Dense(10)                                     batch 64 (digits-size)
    C2  28x28x1 -> Conv2D(32, 3, relu) -> Conv2D(64, 3, relu) -> MaxPool2 -> Flatten
        -> Dense(128, relu) -> Dense(10)                            batch 64 (Keras's mnist_cnn)

Each is run, from the same initial weights and batch, by:

- ``hand-written``: the baseline, a careful NumPy step: each convolution is im2col (one
  strided copy per tap into a reused buffer) and one GEMM, its filter gradient one GEMM on
  the same rows, its input gradient one GEMM and a col2im; max-pooling by a reshape, its
  gradient by a mask against the output; every buffer allocated once. It is the floor.
- ``K.function``: the graph from ``K.conv2d``, ``K.bias_add``, ``K.relu``, ``K.pool2d``,
  ``K.batch_flatten``, ``K.dot`` and ``K.categorical_crossentropy(from_logits=True)``,
  trained by ``K.function`` with ``SGD(lr).get_updates``.
- ``train_on_batch``: a ``Sequential`` of the layers compiled with ``SGD`` and
  ``categorical_crossentropy``.
- ``torch``: PyTorch CPU eager, if ``import torch`` works (a reference column only: if its
  step disagrees it is reported and left out; it never stops the others' timing).

Before timing, one step of each must give the same loss and updated weights as the
hand-written step. Then they are timed interleaved in this one process (``_timing.py``).
Goals (issue 15): C1 <= 1.3x and C2 <= 1.1x the hand-written step; minor page faults per
step within 2x of the hand-written step's; the peak memory of a C2 step within 1.2x
(``tracemalloc`` in a fresh process per implementation). ``predict`` on 2,000 images is
measured too: its peak memory per image against a batch of 32's.

Usage: ``python benchmarks/cnn.py [--quick] [--rounds N] [--workloads C1,C2] [--no-torch]
[--no-memory] [--profile]``. Exit code 1 only if a minikeras implementation disagrees.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tracemalloc
from dataclasses import dataclass
from typing import Any

import numpy as np
from _timing import compare, quartiles, quietness_line
from mlp import (
    Weights,
    check_agreement,
    describe_counts,
    plan_op_counts,
    profile_plan,
    rounds_to_use,
    run_workloads,
    timing_params,
    workload_command,
)

from minikeras import backend as K
from minikeras import layers as L
from minikeras.models import Sequential
from minikeras.optimizers import SGD

LR = 0.01
MEMORY_GOAL = 1.2
FAULTS_GOAL = 2.0
PREDICT_GOAL = 2.0

# A layer: ("conv", filters, padding) with a 3x3 kernel and ReLU, ("pool",) a 2x2 max-pool,
# ("flatten",), ("dense", units, relu?).
Spec = tuple[Any, ...]


@dataclass(frozen=True)
class Workload:
    name: str
    image: tuple[int, int, int]
    layers: tuple[Spec, ...]
    batch: int
    goal: float

    @property
    def title(self) -> str:
        return f"{self.name} {'x'.join(map(str, self.image))}, batch {self.batch}"


WORKLOADS = {w.name: w for w in (
    Workload("C1", (8, 8, 1), (("conv", 16, "same"), ("pool",), ("conv", 32, "same"), ("pool",),
                               ("flatten",), ("dense", 10, False)), 64, 1.3),
    Workload("C2", (28, 28, 1), (("conv", 32, "valid"), ("conv", 64, "valid"), ("pool",), ("flatten",),
                                 ("dense", 128, True), ("dense", 10, False)), 64, 1.1),
)}


def shapes_of(w: Workload) -> list[tuple[int, ...]]:
    """The input shape of each layer (batch left out), and the output's last."""
    shape: tuple[int, ...] = w.image
    shapes = [shape]
    for spec in w.layers:
        if spec[0] == "conv":
            h, wd, _ = shape
            trim = 0 if spec[2] == "same" else 2
            shape = (h - trim, wd - trim, spec[1])
        elif spec[0] == "pool":
            shape = (shape[0] // 2, shape[1] // 2, shape[2])
        elif spec[0] == "flatten":
            shape = (math.prod(shape),)
        else:
            shape = (spec[1],)
        shapes.append(shape)
    return shapes


def initial_weights(w: Workload, seed: int = 0) -> Weights:
    """Glorot-uniform kernels, small non-zero biases, for each conv and dense layer."""
    rng = np.random.default_rng(seed)
    weights = []
    for spec, shape in zip(w.layers, shapes_of(w)):
        if spec[0] == "conv":
            kshape: tuple[int, ...] = (3, 3, shape[-1], spec[1])
            fan_in, fan_out = 9 * shape[-1], 9 * spec[1]
        elif spec[0] == "dense":
            kshape, fan_in, fan_out = (shape[0], spec[1]), shape[0], spec[1]
        else:
            continue
        limit = np.float32(math.sqrt(6.0 / (fan_in + fan_out)))
        kernel = (rng.random(kshape, dtype=np.float32) * 2 - 1) * limit
        weights.append((kernel, (rng.random(kshape[-1], dtype=np.float32) * 2 - 1) * np.float32(0.1)))
    return weights


def make_batch(w: Workload, batch: int | None = None, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = batch or w.batch
    # Zero-mean inputs: with all-positive ones, some 3x3x32 patches of the first ReLU are all
    # zero, the second conv gives its bias there, and a 2x2 window can tie at a positive value,
    # where the hand-written mask (every tied pixel) and minikeras (the first) route differently.
    x = rng.standard_normal((n, *w.image), dtype=np.float32)
    return x, np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]


# --- the baseline: the step by hand ---------------------------------------------------


class HandConv:
    """3x3 convolution + bias + ReLU by im2col and GEMM; every buffer made once."""

    def __init__(self, kernel: np.ndarray, bias: np.ndarray, n: int, shape: tuple[int, ...], padding: str,
                 needs_input_grad: bool) -> None:
        h, w, cin = shape
        self.pad = 1 if padding == "same" else 0
        self.oh, self.ow = h + 2 * self.pad - 2, w + 2 * self.pad - 2
        self.w2, self.b = kernel.reshape(9 * cin, -1).copy(), bias.copy()
        rows = n * self.oh * self.ow
        self.xp = np.zeros((n, h + 2 * self.pad, w + 2 * self.pad, cin), np.float32)
        self.cols = np.empty((n, self.oh, self.ow, 9, cin), np.float32)
        self.z = np.empty((rows, self.w2.shape[1]), np.float32)
        self.gz, self.mask = np.empty_like(self.z), np.empty(self.z.shape, bool)
        self.gw, self.gb = np.empty_like(self.w2), np.empty_like(self.b)
        self.gcols = np.empty((rows, 9 * cin), np.float32) if needs_input_grad else None
        self.gxp = np.zeros_like(self.xp) if needs_input_grad else None
        self.taps = [(i, j) for i in range(3) for j in range(3)]
        self.n, self.h, self.w = n, h, w

    def interior(self, a: np.ndarray) -> np.ndarray:
        p = self.pad
        return a[:, p:p + self.h, p:p + self.w] if p else a

    def forward(self, x: np.ndarray) -> np.ndarray:
        src = x
        if self.pad:
            self.interior(self.xp)[...] = x
            src = self.xp
        for t, (i, j) in enumerate(self.taps):
            self.cols[:, :, :, t, :] = src[:, i:i + self.oh, j:j + self.ow, :]
        np.matmul(self.cols.reshape(self.z.shape[0], -1), self.w2, out=self.z)
        self.z += self.b
        np.maximum(self.z, 0, out=self.z)
        return self.z.reshape(self.n, self.oh, self.ow, -1)

    def backward(self, g: np.ndarray, lr: np.float32) -> np.ndarray | None:
        np.greater(self.z, 0, out=self.mask)
        np.multiply(g.reshape(self.gz.shape), self.mask, out=self.gz)
        np.matmul(self.cols.reshape(self.z.shape[0], -1).T, self.gz, out=self.gw)
        np.sum(self.gz, axis=0, out=self.gb)
        gx = None
        if self.gcols is not None and self.gxp is not None:
            np.matmul(self.gz, self.w2.T, out=self.gcols)
            self.gxp.fill(0)
            by_tap = self.gcols.reshape(self.n, self.oh, self.ow, 9, -1)
            for t, (i, j) in enumerate(self.taps):
                self.gxp[:, i:i + self.oh, j:j + self.ow, :] += by_tap[:, :, :, t, :]
            gx = self.interior(self.gxp)
        self.gw *= lr
        self.w2 -= self.gw
        self.gb *= lr
        self.b -= self.gb
        return gx


class HandPool:
    """2x2 max-pool by a reshape; the gradient goes where the input equals the output."""

    def __init__(self, n: int, shape: tuple[int, ...]) -> None:
        h, w, c = shape
        self.six = (n, h // 2, 2, w // 2, 2, c)
        self.y = np.empty((n, h // 2, w // 2, c), np.float32)
        self.mask = np.empty(self.six, bool)
        self.gx = np.empty(self.six, np.float32)
        self.x6: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x6 = x.reshape(self.six)
        np.max(self.x6, axis=(2, 4), out=self.y)
        return self.y

    def backward(self, g: np.ndarray, lr: np.float32) -> np.ndarray:
        n, a, _, b, _, c = self.six
        assert self.x6 is not None
        np.equal(self.x6, self.y.reshape(n, a, 1, b, 1, c), out=self.mask)
        np.multiply(self.mask, g.reshape(n, a, 1, b, 1, c), out=self.gx)
        return self.gx.reshape(n, 2 * a, 2 * b, c)


class HandDense:
    def __init__(self, kernel: np.ndarray, bias: np.ndarray, n: int, relu: bool,
                 needs_input_grad: bool) -> None:
        self.w, self.b, self.relu = kernel.copy(), bias.copy(), relu
        self.z = np.empty((n, kernel.shape[1]), np.float32)
        self.mask = np.empty(self.z.shape, bool)
        self.gw, self.gb = np.empty_like(self.w), np.empty_like(self.b)
        self.gx = np.empty((n, kernel.shape[0]), np.float32) if needs_input_grad else None
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x.reshape(len(x), -1)
        np.matmul(self.x, self.w, out=self.z)
        self.z += self.b
        if self.relu:
            np.maximum(self.z, 0, out=self.z)
        return self.z

    def backward(self, g: np.ndarray, lr: np.float32) -> np.ndarray | None:
        assert self.x is not None
        if self.relu:
            np.greater(self.z, 0, out=self.mask)
            g *= self.mask
        np.matmul(self.x.T, g, out=self.gw)
        np.sum(g, axis=0, out=self.gb)
        if self.gx is not None:
            np.matmul(g, self.w.T, out=self.gx)
        self.gw *= lr
        self.w -= self.gw
        self.gb *= lr
        self.b -= self.gb
        return self.gx


class HandStep:
    """The whole step: the layers above, then a log-softmax cross-entropy from the logits."""

    def __init__(self, w: Workload, weights: Weights, lr: float) -> None:
        n, self.lr = w.batch, np.float32(lr)
        self.layers: list[Any] = []
        params = iter(weights)
        for k, (spec, shape) in enumerate(zip(w.layers, shapes_of(w))):
            if spec[0] == "conv":
                self.layers.append(HandConv(*next(params), n, shape, spec[2], needs_input_grad=k > 0))
            elif spec[0] == "pool":
                self.layers.append(HandPool(n, shape))
            elif spec[0] == "dense":
                self.layers.append(HandDense(*next(params), n, spec[2], needs_input_grad=k > 0))
        self.exp = np.empty((n, 10), np.float32)
        self.g = np.empty((n, 10), np.float32)
        self.scale = np.float32(1.0 / n)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        h = x
        for layer in self.layers:
            h = layer.forward(h)
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=self.exp)
        total = self.exp.sum(axis=1, keepdims=True)
        loss = (np.log(total).sum() - np.vdot(y, h)) * self.scale
        np.divide(self.exp, total, out=self.g)
        self.g -= y
        self.g *= self.scale
        g: np.ndarray | None = self.g
        for layer in reversed(self.layers):
            assert g is not None
            g = layer.backward(g, self.lr)
        return float(loss)

    def weights(self) -> Weights:
        out = []
        for layer in self.layers:
            if isinstance(layer, HandConv):
                out.append((layer.w2.reshape(3, 3, -1, layer.w2.shape[1]).copy(), layer.b.copy()))
            elif isinstance(layer, HandDense):
                out.append((layer.w.copy(), layer.b.copy()))
        return out


# --- minikeras, two ways; torch -------------------------------------------------------


class KFunctionStep:
    def __init__(self, w: Workload, weights: Weights, lr: float) -> None:
        self.x = K.placeholder(shape=(None, *w.image), name="x")
        self.y = K.placeholder(shape=(None, 10), name="y")
        self.params = [K.variable(a) for pair in weights for a in pair]
        params = iter(self.params)
        h = self.x
        for spec in w.layers:
            if spec[0] == "conv":
                h = K.relu(K.bias_add(K.conv2d(h, next(params), padding=spec[2]), next(params)))
            elif spec[0] == "pool":
                h = K.pool2d(h, (2, 2), strides=(2, 2))
            elif spec[0] == "flatten":
                h = K.batch_flatten(h)
            else:
                h = K.bias_add(K.dot(h, next(params)), next(params))
                h = K.relu(h) if spec[2] else h
        self.loss = K.mean(K.categorical_crossentropy(self.y, h, from_logits=True))
        updates = SGD(lr=lr).get_updates(loss=self.loss, params=self.params)
        self.function = K.function([self.x, self.y], [self.loss], updates=updates)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.function([x, y])[0])

    def weights(self) -> Weights:
        values = K.batch_get_value(self.params)
        return list(zip(values[::2], values[1::2]))


def make_model(w: Workload) -> Sequential:
    layers: list[Any] = [L.InputLayer(input_shape=w.image)]
    for k, spec in enumerate(w.layers):
        if spec[0] == "conv":
            layers.append(L.Conv2D(spec[1], 3, padding=spec[2], activation="relu"))
        elif spec[0] == "pool":
            layers.append(L.MaxPooling2D())
        elif spec[0] == "flatten":
            layers.append(L.Flatten())
        else:
            last = k == len(w.layers) - 1
            layers.append(L.Dense(spec[1], activation="softmax" if last else ("relu" if spec[2] else None)))
    return Sequential(layers)


class ModelStep:
    def __init__(self, w: Workload, weights: Weights, lr: float) -> None:
        self.model = make_model(w)
        self.model.compile(optimizer=SGD(lr=lr), loss="categorical_crossentropy")
        self.model.set_weights([a for pair in weights for a in pair])

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.model.train_on_batch(x, y))

    def weights(self) -> Weights:
        values = self.model.get_weights()
        return list(zip(values[::2], values[1::2]))


class TorchStep:
    """PyTorch eager, NCHW inside; flattened in NHWC order so the dense weights are the same."""

    def __init__(self, w: Workload, weights: Weights, lr: float, torch: Any) -> None:
        self.torch, self.w, self.lr = torch, w, lr
        self.params = []
        for kernel, bias in weights:
            k = kernel.transpose(3, 2, 0, 1) if kernel.ndim == 4 else kernel
            self.params += [torch.tensor(np.ascontiguousarray(k), requires_grad=True),
                            torch.tensor(bias, requires_grad=True)]
        self._batch: tuple[Any, Any, Any] | None = None

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        torch, f = self.torch, self.torch.nn.functional
        if self._batch is None or self._batch[0] is not x:
            self._batch = (x, torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))),
                           torch.from_numpy(y.argmax(axis=1)))
        _, h, labels = self._batch
        params = iter(self.params)
        for spec in self.w.layers:
            if spec[0] == "conv":
                h = torch.relu(f.conv2d(h, next(params), next(params), padding=1 if spec[2] == "same" else 0))
            elif spec[0] == "pool":
                h = f.max_pool2d(h, 2)
            elif spec[0] == "flatten":
                h = h.permute(0, 2, 3, 1).reshape(len(x), -1)
            else:
                kernel, bias = next(params), next(params)
                h = torch.addmm(bias, h, kernel)
                h = torch.relu(h) if spec[2] else h
        loss = f.cross_entropy(h, labels)
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p.add_(p.grad, alpha=-self.lr)
                p.grad = None
        return float(loss.item())

    def weights(self) -> Weights:
        values = [p.detach().numpy().copy() for p in self.params]
        values = [v.transpose(2, 3, 1, 0) if v.ndim == 4 else v for v in values]
        return list(zip(values[::2], values[1::2]))


# --- memory -----------------------------------------------------------------------------


def memory_worker(spec: str) -> None:
    """In a fresh process: one implementation's ``tracemalloc`` peak during a step after warm-up,
    or (kind ``predict:N``) the peak of ``model.predict`` on ``N`` images in one batch."""
    name, kind, *rest = spec.split(":")
    w = WORKLOADS[name]
    weights = initial_weights(w)
    if kind == "predict":
        n = int(rest[0])
        x, _ = make_batch(w, n)
        model = make_model(w)
        model.set_weights([a for pair in weights for a in pair])
        model.predict(x[:32], batch_size=n)
        tracemalloc.start()
        model.predict(x, batch_size=n)
        print(json.dumps({"peak": tracemalloc.get_traced_memory()[1]}))
        return
    x, y = make_batch(w)
    tracemalloc.start()
    step = {"hand": lambda: HandStep(w, weights, LR), "kfunction": lambda: KFunctionStep(w, weights, LR),
            "model": lambda: ModelStep(w, weights, LR)}[kind]()
    for _ in range(2):
        step(x, y)
    state = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    for _ in range(2):
        step(x, y)
    print(json.dumps({"state": state, "peak": tracemalloc.get_traced_memory()[1]}))


def _worker(spec: str) -> dict[str, int] | None:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-worker", spec],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"  memory worker {spec} failed\n{proc.stderr}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report_memory(name: str) -> None:
    w = WORKLOADS[name]
    results = {label: _worker(f"{name}:{kind}") for label, kind in
               (("hand-written", "hand"), ("K.function", "kfunction"), ("train_on_batch", "model"))}
    print(f"\nMemory of one {w.title} step (tracemalloc peak, a fresh process each; weights and buffers "
          "included)")
    base = results["hand-written"]
    for label, r in results.items():
        if r is None or base is None:
            continue
        print(f"  {label:<15} peak {r['peak'] / 2**20:6.1f} MiB (between steps {r['state'] / 2**20:5.1f})")
        if label != "hand-written":
            ratio = r["peak"] / base["peak"]
            print(f"memory {name} {label}/hand-written: peak {ratio:.2f}x "
                  f"(goal <= {MEMORY_GOAL}x: {'MET' if ratio <= MEMORY_GOAL else 'NOT MET'})")
    small, big = _worker(f"{name}:predict:32"), _worker(f"{name}:predict:2000")
    if small is not None and big is not None:
        # The activations of 2,000 images alone (the second convolution's output is 295 MB)
        # dwarf a batch of 32's whole peak: the goal is read per image (no whole-batch rows).
        ratio = (big["peak"] / 2000) / (small["peak"] / 32)
        print(f"memory {name} predict 2000 in one batch/batch of 32: peak {big['peak'] / 2**20:.1f} vs "
              f"{small['peak'] / 2**20:.1f} MiB, per image {ratio:.2f}x (goal <= {PREDICT_GOAL}x: "
              f"{'MET' if ratio <= PREDICT_GOAL else 'NOT MET'})")


# --- main -------------------------------------------------------------------------------


def run_workload(w: Workload, torch: Any, args: argparse.Namespace) -> bool:
    """Check, then time one workload; False if a minikeras implementation disagrees."""
    weights = initial_weights(w)
    x, y = make_batch(w)
    steps: dict[str, Any] = {"hand-written": HandStep(w, weights, LR),
                             "K.function": KFunctionStep(w, weights, LR),
                             "train_on_batch": ModelStep(w, weights, LR)}
    if torch is not None:
        steps["torch"] = TorchStep(w, weights, LR, torch)
    params = sum(a.size for pair in weights for a in pair)
    print(f"\n{w.title} ({params:,} parameters, lr {LR})")
    kplan = steps["K.function"].function.plan
    mplan = steps["train_on_batch"].model._make_train_function().plan
    print(f"  K.function plan:     {len(kplan.steps)} steps ({describe_counts(plan_op_counts(kplan))})")
    print(f"  train_on_batch plan: {len(mplan.steps)} steps ({describe_counts(plan_op_counts(mplan))})")
    results = {name: (step(x, y), step.weights()) for name, step in steps.items()}
    reference = results["hand-written"]
    ok = True
    for name, result in list(results.items())[1:]:
        agree, worst = check_agreement(reference, result, weights)
        print(f"  check: {name} {'agrees' if agree else 'DISAGREES'} with the hand-written step "
              f"(loss {result[0]:.6f} vs {reference[0]:.6f}; largest difference in a weight change "
              f"{worst:.1e} of the largest change)")
        if not agree and name == "torch":
            print("  torch is a reference column: left out of the timing")
            del steps["torch"]
        elif not agree:
            ok = False
    if not ok:
        print("The minikeras implementations compute a different step: no timing.")
        return False
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
    base_faults = max(result["hand-written"].faults_per_call, 1.0)
    for name in result.cases:
        if name == "hand-written":
            continue
        q1, med, q3 = result.ratio_quartiles(name, used)
        goal = "" if name == "torch" else f"  goal <= {w.goal}x: {'MET' if med <= w.goal else 'NOT MET'}"
        print(f"ratio {w.name} {name}/hand-written: median {med:.2f}x (quartiles {q1:.2f}-{q3:.2f}x, "
              f"{which}){goal}")
        if name != "torch":
            faults = result[name].faults_per_call / base_faults
            print(f"faults {w.name} {name}/hand-written: {faults:.2f}x (of max(1, hand-written's); "
                  f"goal <= {FAULTS_GOAL}x: {'MET' if faults <= FAULTS_GOAL else 'NOT MET'})")
    if args.profile:
        prof = profile_plan(kplan, {steps["K.function"].x: x, steps["K.function"].y: y},
                            0.3 if args.quick else 2.0)
        total = sum(t for _, t, _ in prof.values())
        # Traced runs go through the reference loop: no donation, no kept buffers, so its
        # faults are those a plan would take without them (the timing above counts the real ones).
        print(f"  K.function: time in each op type's forwards, by the reference loop "
              f"({total * 1e6:.0f} us/run in all):")
        for kind, (n, t, f) in sorted(prof.items(), key=lambda kv: -kv[1][1]):
            print(f"    {kind:<20} {int(n):3d} steps {t * 1e6:9.1f} us/run {t / total:6.1%} "
                  f"{f:8.1f} faults/run")
    return True


def main() -> None:
    command = workload_command(__doc__ or "", WORKLOADS, "skip the memory measurements",
                               "also split K.function's time by op type", memory_worker)
    if command is None:
        return
    args, names, torch = command
    run_workloads("CNN training step (forward, backward, SGD update), float32", names, torch, args,
                  run_workload, WORKLOADS)
    if not args.no_memory and "C2" in names:
        report_memory("C2")


if __name__ == "__main__":
    main()
