"""minikeras: Keras 2's graph-mode machinery on NumPy, written to be read."""

from . import backend, graph

__version__ = "0.1.0"
