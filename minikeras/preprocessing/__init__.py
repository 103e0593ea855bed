"""Keras's ``keras.preprocessing``: ``sequence``, ``text`` and ``image`` helpers on NumPy.

``image``'s geometric augmentations need SciPy and its file functions need Pillow, both in
the ``image`` extra (``pip install 'minikeras[image]'``); everything else is NumPy only.
"""

from . import image, sequence, text

__all__ = ["image", "sequence", "text"]
