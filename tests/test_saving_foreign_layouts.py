"""Files in the Keras 3 and tf.keras layouts, built by hand (as API.md section 6 describes),
loaded by minikeras."""


from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from saving_models import (
    double,
    nested_model,
)

from minikeras import backend as K
from minikeras import saving
from minikeras.layers import (
    Concatenate,
)
from minikeras.saving import ModelFileError

# --- files in the Keras 3 and tf.keras layouts (built by hand, as §6.4 describes) ---------------

def _policy() -> dict[str, Any]:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": None}


def _init(class_name: str, **config: Any) -> dict[str, Any]:
    return {"module": "keras.initializers", "class_name": class_name, "config": config,
            "registered_name": None}


def _k3_dense(name: str, units: int, activation: str) -> dict[str, Any]:
    return {"name": name, "trainable": True, "dtype": _policy(), "units": units,
            "activation": activation, "use_bias": True,
            "kernel_initializer": _init("GlorotUniform", seed=None, input_axes=None, output_axes=None),
            "bias_initializer": _init("Zeros"), "kernel_regularizer": None, "bias_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None, "quantization_config": None}


def _k3_bn(name: str) -> dict[str, Any]:
    return {"name": name, "trainable": True, "dtype": _policy(), "axis": -1, "momentum": 0.99,
            "epsilon": 0.001, "center": True, "scale": True, "beta_initializer": _init("Zeros"),
            "gamma_initializer": _init("Ones"), "moving_mean_initializer": _init("Zeros"),
            "moving_variance_initializer": _init("Ones"), "beta_regularizer": None,
            "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None,
            "synchronized": False, "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99}


def _k3_input(name: str, shape: list[Any]) -> dict[str, Any]:
    return {"class_name": "InputLayer", "config": {"batch_shape": shape, "dtype": "float32",
                                                   "sparse": False, "ragged": False, "name": name,
                                                   "optional": False}}


def _tensor(layer: str, node: int = 0, shape: list[Any] | None = None) -> dict[str, Any]:
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape or [None, 4], "dtype": "float32", "keras_history": [layer, node, 0]}}


def _write_keras3(path: Path, model_config: dict[str, Any], weights: dict[str, dict[str, np.ndarray]],
                  layer_names: list[str], training_config: dict[str, Any] | None = None) -> None:
    """A file as Keras 3.15's legacy writer lays it out: str attributes, names without ':0'."""
    text = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "jax"
        f.attrs["keras_version"] = "3.15.1"
        f.attrs["model_config"] = json.dumps(model_config)
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config)
        g = f.create_group("model_weights")
        g.attrs["backend"] = "jax"
        g.attrs["keras_version"] = "3.15.1"
        g.attrs["layer_names"] = np.array(layer_names, dtype=text)
        for name in layer_names:
            layer = g.create_group(name)
            values = weights.get(name, {})
            layer.attrs["weight_names"] = np.array(list(values), dtype=text) if values else np.array([])
            for weight_name, value in values.items():
                layer[weight_name] = value
        g.create_group("top_level_model_weights").attrs["weight_names"] = np.array([])


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def test_reads_a_keras3_functional_file(tmp_path: Path) -> None:
    w1, b1 = np.random.randn(4, 3).astype("float32"), np.random.randn(3).astype("float32")
    w2, b2 = np.random.randn(3, 2).astype("float32"), np.random.randn(2).astype("float32")
    config = {"class_name": "Functional", "config": {
        "name": "functional", "trainable": True,
        "layers": [
            {**_k3_input("input_layer", [None, 4]), "name": "input_layer", "inbound_nodes": []},
            {"class_name": "Dense", "config": _k3_dense("dense", 3, "relu"), "name": "dense",
             "inbound_nodes": [{"args": [_tensor("input_layer")], "kwargs": {}}]},
            {"class_name": "Dense", "config": _k3_dense("dense_1", 2, "linear"), "name": "dense_1",
             "inbound_nodes": [{"args": [_tensor("dense", shape=[None, 3])], "kwargs": {}}]},
        ],
        "input_layers": ["input_layer", 0, 0], "output_layers": ["dense_1", 0, 0]}}
    _write_keras3(tmp_path / "k3.h5", config,
                  {"dense": {"dense/kernel": w1, "dense/bias": b1},
                   "dense_1": {"dense_1/kernel": w2, "dense_1/bias": b2}},
                  ["input_layer", "dense", "dense_1"])
    model = saving.load_model(tmp_path / "k3.h5")
    assert type(model).__name__ == "Model"
    x = np.random.rand(5, 4).astype("float32")
    np.testing.assert_allclose(model.predict(x), _relu(x @ w1 + b1) @ w2 + b2, rtol=1e-5, atol=1e-6)


def test_reads_a_keras3_sequential_file_compiled(tmp_path: Path) -> None:
    w, b = np.random.randn(4, 3).astype("float32"), np.random.randn(3).astype("float32")
    gamma, beta = np.random.rand(3).astype("float32") + 0.5, np.random.randn(3).astype("float32")
    mean, var = np.random.randn(3).astype("float32"), np.random.rand(3).astype("float32") + 0.5
    config = {"class_name": "Sequential", "config": {
        "name": "sequential", "trainable": True, "dtype": _policy(),
        "layers": [_k3_input("input_layer", [None, 4]),
                   {"class_name": "Dense", "config": _k3_dense("dense", 3, "tanh")},
                   {"class_name": "BatchNormalization", "config": _k3_bn("batch_normalization")},
                   {"class_name": "Dropout", "config": {"name": "dropout", "trainable": True,
                                                        "dtype": _policy(), "rate": 0.2, "seed": None,
                                                        "noise_shape": None}}],
        "build_input_shape": [None, 4]}}
    training = {"loss": "mse", "loss_weights": None, "metrics": ["mae"], "weighted_metrics": None,
                "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
                "optimizer_config": {"class_name": "Adam", "config": {
                    "name": "adam", "learning_rate": 0.01, "weight_decay": None, "clipnorm": None,
                    "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                    "ema_overwrite_frequency": None, "loss_scale_factor": None,
                    "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999,
                    "epsilon": 1e-07, "amsgrad": False}}}
    bn = "sequential/batch_normalization/"
    _write_keras3(tmp_path / "k3.h5", config,
                  {"dense": {"sequential/dense/kernel": w, "sequential/dense/bias": b},
                   "batch_normalization": {bn + "gamma": gamma, bn + "beta": beta,
                                           bn + "moving_mean": mean, bn + "moving_variance": var}},
                  ["dense", "batch_normalization", "dropout"],  # no InputLayer here, as Keras 3 writes
                  training_config=training)
    with h5py.File(tmp_path / "k3.h5", "a") as f:  # Keras 3's optimizer state: not in Keras 2's form
        f.create_group("optimizer_weights").attrs["weight_names"] = np.array(
            ["adam/iteration", "adam/learning_rate"], dtype=h5py.string_dtype())
        f["optimizer_weights/adam/iteration"] = np.int64(3)
        f["optimizer_weights/adam/learning_rate"] = np.float32(0.01)
    with pytest.warns(UserWarning, match="optimizer state was not restored"):
        model = saving.load_model(tmp_path / "k3.h5")
    x = np.random.rand(5, 4).astype("float32")
    h = np.tanh(x @ w + b)
    expected = (h - mean) / np.sqrt(var + 0.001) * gamma + beta
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    assert model.metrics_names == ["loss", "mean_absolute_error"]
    model.train_on_batch(x, expected)  # and it trains


def test_reads_a_keras3_file_with_nested_sequential_and_functional(tmp_path: Path) -> None:
    """Keras 3 counts a nested Sequential's first call as node 0, a nested Functional's as 1."""
    rng = np.random.RandomState(0)
    wa, ba = rng.randn(4, 4).astype("float32"), rng.randn(4).astype("float32")
    ws, bs = rng.randn(7, 5).astype("float32"), rng.randn(5).astype("float32")
    wf, bf = rng.randn(5, 2).astype("float32"), rng.randn(2).astype("float32")
    inner_seq = {"class_name": "Sequential", "config": {
        "name": "inner_seq", "trainable": True, "dtype": _policy(),
        "layers": [_k3_input("input_layer_1", [None, 7]),
                   {"class_name": "Dense", "config": _k3_dense("dense_2", 5, "linear")}],
        "build_input_shape": [None, 7]}}
    inner_f = {"class_name": "Functional", "config": {
        "name": "inner_f", "trainable": True,
        "layers": [{**_k3_input("input_layer_2", [None, 5]), "name": "input_layer_2", "inbound_nodes": []},
                   {"class_name": "Dense", "config": _k3_dense("dense_3", 2, "linear"), "name": "dense_3",
                    "inbound_nodes": [{"args": [_tensor("input_layer_2", shape=[None, 5])], "kwargs": {}}]}],
        "input_layers": [["input_layer_2", 0, 0]], "output_layers": [["dense_3", 0, 0]]}}
    config = {"class_name": "Functional", "config": {
        "name": "functional_2", "trainable": True,
        "layers": [
            {**_k3_input("a", [None, 4]), "name": "a", "inbound_nodes": []},
            {"class_name": "Dense", "config": _k3_dense("dense_4", 4, "linear"), "name": "dense_4",
             "inbound_nodes": [{"args": [_tensor("a")], "kwargs": {}}]},
            {**_k3_input("b", [None, 3]), "name": "b", "inbound_nodes": []},
            {"class_name": "Concatenate", "config": {"name": "concatenate", "trainable": True,
                                                     "dtype": _policy(), "axis": -1},
             "name": "concatenate",
             "inbound_nodes": [{"args": [[_tensor("dense_4"), _tensor("b", shape=[None, 3])]], "kwargs": {}}]},
            {**inner_seq, "name": "inner_seq",
             "inbound_nodes": [{"args": [_tensor("concatenate", shape=[None, 7])], "kwargs": {"mask": None}}]},
            {**inner_f, "name": "inner_f",
             "inbound_nodes": [{"args": [_tensor("inner_seq", shape=[None, 5])], "kwargs": {"mask": None}}]},
        ],
        "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": ["inner_f", 1, 0]}}
    _write_keras3(tmp_path / "k3.h5", config,
                  {"dense_4": {"dense_4/kernel": wa, "dense_4/bias": ba},
                   "inner_seq": {"inner_seq/dense_2/kernel": ws, "inner_seq/dense_2/bias": bs},
                   "inner_f": {"dense_3/kernel": wf, "dense_3/bias": bf}},
                  ["a", "dense_4", "b", "concatenate", "inner_seq", "inner_f"])
    model = saving.load_model(tmp_path / "k3.h5")
    xa, xb = rng.rand(3, 4).astype("float32"), rng.rand(3, 3).astype("float32")
    expected = (np.concatenate([xa @ wa + ba, xb], axis=1) @ ws + bs) @ wf + bf
    np.testing.assert_allclose(model.predict([xa, xb]), expected, rtol=1e-5, atol=1e-5)
    assert [type(layer).__name__ for layer in model.layers][-2:] == ["Sequential", "Model"]


def test_reads_a_keras3_conv_embedding_file(tmp_path: Path) -> None:
    rng = np.random.RandomState(1)
    kernel, bias = rng.randn(3, 3, 2, 4).astype("float32"), rng.randn(4).astype("float32")
    table = rng.randn(10, 2).astype("float32")
    conv = {"name": "conv2d", "trainable": True, "dtype": _policy(), "filters": 4, "kernel_size": [3, 3],
            "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
            "groups": 1, "activation": "relu", "use_bias": True,
            "kernel_initializer": _init("GlorotUniform", seed=None), "bias_initializer": _init("Zeros"),
            "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2",
                                   "config": {"l2": 0.01}, "registered_name": None},
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}
    pool = {"name": "global_average_pooling2d", "trainable": True, "dtype": _policy(),
            "data_format": "channels_last", "keepdims": False}
    emb = {"name": "embedding", "trainable": True, "dtype": _policy(), "input_dim": 10, "output_dim": 2,
           "embeddings_initializer": _init("RandomUniform", minval=-0.05, maxval=0.05, seed=None),
           "embeddings_regularizer": None, "activity_regularizer": None, "embeddings_constraint": None,
           "mask_zero": False}
    config = {"class_name": "Functional", "config": {
        "name": "functional", "trainable": True,
        "layers": [
            {**_k3_input("image", [None, 5, 5, 2]), "name": "image", "inbound_nodes": []},
            {"class_name": "Conv2D", "config": conv, "name": "conv2d",
             "inbound_nodes": [{"args": [_tensor("image", shape=[None, 5, 5, 2])], "kwargs": {}}]},
            {"class_name": "GlobalAveragePooling2D", "config": pool, "name": "global_average_pooling2d",
             "inbound_nodes": [{"args": [_tensor("conv2d", shape=[None, 3, 3, 4])], "kwargs": {}}]},
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 2], "dtype": "int32",
                                                    "sparse": False, "ragged": False, "name": "ids",
                                                    "optional": False}, "name": "ids", "inbound_nodes": []},
            {"class_name": "Embedding", "config": emb, "name": "embedding",
             "inbound_nodes": [{"args": [_tensor("ids", shape=[None, 2])], "kwargs": {}}]},
            {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True, "dtype": _policy(),
                                                 "data_format": "channels_last"}, "name": "flatten",
             "inbound_nodes": [{"args": [_tensor("embedding", shape=[None, 2, 2])], "kwargs": {}}]},
            {"class_name": "Add", "config": {"name": "add", "trainable": True, "dtype": _policy()},
             "name": "add", "inbound_nodes": [{"args": [[_tensor("global_average_pooling2d"),
                                                         _tensor("flatten")]],
                                               "kwargs": {}}]},
        ],
        "input_layers": [["image", 0, 0], ["ids", 0, 0]], "output_layers": ["add", 0, 0]}}
    _write_keras3(tmp_path / "k3.h5", config,
                  {"conv2d": {"conv2d/kernel": kernel, "conv2d/bias": bias},
                   "embedding": {"embedding/embeddings": table}},
                  ["image", "conv2d", "global_average_pooling2d", "ids", "embedding", "flatten", "add"])
    model = saving.load_model(tmp_path / "k3.h5")
    images = rng.rand(2, 5, 5, 2).astype("float32")
    ids = rng.randint(0, 10, (2, 2)).astype("int32")
    windows = np.lib.stride_tricks.sliding_window_view(images, (3, 3), axis=(1, 2))  # (n,3,3,c,3,3)
    conv_out = _relu(np.einsum("nijcab,abcf->nijf", windows, kernel) + bias)
    expected = conv_out.mean(axis=(1, 2)) + table[ids].reshape(2, -1)
    np.testing.assert_allclose(model.predict([images, ids]), expected, rtol=1e-4, atol=1e-5)
    assert model.get_layer("conv2d").kernel_regularizer.get_config()["l2"] == pytest.approx(0.01)


def test_keras3_lambda_bytecode_is_never_decoded(tmp_path: Path) -> None:
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        _k3_input("input_layer", [None, 3]),
        {"class_name": "Lambda", "config": {
            "name": "lambda", "trainable": True, "dtype": _policy(),
            "function": {"class_name": "__lambda__",
                         "config": {"code": "not even base64 !!", "defaults": None, "closure": None}},
            "arguments": {}}}]}}
    _write_keras3(tmp_path / "k3.h5", config, {}, ["lambda"])
    with pytest.raises(ModelFileError, match=r"Lambda layers \['lambda'\].*safe_mode"):
        saving.load_model(tmp_path / "k3.h5")
    with pytest.raises(ModelFileError, match="'<lambda>'.*custom_objects"):
        saving.load_model(tmp_path / "k3.h5", safe_mode=False)
    model = saving.load_model(tmp_path / "k3.h5", safe_mode=False, custom_objects={"<lambda>": double})
    np.testing.assert_array_equal(model.predict(np.ones((1, 3))), 2 * np.ones((1, 3)))


def test_keras3_options_that_change_results_are_refused() -> None:
    config = {"class_name": "Sequential", "config": {"layers": [
        _k3_input("input_layer", [None, 4]),
        {"class_name": "BatchNormalization", "config": {**_k3_bn("bn"), "renorm": True}}]}}
    with pytest.raises(ValueError, match=r"Layer 'bn' \(BatchNormalization\) has renorm=True"):
        saving.model_from_config(config)


def test_keras3_get_config_with_module_keys_and_build_config() -> None:
    """What Keras 3's ``model.get_config()`` / ``to_json()`` give (the .keras format's config)."""
    config = {"module": "keras", "class_name": "Functional", "registered_name": "Functional",
              "config": {"name": "f", "trainable": True, "layers": [
                  {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                   "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False,
                              "ragged": False, "name": "x", "optional": False},
                   "name": "x", "inbound_nodes": []},
                  {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
                   "build_config": {"input_shape": [None, 4]}, "config": _k3_dense("d", 2, "sigmoid"),
                   "name": "d", "inbound_nodes": [{"args": [_tensor("x")], "kwargs": {}}]}],
                  "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}}
    model = saving.model_from_json(json.dumps(config))
    assert [layer.name for layer in model.layers] == ["x", "d"]
    assert K.int_shape(model.outputs[0]) == (None, 2)


def test_reads_a_keras_224_file_with_optimizer_state(tmp_path: Path) -> None:
    """Keras 2.2.4: bytes attrs, ``Model``, ``lr``, ``mse``, chunked names, ``optimizer_weights``."""
    w = np.random.randn(3, 2).astype("float32")
    b = np.random.randn(2).astype("float32")
    moment_w, moment_b = np.random.randn(3, 2).astype("float32"), np.random.randn(2).astype("float32")
    config = {"class_name": "Model", "config": {
        "name": "model_1",
        "layers": [
            {"name": "input_1", "class_name": "InputLayer", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False, "name": "input_1"}},
            {"name": "dense_1", "class_name": "Dense", "inbound_nodes": [[["input_1", 0, 0, {}]]],
             "config": {"name": "dense_1", "trainable": True, "units": 2, "activation": "linear",
                        "use_bias": True,
                        "kernel_initializer": {"class_name": "VarianceScaling", "config": {
                            "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
                        "bias_initializer": {"class_name": "Zeros", "config": {}},
                        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                        "kernel_constraint": None, "bias_constraint": None}}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}}
    training = {"optimizer_config": {"class_name": "SGD", "config": {
        "lr": 0.05, "momentum": 0.9, "decay": 0.0, "nesterov": False}},
        "loss": "mse", "metrics": ["acc"], "sample_weight_mode": None, "loss_weights": None}
    with h5py.File(tmp_path / "k2.h5", "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps(training).encode()
        g = f.create_group("model_weights")
        g.attrs["layer_names0"] = np.array([b"input_1"])  # chunked, as for very long names
        g.attrs["layer_names1"] = np.array([b"dense_1"])
        g.create_group("input_1").attrs["weight_names"] = np.array([])
        d = g.create_group("dense_1")
        d.attrs["weight_names"] = np.array([b"dense_1/kernel:0", b"dense_1/bias:0"])
        d["dense_1/kernel:0"], d["dense_1/bias:0"] = w, b
        o = f.create_group("optimizer_weights")
        o.attrs["weight_names"] = np.array([b"training/SGD/Variable:0", b"training/SGD/Variable_1:0",
                                            b"training/SGD/Variable_2:0"])
        o["training/SGD/Variable:0"] = np.int64(7)
        o["training/SGD/Variable_1:0"], o["training/SGD/Variable_2:0"] = moment_w, moment_b
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = saving.load_model(tmp_path / "k2.h5")
    x = np.random.rand(4, 3).astype("float32")
    np.testing.assert_allclose(model.predict(x), x @ w + b, rtol=1e-6, atol=1e-6)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.05)
    iterations, restored_w, restored_b = model.optimizer.get_weights()
    assert iterations == 7
    np.testing.assert_array_equal(restored_w, moment_w)
    np.testing.assert_array_equal(restored_b, moment_b)


def test_reads_tf_keras_style_configs() -> None:
    """tf.keras >= 2.4: ``Functional``, legacy inbound nodes, ``axis: [1]``, nested calls from 1."""
    inner = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "seq_in"}},
        {"class_name": "BatchNormalization", "config": {"name": "bn", "trainable": True,
                                                        "dtype": "float32", "axis": [1]}}]}}
    dense = {"name": "d", "trainable": True, "dtype": "float32", "units": 1, "activation": "linear",
             "use_bias": True, "kernel_initializer": {"class_name": "Ones", "config": {}},
             "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
             "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
             "bias_constraint": None}
    config = {"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "x", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False, "ragged": False,
                    "name": "x"}},
        {**inner, "name": "seq", "inbound_nodes": [[["x", 0, 0, {}]]]},
        {"class_name": "Dense", "config": dense, "name": "d", "inbound_nodes": [[["seq", 1, 0, {}]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["seq", 1, 0], ["d", 0, 0]]}}
    model = saving.model_from_config(config)
    assert model.get_layer("seq").layers[0].axis == 1
    normalized, summed = model.predict(np.ones((2, 3)))
    np.testing.assert_allclose(normalized, np.ones((2, 3)) / np.sqrt(1.001), rtol=1e-6)
    np.testing.assert_allclose(summed, 3 / np.sqrt(1.001) * np.ones((2, 1)), rtol=1e-6)


def test_keras3_nested_functional_feeding_a_layer_is_its_call_0() -> None:
    """Keras 3's inbound nodes number a nested functional model's first call 0, its
    ``output_layers`` 1: both mean the same call."""
    inner = {"class_name": "Functional", "config": {
        "name": "inner", "trainable": True,
        "layers": [{**_k3_input("i", [None, 2]), "name": "i", "inbound_nodes": []},
                   {"class_name": "Activation", "name": "neg",
                    "config": {"name": "neg", "trainable": True, "dtype": _policy(), "activation": "relu"},
                    "inbound_nodes": [{"args": [_tensor("i", shape=[None, 2])], "kwargs": {}}]}],
        "input_layers": [["i", 0, 0]], "output_layers": [["neg", 0, 0]]}}
    config = {"class_name": "Functional", "config": {"name": "outer", "trainable": True, "layers": [
        {**_k3_input("x", [None, 2]), "name": "x", "inbound_nodes": []},
        {**inner, "name": "inner",
         "inbound_nodes": [{"args": [_tensor("x", shape=[None, 2])], "kwargs": {"mask": None}}]},
        {"class_name": "Add", "name": "add", "config": {"name": "add", "trainable": True, "dtype": _policy()},
         "inbound_nodes": [{"args": [[_tensor("inner", 0, [None, 2]), _tensor("x", shape=[None, 2])]],
                            "kwargs": {}}]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["add", 0, 0], ["inner", 1, 0]]}}
    model = saving.model_from_config(config)
    x = np.array([[-1.0, 2.0]])
    added, inner_out = model.predict(x)
    np.testing.assert_array_equal(inner_out, [[0.0, 2.0]])
    np.testing.assert_array_equal(added, [[-1.0, 4.0]])


def test_normalizer_keeps_keras2_configs_as_they_are() -> None:
    model = nested_model()
    config = {"class_name": "Model", "config": model.get_config()}
    assert json.loads(json.dumps(saving.normalize_model_config(config))) == json.loads(json.dumps(config))


def test_reads_bare_concatenate_axis_and_unknown_keys_fail_clearly() -> None:
    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {**_k3_input("x", [None, 2]), "name": "x", "inbound_nodes": []},
        {"class_name": "Concatenate", "name": "c",
         "config": {"name": "c", "trainable": True, "dtype": _policy(), "axis": -1, "fancy": 3},
         "inbound_nodes": [{"args": [[_tensor("x", shape=[None, 2]), _tensor("x", shape=[None, 2])]],
                            "kwargs": {}}]}],
        "input_layers": ["x", 0, 0], "output_layers": ["c", 0, 0]}}
    with pytest.raises(ValueError, match=r"Layer 'c' \(Concatenate\) has fancy=3"):
        saving.model_from_config(config)
    del config["config"]["layers"][1]["config"]["fancy"]
    model = saving.model_from_config(config)
    assert isinstance(model.layers[1], Concatenate)
    np.testing.assert_array_equal(model.predict(np.ones((1, 2))), np.ones((1, 4)))
