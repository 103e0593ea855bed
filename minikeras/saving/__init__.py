"""Floor 4: models and weights in files real Keras reads, and models as JSON.

``save_model``/``load_model`` keep architecture, weights and training state in one file:
a ``.keras`` archive in Keras 3's layout (``keras_archive.py``) or an ``.h5`` file in
Keras 2's (``model_io.py``), chosen by extension or ``save_format``; both load in real
Keras 3, and files written by Keras 2 and tf.keras load here. ``save_weights``/
``load_weights`` only the weights (``.weights.h5``: Keras 3's layout);
``model_to_json``/``model_from_json`` only the architecture. Loading never runs code from a
file: no pickle, and ``Lambda`` layers only with ``safe_mode=False`` and your own function.

This package finds ``Model`` and ``Sequential`` through the engine's registry of layer classes,
never by importing ``minikeras.models``, so that ``Model.save`` can call in here.
"""

from .config import model_from_config, model_from_json, model_to_json
from .hdf5 import ModelFileError
from .keras3 import normalize_model_config
from .model_io import load_model, load_weights, save_model, save_weights

__all__ = [
    "ModelFileError",
    "load_model",
    "load_weights",
    "model_from_config",
    "model_from_json",
    "model_to_json",
    "normalize_model_config",
    "save_model",
    "save_weights",
]
