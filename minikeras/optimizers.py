"""Optimizers as graph builders: ``get_updates(loss, params)`` returns update ops.

Nothing is trained when ``get_updates`` is called. It *builds* the graph of one step —
gradients, slot variables (momenta, moving averages) and the new value of every parameter —
and returns update ops; ``K.function(..., updates=those)`` runs the step each call.
The formulas are Keras 2's, exactly (Adam adds epsilon to the uncorrected ``sqrt(v)``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import backend as K
from . import objects
from .graph import Tensor, Variable
from .objects import did_you_mean

_NONE_GRADIENT = (
    "An operation has `None` for gradient. Please make sure that all of your ops have a "
    "gradient defined (i.e. are differentiable). Common ops without gradient: K.argmax, "
    "K.round, K.eval."
)


class Optimizer:
    """Base class: gradient clipping, slot bookkeeping, config.

    ``clipnorm`` rescales *all* gradients together when their global norm exceeds it;
    ``clipvalue`` clips each element to ``[-clipvalue, clipvalue]``.
    """

    # Hyperparameters most Keras 2 optimizers have, made by the subclasses' __init__.
    lr: Variable
    decay: Variable
    initial_decay: float
    epsilon: float

    def __init__(self, **kwargs: Any) -> None:
        for k in kwargs:
            if k not in ("clipnorm", "clipvalue"):
                raise TypeError("Unexpected keyword argument passed to optimizer: " + str(k))
        self.clipnorm: float | None = kwargs.get("clipnorm")
        self.clipvalue: float | None = kwargs.get("clipvalue")
        self.updates: list[Tensor] = []
        self.weights: list[Variable] = []
        self._made_slots: dict[str, dict[Variable, Variable]] = {}
        with K.name_scope(type(self).__name__) as scope:
            self._scope = scope
            self.iterations = K.variable(0, dtype="int64", name="iterations")

    def _hyper(self, name: str, value: float) -> Variable:
        with K.name_scope(self._scope + "/"):
            return K.variable(value, name=name)

    def _slots(self, params: Sequence[Variable], prefix: str,
               shape: tuple[int, ...] | None = None) -> list[Variable]:
        """One zero variable per param (of the param's shape unless ``shape`` is given).

        Made once per param: another ``get_updates`` for the same params (a model's step
        with and without sample weights) reuses them, as tf.keras keeps slots per variable.
        """
        made = self._made_slots.setdefault(prefix, {})
        with K.name_scope(self._scope + "/"):
            for i, p in enumerate(params):
                if p not in made:
                    made[p] = K.zeros(shape or K.int_shape(p), dtype=p.dtype, name=f"{prefix}_{i}")
        return [made[p] for p in params]

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        raise NotImplementedError

    def _scope_of_updates(self) -> contextlib.AbstractContextManager[str]:
        """The optimizer's own scope (``Adam/``), for its step's ops: a picture can fold them."""
        return K.name_scope(self._scope + "/")

    def _scope_of_update(self, p: Variable) -> contextlib.AbstractContextManager[str]:
        """``Adam/update_dense_1_kernel/``: the ops updating ``p``, foldable into one box.

        The gradients stay outside: they belong to the backward pass, not to the optimizer.
        """
        name = p.name.split(":")[0].replace("/", "_")
        return K.name_scope(f"{self._scope}/update_{name}/")

    def get_gradients(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        """``d loss / d p`` for each param, clipped; an unreachable param is an error."""
        grads = K.gradients(loss, params)
        missing = [p.name for p, g in zip(params, grads) if g is None]
        if missing:
            raise ValueError(
                f"{_NONE_GRADIENT} The loss {getattr(loss, 'name', loss)} does not depend on "
                f"{', '.join(missing)}: leave those out of `params` (e.g. freeze them), or check "
                "that the loss is built from the model's outputs."
            )
        if self.clipnorm is not None and self.clipnorm > 0:
            norm = K.sqrt(sum(K.sum(K.square(g)) for g in grads))
            c = self.clipnorm
            # g * c / norm when norm >= c, else g: one formula, and no 0/0 when all g are 0.
            grads = [g * (c / K.maximum(norm, c)) for g in grads]
        if self.clipvalue is not None and self.clipvalue > 0:
            grads = [K.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return [g for g in grads if g is not None]  # none is None: checked above

    def _decayed(self, lr: Tensor) -> Tensor:
        """``lr / (1 + decay * iterations)`` when a decay was given (pre-increment count)."""
        if self.initial_decay > 0:
            return lr * (1.0 / (1.0 + self.decay * K.cast(self.iterations, K.dtype(self.decay))))
        return lr

    def _scaled_by_accumulated_squares(self, loss: Tensor, params: Sequence[Variable],
                                       accumulate: Callable[[Tensor, Tensor], Tensor]) -> list[Tensor]:
        """RMSprop's and Adagrad's step: ``a = accumulate(a, g)``; ``p -= lr * g / (sqrt(a) + eps)``."""
        grads = self.get_gradients(loss, params)
        accumulators = self._slots(params, "accumulator")
        self.weights = [self.iterations] + accumulators
        with self._scope_of_updates():
            self.updates = [K.update_add(self.iterations, 1)]
            lr = self._decayed(self.lr)
        for p, g, a in zip(params, grads, accumulators):
            with self._scope_of_update(p):
                new_a = accumulate(a, g)
                self.updates.append(K.update(a, new_a))
                new_p = p - lr * g / (K.sqrt(new_a) + self.epsilon)
                self.updates.append(K.update(p, self._constrained(p, new_p)))
        return self.updates

    @staticmethod
    def _constrained(p: Variable, new_p: Tensor) -> Tensor:
        return p.constraint(new_p) if p.constraint is not None else new_p

    @property
    def learning_rate(self) -> Variable:
        return self.lr

    def get_weights(self) -> list[np.ndarray]:
        return K.batch_get_value(self.weights)

    def set_weights(self, weights: Sequence[Any]) -> None:
        if len(weights) != len(self.weights):
            raise ValueError(
                f"Length of the specified weight list ({len(weights)}) does not match the number "
                f"of weights of the optimizer ({len(self.weights)})"
            )
        K.batch_set_value(list(zip(self.weights, weights)))

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        return cls(**config)


def _lr(lr: float | None, kwargs: dict[str, Any], default: float) -> float:
    """``learning_rate=`` is accepted as another name for ``lr`` (Keras 2.3 and later)."""
    if "learning_rate" in kwargs:
        value = kwargs.pop("learning_rate")
        lr = value if lr is None else lr
    return default if lr is None else float(lr)


class SGD(Optimizer):
    """``v = momentum * v - lr * g``; ``p += v`` (or ``p += momentum * v - lr * g``, nesterov)."""

    def __init__(self, lr: float | None = None, momentum: float = 0.0, decay: float = 0.0,
                 nesterov: bool = False, **kwargs: Any) -> None:
        lr = _lr(lr, kwargs, 0.01)
        super().__init__(**kwargs)
        self.lr = self._hyper("lr", lr)
        self.momentum = self._hyper("momentum", momentum)
        self.decay = self._hyper("decay", decay)
        self.initial_decay = decay
        self.initial_momentum = momentum
        self.nesterov = nesterov

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        grads = self.get_gradients(loss, params)
        with self._scope_of_updates():
            self.updates = [K.update_add(self.iterations, 1)]
            lr = self._decayed(self.lr)
        if self.initial_momentum == 0:
            # Plain SGD, as tf.keras builds it: no velocity slots, p -= lr * g. (Keras 2 kept
            # zero moments here; setting ``momentum`` later then has no effect.)
            self.weights = [self.iterations]
            for p, g in zip(params, grads):
                with self._scope_of_update(p):
                    self.updates.append(K.update(p, self._constrained(p, p - lr * g)))
            return self.updates
        moments = self._slots(params, "moment")
        self.weights = [self.iterations] + moments
        for p, g, m in zip(params, grads, moments):
            with self._scope_of_update(p):
                v = self.momentum * m - lr * g
                self.updates.append(K.update(m, v))
                new_p = p + self.momentum * v - lr * g if self.nesterov else p + v
                self.updates.append(K.update(p, self._constrained(p, new_p)))
        return self.updates

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": float(K.get_value(self.lr)), "momentum": float(K.get_value(self.momentum)),
                "decay": float(K.get_value(self.decay)), "nesterov": self.nesterov, **super().get_config()}


class RMSprop(Optimizer):
    """``a = rho * a + (1 - rho) * g**2``; ``p -= lr * g / (sqrt(a) + epsilon)``."""

    def __init__(self, lr: float | None = None, rho: float = 0.9, epsilon: float | None = None,
                 decay: float = 0.0, **kwargs: Any) -> None:
        lr = _lr(lr, kwargs, 0.001)
        super().__init__(**kwargs)
        self.lr = self._hyper("lr", lr)
        self.rho = self._hyper("rho", rho)
        self.decay = self._hyper("decay", decay)
        self.epsilon = K.epsilon() if epsilon is None else epsilon
        self.initial_decay = decay

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        return self._scaled_by_accumulated_squares(
            loss, params, lambda a, g: self.rho * a + (1.0 - self.rho) * K.square(g))

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": float(K.get_value(self.lr)), "rho": float(K.get_value(self.rho)),
                "decay": float(K.get_value(self.decay)), "epsilon": self.epsilon, **super().get_config()}


class Adagrad(Optimizer):
    """``a += g**2``; ``p -= lr * g / (sqrt(a) + epsilon)``: steps shrink where gradients were big."""

    def __init__(self, lr: float | None = None, epsilon: float | None = None, decay: float = 0.0,
                 **kwargs: Any) -> None:
        lr = _lr(lr, kwargs, 0.01)
        super().__init__(**kwargs)
        self.lr = self._hyper("lr", lr)
        self.decay = self._hyper("decay", decay)
        self.epsilon = K.epsilon() if epsilon is None else epsilon
        self.initial_decay = decay

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        return self._scaled_by_accumulated_squares(loss, params, lambda a, g: a + K.square(g))

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": float(K.get_value(self.lr)), "decay": float(K.get_value(self.decay)),
                "epsilon": self.epsilon, **super().get_config()}


class Adam(Optimizer):
    """Adam as Keras 2 computes it.

    ``t = iterations + 1``; ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``;
    ``p -= lr_t * m / (sqrt(v) + epsilon)``. The bias correction is folded into ``lr_t``, so
    epsilon meets the *uncorrected* ``sqrt(v)``: not quite the paper's formula.
    """

    def __init__(self, lr: float | None = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float | None = None, decay: float = 0.0, amsgrad: bool = False,
                 **kwargs: Any) -> None:
        lr = _lr(lr, kwargs, 0.001)
        super().__init__(**kwargs)
        self.lr = self._hyper("lr", lr)
        self.beta_1 = self._hyper("beta_1", beta_1)
        self.beta_2 = self._hyper("beta_2", beta_2)
        self.decay = self._hyper("decay", decay)
        self.epsilon = K.epsilon() if epsilon is None else epsilon
        self.initial_decay = decay
        self.amsgrad = amsgrad

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        # TASK adam (after topo_sort): build Keras 2's Adam step (iterations, m, v, vhat, params) as updates
        grads = self.get_gradients(loss, params)
        with self._scope_of_updates():  # scopes name the ops (Adam/...): they compute nothing
            self.updates = [K.update_add(self.iterations, 1)]
            lr = self._decayed(self.lr)
            t = K.cast(self.iterations, K.floatx()) + 1
            lr_t = lr * (K.sqrt(1.0 - K.pow(self.beta_2, t)) / (1.0 - K.pow(self.beta_1, t)))
        ms = self._slots(params, "m")
        vs = self._slots(params, "v")
        vhats = self._slots(params, "vhat", shape=None if self.amsgrad else (1,))
        self.weights = [self.iterations] + ms + vs + vhats
        for p, g, m, v, vhat in zip(params, grads, ms, vs, vhats):
            with self._scope_of_update(p):
                m_t = self.beta_1 * m + (1.0 - self.beta_1) * g
                v_t = self.beta_2 * v + (1.0 - self.beta_2) * K.square(g)
                if self.amsgrad:
                    vhat_t = K.maximum(vhat, v_t)
                    new_p = p - lr_t * m_t / (K.sqrt(vhat_t) + self.epsilon)
                    self.updates.append(K.update(vhat, vhat_t))
                else:
                    new_p = p - lr_t * m_t / (K.sqrt(v_t) + self.epsilon)
                self.updates.append(K.update(m, m_t))
                self.updates.append(K.update(v, v_t))
                self.updates.append(K.update(p, self._constrained(p, new_p)))
        return self.updates
        # END TASK

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": float(K.get_value(self.lr)), "beta_1": float(K.get_value(self.beta_1)),
                "beta_2": float(K.get_value(self.beta_2)), "decay": float(K.get_value(self.decay)),
                "epsilon": self.epsilon, "amsgrad": self.amsgrad, **super().get_config()}


# Keras's lower-case aliases.
sgd, rmsprop, adagrad, adam = SGD, RMSprop, Adagrad, Adam

_BY_NAME: dict[str, type[Optimizer]] = {"sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adam": Adam}

# Keras 2's Adadelta, Adamax and Nadam live in adaptive_optimizers.py (they build on the classes
# above, and this file reads in 400 lines). Asking this module for one imports them then:
# keras.optimizers.Nadam, from minikeras.optimizers import Adadelta, optimizers.get("adamax").
_ADAPTIVE = {"adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam"}


def __getattr__(name: str) -> Any:
    if name.lower() in _ADAPTIVE:
        from . import adaptive_optimizers  # not at the top: that module imports this one

        return getattr(adaptive_optimizers, _ADAPTIVE[name.lower()])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    name = config["class_name"]
    cls = objects.with_custom_objects(custom_objects).get(name) or _BY_NAME.get(name.lower())
    if cls is None and name.lower() in _ADAPTIVE:
        cls = __getattr__(name)
    if cls is None:
        known = sorted([c.__name__ for c in _BY_NAME.values()] + list(_ADAPTIVE.values()))
        hint = did_you_mean(name, _BY_NAME) or did_you_mean(name, _ADAPTIVE)  # "adma": adam first
        raise ValueError(f"Unknown optimizer: {name}.{hint} Known: {known}")
    return cls.from_config(dict(config.get("config", {})))


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``), a config dict, or an optimizer itself."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
