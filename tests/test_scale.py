"""Scale: a chain of 5,000 layers builds, trains, saves and loads (Keras 2 itself stops near
1,000, on Python's recursion limit), and building costs grow linearly with the layers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.engine import Network
from minikeras.layers import Dense, Input
from minikeras.models import Model, Sequential, load_model, model_from_json
from minikeras.optimizers import SGD

DEPTH = 5_000


@pytest.mark.slow
def test_a_chain_of_5000_layers_builds_trains_saves_and_loads(tmp_path: Path) -> None:
    model = Sequential([Dense(2, input_shape=(2,), kernel_initializer="identity")]
                       + [Dense(2, kernel_initializer="identity") for _ in range(DEPTH - 1)])
    assert len(model.layers) == DEPTH and model.layers[-1].name == f"dense_{DEPTH}"
    model.compile(SGD(lr=1e-6), "mse")  # 5,000 identity layers: gradients add up over all of them
    x, y = np.random.randn(4, 2), np.random.randn(4, 2)
    losses = [model.train_on_batch(x, y) for _ in range(3)]  # a loop, then compiled pieces
    assert np.isfinite(losses).all()
    expected = model.predict(x)

    path = tmp_path / "deep.h5"
    model.save(path)
    text = model.to_json()
    K.clear_session()
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-6)
    assert len(model_from_json(text).layers) == DEPTH


@pytest.mark.slow
def test_a_functional_chain_of_5000_layers_maps_without_recursion() -> None:
    x = Input(shape=(3,))
    y = x
    for _ in range(DEPTH):
        y = Dense(3)(y)
    model = Model(x, y)
    assert len(model.layers) == DEPTH + 1
    assert model.predict(np.ones((2, 3))).shape == (2, 3)


def test_stacking_layers_maps_the_network_once_not_once_per_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Sequential.add`` maps the network lazily, when something asks: stacking n layers
    costs n, not n**2 (mapping is itself linear in the layers)."""
    calls = []
    original = Network._map_graph_network
    monkeypatch.setattr(Network, "_map_graph_network", lambda self: calls.append(1) or original(self))
    model = Sequential([Dense(2, input_shape=(2,))])
    calls.clear()
    for _ in range(99):
        model.add(Dense(2))
    assert calls == []
    assert len(model.layers) == 100 and model.output.name == "dense_100/BiasAdd:0"
    assert model.predict(np.ones((1, 2))).shape == (1, 2)
    assert len(calls) == 1
