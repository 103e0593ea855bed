"""Keras's ``keras.utils`` names: ``plot_model``."""

from ..viz import plot_model
