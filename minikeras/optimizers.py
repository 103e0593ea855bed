"""Optimizers as graph builders: ``get_updates(loss, params)`` returns update ops.

Nothing is trained when ``get_updates`` is called. It *builds* the graph of one step —
gradients, slot variables (momenta, moving averages) and the new value of every parameter —
and returns update ops; ``K.function(..., updates=those)`` runs the step each call.
The formulas are Keras 2's, exactly (Adam adds epsilon to the uncorrected ``sqrt(v)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import backend as K
from . import objects
from .graph import Tensor, Variable

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
        self.updates = [K.update_add(self.iterations, 1)]
        lr = self._decayed(self.lr)
        for p, g, a in zip(params, grads, accumulators):
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
        self.updates = [K.update_add(self.iterations, 1)]
        lr = self._decayed(self.lr)
        if self.initial_momentum == 0:
            # Plain SGD, as tf.keras builds it: no velocity slots, p -= lr * g. (Keras 2 kept
            # zero moments here; setting ``momentum`` later then has no effect.)
            self.weights = [self.iterations]
            for p, g in zip(params, grads):
                self.updates.append(K.update(p, self._constrained(p, p - lr * g)))
            return self.updates
        moments = self._slots(params, "moment")
        self.weights = [self.iterations] + moments
        for p, g, m in zip(params, grads, moments):
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
        # TASK adam: build Keras 2's Adam step (iterations, m, v, vhat, params); return the updates
        grads = self.get_gradients(loss, params)
        self.updates = [K.update_add(self.iterations, 1)]
        lr = self._decayed(self.lr)
        t = K.cast(self.iterations, K.floatx()) + 1
        lr_t = lr * (K.sqrt(1.0 - K.pow(self.beta_2, t)) / (1.0 - K.pow(self.beta_1, t)))
        ms = self._slots(params, "m")
        vs = self._slots(params, "v")
        vhats = self._slots(params, "vhat", shape=None if self.amsgrad else (1,))
        self.weights = [self.iterations] + ms + vs + vhats
        for p, g, m, v, vhat in zip(params, grads, ms, vs, vhats):
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


class Adadelta(Optimizer):
    """``a = rho*a + (1-rho)*g**2``; ``step = g * sqrt(d + eps) / sqrt(a + eps)``; ``p -= lr*step``;
    ``d = rho*d + (1-rho)*step**2``. The ratio of the two RMS sets the step's size: ``lr`` stays 1."""

    def __init__(self, lr: float | None = None, rho: float = 0.95, epsilon: float | None = None,
                 decay: float = 0.0, **kwargs: Any) -> None:
        lr = _lr(lr, kwargs, 1.0)
        super().__init__(**kwargs)
        self.lr, self.decay, self.initial_decay = self._hyper("lr", lr), self._hyper("decay", decay), decay
        self.rho, self.epsilon = rho, K.epsilon() if epsilon is None else epsilon

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        grads = self.get_gradients(loss, params)
        accs, deltas = self._slots(params, "accumulator"), self._slots(params, "delta_accumulator")
        self.weights, self.updates = accs + deltas, [K.update_add(self.iterations, 1)]
        lr = self._decayed(self.lr)
        for p, g, a, d in zip(params, grads, accs, deltas):
            new_a = self.rho * a + (1.0 - self.rho) * K.square(g)
            step = g * K.sqrt(d + self.epsilon) / K.sqrt(new_a + self.epsilon)
            self.updates += [K.update(a, new_a), K.update(p, self._constrained(p, p - lr * step)),
                             K.update(d, self.rho * d + (1 - self.rho) * K.square(step))]
        return self.updates

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": float(K.get_value(self.lr)), "rho": self.rho,
                "decay": float(K.get_value(self.decay)), "epsilon": self.epsilon, **super().get_config()}


class Adamax(Adam):
    """Adam with the infinity norm: ``u = max(beta_2*u, |g|)``; ``p -= lr/(1-beta_1**t) * m/(u+eps)``."""

    def __init__(self, lr: float | None = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float | None = None, decay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(_lr(lr, kwargs, 0.002), beta_1, beta_2, epsilon, decay, **kwargs)

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        grads = self.get_gradients(loss, params)
        self.updates = [K.update_add(self.iterations, 1)]
        t = K.cast(self.iterations, K.floatx()) + 1
        lr_t = self._decayed(self.lr) / (1.0 - K.pow(self.beta_1, t))
        ms, us = self._slots(params, "m"), self._slots(params, "u")
        self.weights = [self.iterations] + ms + us
        for p, g, m, u in zip(params, grads, ms, us):
            m_t = self.beta_1 * m + (1.0 - self.beta_1) * g
            u_t = K.maximum(self.beta_2 * u, K.abs(g))
            new_p = p - lr_t * m_t / (u_t + self.epsilon)
            self.updates += [K.update(m, m_t), K.update(u, u_t), K.update(p, self._constrained(p, new_p))]
        return self.updates

    def get_config(self) -> dict[str, Any]:
        return {k: v for k, v in super().get_config().items() if k != "amsgrad"}


class Nadam(Adam):
    """Adam with Nesterov momentum, Keras 2's schedule: ``mu_t = beta_1 * (1 - 0.5 * 0.96**(t *
    schedule_decay))``; ``m_bar = (1-mu_t) g / (1-prod mu) + mu_{t+1} m_t / (1-prod mu incl. t+1)``."""

    def __init__(self, lr: float | None = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float | None = None, schedule_decay: float = 0.004, **kwargs: Any) -> None:
        super().__init__(_lr(lr, kwargs, 0.002), beta_1, beta_2, epsilon, 0.0, **kwargs)
        self.m_schedule, self.schedule_decay = self._hyper("m_schedule", 1.0), schedule_decay

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        grads = self.get_gradients(loss, params)
        t, b1, b2 = K.cast(self.iterations, K.floatx()) + 1, self.beta_1, self.beta_2
        mu_t = b1 * (1.0 - 0.5 * K.pow(0.96, t * self.schedule_decay))
        mu_next = b1 * (1.0 - 0.5 * K.pow(0.96, (t + 1) * self.schedule_decay))
        schedule, schedule_next = self.m_schedule * mu_t, self.m_schedule * mu_t * mu_next
        self.updates = [K.update_add(self.iterations, 1), K.update(self.m_schedule, schedule)]
        ms, vs = self._slots(params, "m"), self._slots(params, "v")
        self.weights = [self.iterations] + ms + vs  # Keras 2 leaves m_schedule out, too
        for p, g, m, v in zip(params, grads, ms, vs):
            m_t, v_t = b1 * m + (1.0 - b1) * g, b2 * v + (1.0 - b2) * K.square(g)
            m_bar = (1.0 - mu_t) * g / (1.0 - schedule) + mu_next * m_t / (1.0 - schedule_next)
            new_p = p - self.lr * m_bar / (K.sqrt(v_t / (1.0 - K.pow(b2, t))) + self.epsilon)
            self.updates += [K.update(m, m_t), K.update(v, v_t), K.update(p, self._constrained(p, new_p))]
        return self.updates

    def get_config(self) -> dict[str, Any]:
        config = {k: v for k, v in super().get_config().items() if k not in ("amsgrad", "decay")}
        return {**config, "schedule_decay": self.schedule_decay}


# Keras's lower-case aliases.
sgd, rmsprop, adagrad, adam = SGD, RMSprop, Adagrad, Adam
adadelta, adamax, nadam = Adadelta, Adamax, Nadam

_BY_NAME: dict[str, type[Optimizer]] = {"sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adam": Adam,
                                        "adadelta": Adadelta, "adamax": Adamax, "nadam": Nadam}


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    name = config["class_name"]
    cls = objects.with_custom_objects(custom_objects).get(name) or _BY_NAME.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {name}. Known: {sorted(c.__name__ for c in _BY_NAME.values())}")
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
