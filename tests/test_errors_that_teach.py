"""Errors for the mistakes students make first: each names the culprit and the fix."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras.layers import Dense, Input, concatenate
from minikeras.objects import did_you_mean


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    K.clear_session()


def small() -> keras.Model:
    return keras.Sequential([Dense(2, input_shape=(3,))])


def test_predict_on_one_sample_says_add_a_batch_axis() -> None:
    model = small()
    with pytest.raises(ValueError, match=r"one sample without its batch axis\. Add a batch axis: `x\[None\]`"):
        model.predict(np.zeros(3))
    assert model.predict(np.zeros(3)[None]).shape == (1, 2)  # the fix works


def test_a_list_of_arrays_for_a_one_input_model_is_counted() -> None:
    model = small()
    with pytest.raises(ValueError, match=r"Expected to see 1 array\(s\) \(dense_1_input\), but instead got 2\. "
                                         r"Pass one array per model input"):
        model.predict([np.zeros((4, 3)), np.zeros((4, 3))])
    assert model.predict([np.zeros((4, 3))]).shape == (4, 2)       # a list of one array is that array
    assert model.predict([[1.0, 2.0, 3.0]]).shape == (1, 2)          # nested lists are one array's data


def test_a_list_of_three_arrays_for_a_two_input_model_names_the_inputs() -> None:
    a, b = Input((3,), name="a"), Input((2,), name="b")
    model = keras.Model([a, b], Dense(1)(concatenate([a, b])))
    with pytest.raises(ValueError, match=r"Expected to see 2 array\(s\) \(a, b\), but instead got 3\..*"
                                         r"\['a', 'b'\] \(or a dict keyed by these names\)"):
        model.predict([np.zeros((4, 3)), np.zeros((4, 2)), np.zeros((4, 2))])


def test_fit_before_compile_says_what_to_call() -> None:
    with pytest.raises(RuntimeError, match=r"call `model\.compile\(optimizer, loss\)` first"):
        small().fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"optimizer": "adma", "loss": "mse"}, "Unknown optimizer: adma. Did you mean 'adam'?"),
    ({"optimizer": "sgd", "loss": "mean_squard_error"},
     "Unknown loss function: mean_squard_error. Did you mean 'mean_squared_error'?"),
    ({"optimizer": "sgd", "loss": "mse", "metrics": ["acuracy"]},
     "Unknown metric function: acuracy. Did you mean 'accuracy'?"),
])
def test_unknown_names_suggest_the_closest(kwargs: dict, error: str) -> None:
    with pytest.raises(ValueError, match="^" + error.replace(".", r"\.").replace("?", r"\?")):
        small().compile(**kwargs)


def test_did_you_mean_stays_quiet_when_nothing_is_close() -> None:
    assert did_you_mean("xyzzy", ["adam", "sgd"]) == ""
    assert did_you_mean("RMSProp", ["rmsprop"]) == " Did you mean 'rmsprop'?"


def test_a_keras_name_gets_a_keras_archive_and_weights_alone_are_refused_there(tmp_path: Path) -> None:
    model = small()
    model.save(str(tmp_path / "m.keras"))
    assert zipfile.is_zipfile(tmp_path / "m.keras")  # Keras 3's format, as the name says
    with pytest.raises(ValueError, match=r"a '\.keras' file holds a whole model.*'.*w\.weights\.h5'"):
        model.save_weights(str(tmp_path / "w.keras"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]
    model.save_weights(str(tmp_path / "w.weights.h5"))  # the fix works
