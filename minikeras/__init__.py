"""minikeras: Keras 2's graph-mode machinery on NumPy, written to be read.

``import minikeras as keras`` gives the Keras names: ``keras.Input``, ``keras.Model``,
``keras.Sequential``, ``keras.layers``, ``keras.optimizers``, ``keras.losses``,
``keras.backend``, ``keras.datasets``, ``keras.utils``, ``keras.preprocessing``.
"""

from . import (
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    graph,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    regularizers,
    utils,
)
from .engine import Input
from .models import Model, Sequential

__version__ = "0.1.0"
