"""Models shared by the saving tests (test_saving.py, test_saving_foreign_layouts.py)."""


from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minikeras import backend as K
from minikeras.layers import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    concatenate,
)
from minikeras.models import Model, Sequential
from minikeras.optimizers import Adam


def dense_sequential() -> Sequential:
    return Sequential([Dense(6, activation="relu", input_shape=(4,)), BatchNormalization(),
                       Dropout(0.3), Dense(3, activation="softmax")])


def conv_sequential() -> Sequential:
    return Sequential([Conv2D(3, 3, padding="same", activation="relu", input_shape=(8, 8, 2)),
                       BatchNormalization(), MaxPooling2D(), Conv2D(4, 2), AveragePooling2D(),
                       Flatten(), Dropout(0.2), Dense(2)])


def multi_input_model() -> Model:
    ids = Input((5,), dtype="int32", name="ids")
    features = Input((3,), name="features")
    embedded = Flatten()(Embedding(10, 4)(ids))
    h = concatenate([Dense(6, activation="tanh")(embedded), features])
    h = BatchNormalization()(h)
    return Model([ids, features], Dense(2)(Dropout(0.5)(h)))


def nested_model() -> Model:
    """A functional model with a nested functional model and a nested Sequential (with BN)."""
    inner_in = Input((5,))
    inner = Model(inner_in, Dense(3, activation="relu")(BatchNormalization()(inner_in)), name="inner")
    stack = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(2)], name="stack")
    images = Input((6, 6, 1))
    vector = Input((2,))
    h = GlobalAveragePooling2D()(Conv2D(3, 3)(images))
    h = concatenate([h, vector])
    return Model([images, vector], stack(inner(h)))


def data_for(model: Model, n: int = 7) -> Any:
    """Random inputs for ``model``: one array, or a list for several inputs."""
    arrays = []
    for x in model.inputs:
        shape = (n,) + tuple(K.int_shape(x)[1:])
        if K.dtype(x).startswith("int"):
            arrays.append(np.random.randint(0, 10, shape).astype(K.dtype(x)))
        else:
            arrays.append(np.random.rand(*shape).astype("float32"))
    return arrays[0] if len(arrays) == 1 else arrays


def trained(model: Model, steps: int = 3) -> Model:
    """Weights and BN statistics away from their initial values."""
    x = data_for(model, 16)
    y = np.random.rand(16, K.int_shape(model.outputs[0])[-1])
    model.compile(Adam(lr=0.01), "mse")
    for _ in range(steps):
        model.train_on_batch(x, y)
    return model


MODELS: dict[str, Callable[[], Model]] = {
    "sequential": dense_sequential, "conv": conv_sequential,
    "multi_input": multi_input_model, "nested": nested_model,
}


def double(x: Any) -> Any:
    """A Lambda's function (files may name it, and only custom_objects can supply it)."""
    return x * 2
