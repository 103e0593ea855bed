"""Convolutions that no gradient reads (``predict``): the compiled plan works through the
batch in chunks, so the rows of a whole big batch never exist at once; and a convolution's
``BiasAdd`` writes into the product it adds to (through the reshape) instead of a fresh array.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import graph as G
from minikeras import layers as L
from minikeras.graph.kept import Kept
from minikeras.graph.ops.patches import Im2Col
from minikeras.models import Sequential


def mnist_cnn() -> Sequential:
    return Sequential([L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
                       L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                       L.Dense(128, activation="relu"), L.Dense(10)])


def conv_by_loops(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """A 'valid' 2-D convolution, channels_last, one output pixel at a time."""
    kh, kw = k.shape[:2]
    out = np.zeros((x.shape[0], x.shape[1] - kh + 1, x.shape[2] - kw + 1, k.shape[-1]))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            out[:, i, j] = np.tensordot(x[:, i:i + kh, j:j + kw], k, axes=3)
    return out


def test_a_convolution_without_gradient_is_one_step_worked_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # One image's rows per chunk: 5 chunks; the suite also runs the reference loop (all rows
    # at once) and requires the same bits.
    monkeypatch.setattr(Im2Col, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(0)
    xv, kv = rng.standard_normal((5, 7, 6, 2)), rng.standard_normal((3, 3, 2, 4))
    x = G.placeholder((None, 7, 6, 2), dtype="float64")
    k = G.placeholder((3, 3, 2, 4), dtype="float64")
    y = K.conv2d(x, k)
    plan = G.Plan([y], feeds=[x, k])
    np.testing.assert_allclose(plan.run({x: xv, k: kv})[0], conv_by_loops(xv, kv), rtol=1e-12)
    assert "Im2Col" not in plan.source and "MatMul" in plan.source
    (gk,) = G.gradients(G.sum(y ** 2), [k])
    training = G.Plan([y, gk], feeds=[x, k])  # the filter gradient reads the rows: kept
    assert "Im2Col" in training.source
    got = training.run({x: xv, k: kv})
    np.testing.assert_allclose(got[0], conv_by_loops(xv, kv), rtol=1e-12)


def test_rows_fetched_too_are_not_fused_away() -> None:
    x = G.placeholder((None, 5, 5, 1), dtype="float64")
    k = G.placeholder((2, 2, 1, 3), dtype="float64")
    y = K.conv2d(x, k)
    rows = y.op.inputs[0].op.inputs[0].op.inputs[0]
    plan = G.Plan([y, rows], feeds=[x, k])
    xv, kv = np.arange(50.0).reshape(2, 5, 5, 1), np.ones((2, 2, 1, 3))
    got_y, got_rows = plan.run({x: xv, k: kv})
    assert "Im2Col" in plan.source
    assert got_rows.shape == (2, 4, 4, 4)
    np.testing.assert_allclose(got_y, conv_by_loops(xv, kv))


@pytest.mark.usefixtures("plain_runs")
def test_predict_on_a_big_batch_never_holds_all_its_rows() -> None:
    model = mnist_cnn()
    x = np.random.default_rng(0).random((400, 28, 28, 1), dtype=np.float32)
    model.predict(x[:32], batch_size=32)
    peaks = {}
    for n in (32, 400):
        model.predict(x[:n], batch_size=n)  # warm: plans and kept buffers made
        tracemalloc.start()
        model.predict(x[:n], batch_size=n)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    rows = 400 * 24 * 24 * 9 * 32 * 4  # the second convolution's rows for 400 images: 265 MB
    assert peaks[400] < rows / 2, f"peak {peaks[400] / 2**20:.0f} MiB: the rows were made whole"
    # Per image, a big batch needs at most twice what a batch of 32 does (only its activations
    # grow; without chunks it needs about four times as much).
    assert peaks[400] / 400 <= 2 * peaks[32] / 32, {n: p / 2**20 for n, p in peaks.items()}


def test_a_convolution_bias_is_added_in_place() -> None:
    x = G.placeholder((None, 6, 6, 1))
    k, b = K.variable(np.ones((3, 3, 1, 2))), K.variable(np.array([1.0, -1.0]))
    y = K.bias_add(K.conv2d(x, k), b)
    plan = G.Plan([y], feeds=[x])
    line = next(s for s in plan.source.splitlines() if "BiasAdd" in s)
    assert "out=" in line, plan.source
    xv = np.random.default_rng(1).random((2, 6, 6, 1)).astype("float32")
    np.testing.assert_allclose(plan.run({x: xv})[0], conv_by_loops(xv, np.ones((3, 3, 1, 2))) + [1, -1],
                               rtol=1e-5)


def test_a_product_still_fetched_is_not_written_into() -> None:
    x = G.placeholder((None, 4, 4, 1))
    k, b = K.variable(np.ones((2, 2, 1, 1))), K.variable(np.array([10.0]))
    conv = K.conv2d(x, k)
    product = conv.op.inputs[0]  # the MatMul's (pixels, filters) result, under the reshape
    plan = G.Plan([K.bias_add(conv, b), product], feeds=[x])
    xv = np.ones((1, 4, 4, 1), dtype="float32")
    y, flat = plan.run({x: xv})
    np.testing.assert_array_equal(flat, np.full((9, 1), 4.0))
    np.testing.assert_array_equal(y, np.full((1, 3, 3, 1), 14.0))


@pytest.mark.parametrize("chunk_bytes", [1, Im2Col.CHUNK_BYTES])
def test_a_predict_loop_writes_each_batch_into_one_kept_array(monkeypatch: pytest.MonkeyPatch,
                                                              chunk_bytes: int) -> None:
    monkeypatch.setattr(Im2Col, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(2)
    x = G.placeholder((None, 12, 12, 4), dtype="float64")
    k = G.placeholder((3, 3, 4, 32), dtype="float64")
    y = K.conv2d(x, k)
    plan = G.Plan([G.sum(y, axis=(1, 2, 3))], feeds=[x, k])
    kv = rng.standard_normal((3, 3, 4, 32))
    for _ in range(4):  # 8 images: 200 KiB of products, the suite checks against the reference loop
        xv = rng.standard_normal((8, 12, 12, 4))
        np.testing.assert_allclose(plan.run({x: xv, k: kv})[0], conv_by_loops(xv, kv).sum(axis=(1, 2, 3)))
    kept = [step.op.type for step, fn in zip(plan.compiled.steps, plan.compiled.calls) if isinstance(fn, Kept)]
    assert kept == ["MatMul"] and "Im2Col" not in plan.source
