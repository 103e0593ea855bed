"""Buffers a compiled plan keeps between runs for its big results (graph/kept.py).

After its first run a plan writes each big result into the array the run before made, once
nothing holds that array any more: no fresh pages per run. Small results keep their direct
kernel. What must never happen: a value someone can still read is overwritten (a user's op
that kept it, another thread's run), or a run with other shapes gets a wrong-shaped buffer.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import ClassVar

import numpy as np
import pytest

from minikeras import graph as mg
from minikeras.graph import kept as kept_module
from minikeras.graph.kept import Kept, takes_out


def _kept_steps(plan: mg.Plan) -> list[str]:
    return [step.op.type for step, fn in zip(plan.compiled.steps, plan.compiled.calls) if isinstance(fn, Kept)]


class Seen(mg.Op):
    """The sum of ``x``, remembering (weakly) every array it was given."""

    returns_view = False  # it returns a new number, never its input
    arrays: ClassVar[list] = []

    def infer(self, x):
        return (), x.dtype

    def forward(self, x):
        Seen.arrays.append(weakref.ref(x))
        return x.sum()


class Stash(mg.Op):
    """The sum of ``x``, keeping the array itself (as a careless user's op might)."""

    returns_view = False
    arrays: ClassVar[list] = []

    def infer(self, x):
        return (), x.dtype

    def forward(self, x):
        Stash.arrays.append(x)
        return x.sum()


def _product_plan(op: type[mg.Op]) -> tuple[mg.Tensor, mg.Tensor, mg.Plan]:
    x = mg.placeholder((None, 64), dtype="float64", name="x")
    w = mg.placeholder((64, 256), dtype="float64", name="w")
    return x, w, mg.Plan([op.apply(mg.matmul(x, w))], feeds=[x, w])


def test_a_big_result_is_written_into_the_same_array_run_after_run() -> None:
    Seen.arrays = []
    x, w, plan = _product_plan(Seen)
    rng = np.random.default_rng(0)
    wv = rng.standard_normal((64, 256))
    feeds = [rng.standard_normal((128, 64)) for _ in range(4)]  # products of 256 KiB
    for xv in feeds:
        (total,) = plan.run({x: xv, w: wv})
        assert total == pytest.approx((xv @ wv).sum())
    assert _kept_steps(plan) == ["MatMul"]
    assert "(into a buffer kept between runs)" in plan.source
    # The first run is the loop that notes the sizes, the second makes the kept array, the
    # third and fourth write into it (the reference loop's own arrays are gone by then).
    kept = [ref() for ref in Seen.arrays[-3:] if ref() is not None]
    assert len(kept) >= 1 and all(a is kept[0] for a in kept)


def test_small_results_keep_their_direct_kernel() -> None:
    x = mg.placeholder((None, 64), name="x")
    w = mg.placeholder((64, 128), name="w")
    plan = mg.Plan([mg.sum(mg.relu(mg.matmul(x, w)))], feeds=[x, w])
    for _ in range(3):
        plan.run({x: np.ones((32, 64)), w: np.ones((64, 128))})
    assert _kept_steps(plan) == [] and "np.matmul(" in plan.source


@pytest.mark.usefixtures("plain_runs")
def test_an_array_that_becomes_a_fetch_or_a_new_value_is_not_kept() -> None:
    x = mg.placeholder((None, 64), dtype="float64", name="x")
    w = mg.variable(np.zeros((64, 256)), dtype="float64", name="w")
    total = mg.matmul(x, w) + 1.0
    out = mg.relu(total)  # written into the sum's array, which is fetched
    (grad,) = mg.gradients(mg.sum(out), [w])
    plan = mg.Plan([out], updates=[(w, w - grad * 0.5)], feeds=[x])  # SGD writes into the gradient
    fetched = [plan.run({x: np.full((128, 64), 0.01)})[0] for _ in range(3)]
    kept = {step.op.y for step, fn in zip(plan.compiled.steps, plan.compiled.calls) if isinstance(fn, Kept)}
    assert total.op.inputs[0] in kept  # the product: the plan's own to the end
    assert total not in kept and grad not in kept  # handed on every run: keeping them saves nothing
    assert len({id(a) for a in fetched}) == 3


def test_an_array_someone_still_holds_is_never_written_into() -> None:
    Stash.arrays = []
    x, w, plan = _product_plan(Stash)
    rng = np.random.default_rng(1)
    wv = rng.standard_normal((64, 256))
    for _ in range(4):
        plan.run({x: rng.standard_normal((128, 64)), w: wv})
    copies = [a.copy() for a in Stash.arrays]
    plan.run({x: rng.standard_normal((128, 64)), w: wv})
    assert _kept_steps(plan) == ["MatMul"]
    for held, copy in zip(Stash.arrays, copies):
        np.testing.assert_array_equal(held, copy)
    assert len({id(a) for a in Stash.arrays}) == len(Stash.arrays)


def test_a_run_of_another_shape_or_layout_gets_a_fresh_array_of_its_own() -> None:
    x, w, plan = _product_plan(Seen)
    rng = np.random.default_rng(2)
    wv = rng.standard_normal((64, 256))
    for xv in [rng.standard_normal((128, 64)), rng.standard_normal((128, 64)),
               rng.standard_normal((100, 64)), rng.standard_normal((64, 128)).T,
               rng.standard_normal((128, 64)), rng.standard_normal((128, 64)).astype(np.float32)]:
        (total,) = plan.run({x: xv, w: wv})  # the suite also compares with the reference loop
        assert total == pytest.approx((xv.astype(np.float64) @ wv).sum())


def test_a_result_laid_out_otherwise_is_not_forced_into_the_kept_layout() -> None:
    x = mg.placeholder((None, 128), dtype="float64", name="x")
    plan = mg.Plan([mg.sum(mg.exp(x), axis=1)], feeds=[x])
    value = np.random.default_rng(4).standard_normal((256, 128))
    for feed in [value, value, value, np.asfortranarray(value), value]:
        # A fresh exp of a Fortran-ordered array is Fortran-ordered, and its rows are summed
        # in another order than a C-ordered one's: the last bits differ. The suite compares
        # every run with the reference loop, which makes a fresh array.
        plan.run({x: feed})
    assert _kept_steps(plan) == ["Exp"]


def test_runs_in_threads_never_share_a_kept_array() -> None:
    x = mg.placeholder((None, 64), dtype="float64", name="x")
    w = mg.variable(np.random.default_rng(3).standard_normal((64, 512)), dtype="float64", name="w")
    h = mg.relu(mg.matmul(x, w)) * 0.5
    plan = mg.Plan([mg.sum(h, axis=1)], feeds=[x])
    feeds = [np.random.default_rng(10 + i).standard_normal((128, 64)) for i in range(4)]
    expected = [plan.run({x: f})[0] for f in feeds]
    assert _kept_steps(plan)
    errors: list[str] = []

    def work(i: int) -> None:
        for _ in range(30):
            if not np.array_equal(plan.run({x: feeds[i]})[0], expected[i]):
                errors.append(f"thread {i} saw another run's numbers")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def test_a_huge_result_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept_module, "KEEP_UP_TO_BYTES", 200_000)
    x, w, plan = _product_plan(Seen)
    for _ in range(3):
        plan.run({x: np.ones((128, 64)), w: np.ones((64, 256))})  # 256 KiB
    (matmul,) = [fn for fn in plan.compiled.calls if isinstance(fn, Kept)]
    assert matmul.kept is None


def test_what_takes_out() -> None:
    assert takes_out(np.add) and takes_out(np.matmul)
    x = mg.placeholder((2, 2), name="x")
    assert takes_out(mg.matmul(x, x, transpose_b=True).op.forward)
    assert not takes_out(mg.sum(x).op.forward)
