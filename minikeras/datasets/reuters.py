"""Reuters newswires: 11,228 short news texts labelled with one of 46 topics.

The same word-index layout as ``imdb`` (``index_from=3``, 1 starts a text, 2 is the
out-of-vocabulary index); the texts are shuffled with ``seed`` and the last ``test_split``
of them is the test set (8,982 / 2,246 by default). As in Keras 2.2, ``num_words=None``
means "below the largest index": that one word becomes ``oov_char`` too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._keras_files import fetch, load_npz, object_array
from ._word_indices import drop_long, legacy_num_words, limit_vocabulary, load_word_index, shift_indices

ORIGIN = "https://s3.amazonaws.com/text-datasets/reuters.npz"
FILE_HASH = "87aedbeb0cb229e378797a632c1997b6"  # md5, as in Keras 2.2
WORD_INDEX_ORIGIN = "https://s3.amazonaws.com/text-datasets/reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"


def load_data(path: str = "reuters.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, test_split: float = 0.2, seed: int = 113, start_char: int | None = 1,
              oov_char: int | None = 2, index_from: int = 3,
              **kwargs: Any) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``: object arrays of index lists and int topics."""
    num_words = legacy_num_words(num_words, kwargs)
    arrays = load_npz(fetch(path, origin=ORIGIN, file_hash=FILE_HASH))
    order = np.random.RandomState(seed).permutation(len(arrays["x"]))
    xs = shift_indices(arrays["x"][order], start_char, index_from)
    xs, labels = drop_long(maxlen, xs, arrays["y"][order])
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    return ((object_array(xs[:cut]), np.array(labels[:cut])),
            (object_array(xs[cut:]), np.array(labels[cut:])))


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """``{word: rank}``; a text's index ``i`` is the word of rank ``i - index_from``."""
    return load_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)
