"""Callbacks: code ``fit`` calls at the start and end of training, epochs and batches.

The base class, the progress bar, ``History``, ``EarlyStopping`` and ``ModelCheckpoint`` are
in ``base.py``; learning-rate schedules in ``schedules.py``; ``CSVLogger`` and
``TerminateOnNaN`` in ``watchers.py``; accuracy's two spellings in ``names.py``.
"""

from .base import (
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    Progbar,
    ProgbarLogger,
    in_jupyter,
)
from .names import MetricLogs, other_spelling
from .schedules import LearningRateScheduler, ReduceLROnPlateau
from .watchers import CSVLogger, TerminateOnNaN

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "MetricLogs",
    "ModelCheckpoint",
    "Progbar",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "in_jupyter",
    "other_spelling",
]
