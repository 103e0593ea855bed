"""minikeras: Keras 2's graph-mode machinery on NumPy, written to be read."""

__version__ = "0.1.0"
