# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 12: the DDPG actor update through a combined graph
#
# > "Build networks that are wired together. In DDPG, the actor's output is the
# > critic's input, and the critic's output is the actor's training loss. [...]
# > Although we never pass a loss in, the whole network's structure is already
# > saved in the graph, so the critic's output can be used directly."
# > (a question, translated)
#
# DDPG (deep deterministic policy gradient) has two networks:
#
# - the **critic** `Q(s, a)` estimates how good action `a` is in state `s`;
# - the **actor** `mu(s)` proposes an action.
#
# The actor is trained to propose actions the critic likes: maximise
# `Q(s, mu(s))`, i.e. minimise `-mean(Q)`. There is no target to `fit` to, so the
# seed builds the step by hand: critic called on the actor's output in **one
# graph**, `get_updates` with the *actor's* weights only, `K.function` to run it.

# %%
import numpy as np

from minikeras import backend as K
from minikeras.layers import Dense, Input, concatenate
from minikeras.models import Model
from minikeras.optimizers import Adam
from minikeras.utils import plot_model
from minikeras.viz import pictures_folder, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()
np.random.seed(0)

# %% [markdown]
# ## A task where we know the answer
#
# A toy problem, so that every claim can be checked: the state is 3 numbers, the
# action 2 numbers in [-1, 1], and the reward is minus the squared distance to a
# best action that depends on the state. The best reward is 0. An agent does not
# know `best_action`; it only sees rewards.

# %%
M = np.random.randn(3, 2).astype("float32")


def best_action(s):
    return 0.8 * np.tanh(s @ M)


def reward(s, a):
    return -np.sum((a - best_action(s)) ** 2, axis=1, keepdims=True)


# %% [markdown]
# ## The critic, trained first
#
# In real DDPG the critic learns from the agent's experience while the actor
# learns from the critic. To look at the actor's update alone, we train the
# critic once, with `fit`, on random states and actions and their rewards.

# %%
observation = Input(shape=(3,), name="critic_observation")
action_input = Input(shape=(2,), name="action_input")
h = Dense(32, activation="relu", name="critic_hidden_1")(concatenate([observation, action_input]))
h = Dense(32, activation="relu", name="critic_hidden_2")(h)
critic = Model([observation, action_input], Dense(1, name="q_value")(h), name="critic")
critic.compile(Adam(lr=0.01), "mse")

S = np.random.uniform(-1.5, 1.5, (4000, 3)).astype("float32")
A = np.random.uniform(-1, 1, (4000, 2)).astype("float32")
critic.fit([S, A], reward(S, A), epochs=30, batch_size=64, verbose=0)
mse = critic.evaluate([S, A], reward(S, A), verbose=0)
print(f"critic's squared error {mse:.4f} (variance of the rewards {reward(S, A).var():.2f})")
assert mse < 0.05 * reward(S, A).var()

state = Input(shape=(3,), name="observation")
hidden = Dense(16, activation="relu", name="actor_hidden")(state)
actor = Model(state, Dense(2, activation="tanh", name="action")(hidden), name="actor")

# %% [markdown]
# ## The seed's wiring, as written
#
# The loop walks the critic's inputs. The action input gets a hole (`[]`), every
# other input (here, the observation) is kept and also collected in
# `critic_inputs`. Then the hole is filled with **the actor called on those same
# inputs**, and the critic is called on the result: `combined_output` is
# `Q(s, mu(s))`, one graph from the observation placeholder to the Q value.


# %%
class DDPGActorUpdate:
    def __init__(self, actor, critic, critic_action_input):
        self.actor, self.critic = actor, critic
        self.critic_action_input = critic_action_input
        self.critic_action_input_idx = self.critic.input.index(critic_action_input)

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
        # not in the seed: a way to look at Q(s, mu(s)) without training
        self.critic_inputs, self.combined_output = critic_inputs, combined_output
        self.q = K.function(critic_inputs, [combined_output])


agent = DDPGActorUpdate(actor, critic, action_input)
print(agent.combined_output)
assert agent.critic_inputs == [observation]
assert agent.critic_action_input_idx == 1

# %% [markdown]
# `==` between tensors is identity here (as in TensorFlow 1), so `i ==
# self.critic_action_input` finds the very tensor, never a look-alike.

# %%
look_alike = Input(shape=(2,), name="another_action")
assert action_input == action_input and not (look_alike == action_input)

# %% [markdown]
# ## The update: Q rises, the critic does not move
#
# `params=self.actor.trainable_weights`: the gradient of `-mean(Q)` flows
# *through* the critic's ops down to the action and into the actor, but only the
# actor's variables get update ops. The critic is a fixed judge.

# %%
states = np.random.uniform(-1.5, 1.5, (256, 3)).astype("float32")
critic_before = critic.get_weights()
actions_before = actor.predict(states)
q_before = float(agent.q([states])[0].mean())

returned = agent.actor_train_fn([states, 1])[0]       # one step ...
assert np.allclose(returned, actions_before, atol=1e-6)  # ... returns the actions *before* it

q_history = [q_before]
for step in range(299):
    action_values = agent.actor_train_fn([states, 1])[0]
    if step % 50 == 0:
        q_history.append(float(agent.q([states])[0].mean()))
q_after = float(agent.q([states])[0].mean())
actions_after = actor.predict(states)
print("mean Q every 50 steps:", np.round(q_history, 3))
print(f"true reward of the actor's actions: {reward(states, actions_before).mean():.3f} -> "
      f"{reward(states, actions_after).mean():.3f}")

assert action_values.shape == (256, 2)
assert q_after > q_before + 0.5
assert reward(states, actions_after).mean() > -0.1    # close to the best reward, 0
for before, after in zip(critic_before, critic.get_weights()):
    assert np.array_equal(before, after)                              # the critic: untouched

# %% [markdown]
# Look at the last numbers: the critic's mean Q ends **above 0**, the best reward
# that exists, while the true reward of the actions is below 0. The actor does
# not maximise the reward; it maximises the critic's *estimate*, errors included.
# This over-estimation is why real DDPG keeps training the critic on fresh
# experience (and why TD3 uses two critics).

# %%
assert q_after > 0 > reward(states, actions_after).mean()

# %% [markdown]
# ## The mistake: training the combined model's weights
#
# `Model(critic_inputs, combined_output)` holds *both* networks. Its
# `trainable_weights` are the actor's and the critic's, and the loss depends on
# all of them, so `get_updates` would not complain: it would silently teach the
# critic to report high Q values. That is why the seed passes
# `self.actor.trainable_weights`.

# %%
combined = Model(agent.critic_inputs, agent.combined_output, name="combined")
print([layer.name for layer in combined.layers])
all_weights = set(combined.trainable_weights)
assert all_weights == set(actor.trainable_weights) | set(critic.trainable_weights)
critic_grads = K.gradients(-K.mean(agent.combined_output), critic.trainable_weights)
assert all(g is not None for g in critic_grads)     # reachable: no error would warn you

# %% [markdown]
# ## Picture: the combined model
#
# `plot_model(combined, expand_nested=True)` draws the actor and the critic as
# boxes with their layers inside. Follow the arrows: `critic_observation`, the
# combined model's only input, feeds the actor's `observation`; the actor's
# `action` feeds the critic's `action_input`; the critic ends in `q_value`.
#
# The arrow that climbs from `critic_observation` back up into the actor is not a
# bug in your wiring: the question's code reuses the critic's own input tensor as
# the combined model's input, so that one box sits inside the critic and feeds both
# networks: the critic directly, and the actor's `observation` by the long arrow.

# %%
assert combined.layers[0] is critic.get_layer("critic_observation")
show(plot_model(combined, to_file=str(OUT / "12_ddpg_combined.svg"), expand_nested=True, show_shapes=True))
plot_model(combined, to_file=str(OUT / "12_ddpg_combined.png"), expand_nested=True, show_shapes=True)

# %% [markdown]
# ## Watching one actor update run
#
# `explore` runs one more actor step with every value recorded and saves a page that steps
# through it (open `12_actor_update.html` in a browser). The forward ops go through the
# actor and then the critic; the red gradient ops come back through the critic's ops into
# the actor's; the last steps write the new values into the actor's variables (and Adam's),
# never into the critic's: click `critic_hidden_1/kernel`, it has no update.

# %%
from minikeras.viz import explore

page = explore(agent.actor_train_fn, [states, 1])
page.save(str(OUT / "12_actor_update.html"))
written = {s["node"] for s in page.data()["steps"] if s["phase"] == "assign"}
assert {w.op.name for w in actor.trainable_weights} <= written
assert not written & {w.op.name for w in critic.weights}
page  # in a notebook: the page, inline

# %% [markdown]
# ## Exercises
#
# 1. Replace `params=self.actor.trainable_weights` by
#    `combined.trainable_weights` and run the 300 steps again. What happens to the
#    mean Q, to the true reward, and to the critic's error on `(S, A)`?
# 2. The seed calls `self.actor(critic_inputs)` a second time for the function's
#    output. Show that the two calls share the weights but are two different
#    tensors. What would change if the function returned `combined_inputs[1]`?
# 3. Make the critic worse (train it for 2 epochs only) and redo the actor update.
#    How far apart do the critic's Q and the true reward end up?
