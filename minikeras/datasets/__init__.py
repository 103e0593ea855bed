"""Data sets for examples and exercises: small ones shipped offline, and Keras 2's downloads.

Every module has a Keras-style ``load_data(...)`` returning ``(x_train, y_train),
(x_test, y_test)`` as NumPy arrays.

Offline, nothing downloaded, deterministic for a given ``seed``:

- ``xor``, ``moons``, ``spirals``, ``blobs``: generated 2-D toy problems (float32 features,
  int64 labels), each with ``n_samples``, ``noise`` and ``test_split`` arguments and a
  ``make_*`` function that returns the unsplit ``(x, y)``.
- ``digits``: 1,797 real 8x8 handwritten digits shipped inside the package (uint8).

Keras 2.2's data sets, downloaded once through ``minikeras.utils.get_file`` from Keras's
origins and cached in ``~/.keras/datasets`` (or ``$KERAS_HOME/datasets``): ``mnist``,
``fashion_mnist``, ``cifar10``, ``imdb``, ``reuters``, ``boston_housing``. With no network
and no cached file they raise an error naming the URL and the path to put the file at.
Their pickled parts are read as plain data only: loading never runs code from a file.
"""

from . import blobs, boston_housing, cifar10, digits, fashion_mnist, imdb, mnist, moons, reuters, spirals, xor

__all__ = ["blobs", "boston_housing", "cifar10", "digits", "fashion_mnist", "imdb", "mnist", "moons",
           "reuters", "spirals", "xor"]
