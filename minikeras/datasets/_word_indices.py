"""What imdb and reuters do to their word-index sequences after loading."""

from __future__ import annotations

import json
import warnings
from typing import Any

from ._keras_files import fetch, remove_long_sequences


def legacy_num_words(num_words: int | None, kwargs: dict[str, Any]) -> int | None:
    """``nb_words`` (Keras 1's name) renamed with a warning; any other keyword is an error."""
    if "nb_words" in kwargs:
        warnings.warn("The `nb_words` argument in `load_data` has been renamed `num_words`.", stacklevel=3)
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {kwargs}")
    return num_words


def shift_indices(xs: Any, start_char: int | None, index_from: int) -> list[list[int]]:
    """Every index moved up by ``index_from`` and ``start_char`` put in front of each sequence."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]


def drop_long(maxlen: int | None, xs: list[list[int]], labels: Any) -> tuple[list[list[int]], list[Any]]:
    if not maxlen:
        return xs, list(labels)
    xs, labels = remove_long_sequences(maxlen, xs, labels)
    if not xs:
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was "
                         "kept. Increase maxlen.")
    return xs, labels


def limit_vocabulary(xs: list[list[int]], num_words: int | None, skip_top: int,
                     oov_char: int | None) -> list[list[int]]:
    """Indices outside ``skip_top <= w < num_words`` become ``oov_char`` (or are dropped if None)."""
    if not num_words:
        num_words = max(max(x) for x in xs if x)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def load_word_index(path: str, origin: str, file_hash: str) -> dict[str, int]:
    """A ``{word: index}`` JSON file from the Keras cache (indices before ``index_from``)."""
    with open(fetch(path, origin=origin, file_hash=file_hash), encoding="utf-8") as f:
        return json.load(f)
