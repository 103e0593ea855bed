"""conv2d and pool2d: forward against loop references, static shapes, errors, gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from minikeras import graph as G
from minikeras.graph.ops.conv import conv2d
from minikeras.graph.ops.pool import pool2d
from minikeras.testing import check_gradients


def run(fetches: list[G.Tensor], feed: dict[G.Tensor, np.ndarray]) -> list[np.ndarray]:
    return G.Plan(fetches, feeds=list(feed)).run(feed)


# --- references: explicit loops over output pixels, TensorFlow's padding rule ---------


def tf_geometry(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(output size, padding before) along one axis, straight from TF's documentation."""
    if padding == "valid":
        return (n - k) // s + 1, 0
    out = -(-n // s)
    return out, max((out - 1) * s + k - n, 0) // 2


def conv2d_reference(x: np.ndarray, k: np.ndarray, strides: tuple[int, int], padding: str) -> np.ndarray:
    n, h, w, _ = x.shape
    kh, kw, _, cout = k.shape
    oh, top = tf_geometry(h, kh, strides[0], padding)
    ow, left = tf_geometry(w, kw, strides[1], padding)
    y = np.zeros((n, oh, ow, cout))
    for b in range(n):
        for p in range(oh):
            for q in range(ow):
                for i in range(kh):
                    for j in range(kw):
                        r, c = p * strides[0] + i - top, q * strides[1] + j - left
                        if 0 <= r < h and 0 <= c < w:  # outside: a padded zero
                            y[b, p, q] += x[b, r, c] @ k[i, j]
    return y


def pool2d_reference(x: np.ndarray, pool: tuple[int, int], strides: tuple[int, int], padding: str,
                     mode: str) -> np.ndarray:
    n, h, w, ch = x.shape
    oh, top = tf_geometry(h, pool[0], strides[0], padding)
    ow, left = tf_geometry(w, pool[1], strides[1], padding)
    y = np.zeros((n, oh, ow, ch))
    for p in range(oh):
        for q in range(ow):
            r0, c0 = p * strides[0] - top, q * strides[1] - left
            window = x[:, max(r0, 0) : r0 + pool[0], max(c0, 0) : c0 + pool[1]]  # real pixels only
            y[:, p, q] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return y


# (h, w, kh, kw, strides, padding)
CONV_CASES = [
    (5, 5, 3, 3, (1, 1), "valid"),
    (6, 7, 3, 2, (2, 2), "valid"),  # stride 2 leaves the last row unused
    (5, 5, 3, 3, (1, 1), "same"),
    (6, 6, 3, 3, (2, 2), "same"),  # total pad 1: all of it at the bottom/right
    (7, 8, 2, 3, (2, 1), "same"),
    (4, 5, 4, 2, (3, 2), "same"),
    (2, 3, 4, 4, (1, 1), "same"),  # kernel larger than the input
]
# (h, w, pool, strides, padding)
POOL_CASES = [
    (4, 4, (2, 2), (2, 2), "valid"),
    (5, 7, (2, 2), (2, 2), "valid"),
    (5, 6, (3, 3), (2, 2), "valid"),  # overlapping windows
    (5, 5, (2, 2), (2, 2), "same"),
    (6, 5, (3, 3), (1, 1), "same"),
    (7, 6, (3, 2), (2, 3), "same"),
    (3, 3, (1, 1), (1, 1), "valid"),
]


def case_id(case: tuple) -> str:
    return "-".join(str(v).replace(" ", "") for v in case)


# --- forward --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CONV_CASES, ids=case_id)
def test_conv2d_matches_loop_reference(case: tuple) -> None:
    h, w, kh, kw, strides, padding = case
    rng = np.random.default_rng(0)
    xv, kv = rng.standard_normal((2, h, w, 3)), rng.standard_normal((kh, kw, 3, 4))
    x = G.placeholder((None, h, w, 3), dtype="float64")
    k = G.placeholder(kv.shape, dtype="float64")
    y = conv2d(x, k, strides=strides, padding=padding)
    (value,) = run([y], {x: xv, k: kv})
    expected = conv2d_reference(xv, kv, strides, padding)
    assert y.shape == (None, *expected.shape[1:])
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", POOL_CASES, ids=case_id)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool2d_matches_loop_reference(case: tuple, mode: str) -> None:
    h, w, pool, strides, padding = case
    xv = np.random.default_rng(1).standard_normal((2, h, w, 3)) - 3  # all negative: padding must not win
    x = G.placeholder((None, h, w, 3), dtype="float64")
    y = pool2d(x, pool, strides, padding, pool_mode=mode)
    (value,) = run([y], {x: xv})
    expected = pool2d_reference(xv, pool, strides, padding, mode)
    assert y.shape == (None, *expected.shape[1:])
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


def test_same_padding_puts_the_odd_pixel_at_the_end() -> None:
    # width 4, kernel 2, stride 1: total pad 1, all of it on the right.
    x = G.constant(np.array([1.0, 2, 3, 4]).reshape(1, 1, 4, 1))
    k = G.constant(np.ones((1, 2, 1, 1)))
    (value,) = run([conv2d(x, k, padding="same")], {})
    assert value.ravel().tolist() == [3, 5, 7, 4]  # not [1, 3, 5, 7]


def test_same_avg_pool_counts_only_real_pixels() -> None:
    x = G.constant(np.arange(9.0).reshape(1, 3, 3, 1))
    (value,) = run([pool2d(x, (3, 3), strides=(1, 1), padding="same", pool_mode="avg")], {})
    assert value[0, 0, 0, 0] == np.mean([0, 1, 3, 4])  # 4 pixels, not 9
    assert value[0, 1, 1, 0] == 4.0


def test_pool_strides_default_to_pool_size() -> None:
    x = G.placeholder((None, 6, 6, 2))
    assert pool2d(x, (2, 3)).shape == (None, 3, 2, 2)
    assert pool2d(x, 2, strides=1).shape == (None, 5, 5, 2)


def test_padding_is_case_insensitive() -> None:
    x = G.placeholder((None, 5, 5, 1))
    assert conv2d(x, G.placeholder((3, 3, 1, 2)), padding="SAME").shape == (None, 5, 5, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtypes_are_kept(dtype: str) -> None:
    x = G.placeholder((None, 5, 5, 2), dtype=dtype)
    k = G.variable(np.ones((3, 3, 2, 4)), dtype=dtype)
    outs = [conv2d(x, k, padding="same"), pool2d(x, 2, pool_mode="max"), pool2d(x, 2, pool_mode="avg")]
    outs += G.gradients(G.sum(outs[0]), [x, k])
    values = run(outs, {x: np.ones((1, 5, 5, 2))})
    for t, v in zip(outs, values):
        assert t.dtype == dtype and v.dtype == dtype, t


# --- static shapes and unknown dimensions ---------------------------------------------


@pytest.mark.parametrize(
    ("x_shape", "k_shape", "strides", "padding", "expected"),
    [
        ((None, 28, 28, 16), (3, 3, 16, 32), (1, 1), "valid", (None, 26, 26, 32)),
        ((None, 28, 28, 16), (3, 3, 16, 32), (1, 1), "same", (None, 28, 28, 32)),
        ((8, 7, 8, 1), (3, 3, 1, 2), (2, 2), "valid", (8, 3, 3, 2)),
        ((8, 7, 8, 1), (3, 3, 1, 2), (2, 2), "same", (8, 4, 4, 2)),
        ((None, None, 9, 3), (2, 2, 3, 5), (1, 3), "same", (None, None, 3, 5)),
        ((None, 9, 9, 3), (3, 3, 3, None), (1, 1), "valid", (None, 7, 7, None)),
        ((None, 9, 9, 3), (5, 3, 3, 4), (2, 2), "same", (None, 5, 5, 4)),  # SAME ignores kh
    ],
)
def test_conv2d_static_shape(x_shape: tuple, k_shape: tuple, strides: tuple, padding: str,
                             expected: tuple) -> None:
    y = conv2d(G.placeholder(x_shape), G.placeholder(k_shape), strides, padding)
    assert y.shape == expected


def test_unknown_spatial_dims_run_with_any_size() -> None:
    x = G.placeholder((None, None, None, 2), dtype="float64")
    k = G.placeholder((3, 2, 2, 3), dtype="float64")
    y = conv2d(x, k, strides=(2, 2), padding="same")
    m = pool2d(x, (2, 2), padding="same", pool_mode="max")
    gx, gk = G.gradients(G.sum(G.square(y)) + G.sum(m), [x, k])
    assert y.shape == (None, None, None, 3) and gx.shape == x.shape and gk.shape == (3, 2, 2, 3)
    rng = np.random.default_rng(2)
    kv = rng.standard_normal((3, 2, 2, 3))
    for h, w in [(5, 4), (6, 7)]:
        xv = rng.standard_normal((3, h, w, 2))
        yv, mv, gxv, gkv = run([y, m, gx, gk], {x: xv, k: kv})
        np.testing.assert_allclose(yv, conv2d_reference(xv, kv, (2, 2), "same"), atol=1e-12)
        np.testing.assert_allclose(mv, pool2d_reference(xv, (2, 2), (2, 2), "same", "max"))
        assert gxv.shape == xv.shape and gkv.shape == kv.shape


def test_gradients_with_a_none_batch_equal_those_with_a_known_batch() -> None:
    rng = np.random.default_rng(3)
    xv, kv = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 3, 3, 2))
    values = []
    for batch in (None, 2):
        x = G.placeholder((batch, 6, 5, 3), dtype="float64")
        k = G.placeholder((3, 3, 3, 2), dtype="float64")
        y = conv2d(x, k, (2, 1), "same")
        loss = G.sum(G.square(y)) + G.sum(pool2d(y, 2, padding="same", pool_mode="avg"))
        gx, gk = G.gradients(loss, [x, k])
        hx, hk = G.gradients(G.sum(gx * gx) + G.sum(gk), [x, k])
        values.append(run([gx, gk, hx, hk], {x: xv, k: kv}))
        assert gx.shape == x.shape
    for a, b in zip(*values):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_convolution_is_windows_to_rows_and_one_matmul() -> None:
    x = G.placeholder((None, 5, 5, 2), dtype="float64")
    k = G.placeholder((3, 3, 2, 4), dtype="float64")
    y = conv2d(x, k)
    product = y.op.inputs[0].op
    assert (y.op.type, product.type) == ("Reshape", "MatMul")
    rows = product.inputs[0].op.inputs[0]
    assert rows.op.type == "Im2Col" and rows.op.inputs[0] is x
    gx, gk = G.gradients(G.sum(y), [x, k])
    assert gx.op.type == "Col2Im"
    # the filter gradient is a MatMul of the forward's own rows (no second im2col)
    filter_product = gk.op.inputs[0].op
    assert filter_product.type == "MatMul" and filter_product.transpose_a
    assert filter_product.inputs[0].op.inputs[0] is rows
    (ggx,) = G.gradients(G.sum(gx * gx), [gx.op.inputs[0]])
    assert ggx.op.type == "Im2Col"  # Col2Im's gradient is Im2Col, and back


def test_pool_gradient_ops_are_the_named_primitives() -> None:
    x = G.placeholder((None, 5, 5, 2), dtype="float64")
    for mode, types in [("max", ("MaxPool", "MaxPoolGrad", "MaxPoolGradGrad")),
                        ("avg", ("AvgPool", "AvgPoolGrad", "AvgPool"))]:
        p = pool2d(x, 2, pool_mode=mode)
        (g,) = G.gradients(G.sum(p), [x])
        (gg,) = G.gradients(G.sum(g), [g.op.inputs[-1]])
        assert (p.op.type, g.op.type, gg.op.type) == types
    p = pool2d(x, 2)
    (g,) = G.gradients(G.sum(p), [x])
    assert g.op.inputs[1] is p  # max-pool's gradient reads the forward's output, as TF's does


# --- errors ---------------------------------------------------------------------------


def test_channel_mismatch_names_both_shapes() -> None:
    x = G.placeholder((None, 5, 5, 3), name="images")
    k = G.placeholder((3, 3, 4, 2), name="kernel")
    with pytest.raises(ValueError, match=r"images.*\(None, 5, 5, 3\).*3 channels.*kernel.*\(3, 3, 4, 2\)"):
        conv2d(x, k)


def test_bad_padding_lists_the_allowed_values() -> None:
    x, k = G.placeholder((None, 5, 5, 1)), G.placeholder((3, 3, 1, 1))
    with pytest.raises(ValueError, match=r'"valid" or "same", got \'full\''):
        conv2d(x, k, padding="full")
    with pytest.raises(ValueError, match=r'"valid" or "same", got \'causal\''):
        pool2d(x, 2, padding="causal")


@pytest.mark.parametrize(
    ("build", "error", "pattern"),
    [
        (lambda x, k: conv2d(x, k, dilation_rate=(0, 2)), ValueError, "dilation_rate must be a positive"),
        (lambda x, k: conv2d(x, k, dilation_rate=3), ValueError, "does not fit"),
        (lambda x, k: conv2d(x, k, strides=0), ValueError, "strides must be a positive int"),
        (lambda x, k: conv2d(x, k, strides=(1, 1, 1)), ValueError, "tuple of 2 positive ints"),
        (lambda x, k: conv2d(x[0], k), ValueError, "x .* must have rank 4"),
        (lambda x, k: conv2d(x, k[0]), ValueError, "kernel .* must have rank 4"),
        (lambda x, k: conv2d(x[:, :2], k), ValueError, "does not fit"),
        (lambda x, k: pool2d(x, 6), ValueError, "does not fit"),
        (lambda x, k: pool2d(x, 2, pool_mode="min"), ValueError, '"max" or "avg"'),
        (lambda x, k: pool2d(x[0], 2), ValueError, "rank 4"),
        (lambda x, k: pool2d(G.cast(x, "int32"), 2, pool_mode="avg"), TypeError, "float"),
    ],
)
def test_build_errors(build: Callable[..., G.Tensor], error: type, pattern: str) -> None:
    x, k = G.placeholder((None, 5, 5, 1)), G.placeholder((3, 3, 1, 1))
    with pytest.raises(error, match=pattern):
        build(x, k)


def test_run_time_errors_when_static_dims_were_unknown() -> None:
    x = G.placeholder((None, None, None, None), dtype="float64")
    k = G.placeholder((3, 3, 2, 1), dtype="float64")
    y = conv2d(x, k)
    plan = G.Plan([y], feeds=[x, k])
    with pytest.raises(ValueError, match="does not fit"):
        plan.run({x: np.zeros((1, 2, 5, 2)), k: np.zeros((3, 3, 2, 1))})
    with pytest.raises(ValueError, match="3 channels.*expects 2"):
        plan.run({x: np.zeros((1, 5, 5, 3)), k: np.zeros((3, 3, 2, 1))})


# --- pooling gradients: ties and exact routing -----------------------------------------


def test_max_pool_gradient_goes_to_the_first_of_tied_maxima() -> None:
    x = G.placeholder((1, 3, 3, 1), dtype="float64")
    y = pool2d(x, 2, strides=1, pool_mode="max")  # four overlapping windows
    (gx,) = G.gradients(G.sum(y), [x])
    (value,) = run([gx], {x: np.ones((1, 3, 3, 1))})
    # each window's first maximum (row-major) is its top-left pixel, as in TensorFlow
    assert value[0, :, :, 0].tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]


def test_max_pool_gradient_adds_up_over_overlapping_windows() -> None:
    xv = np.zeros((1, 3, 3, 1))
    xv[0, 1, 1, 0] = 5.0
    x = G.placeholder(xv.shape, dtype="float64")
    (gx,) = G.gradients(G.sum(pool2d(x, 2, strides=1, pool_mode="max")), [x])
    (value,) = run([gx], {x: xv})
    assert value[0, 1, 1, 0] == 4 and value.sum() == 4


def test_max_pool_same_padding_never_routes_to_padding() -> None:
    xv = -1 - np.random.default_rng(4).random((1, 3, 3, 1))
    x = G.placeholder(xv.shape, dtype="float64")
    (gx,) = G.gradients(G.sum(pool2d(x, 2, padding="same", pool_mode="max")), [x])
    (value,) = run([gx], {x: xv})
    assert value.sum() == 4  # 2x2 output windows, each routed to a real pixel


def first_max_routing(x: np.ndarray, gy: np.ndarray, size: int) -> np.ndarray:
    """Max-pool's gradient for ``size`` x ``size`` windows that tile ``x``, by a loop: each
    window's ``gy`` goes to its first (row-major) pixel equal to the max; a NaN max takes none."""
    gx = np.zeros_like(x)
    n, oh, ow, c = gy.shape
    for b, p, q, ch in np.ndindex(n, oh, ow, c):
        window = x[b, p * size:(p + 1) * size, q * size:(q + 1) * size, ch]
        top = np.max(window)
        hits = np.argwhere(window == top)
        if len(hits):
            i, j = hits[0]
            gx[b, p * size + i, q * size + j, ch] = gy[b, p, q, ch]
    return gx


@pytest.mark.parametrize("case", ["distinct", "ties", "nan and a tie", "nan alone"])
def test_max_pool_gradient_of_tiling_windows_matches_the_loop(case: str) -> None:
    rng = np.random.default_rng(5)
    xv = rng.standard_normal((2, 4, 6, 3))
    if case != "distinct":
        xv[0, 0, 0:2, 0] = xv[0, 0:2, 0:2, 0].max() + 1  # a window with two winners
    if case == "ties":
        xv[1] = np.round(xv[1])  # many
    if case.startswith("nan"):
        xv[1, 2, 3, 2] = np.nan  # a window with no winner
    if case == "nan alone":
        xv[0] = rng.standard_normal((4, 6, 3))
    gyv = rng.standard_normal((2, 2, 3, 3))
    x = G.placeholder(xv.shape, dtype="float64")
    gy = G.placeholder(gyv.shape, dtype="float64")
    y = pool2d(x, 2, pool_mode="max")
    (gx,) = G.gradients(y, [x], grad_ys=[gy])
    (value,) = run([gx], {x: xv, gy: gyv})
    expected = first_max_routing(xv, gyv, 2)
    np.testing.assert_array_equal(value, expected)


# --- the adjoint identities the backwards are built on ---------------------------------


@pytest.mark.parametrize("case", CONV_CASES, ids=case_id)
def test_conv_ops_are_the_partials_of_one_trilinear_form(case: tuple) -> None:
    # <conv2d(x, k), g> == <x, BackpropInput(k, g)> == <k, BackpropFilter(x, g)>
    h, w, kh, kw, strides, padding = case
    rng = np.random.default_rng(10)
    xv, kv = rng.standard_normal((2, h, w, 2)), rng.standard_normal((kh, kw, 2, 3))
    x, k = G.placeholder(xv.shape, dtype="float64"), G.placeholder(kv.shape, dtype="float64")
    y = conv2d(x, k, strides, padding)
    gv = rng.standard_normal(y.shape)
    gx, gk = G.gradients(y, [x, k], grad_ys=[G.constant(gv)])
    yv, gxv, gkv = run([y, gx, gk], {x: xv, k: kv})
    t = np.sum(yv * gv)
    assert np.isclose(np.sum(xv * gxv), t) and np.isclose(np.sum(kv * gkv), t)


@pytest.mark.parametrize("case", POOL_CASES, ids=case_id)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_gradient_ops_are_adjoint_pairs(case: tuple, mode: str) -> None:
    # <PoolGrad(x, g), u> == <g, d/dg of it applied to u>: the second-order op is the adjoint.
    h, w, pool, strides, padding = case
    rng = np.random.default_rng(11)
    xv = rng.standard_normal((2, h, w, 2))
    x = G.placeholder(xv.shape, dtype="float64")
    y = pool2d(x, pool, strides, padding, mode)
    g = G.placeholder(y.shape, dtype="float64")
    (gx,) = G.gradients(y, [x], grad_ys=[g])
    uv, gv = rng.standard_normal(xv.shape), rng.standard_normal(y.shape)
    (back,) = G.gradients(gx, [g], grad_ys=[G.constant(uv)])
    gxv, backv = run([gx, back], {x: xv, g: gv})
    assert np.isclose(np.sum(gxv * uv), np.sum(gv * backv))


# --- gradients against central differences (float64) ---------------------------------


@pytest.mark.parametrize("case", CONV_CASES, ids=case_id)
def test_conv2d_gradients(case: tuple) -> None:
    h, w, kh, kw, strides, padding = case
    rng = np.random.default_rng(5)
    xv, kv = rng.standard_normal((2, h, w, 2)), rng.standard_normal((kh, kw, 2, 3))
    check_gradients(lambda x, k: conv2d(x, k, strides, padding), [xv, kv], names=["x", "kernel"])


@pytest.mark.parametrize("case", [CONV_CASES[i] for i in (1, 3, 4, 6)], ids=case_id)
def test_conv2d_second_order(case: tuple) -> None:
    # square() makes gy depend on x and k, so every backward of all three ops is exercised.
    h, w, kh, kw, strides, padding = case
    rng = np.random.default_rng(6)
    xv, kv = rng.standard_normal((2, h, w, 2)), rng.standard_normal((kh, kw, 2, 3))
    check_gradients(lambda x, k: G.square(conv2d(x, k, strides, padding)), [xv, kv], order=2,
                    names=["x", "kernel"])


def test_conv2d_backprop_ops_second_order_directly() -> None:
    # The backprop ops as functions of their own inputs, through a nonlinearity.
    rng = np.random.default_rng(7)
    xv, kv = rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((3, 2, 2, 3))
    gyv = rng.standard_normal((2, 3, 3, 3))
    shape_x, shape_k = G.constant(xv), G.constant(kv)

    def backprop_input(k: G.Tensor, gy: G.Tensor) -> G.Tensor:
        (gx,) = G.gradients(conv2d(shape_x, k, (2, 2), "same"), [shape_x], grad_ys=[gy])
        return G.square(gx)

    def backprop_filter(x: G.Tensor, gy: G.Tensor) -> G.Tensor:
        (gk,) = G.gradients(conv2d(x, shape_k, (2, 2), "same"), [shape_k], grad_ys=[gy])
        return G.square(gk)

    for f, inputs in [(backprop_input, [kv, gyv]), (backprop_filter, [xv, gyv])]:
        check_gradients(f, inputs, order=1)
        check_gradients(f, inputs, order=2)


@pytest.mark.parametrize("case", POOL_CASES, ids=case_id)
def test_avg_pool_gradients_first_and_second_order(case: tuple) -> None:
    h, w, pool, strides, padding = case
    xv = np.random.default_rng(8).standard_normal((2, h, w, 2))
    check_gradients(lambda x: pool2d(x, pool, strides, padding, "avg"), [xv])
    check_gradients(lambda x: G.square(pool2d(x, pool, strides, padding, "avg")), [xv], order=2)


@pytest.mark.parametrize("case", POOL_CASES, ids=case_id)
def test_max_pool_gradients(case: tuple) -> None:
    h, w, pool, strides, padding = case
    rng = np.random.default_rng(9)
    # distinct values at least 0.1 apart: no ties, no kink within eps
    xv = rng.permutation(2 * h * w * 2).reshape(2, h, w, 2) / 10.0
    check_gradients(lambda x: pool2d(x, pool, strides, padding, "max"), [xv])
    check_gradients(lambda x: G.square(pool2d(x, pool, strides, padding, "max")), [xv], order=2)
