"""Keras 2's Adadelta, Adamax and Nadam: adaptive steps, with Keras 2.2.4's exact formulas.

``minikeras.optimizers`` hands them out (``keras.optimizers.Nadam``, ``optimizers.get("adamax")``);
they live here so that each file reads in one sitting. Like the others, ``get_updates`` builds
the step as a graph, each parameter's update ops under ``<Optimizer>/update_<param>/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import backend as K
from .graph import Tensor, Variable
from .optimizers import Adam, Optimizer, _lr


class Adadelta(Optimizer):
    """``a = rho*a + (1-rho)*g**2``; ``step = g * sqrt(d + eps) / sqrt(a + eps)``; ``p -= lr*step``;
    ``d = rho*d + (1-rho)*step**2``. The ratio of the two RMS sets the step's size: ``lr`` stays 1."""

    def __init__(self, lr: float | None = None, rho: float = 0.95, epsilon: float | None = None,
                 decay: float = 0.0, **kwargs: Any) -> None:
        lr = _lr(lr, kwargs, 1.0)
        super().__init__(**kwargs)
        self.lr = self._hyper("lr", lr)
        self.decay = self._hyper("decay", decay)
        self.initial_decay = decay
        self.rho = rho  # a number, not a variable, as in Keras 2
        self.epsilon = K.epsilon() if epsilon is None else epsilon

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        grads = self.get_gradients(loss, params)
        accumulators = self._slots(params, "accumulator")
        delta_accumulators = self._slots(params, "delta_accumulator")
        self.weights = accumulators + delta_accumulators  # Keras 2 leaves iterations out here
        with self._scope_of_updates():
            self.updates = [K.update_add(self.iterations, 1)]
            lr = self._decayed(self.lr)
        for p, g, a, d in zip(params, grads, accumulators, delta_accumulators):
            with self._scope_of_update(p):
                new_a = self.rho * a + (1.0 - self.rho) * K.square(g)
                step = g * K.sqrt(d + self.epsilon) / K.sqrt(new_a + self.epsilon)
                new_d = self.rho * d + (1.0 - self.rho) * K.square(step)
                self.updates.append(K.update(a, new_a))
                self.updates.append(K.update(p, self._constrained(p, p - lr * step)))
                self.updates.append(K.update(d, new_d))
        return self.updates

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": float(K.get_value(self.lr)), "rho": self.rho,
                "decay": float(K.get_value(self.decay)), "epsilon": self.epsilon, **super().get_config()}


class Adamax(Adam):
    """Adam with the infinity norm: ``u = max(beta_2 * u, |g|)``; ``p -= lr_t * m / (u + eps)``
    with ``lr_t = lr / (1 - beta_1**t)`` (no square roots at all). Keras's default ``lr``: 0.002."""

    def __init__(self, lr: float | None = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float | None = None, decay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(_lr(lr, kwargs, 0.002), beta_1, beta_2, epsilon, decay, **kwargs)

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        grads = self.get_gradients(loss, params)
        with self._scope_of_updates():
            self.updates = [K.update_add(self.iterations, 1)]
            t = K.cast(self.iterations, K.floatx()) + 1
            lr_t = self._decayed(self.lr) / (1.0 - K.pow(self.beta_1, t))
        ms, us = self._slots(params, "m"), self._slots(params, "u")
        self.weights = [self.iterations] + ms + us
        for p, g, m, u in zip(params, grads, ms, us):
            with self._scope_of_update(p):
                m_t = self.beta_1 * m + (1.0 - self.beta_1) * g
                u_t = K.maximum(self.beta_2 * u, K.abs(g))
                new_p = p - lr_t * m_t / (u_t + self.epsilon)
                self.updates.append(K.update(m, m_t))
                self.updates.append(K.update(u, u_t))
                self.updates.append(K.update(p, self._constrained(p, new_p)))
        return self.updates

    def get_config(self) -> dict[str, Any]:
        return {k: v for k, v in super().get_config().items() if k != "amsgrad"}


class Nadam(Adam):
    """Adam with Nesterov momentum, on Keras 2's warming momentum schedule.

    ``mu_t = beta_1 * (1 - 0.5 * 0.96**(t * schedule_decay))``; with ``S_t = mu_1 * ... * mu_t``,
    ``m_bar = (1 - mu_t) * g / (1 - S_t) + mu_{t+1} * m_t / (1 - S_t * mu_{t+1})`` and
    ``p -= lr * m_bar / (sqrt(v_t / (1 - beta_2**t)) + eps)``.
    """

    def __init__(self, lr: float | None = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float | None = None, schedule_decay: float = 0.004, **kwargs: Any) -> None:
        super().__init__(_lr(lr, kwargs, 0.002), beta_1, beta_2, epsilon, 0.0, **kwargs)
        self.m_schedule = self._hyper("m_schedule", 1.0)  # S_t, the product of the mu's so far
        self.schedule_decay = schedule_decay

    def get_updates(self, loss: Tensor, params: Sequence[Variable]) -> list[Tensor]:
        grads = self.get_gradients(loss, params)
        b1, b2 = self.beta_1, self.beta_2
        with self._scope_of_updates():
            t = K.cast(self.iterations, K.floatx()) + 1
            mu_t = b1 * (1.0 - 0.5 * K.pow(0.96, t * self.schedule_decay))
            mu_next = b1 * (1.0 - 0.5 * K.pow(0.96, (t + 1) * self.schedule_decay))
            schedule = self.m_schedule * mu_t
            schedule_next = schedule * mu_next
            self.updates = [K.update_add(self.iterations, 1), K.update(self.m_schedule, schedule)]
        ms, vs = self._slots(params, "m"), self._slots(params, "v")
        self.weights = [self.iterations] + ms + vs  # Keras 2 leaves m_schedule out, too
        for p, g, m, v in zip(params, grads, ms, vs):
            with self._scope_of_update(p):
                m_t = b1 * m + (1.0 - b1) * g
                v_t = b2 * v + (1.0 - b2) * K.square(g)
                m_bar = (1.0 - mu_t) * g / (1.0 - schedule) + mu_next * m_t / (1.0 - schedule_next)
                new_p = p - self.lr * m_bar / (K.sqrt(v_t / (1.0 - K.pow(b2, t))) + self.epsilon)
                self.updates.append(K.update(m, m_t))
                self.updates.append(K.update(v, v_t))
                self.updates.append(K.update(p, self._constrained(p, new_p)))
        return self.updates

    def get_config(self) -> dict[str, Any]:
        config = {k: v for k, v in super().get_config().items() if k not in ("amsgrad", "decay")}
        return {**config, "schedule_decay": self.schedule_decay}


# Keras's lower-case aliases.
adadelta, adamax, nadam = Adadelta, Adamax, Nadam
