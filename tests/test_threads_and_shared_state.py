"""Threads, shared layers with state, and interrupted runs: no update lost, none half-applied.

The thread model (API.md 3.1): a run with updates is atomic with respect to other runs (it
holds its graph's lock from reading the variables to assigning them); a run without updates
reads the variables under the same lock, so it sees the state before or after another run,
never half of one. Name scopes and name counters are per thread, as in TF1's graph.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import graph as G
from minikeras.layers import BatchNormalization, Dense, Input, concatenate
from minikeras.models import Model, Sequential


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as e:  # reported by the test, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_no_update_is_lost_between_threads() -> None:
    counter = K.variable(0.0, dtype="float64", name="counter")
    bump = K.function([], [], updates=[K.update_add(counter, 1.0)])

    def work(_: int) -> None:
        for _ in range(2_000):
            bump([])

    in_threads(8, work)
    assert K.get_value(counter) == 16_000


def test_train_on_batch_in_four_threads_counts_every_step() -> None:
    model = Sequential([Dense(3, input_shape=(4,)), Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.random.randn(8, 4), np.random.randn(8, 1)
    model.train_on_batch(x, y)

    def work(_: int) -> None:
        for _ in range(50):
            model.train_on_batch(x, y)

    in_threads(4, work)
    assert K.get_value(model.optimizer.iterations) == 1 + 4 * 50


def test_a_reader_sees_whole_runs_only() -> None:
    a = K.variable(0.0, dtype="float64", name="a")
    b = K.variable(0.0, dtype="float64", name="b")
    step = K.function([], [], updates=[(a, a + 1.0), (b, b + 1.0)])
    read = K.function([], [a, b])
    done = threading.Event()
    seen: list[tuple[float, float]] = []

    def writer(_: int) -> None:
        for _ in range(3_000):
            step([])
        done.set()

    def reader(_: int) -> None:
        while not done.is_set():
            va, vb = read([])
            seen.append((float(va), float(vb)))

    in_threads(2, lambda i: writer(i) if i == 0 else reader(i))
    assert seen and all(va == vb for va, vb in seen)


def _names_of_a_model() -> list[str]:
    x = Input(shape=(3,))
    y = Dense(2, activation="relu")(Dense(4)(x))
    model = Model(x, y)
    return [layer.name for layer in model.layers] + [y.name, model.layers[1].kernel.name]


def test_models_built_in_threads_get_the_names_they_would_get_alone() -> None:
    alone = _names_of_a_model()
    K.clear_session()
    barrier = threading.Barrier(8)

    def work(_: int) -> list[str]:
        barrier.wait()  # all at once, to interleave
        return _names_of_a_model()

    assert in_threads(8, work) == [alone] * 8
    assert alone == ["input_1", "dense_2", "dense_1", "dense_1/Relu:0", "dense_2/kernel:0"]  # Dense(2) made first


# --- two deltas of one variable add up ----------------------------------------------------------

def test_two_delta_updates_of_one_variable_add_up() -> None:
    v = K.variable(np.array([1.0, 2.0]), dtype="float64", name="v")
    K.function([], [], updates=[K.update_add(v, 10.0), K.update_sub(v, np.array([1.0, 3.0]))])([])
    np.testing.assert_array_equal(K.get_value(v), [10.0, 9.0])


def test_a_full_assignment_with_another_update_stays_an_error() -> None:
    v = K.variable(1.0, name="v")
    with pytest.raises(ValueError, match="Variable v:0 is updated twice"):
        K.function([], [], updates=[K.update(v, 3.0), K.update_add(v, 1.0)])


def test_a_batch_normalization_shared_by_two_inputs_trains_both_moving_averages() -> None:
    """Siamese use: one BatchNormalization layer on two inputs; each call's moving-average
    update is a delta, and one training step applies both."""
    bn = BatchNormalization(momentum=0.9)
    a, b = Input(shape=(2,)), Input(shape=(2,))
    model = Model([a, b], Dense(1)(concatenate([bn(a), bn(b)])))
    model.compile("sgd", "mse")
    xa = np.array([[1.0, 2.0], [3.0, 6.0]], dtype="float32")
    xb = np.array([[-1.0, 0.0], [5.0, 2.0]], dtype="float32")
    model.train_on_batch([xa, xb], np.zeros((2, 1)))
    mean0 = np.zeros(2)
    expected = mean0 - (mean0 - xa.mean(0)) * 0.1 - (mean0 - xb.mean(0)) * 0.1
    np.testing.assert_allclose(K.get_value(bn.moving_mean), expected, rtol=1e-6)


# --- an interrupt does not leave half of a run's updates -----------------------------------------

class _InterruptOnAssign(G.Variable):
    """A variable whose next assignment is interrupted (as Ctrl-C would, between two lines)."""

    armed = True

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "value" and _InterruptOnAssign.armed:
            _InterruptOnAssign.armed = False
            raise KeyboardInterrupt


def test_a_keyboard_interrupt_during_assignment_lets_every_update_land() -> None:
    a = K.variable(0.0, dtype="float64", name="a")
    b = K.variable(0.0, dtype="float64", name="b")
    c = K.variable(0.0, dtype="float64", name="c")
    step = K.function([], [], updates=[(a, a + 1.0), (b, b + 1.0), (c, c + 1.0)])
    a.__class__ = _InterruptOnAssign  # the first variable assigned raises after its assignment
    with pytest.raises(KeyboardInterrupt):
        step([])
    assert [K.get_value(v) for v in (a, b, c)] == [1.0, 1.0, 1.0]
