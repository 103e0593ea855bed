"""The questions that started minikeras (numbered 000-004 below), their snippets run with
keras -> minikeras.

Only what cannot exist here is replaced: ``load_model('models.hdf5')`` and pretrained
networks become small models built in the test, images become arrays. Every number is
checked against NumPy computed from the layers' own weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras import layers
from minikeras.layers import Conv2D, Dense, Dropout, GlobalAveragePooling2D, Input
from minikeras.models import Model, Sequential

SEED = 0  # NumPy's global seed for each test (tests/conftest.py)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# --- seed 000: "What's the purpose of keras.backend.function()?" ----------------------


def small_sequential() -> Sequential:
    return Sequential([
        Dense(8, activation="relu", input_shape=(4,), name="my_layer"),
        Dropout(0.5),
        Dense(6, activation="relu"),
        Dense(3, activation="softmax"),
    ])


def numpy_forward(model: Sequential, data: np.ndarray) -> list[np.ndarray]:
    (w1, b1), (w2, b2), (w3, b3) = (layer.get_weights() for layer in model.layers if layer.weights)
    h1 = relu(data @ w1 + b1)
    h2 = relu(h1 @ w2 + b2)
    return [h1, h1, h2, softmax(h2 @ w3 + b3)]


def test_seed_000_intermediate_output_through_a_sub_model() -> None:
    model = small_sequential()
    data = np.random.rand(10, 4).astype("float32")
    layer_name = "my_layer"
    intermediate_layer_model = Model(inputs=model.input, outputs=model.get_layer(layer_name).output)
    intermediate_output = intermediate_layer_model.predict(data)
    np.testing.assert_allclose(intermediate_output, numpy_forward(model, data)[0], rtol=1e-5, atol=1e-6)


def test_seed_000_intermediate_output_through_k_function() -> None:
    model = small_sequential()
    x = np.random.rand(10, 4).astype("float32")
    # with a Sequential model
    get_3rd_layer_output = K.function([model.layers[0].input], [model.layers[3].output])
    layer_output = get_3rd_layer_output([x])[0]
    np.testing.assert_allclose(layer_output, numpy_forward(model, x)[3], rtol=1e-5, atol=1e-6)
    # the sub-model way and the K.function way agree
    sub = Model(inputs=model.input, outputs=model.layers[2].output)
    via_k = K.function([model.layers[0].input], [model.layers[2].output])([x])[0]
    np.testing.assert_allclose(sub.predict(x), via_k, rtol=1e-6)


def test_seed_000_class_activation_map_two_outputs_in_one_call() -> None:
    inp = Input(shape=(8, 8, 3))
    h = Conv2D(4, (3, 3), padding="same", activation="relu")(inp)
    final_conv = Conv2D(5, (3, 3), padding="same", activation="relu", name="conv5_3")(h)
    pooled = GlobalAveragePooling2D()(final_conv)
    out = Dense(2, activation="softmax")(pooled)
    model = Model(inp, out)
    img = np.random.rand(1, 8, 8, 3).astype("float32")

    final_conv_layer = model.get_layer("conv5_3")
    get_output = K.function([model.layers[0].input], [final_conv_layer.output, model.layers[-1].output])
    [conv_outputs, predictions] = get_output([img])

    assert conv_outputs.shape == (1, 8, 8, 5) and predictions.shape == (1, 2)
    np.testing.assert_allclose(predictions, model.predict(img), rtol=1e-5)
    w, b = model.layers[-1].get_weights()
    np.testing.assert_allclose(predictions, softmax(conv_outputs.mean(axis=(1, 2)) @ w + b), rtol=1e-5)
    cam = conv_outputs[0] @ w[:, 0]  # the class activation map of class 0
    assert cam.shape == (8, 8)


# --- seed 001: K.function on a loaded model's layer, and the list mistake ----------------


def test_seed_001_layer_output_by_name_and_by_index() -> None:
    base_model = Sequential([
        Conv2D(3, (3, 3), activation="relu", input_shape=(6, 6, 1)),
        layers.Flatten(),
        Dense(5, activation="relu", name="layer_name"),
        Dense(4, activation="relu"),
        Dense(3, activation="relu"),
        Dense(2, activation="relu"),
        Dense(1),
    ])
    image_arr = np.random.rand(6, 6, 1).astype("float32")
    image_arr = np.expand_dims(image_arr, axis=0)
    layer_1 = K.function([base_model.get_input_at(0)], [base_model.get_layer("layer_name").output])
    f1 = layer_1([image_arr])[0]
    assert f1.shape == (1, 5)
    conv = base_model.layers[0].get_weights()
    w, b = base_model.get_layer("layer_name").get_weights()
    conv_out = K.eval(K.relu(K.bias_add(K.conv2d(K.constant(image_arr), K.constant(conv[0])),
                                        K.constant(conv[1]))))
    np.testing.assert_allclose(f1, relu(conv_out.reshape(1, -1) @ w + b), rtol=1e-5, atol=1e-6)

    model = base_model
    layer_1 = K.function([model.get_input_at(0)], [model.layers[5].output])
    assert layer_1([image_arr])[0].shape == (1, 2)


def test_seed_001_calling_without_a_list_raises() -> None:
    model = Sequential([Dense(2, input_shape=(3,), name="layer_name")])
    layer_1 = K.function([model.get_input_at(0)], [model.get_layer("layer_name").output])
    image_arr = np.ones((1, 3))
    with pytest.raises(TypeError, match=r"`inputs` should be a list or tuple"):
        layer_1(image_arr)[0]
    assert layer_1([image_arr])[0].shape == (1, 2)


# --- seed 002: how does Model(inputs, outputs) know its layers? --------------------------


def test_seed_002_functional_model_finds_its_layers() -> None:
    inputs = keras.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

    assert [layer.name for layer in model.layers] == ["input_1", "dense_1", "dense_2", "dense_3"]
    printed = [layer.output for layer in model.layers]
    assert [t.name for t in printed] == ["input_1:0", "dense_1/Relu:0", "dense_2/Relu:0", "dense_3/BiasAdd:0"]
    assert [t.shape for t in printed] == [(None, 784), (None, 64), (None, 64), (None, 10)]
    assert repr(printed[1]) == "<Tensor 'dense_1/Relu:0' shape=(None, 64) dtype=float32>"
    # the history stamped on each tensor is how the model walked back
    assert outputs._keras_history[0] is model.layers[-1]
    assert x._keras_history[0].name == "dense_2"


def test_seed_002_printed_outputs_like_the_question() -> None:
    inputs = keras.Input(shape=(3,))
    h = layers.Dense(4, activation="relu")(inputs)
    out = layers.Dense(5, activation="softmax")(h)
    model = keras.Model(inputs, out)
    assert [repr(layer.output) for layer in model.layers] == [
        "<Tensor 'input_1:0' shape=(None, 3) dtype=float32>",
        "<Tensor 'dense_1/Relu:0' shape=(None, 4) dtype=float32>",
        "<Tensor 'dense_2/Softmax:0' shape=(None, 5) dtype=float32>",
    ]


# --- seed 004: the value before the activation -----------------------------------------


def test_seed_004_value_before_the_sigmoid() -> None:
    model = Sequential([
        Dense(16, activation="softplus", input_shape=(5,)),
        Dense(612, activation="softplus"),
        Dense(1, activation="sigmoid"),
    ])
    test_input = np.random.rand(3, 5).astype("float32") * 4

    outputs = [layer.output for layer in model.layers[-2:]]
    functors = [K.function([model.input] + [K.learning_phase()], [out]) for out in outputs]
    layer_outs = [func([test_input, 0.0]) for func in functors]
    dense_0_out = layer_outs[-2][0]
    dense_1_weights = model.layers[-1].weights[0].get_value()
    dense_1_bias = model.layers[-1].weights[1].get_value()
    x = np.dot(dense_0_out, dense_1_weights) + dense_1_bias
    np.testing.assert_allclose(sigmoid(x), layer_outs[-1][0], rtol=1e-5)

    for pre_activation in (model.output.op.inputs[0], model.output.owner.inputs[0]):
        assert pre_activation.name == "dense_3/BiasAdd:0"
        func = K.function([model.input] + [K.learning_phase()], [pre_activation])
        np.testing.assert_allclose(func([test_input, 0.0])[0], x, rtol=1e-5, atol=1e-5)
    assert model.output.op.type == "Sigmoid"


# --- seed 003: K.function with updates; training through it; DDPG ------------------------


def test_seed_003_custom_loss_on_an_intermediate_layer_trained_through_k_function() -> None:
    from minikeras.optimizers import Adam

    model = small_sequential()
    x = np.random.rand(32, 4).astype("float32")
    target = np.random.rand(32, 6).astype("float32")
    training = model.layers[0].trainable_weights + model.layers[2].trainable_weights
    loss = K.mean(K.square(model.layers[2].output - K.constant(target)))
    optimizer = Adam(lr=0.01, clipnorm=1.0)
    train = K.function([model.layers[0].input] + [K.learning_phase()], [model.layers[2].output, loss],
                       updates=optimizer.get_updates(params=training, loss=loss))
    last_layer = model.layers[3].get_weights()
    losses = [float(train([x, 1])[1]) for _ in range(60)]
    assert losses[-1] < 0.5 * losses[0]
    for before, after in zip(last_layer, model.layers[3].get_weights()):
        np.testing.assert_array_equal(before, after)  # not in `training`: untouched
    layer_output = train([x, 0])[0]
    assert layer_output.shape == (32, 6)


def test_seed_003_gradients_passed_as_updates_get_a_teaching_error() -> None:
    from minikeras.optimizers import Adam

    model = small_sequential()
    loss = K.mean(model.layers[3].output)
    optimizer = Adam(lr=0.001, clipnorm=1.0)
    with pytest.raises(TypeError, match="gradients are not updates either: optimizer.get_updates"):
        K.function([model.layers[0].input] + [K.learning_phase()], [model.layers[3].output],
                   updates=optimizer.get_gradients(params=model.trainable_weights, loss=loss))


def test_seed_003_a_loss_that_does_not_depend_on_the_params_raises() -> None:
    from minikeras.optimizers import Adam

    model = small_sequential()
    other = Dense(2, name="elsewhere")
    other(Input(shape=(3,)))
    loss = K.mean(model.output)
    with pytest.raises(ValueError) as err:
        Adam().get_updates(params=model.trainable_weights + other.trainable_weights, loss=loss)
    assert "An operation has `None` for gradient." in str(err.value)
    assert "elsewhere/kernel:0" in str(err.value) and "elsewhere/bias:0" in str(err.value)


class DDPG:
    """The seed's actor-critic wiring, with small networks."""

    def __init__(self) -> None:
        from minikeras.layers import concatenate
        from minikeras.optimizers import Adam

        state = Input(shape=(3,), name="observation")
        self.actor = Model(state, Dense(2, activation="tanh")(Dense(16, activation="relu")(state)))
        obs = Input(shape=(3,), name="critic_observation")
        self.critic_action_input = Input(shape=(2,), name="action_input")
        h = Dense(16, activation="relu")(concatenate([obs, self.critic_action_input]))
        self.critic = Model([obs, self.critic_action_input], Dense(1)(h))
        self.critic_action_input_idx = self.critic.input.index(self.critic_action_input)

        combined_inputs = []
        critic_inputs = []
        for i in self.critic.input:
            if i == self.critic_action_input:
                combined_inputs.append([])
            else:
                combined_inputs.append(i)
                critic_inputs.append(i)
        combined_inputs[self.critic_action_input_idx] = self.actor(critic_inputs)
        combined_output = self.critic(combined_inputs)
        actor_optimizer = Adam(lr=0.01)
        updates = actor_optimizer.get_updates(
            params=self.actor.trainable_weights, loss=-K.mean(combined_output))
        self.actor_train_fn = K.function(critic_inputs + [K.learning_phase()],
                                         [self.actor(critic_inputs)], updates=updates)
        self.q = K.function(critic_inputs, [combined_output])


def test_seed_003_ddpg_actor_update_raises_q_and_leaves_the_critic_alone() -> None:
    agent = DDPG()
    inputs = [np.random.rand(64, 3).astype("float32")]
    critic_before = agent.critic.get_weights()
    q_before = float(agent.q(inputs)[0].mean())
    for _ in range(30):
        action_values = agent.actor_train_fn(inputs + [1])[0]
    assert action_values.shape == (64, 2)
    assert float(agent.q(inputs)[0].mean()) > q_before + 1e-3
    for before, after in zip(critic_before, agent.critic.get_weights()):
        np.testing.assert_array_equal(before, after)
