"""Keras's ``preprocessing.text``: words to integer indices (``Tokenizer``) and back.

Index 0 is never given to a word: it is kept for padding (``pad_sequences``). The
``Tokenizer`` ranks words by how often they appear, most frequent first (ties in order of
first appearance), so index 1 is the commonest word, or the ``oov_token`` when there is one.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
"""Keras's default ``filters``: punctuation, tabs and newlines (not the apostrophe)."""

_MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(text: str, filters: str = FILTERS, lower: bool = True,
                          split: str = " ") -> list[str]:
    """``"Hello, world!"`` -> ``["hello", "world"]``: filtered characters become ``split``."""
    if lower:
        text = text.lower()
    text = text.translate({ord(c): split for c in filters})
    return [word for word in text.split(split) if word]


def _md5(word: str) -> int:
    return int(hashlib.md5(word.encode()).hexdigest(), 16)


def hashing_trick(text: str, n: int, hash_function: Callable[[str], int] | str | None = None,
                  filters: str = FILTERS, lower: bool = True, split: str = " ") -> list[int]:
    """Each word as ``hash(word) % (n - 1) + 1``: indices in ``1..n-1`` with no vocabulary kept.

    Two words may share an index (a collision). ``hash_function=None`` uses Python's
    ``hash``, which changes between runs unless ``PYTHONHASHSEED`` is set; ``'md5'`` is
    stable across runs and machines.
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5
    if not callable(hash_function):
        raise ValueError(f"hash_function must be None, 'md5' or a function, not {hash_function!r}")
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [hash_function(word) % (n - 1) + 1 for word in words]


def one_hot(text: str, n: int, filters: str = FILTERS, lower: bool = True, split: str = " ") -> list[int]:
    """``hashing_trick`` with Python's ``hash``: despite the name, a list of indices, not vectors."""
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower, split=split)


class Tokenizer:
    """Learns a vocabulary from texts and turns texts into index sequences or matrices.

    After ``fit_on_texts``: ``word_counts`` (word -> count, in order of first appearance),
    ``word_docs`` (word -> number of texts containing it), ``word_index`` (word -> index,
    1 for the most frequent), ``index_word``, ``index_docs`` (index -> number of texts) and
    ``document_count``. ``num_words`` does not shrink ``word_index``: it only makes
    ``texts_to_sequences`` and the matrices keep indices below ``num_words`` — so
    ``num_words=1000`` keeps 999 words, index 0 being padding.
    """

    def __init__(self, num_words: int | None = None, filters: str = FILTERS, lower: bool = True,
                 split: str = " ", char_level: bool = False, oov_token: str | None = None,
                 document_count: int = 0, **kwargs: Any) -> None:
        if "nb_words" in kwargs:
            num_words = kwargs.pop("nb_words")  # Keras 1's name
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {kwargs}")
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.document_count = document_count
        self.word_counts: OrderedDict[str, int] = OrderedDict()
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.index_docs: defaultdict[int, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    def _tokens(self, text: str | Sequence[str]) -> list[str]:
        # A list of strings is taken as already split (char_level: a string is its characters).
        if isinstance(text, list):
            return [t.lower() for t in text] if self.lower else list(text)
        assert isinstance(text, str)
        if self.char_level:
            return list(text.lower() if self.lower else text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[str | Sequence[str]]) -> None:
        """Count the words of ``texts`` (strings, or lists of words) and rebuild ``word_index``."""
        for text in texts:
            self.document_count += 1
            words = self._tokens(text)
            for word in words:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(words):
                self.word_docs[word] += 1
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)  # stable
        vocabulary = ([self.oov_token] if self.oov_token is not None else []) + [w for w, _ in ranked]
        self.word_index = {word: i for i, word in enumerate(vocabulary, start=1)}
        self.index_word = {i: word for word, i in self.word_index.items()}
        self.index_docs = defaultdict(int)
        for word, count in self.word_docs.items():
            self.index_docs[self.word_index[word]] = count

    def fit_on_sequences(self, sequences: Iterable[Sequence[int]]) -> None:
        """Count documents per index (for ``tfidf``) from sequences that are already indices."""
        for seq in sequences:
            self.document_count += 1
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences_generator(self, texts: Iterable[str | Sequence[str]]) -> Iterator[list[int]]:
        """``texts_to_sequences``, one text at a time."""
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            sequence = []
            for word in self._tokens(text):
                i = self.word_index.get(word)
                if i is not None and not (self.num_words and i >= self.num_words):
                    sequence.append(i)
                elif oov_index is not None:
                    sequence.append(oov_index)
            yield sequence

    def texts_to_sequences(self, texts: Iterable[str | Sequence[str]]) -> list[list[int]]:
        """Each text as a list of word indices; unknown or cut words dropped (or ``oov_token``'s index)."""
        return list(self.texts_to_sequences_generator(texts))

    def sequences_to_texts(self, sequences: Iterable[Sequence[int]]) -> list[str]:
        """Index sequences back to space-joined words (the same ``num_words``/OOV rules)."""
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        texts = []
        for seq in sequences:
            words = []
            for i in seq:
                word = self.index_word.get(i)
                if word is not None and not (self.num_words and i >= self.num_words):
                    words.append(word)
                elif oov_index is not None:
                    words.append(self.index_word[oov_index])
            texts.append(" ".join(words))
        return texts

    def texts_to_matrix(self, texts: Iterable[str | Sequence[str]], mode: str = "binary") -> np.ndarray:
        """``sequences_to_matrix(texts_to_sequences(texts), mode)``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences: Sequence[Sequence[int]], mode: str = "binary") -> np.ndarray:
        """A ``(len(sequences), num_words)`` float64 matrix, one row per sequence.

        ``mode``: ``'binary'`` (1 where the index occurs), ``'count'`` (how often),
        ``'freq'`` (count / sequence length) or ``'tfidf'``: ``(1 + log(count)) *
        log(1 + document_count / (1 + docs containing the index))``. Column 0 stays 0;
        indices ``>= num_words`` are ignored. Without ``num_words`` the width is
        ``len(word_index) + 1``.
        """
        if mode not in _MODES:
            raise ValueError(f"Unknown vectorization mode: {mode!r}. Use one of {list(_MODES)}.")
        if self.num_words:
            num_words = self.num_words
        elif self.word_index:
            num_words = len(self.word_index) + 1
        else:
            raise ValueError("Specify a dimension (`num_words` argument), or fit on some text data first.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")

        x = np.zeros((len(sequences), num_words))
        for row, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts: dict[int, int] = defaultdict(int)
            for j in seq:
                if j < num_words:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = (1 + np.log(c)) * idf
        return x

    def get_config(self) -> dict[str, Any]:
        """The settings and the learnt counts, as plain JSON-able values."""
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower,
                "split": self.split, "char_level": self.char_level, "oov_token": self.oov_token,
                "document_count": self.document_count, "word_counts": dict(self.word_counts),
                "word_docs": dict(self.word_docs), "index_docs": dict(self.index_docs),
                "word_index": self.word_index, "index_word": self.index_word}
