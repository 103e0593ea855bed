"""Floor 4: ``Model`` and ``Sequential``: networks that predict (and train)."""

from ..saving import load_model, model_from_config, model_from_json, save_model
from .cloning import clone_model
from .model import Model
from .sequential import Sequential
