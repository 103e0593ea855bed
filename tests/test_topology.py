"""The functional API: nodes, layer discovery, shared layers, nested models, Sequential,
errors and summary() — the intent of Keras 2's topology tests."""

from __future__ import annotations

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.engine import Layer
from minikeras.layers import BatchNormalization, Dense, Dropout, Input, concatenate
from minikeras.models import Model, Sequential

SEED = 1  # NumPy's global seed for each test (tests/conftest.py)


# --- nodes ------------------------------------------------------------------------------


def test_input_history_and_node_zero() -> None:
    a = Input(shape=(32,), name="input_a")
    layer, node_index, tensor_index = a._keras_history
    assert (layer.name, node_index, tensor_index) == ("input_a", 0, 0)
    node = layer._inbound_nodes[0]
    assert node.inbound_layers == [] and node.input_shapes == [(None, 32)]
    assert node.output_tensors[0] is a and a.name == "input_a:0"


def test_shared_layer_nodes_and_the_node_invariant() -> None:
    a, b = Input(shape=(32,), name="input_a"), Input(shape=(32,), name="input_b")
    dense = Dense(16, name="dense_shared")
    a2, b2 = dense(a), dense(b)
    assert len(dense._inbound_nodes) == 2 and len(dense._outbound_nodes) == 0
    assert a._keras_history[0]._outbound_nodes == [dense._inbound_nodes[0]]
    assert dense._inbound_nodes[1].get_config() == {
        "outbound_layer": "dense_shared", "inbound_layers": ["input_b"],
        "node_indices": [0], "tensor_indices": [0],
    }
    for node in dense._inbound_nodes:
        for i, x in enumerate(node.input_tensors):
            layer = node.inbound_layers[i]
            assert layer._inbound_nodes[node.node_indices[i]].output_tensors[node.tensor_indices[i]] is x
    assert a2._keras_history == (dense, 0, 0) and b2._keras_history == (dense, 1, 0)
    assert dense.get_input_at(0) is a and dense.get_input_at(1) is b
    assert dense.get_output_at(1) is b2
    assert dense.get_input_shape_at(0) == (None, 32) and dense.get_output_shape_at(1) == (None, 16)
    assert dense.input_shape == (None, 32)  # several nodes, one shape: allowed
    # the second call re-entered the scope: new op names, same weights
    assert a2.name == "dense_shared/BiasAdd:0" and b2.name == "dense_shared_1/BiasAdd:0"


@pytest.mark.parametrize("attr", ["input", "output"])
def test_output_of_a_shared_layer_is_ill_defined(attr: str) -> None:
    dense = Dense(2, name="dense_1")
    dense(Input(shape=(3,)))
    dense(Input(shape=(3,)))
    with pytest.raises(AttributeError) as err:
        getattr(dense, attr)
    message = str(err.value)
    assert f'Layer dense_1 has multiple inbound nodes, hence the notion of "layer {attr}" is ill-defined.' in message
    assert f"Use `get_{attr}_at(node_index)` instead." in message and "[0, 1]" in message


def test_unconnected_layer_errors() -> None:
    dense = Dense(2, name="dense_1")
    with pytest.raises(AttributeError, match="Layer dense_1 has no inbound nodes."):
        dense.output
    with pytest.raises(AttributeError, match="Layer dense_1 is not connected, no input to return."):
        dense.input
    with pytest.raises(RuntimeError, match="never been called and thus has no defined output"):
        dense.get_output_at(0)
    dense(Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"Asked to get output at node 1, but the layer has only 1 inbound nodes.*\[0\]"):
        dense.get_output_at(1)


def test_different_input_shapes_make_input_shape_ambiguous() -> None:
    layer = Layer(name="identity_layer")
    layer(Input(shape=(3,)))
    layer(Input(shape=(4,)))
    with pytest.raises(AttributeError, match="multiple inbound nodes, with different input shapes"):
        layer.input_shape


# --- layers: calls, weights, errors --------------------------------------------------------


def test_calling_a_layer_on_a_non_tensor() -> None:
    with pytest.raises(TypeError, match="Layer dense_1 was called with an input that isn't a symbolic tensor"):
        Dense(2)(np.ones((1, 3)))


def test_unknown_layer_kwarg() -> None:
    with pytest.raises(TypeError) as err:
        Dense(2, frobnicate=1)
    assert err.value.args == ("Keyword argument not understood:", "frobnicate")


def test_weights_are_built_on_first_call_with_keras_names() -> None:
    dense = Dense(3)
    assert dense.weights == [] and not dense.built
    y = dense(Input(shape=(2,)))
    assert [w.name for w in dense.weights] == ["dense_1/kernel:0", "dense_1/bias:0"]
    assert y.op.type == "BiasAdd" and y.op.inputs[0].name == "dense_1/MatMul:0"
    assert dense.count_params() == 9


def test_set_weights_checks() -> None:
    dense = Dense(3, name="d")
    dense(Input(shape=(2,)))
    with pytest.raises(ValueError, match=r'on layer "d" with a  weight list of length 1, but the layer was expecting 2'):
        dense.set_weights([np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"Layer weight shape \(2, 3\) not compatible with provided weight shape \(3, 2\)"):
        dense.set_weights([np.ones((3, 2)), np.ones(3)])
    dense.set_weights([np.ones((2, 3)), np.zeros(3)])
    np.testing.assert_array_equal(dense.get_weights()[0], np.ones((2, 3)))


def test_trainable_flags_move_weights() -> None:
    x = Input(shape=(2,))
    dense = Dense(3)
    model = Model(x, Dense(1)(dense(x)))
    assert len(model.trainable_weights) == 4
    dense.trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4


# --- Model: discovery, order, validation ---------------------------------------------------


def multi_input_model() -> Model:
    a = Input(shape=(32,), name="input_a")
    b = Input(shape=(32,), name="input_b")
    dense = Dense(16, name="dense_1")
    merged = concatenate([dense(a), dense(b)], name="merge")
    c = Dense(64, name="dense_2")(merged)
    d = Dense(5, name="dense_3")(c)
    return Model(inputs=[a, b], outputs=[c, d], name="model")


def test_multi_input_model_layers_in_depth_order() -> None:
    model = multi_input_model()
    assert [layer.name for layer in model.layers] == ["input_a", "input_b", "dense_1", "merge", "dense_2", "dense_3"]
    assert model.input_names == ["input_a", "input_b"] and model.output_names == ["dense_2", "dense_3"]
    f = K.function(model.inputs, model.outputs)
    outs = f([np.ones((10, 32)), np.ones((10, 32))])
    assert [o.shape for o in outs] == [(10, 64), (10, 5)]
    preds = model.predict([np.ones((10, 32)), np.ones((10, 32))], batch_size=3)
    np.testing.assert_allclose(preds[1], outs[1], rtol=1e-5)


def test_model_input_and_output() -> None:
    model = multi_input_model()
    assert model.input == model.inputs and model.output == model.outputs
    single = Model(model.inputs[0], model.get_layer("dense_1").get_output_at(0))
    assert single.input is model.inputs[0] and single.get_input_at(0) is model.inputs[0]


def test_a_model_called_on_new_inputs_shares_weights_and_nests() -> None:
    x = Input(shape=(4,))
    inner = Model(x, Dense(3, activation="relu")(Dense(5)(x)))
    y = Input(shape=(4,))
    z = Dense(2)(inner(y))
    outer = Model(y, z)
    assert [layer.name for layer in outer.layers] == ["input_2", "model_1", "dense_3"]
    assert outer.layers[1] is inner
    assert len(outer.trainable_weights) == 6
    assert inner.get_output_at(1).name == "model_1/dense_1/Relu:0"  # Dense(3) was created first
    data = np.random.rand(7, 4)
    np.testing.assert_allclose(K.function([y], [inner.get_output_at(1)])([data])[0], inner.predict(data), rtol=1e-6)
    inner.layers[1].set_weights([w * 0 for w in inner.layers[1].get_weights()])
    assert not outer.predict(data).any() or np.allclose(outer.predict(data), outer.layers[-1].get_weights()[1])
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        inner.output


def test_actor_critic_pattern() -> None:
    """Seed 003's DDPG wiring: the critic called on the actor's output, as one graph."""
    state = Input(shape=(3,), name="state")
    actor = Model(state, Dense(2, activation="tanh", name="actor_out")(Dense(8, activation="relu")(state)))
    s_in, a_in = Input(shape=(3,), name="critic_state"), Input(shape=(2,), name="critic_action")
    critic = Model([s_in, a_in], Dense(1, name="q")(concatenate([s_in, a_in])))
    assert critic.input.index(a_in) == 1
    critic_inputs = [Input(shape=(3,), name="combined_state")]
    combined_output = critic([critic_inputs[0], actor(critic_inputs)])
    combined = Model(critic_inputs, combined_output)
    (grad,) = K.gradients(K.mean(combined_output), [actor.trainable_weights[0]])
    g = K.function(critic_inputs + [K.learning_phase()], [grad])([np.random.rand(4, 3), 0])[0]
    assert g.shape == (3, 8) and np.isfinite(g).all()
    assert [layer.name for layer in combined.layers] == ["combined_state", "model_1", "model_2"]


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda a, b, d: Model([a, a], d), ValueError, "The list of inputs passed to the model is redundant"),
        (lambda a, b, d: Model(d, Dense(2)(d)), TypeError, "Input layers to a `Model` must be `InputLayer` objects"),
        (lambda a, b, d: Model(b, d), ValueError, 'Graph disconnected: cannot obtain value for tensor .*input_1:0.* at layer "input_1"'),
        (lambda a, b, d: Model(a, 0), ValueError, "Output tensors to a Model must be the output of a Keras `Layer`.*Found: 0"),
        (lambda a, b, d: Model(K.placeholder(shape=(None, 2)), d), ValueError, "must come from `keras.layers.Input`"),
    ],
)
def test_invalid_graphs(build, error, match) -> None:
    a, b = Input(shape=(2,)), Input(shape=(2,))
    d = Dense(2)(a)
    with pytest.raises(error, match=match):
        build(a, b, d)


def test_duplicate_layer_names() -> None:
    x = Input(shape=(2,))
    with pytest.raises(ValueError, match='The name "twin" is used 2 times in the model'):
        Model(x, Dense(2, name="twin")(Dense(2, name="twin")(x)))


def test_redundant_outputs_are_fine() -> None:
    x = Input(shape=(2,))
    y = Dense(2)(x)
    assert len(Model(x, [y, y]).outputs) == 2


def test_get_layer() -> None:
    model = multi_input_model()
    assert model.get_layer("dense_2") is model.layers[4] and model.get_layer(index=0).name == "input_a"
    with pytest.raises(ValueError, match="Was asked to retrieve layer at index 6 but model only has 6 layers."):
        model.get_layer(index=6)
    with pytest.raises(ValueError, match="Provide either a layer name or layer index."):
        model.get_layer()
    with pytest.raises(ValueError, match=r"No such layer: conv\. Existing layers are: \['input_a', 'input_b'"):
        model.get_layer("conv")


def test_shared_layers_at_heterogeneous_depth_survive_a_config_round_trip() -> None:
    x = Input(shape=(4,))
    a, b = Dense(4, name="A"), Dense(4, name="B")
    out = a(b(a(b(x))))
    model = Model(x, out)
    data = np.random.rand(3, 4)
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(data), model.predict(data), rtol=1e-5)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]


def test_shared_layer_depth_is_consistent() -> None:
    a, b = Input(shape=(3,)), Input(shape=(3,))
    shared = Dense(3)
    model = Model([a, b], concatenate([shared(a), shared(shared(b))]))
    depths = {layer.name: d for d, ls in model._layers_by_depth.items() for layer in ls}
    assert depths["input_1"] == depths["input_2"]


def test_model_updates_collect_batch_normalization_updates() -> None:
    x = Input(shape=(3,))
    model = Model(x, Dense(1)(BatchNormalization()(Dense(3)(x))))
    assert len(model.updates) == 2
    y = Input(shape=(3,))
    outer = Model(y, model(y))
    assert len(outer.updates) == 2


# --- Sequential ------------------------------------------------------------------------


def test_sequential_implicit_input_and_layers() -> None:
    model = Sequential([Dense(4, input_shape=(3,)), Dropout(0.2), Dense(2)])
    assert model.name == "sequential_1"
    assert model.input.name == "dense_1_input:0"
    assert [layer.name for layer in model.layers] == ["dense_1", "dropout_1", "dense_2"]
    assert model.layers[0].input is model.input
    model.pop()
    assert [layer.name for layer in model.layers] == ["dense_1", "dropout_1"]
    assert model.output.name.startswith("dropout_1/")
    model.add(Dense(5))
    assert model.predict(np.ones((2, 3))).shape == (2, 5)


def test_sequential_errors() -> None:
    with pytest.raises(TypeError, match="The added layer must be an instance of class Layer. Found: 3"):
        Sequential().add(3)
    with pytest.raises(TypeError, match="There are no layers in the model."):
        Sequential().pop()
    lazy = Sequential([Dense(2)])
    with pytest.raises(ValueError, match="This model has not yet been built."):
        lazy.summary()
    assert lazy.predict(np.ones((4, 7))).shape == (4, 2)  # built from the data
    assert lazy.layers[0].get_weights()[0].shape == (7, 2)


def test_sequential_config_round_trip_has_an_input_layer() -> None:
    model = Sequential([Dense(4, input_shape=(3,), activation="relu"), Dense(2)])
    config = model.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    clone = Sequential.from_config(config)
    clone.set_weights(model.get_weights())
    data = np.random.rand(5, 3)
    np.testing.assert_allclose(clone.predict(data), model.predict(data), rtol=1e-6)


def test_predict_with_batches_that_do_not_divide_the_data() -> None:
    model = Sequential([Dense(3, input_shape=(2,))])
    data = np.random.rand(10, 2)
    np.testing.assert_allclose(model.predict(data, batch_size=4), model.predict_on_batch(data), rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected dense_1_input to have shape \(2,\) but got array with shape \(5,\)"):
        model.predict(np.ones((3, 5)))


# --- summary() -------------------------------------------------------------------------

SEQUENTIAL_SUMMARY = """\
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
dense_1 (Dense)              (None, 4)                 16        
_________________________________________________________________
dense_2 (Dense)              (None, 2)                 10        
=================================================================
Total params: 26
Trainable params: 26
Non-trainable params: 0
_________________________________________________________________"""

MULTI_INPUT_SUMMARY = """\
__________________________________________________________________________________________________
Layer (type)                    Output Shape         Param #     Connected to                     
==================================================================================================
input_a (InputLayer)            (None, 32)           0                                            
__________________________________________________________________________________________________
input_b (InputLayer)            (None, 32)           0                                            
__________________________________________________________________________________________________
dense_1 (Dense)                 (None, 16)           528         input_a[0][0]                    
                                                                 input_b[0][0]                    
__________________________________________________________________________________________________
merge (Concatenate)             (None, 32)           0           dense_1[0][0]                    
                                                                 dense_1[1][0]                    
__________________________________________________________________________________________________
dense_2 (Dense)                 (None, 64)           2112        merge[0][0]                      
__________________________________________________________________________________________________
dense_3 (Dense)                 (None, 5)            325         dense_2[0][0]                    
==================================================================================================
Total params: 2,965
Trainable params: 2,965
Non-trainable params: 0
__________________________________________________________________________________________________"""


def capture_summary(model: Model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_summary_of_a_sequential_model_matches_keras() -> None:
    assert capture_summary(Sequential([Dense(4, input_shape=(3,)), Dense(2)])) == SEQUENTIAL_SUMMARY


def test_summary_of_a_multi_input_model_matches_keras() -> None:
    assert capture_summary(multi_input_model()) == MULTI_INPUT_SUMMARY


def test_summary_counts_non_trainable_weights() -> None:
    model = Sequential([BatchNormalization(input_shape=(3,))])
    text = capture_summary(model)
    assert "Trainable params: 6" in text and "Non-trainable params: 6" in text
