"""Floor 4: ``Model`` and ``Sequential``: networks that predict (and train)."""

from .model import Model
from .sequential import Sequential
