"""The convolution family through ``K``: 1-D/2-D/3-D convolutions with strides, padding,
dilation and both data formats, transposed, depthwise and separable convolutions, pooling,
resizing and padding; each against direct loops over windows, with first and second order
gradient checks on random shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conv_references import conv_ref, depthwise_ref, first, pool_ref
from hypothesis import given
from hypothesis import strategies as st

from minikeras import backend as K
from minikeras import graph as G
from minikeras.graph.ops.windows import Scratch, scratch_of
from minikeras.testing import check_gradients
from minikeras.testing.strategies import arrays


def run(fetches: list[G.Tensor], feed: dict[G.Tensor, np.ndarray]) -> list[np.ndarray]:
    return G.Plan(fetches, feeds=list(feed)).run(feed)


# --- strategies ---------------------------------------------------------------------------


@st.composite
def convs(draw: st.DrawFn, max_rank: int = 3) -> dict[str, Any]:
    rank = draw(st.integers(1, max_rank))
    paddings = ["valid", "same", "causal"] if rank == 1 else ["valid", "same"]
    padding = draw(st.sampled_from(paddings))
    ksize = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    if draw(st.booleans()):  # Keras refuses strides > 1 with dilation > 1 in the layers
        dilation = (1,) * rank
    max_side = 6 if rank < 3 else 4
    spatial = tuple(draw(st.integers((k - 1) * d + 1, max(max_side, (k - 1) * d + 1)))
                    for k, d in zip(ksize, dilation))
    cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x = draw(arrays((draw(st.integers(1, 2)), *spatial, cin)))
    k = draw(arrays((*ksize, cin, cout)))
    return {"x": x, "k": k, "strides": strides, "padding": padding, "dilation": dilation, "rank": rank}


CONV = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}


@given(convs(), st.sampled_from(["channels_last", "channels_first"]))
def test_conv_matches_loops_over_windows(case: dict[str, Any], data_format: str) -> None:
    x, k, rank = case["x"], case["k"], case["rank"]
    strides = case["strides"][0] if rank == 1 else case["strides"]
    expected = conv_ref(x, k, case["strides"], case["padding"], case["dilation"])
    feed = x if data_format == "channels_last" else first(x)
    xt = G.placeholder(feed.shape, dtype="float64")
    y = CONV[rank](xt, K.constant(k, dtype="float64"), strides=strides, padding=case["padding"],
                   data_format=data_format, dilation_rate=case["dilation"])
    (out,) = run([y], {xt: feed})
    want = expected if data_format == "channels_last" else first(expected)
    assert y.shape == want.shape
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)


@given(convs(max_rank=2))
def test_conv_gradients_first_and_second_order(case: dict[str, Any]) -> None:
    conv = CONV[case["rank"]]

    def f(x: G.Tensor, k: G.Tensor) -> G.Tensor:
        return conv(x, k, strides=case["strides"], padding=case["padding"],
                    dilation_rate=case["dilation"], data_format="channels_last")
    check_gradients(f, [case["x"], case["k"]])
    check_gradients(lambda x, k: G.square(f(x, k)), [case["x"], case["k"]], order=2)


def test_conv3d_gradients() -> None:
    rng = np.random.default_rng(5)
    x, k = rng.standard_normal((1, 3, 4, 3, 2)), rng.standard_normal((2, 2, 2, 2, 2))
    check_gradients(lambda x, k: K.conv3d(x, k, strides=(1, 2, 1), padding="same"), [x, k])


@given(convs(max_rank=3))
def test_transposed_conv_is_the_input_gradient_of_conv(case: dict[str, Any]) -> None:
    x, k, rank = case["x"], case["k"], case["rank"]
    if rank == 1 or case["padding"] == "causal" or (max(case["dilation"]) > 1 and rank == 3):
        return
    y = conv_ref(x, k, case["strides"], case["padding"], case["dilation"])
    g = np.random.default_rng(1).standard_normal(y.shape)
    kernel_t = k  # (*ksize, out, in) for the transpose: the very kernel of the conv it undoes
    if rank == 2:
        t = K.conv2d_transpose(K.constant(g, dtype="float64"), K.constant(kernel_t, dtype="float64"),
                               x.shape, strides=case["strides"], padding=case["padding"],
                               dilation_rate=case["dilation"])
    else:
        t = K.conv3d_transpose(K.constant(g, dtype="float64"), K.constant(kernel_t, dtype="float64"),
                               x.shape, strides=case["strides"], padding=case["padding"])
    (value,) = run([t], {})
    assert value.shape == x.shape
    # <conv(x), g> = <x, conv_transpose(g)> for every x: the adjoint, i.e. d<conv(x), g>/dx
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * value), rtol=1e-10)
    xt = G.placeholder(x.shape, dtype="float64")
    conv = CONV[rank](xt, K.constant(k, dtype="float64"), strides=case["strides"],
                      padding=case["padding"], dilation_rate=case["dilation"])
    (gx,) = G.gradients(G.sum(conv * K.constant(g, dtype="float64")), [xt])
    np.testing.assert_allclose(run([gx], {xt: x})[0], value, rtol=1e-10, atol=1e-12)


def test_conv2d_transpose_gradients_and_channels_first() -> None:
    rng = np.random.default_rng(6)
    x, k = rng.standard_normal((2, 3, 3, 2)), rng.standard_normal((3, 3, 4, 2))

    def f(x: G.Tensor, k: G.Tensor) -> G.Tensor:
        return K.conv2d_transpose(x, k, (None, 6, 6, 4), strides=(2, 2), padding="same")
    check_gradients(f, [x, k])
    check_gradients(f, [x, k], order=2)
    last = run([f(K.constant(x, dtype="float64"), K.constant(k, dtype="float64"))], {})[0]
    y = K.conv2d_transpose(K.constant(first(x), dtype="float64"), K.constant(k, dtype="float64"),
                           (2, 4, 6, 6), strides=(2, 2), padding="same", data_format="channels_first")
    np.testing.assert_allclose(run([y], {})[0], first(last), rtol=1e-12)


@given(convs(max_rank=2), st.integers(1, 2))
def test_depthwise_and_separable_match_loops(case: dict[str, Any], multiplier: int) -> None:
    x, rank = case["x"], case["rank"]
    if rank == 1 or case["padding"] == "causal":
        return
    rng = np.random.default_rng(2)
    dk = rng.standard_normal((*case["k"].shape[:2], x.shape[-1], multiplier))
    pk = rng.standard_normal((1, 1, x.shape[-1] * multiplier, 3))
    kwargs = {"strides": case["strides"], "padding": case["padding"], "dilation_rate": case["dilation"]}
    d = K.depthwise_conv2d(K.constant(x, dtype="float64"), K.constant(dk, dtype="float64"), **kwargs)
    s = K.separable_conv2d(K.constant(x, dtype="float64"), K.constant(dk, dtype="float64"),
                           K.constant(pk, dtype="float64"), **kwargs)
    dv, sv = run([d, s], {})
    expected = depthwise_ref(x, dk, case["strides"], case["padding"], case["dilation"])
    np.testing.assert_allclose(dv, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sv, expected @ pk[0, 0], rtol=1e-12, atol=1e-12)
    check_gradients(lambda x, k: K.depthwise_conv2d(x, k, **kwargs), [x, dk])
    check_gradients(lambda x, k: G.square(K.depthwise_conv2d(x, k, **kwargs)), [x, dk], order=2)


def test_separable_conv1d_is_depthwise_then_pointwise() -> None:
    rng = np.random.default_rng(3)
    x, dk, pk = rng.standard_normal((2, 7, 3)), rng.standard_normal((3, 3, 2)), rng.standard_normal((1, 6, 4))
    y = K.separable_conv1d(K.constant(x, dtype="float64"), K.constant(dk, dtype="float64"),
                           K.constant(pk, dtype="float64"), strides=2, padding="same")
    expected = depthwise_ref(x, dk, (2,), "same", (1,)) @ pk[0]
    np.testing.assert_allclose(run([y], {})[0], expected, rtol=1e-12)
    causal = K.separable_conv1d(K.constant(x, dtype="float64"), K.constant(dk, dtype="float64"),
                                K.constant(pk, dtype="float64"), padding="causal", dilation_rate=2)
    expected = depthwise_ref(x, dk, (1,), "causal", (2,)) @ pk[0]
    np.testing.assert_allclose(run([causal], {})[0], expected, rtol=1e-12)


@st.composite
def pools(draw: st.DrawFn) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    spatial = tuple(draw(st.integers(s, 5)) for s in size)
    x = draw(arrays((draw(st.integers(1, 2)), *spatial, draw(st.integers(1, 2))), distinct=True, margin=0.01))
    return {"x": x, "size": size, "strides": tuple(draw(st.integers(1, 2)) for _ in range(rank)),
            "padding": draw(st.sampled_from(["valid", "same"])), "mode": draw(st.sampled_from(["max", "avg"]))}


POOL = {1: K.pool1d, 2: K.pool2d, 3: K.pool3d}


@given(pools(), st.sampled_from(["channels_last", "channels_first"]))
def test_pool_matches_loops_and_its_gradients_check(case: dict[str, Any], data_format: str) -> None:
    x = case["x"]
    rank = x.ndim - 2
    kwargs = {"strides": case["strides"], "padding": case["padding"], "pool_mode": case["mode"]}
    feed = x if data_format == "channels_last" else first(x)
    xt = G.placeholder(feed.shape, dtype="float64")
    (out,) = run([POOL[rank](xt, case["size"], data_format=data_format, **kwargs)], {xt: feed})
    expected = pool_ref(x, case["size"], case["strides"], case["padding"], case["mode"])
    np.testing.assert_allclose(out, expected if data_format == "channels_last" else first(expected),
                               rtol=1e-12)
    check_gradients(lambda v: POOL[rank](v, case["size"], **kwargs), [x])
    check_gradients(lambda v: G.square(POOL[rank](v, case["size"], **kwargs)), [x], order=2)


def test_resize_images_nearest_and_bilinear() -> None:
    x = np.arange(2 * 2 * 3 * 1, dtype="float64").reshape(2, 2, 3, 1)
    near = run([K.resize_images(K.constant(x, dtype="float64"), 2, 3, "channels_last")], {})[0]
    np.testing.assert_array_equal(near, x.repeat(2, axis=1).repeat(3, axis=2))
    row = np.array([[0.0, 4.0, 8.0]])[None, :, :, None]  # 1 x 3
    bil = run([K.resize_images(K.constant(row, dtype="float64"), 1, 2, "channels_last",
                               interpolation="bilinear")], {})[0]
    # TF 1's resize_bilinear (Keras 2.2): output j reads input j / 2, the last ones clamp
    np.testing.assert_allclose(bil[0, 0, :, 0], [0, 2, 4, 6, 8, 8])
    check_gradients(lambda v: K.resize_images(v, 2, 2, "channels_last", "bilinear"),
                    [np.random.default_rng(0).standard_normal((1, 2, 3, 2))])
    first_format = run([K.resize_images(K.constant(first(x), dtype="float64"), 2, 3, "channels_first")], {})[0]
    np.testing.assert_array_equal(first_format, first(near))
    with pytest.raises(ValueError, match="interpolation"):
        K.resize_images(K.constant(x), 2, 2, "channels_last", interpolation="cubic")


def test_resize_volumes_repeats_voxels() -> None:
    x = np.random.default_rng(0).standard_normal((1, 2, 2, 2, 3))
    y = run([K.resize_volumes(K.constant(x, dtype="float64"), 2, 1, 3, "channels_last")], {})[0]
    np.testing.assert_array_equal(y, x.repeat(2, 1).repeat(3, 3))


def test_paddings_add_zeros_and_their_gradients_crop() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    y = run([K.temporal_padding(K.constant(x, dtype="float64"), (1, 2))], {})[0]
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (1, 2), (0, 0))))
    x4 = np.random.default_rng(1).standard_normal((1, 2, 3, 2))
    y4 = run([K.spatial_2d_padding(K.constant(x4, dtype="float64"), ((1, 0), (2, 1)),
                                   data_format="channels_first")], {})[0]
    np.testing.assert_array_equal(y4, np.pad(x4, ((0, 0), (0, 0), (1, 0), (2, 1))))
    x5 = np.random.default_rng(2).standard_normal((1, 2, 2, 2, 1))
    y5 = run([K.spatial_3d_padding(K.constant(x5, dtype="float64"))], {})[0]
    np.testing.assert_array_equal(y5, np.pad(x5, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0))))
    check_gradients(lambda v: K.spatial_2d_padding(v, ((1, 2), (0, 1))), [x4], order=2)


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (lambda x, k: K.conv2d(x, k, padding="causal"), "Invalid padding: causal"),
        (lambda x, k: K.conv2d(x, k, data_format="nhwc"), "must be one of \"channels_first\""),
        (lambda x, k: K.pool2d(x, (2, 2), pool_mode="min"), "Invalid pooling mode: min"),
        (lambda x, k: K.pool2d(x, (2, 2), padding="full"), "Invalid padding: full"),
        (lambda x, k: K.conv1d(x, k), "conv1d: x must have rank 3"),
        (lambda x, k: K.conv2d_transpose(x, k, (None, None, 8, 1)), "output_shape must be known ints"),
        (lambda x, k: K.conv2d(x, k, dilation_rate=3), "does not fit"),
    ],
)
def test_keras_errors(build: Any, pattern: str) -> None:
    x, k = K.placeholder((None, 5, 5, 1)), K.placeholder((3, 3, 1, 1))
    with pytest.raises(ValueError, match=pattern):
        build(x, k)


def test_causal_conv1d_never_sees_the_future() -> None:
    x = np.zeros((1, 6, 1))
    x[0, 4, 0] = 1.0  # an impulse at step 4
    k = np.ones((3, 1, 1))
    y = run([K.conv1d(K.constant(x, dtype="float64"), K.constant(k, dtype="float64"), padding="causal",
                      dilation_rate=2)], {})[0]
    assert y[0, :, 0].tolist() == [0, 0, 0, 0, 1, 0]  # step t reads t, t-2, t-4


def test_big_buffers_are_reused_only_when_nobody_holds_them(plain_runs: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    x = G.placeholder((None, 6, 6, 2), dtype="float64")
    k = G.placeholder((3, 3, 2, 3), dtype="float64")
    y = K.conv2d(x, k, padding="same")
    rows = y.op.inputs[0].op.inputs[0].op.inputs[0]  # Im2Col's output
    (gx,) = G.gradients(G.sum(K.pool2d(y, (2, 2), strides=(2, 2)) ** 2), [x])
    plan = G.Plan([rows, gx], feeds=[x, k])
    rng = np.random.default_rng(0)
    kv = rng.standard_normal((3, 3, 2, 3))
    first_x, second_x = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((2, 6, 6, 2))
    first = plan.run({x: first_x, k: kv})
    kept = [a.copy() for a in first]
    second = plan.run({x: second_x, k: kv})
    for held, copy in zip(first, kept):  # results still held are never overwritten
        np.testing.assert_array_equal(held, copy)
    assert not np.array_equal(second[0], first[0])
    op = rows.op
    a = op.forward(first_x)
    address = a.__array_interface__["data"][0]
    del a
    again = op.forward(second_x)  # nobody held the first: the same memory again
    assert again.__array_interface__["data"][0] == address
    assert op.forward(second_x).__array_interface__["data"][0] != address  # ``again`` holds it
    big = np.zeros((2, 64, 64, 2))
    monkeypatch.setattr(Scratch, "KEEP_BYTES", 1000)
    op.forward(big)
    assert scratch_of(op).array is None  # too big to keep between runs
