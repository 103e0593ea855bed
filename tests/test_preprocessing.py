"""``minikeras.preprocessing`` (Keras 2.2's ``keras.preprocessing``): ``sequence``, ``text`` and
``image``, values worked out by hand, Keras's documented errors, the optional extras, and a text
classifier built with ``Tokenizer`` + ``pad_sequences``."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.layers import Dense, Embedding, Flatten
from minikeras.models import Sequential
from minikeras.preprocessing import image, sequence, text
from minikeras.preprocessing.image import ImageDataGenerator
from minikeras.preprocessing.sequence import make_sampling_table, pad_sequences, skipgrams
from minikeras.preprocessing.text import Tokenizer, hashing_trick, one_hot, text_to_word_sequence


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    K.clear_session()


# --- sequence.pad_sequences -------------------------------------------------------------------

SEQS = [[1], [2, 3], [4, 5, 6, 7]]


def test_pad_sequences_defaults_pad_and_cut_at_the_start() -> None:
    x = pad_sequences(SEQS)
    np.testing.assert_array_equal(x, [[0, 0, 0, 1], [0, 0, 2, 3], [4, 5, 6, 7]])
    assert x.dtype == np.int32
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=2), [[0, 1], [2, 3], [6, 7]])


def test_pad_sequences_post_value_and_dtype() -> None:
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=3, padding="post", truncating="post", value=-1),
                                  [[1, -1, -1], [2, 3, -1], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=3, padding="post"), [[1, 0, 0], [2, 3, 0], [5, 6, 7]])
    floats = pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32", value=0.25)
    np.testing.assert_array_equal(floats, [[0.25, 0.5, 1.5]])
    assert pad_sequences([[0.5, 1.5]]).tolist() == [[0, 1]]  # int32 by default: floats are cut


def test_pad_sequences_of_vectors_empty_and_strings() -> None:
    x = pad_sequences([[[1, 2]], [[3, 4], [5, 6]]])
    assert x.shape == (2, 2, 2)
    np.testing.assert_array_equal(x[0], [[0, 0], [1, 2]])
    np.testing.assert_array_equal(pad_sequences([[], [1]]), [[0], [1]])
    words = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["a", "b"], ["<pad>", "c"]]


@pytest.mark.parametrize("kwargs,match", [
    ({"padding": "middle"}, 'Padding type "middle" not understood'),
    ({"truncating": "both"}, 'Truncating type "both" not understood'),
    ({"value": "x"}, "`dtype` int32 is not compatible with `value`'s type"),
])
def test_pad_sequences_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pad_sequences(SEQS, **kwargs)  # type: ignore[arg-type]


def test_pad_sequences_refuses_non_iterables_and_ragged_vectors() -> None:
    with pytest.raises(ValueError, match="`sequences` must be a list of iterables. Found non-iterable: 3"):
        pad_sequences([[1], 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="`sequences` must be iterable"):
        pad_sequences(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Shape of sample \(3,\) of sequence at position 1 is different "
                                         r"from expected shape \(2,\)"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


# --- sequence.skipgrams and make_sampling_table -----------------------------------------------

def test_make_sampling_table_by_hand() -> None:
    table = make_sampling_table(5, sampling_factor=1e-3)
    rank = np.array([1.0, 1, 2, 3, 4])
    f = 1e-3 * (rank * (np.log(rank) + 0.577) + 0.5 - 1 / (12 * rank))
    np.testing.assert_allclose(table, np.minimum(1, np.sqrt(f)))
    assert np.all(np.diff(make_sampling_table(100)[1:]) >= 0)  # rarer words are kept more often


def test_skipgrams_positive_pairs_by_hand() -> None:
    couples, labels = skipgrams([1, 2, 0, 3], vocabulary_size=4, window_size=1, negative_samples=0,
                                shuffle=False)
    assert couples == [[1, 2], [2, 1]]  # 0 is padding: 3's only neighbour is 0
    assert labels == [1, 1]
    couples, labels = skipgrams([1, 2, 3], vocabulary_size=4, window_size=1, negative_samples=0,
                                shuffle=False, categorical=True)
    assert couples == [[1, 2], [2, 1], [2, 3], [3, 2]] and labels == [[0, 1]] * 4


def test_skipgrams_negative_samples_and_seed() -> None:
    seq = [1, 2, 3, 4, 5]
    couples, labels = skipgrams(seq, vocabulary_size=10, window_size=2, negative_samples=2.0, seed=3)
    assert labels.count(0) == 2 * labels.count(1) == 2 * 14
    assert all(1 <= c <= 9 for (w, c), label in zip(couples, labels) if label == 0)
    assert (couples, labels) == skipgrams(seq, vocabulary_size=10, window_size=2, negative_samples=2.0, seed=3)


# --- text ---------------------------------------------------------------------------------------

def test_text_to_word_sequence() -> None:
    assert text_to_word_sequence("Hello, World!  It's\tme.") == ["hello", "world", "it's", "me"]
    assert text_to_word_sequence("A-b c", filters="", lower=False) == ["A-b", "c"]
    assert text_to_word_sequence("a,b;c", split=",", filters=";") == ["a", "b", "c"]


def test_hashing_trick_and_one_hot() -> None:
    words = ["the", "cat", "the"]
    expected = [int(hashlib.md5(w.encode()).hexdigest(), 16) % 9 + 1 for w in words]
    assert hashing_trick("The cat, the", 10, hash_function="md5") == expected
    indices = one_hot("the cat sat on the mat", 5)
    assert len(indices) == 6 and all(1 <= i <= 4 for i in indices) and indices[0] == indices[4]
    assert hashing_trick("ab", 3, hash_function=len) == [2 % 2 + 1]


CORPUS = ["The cat sat.", "The dog sat on the cat!", "A bird"]


def test_tokenizer_learns_counts_and_ranks() -> None:
    tok = Tokenizer()
    tok.fit_on_texts(CORPUS)
    assert tok.document_count == 3
    assert list(tok.word_counts.items()) == [("the", 3), ("cat", 2), ("sat", 2), ("dog", 1), ("on", 1),
                                             ("a", 1), ("bird", 1)]
    # most frequent first; ties keep the order of first appearance
    assert tok.word_index == {"the": 1, "cat": 2, "sat": 3, "dog": 4, "on": 5, "a": 6, "bird": 7}
    assert tok.index_word[4] == "dog"
    assert tok.word_docs["the"] == 2 and tok.index_docs[1] == 2 and tok.index_docs[7] == 1
    assert tok.texts_to_sequences(["the bird sat", "unknown cat"]) == [[1, 7, 3], [2]]
    assert tok.sequences_to_texts([[1, 7, 3]]) == ["the bird sat"]


def test_tokenizer_num_words_keeps_indices_below_it() -> None:
    tok = Tokenizer(num_words=3)
    tok.fit_on_texts(CORPUS)
    assert len(tok.word_index) == 7  # the vocabulary is not cut...
    assert tok.texts_to_sequences(["the dog sat on the cat"]) == [[1, 1, 2]]  # ...the sequences are
    assert tok.texts_to_matrix(["the cat"]).shape == (1, 3)


def test_tokenizer_oov_token_takes_index_1() -> None:
    tok = Tokenizer(num_words=4, oov_token="<unk>")
    tok.fit_on_texts(CORPUS)
    assert tok.word_index["<unk>"] == 1 and tok.word_index["the"] == 2
    assert tok.texts_to_sequences(["the zebra sat on"]) == [[2, 1, 1, 1]]  # 'sat' is 4, not < 4
    assert tok.sequences_to_texts([[2, 1]]) == ["the <unk>"]


def test_tokenizer_char_level_lists_and_case() -> None:
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["abca", "B"])
    assert tok.word_index == {"a": 1, "b": 2, "c": 3}
    assert tok.texts_to_sequences(["cab"]) == [[3, 1, 2]]
    words = Tokenizer(lower=False)
    words.fit_on_texts([["Hi", "there"], ["hi"]])  # lists are taken as already split
    assert words.word_index == {"Hi": 1, "there": 2, "hi": 3}


def test_sequences_to_matrix_modes_by_hand() -> None:
    tok = Tokenizer()
    tok.fit_on_texts(CORPUS)
    seqs = [[1, 1, 2], []]
    np.testing.assert_array_equal(tok.sequences_to_matrix(seqs, "binary")[0], [0, 1, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(tok.sequences_to_matrix(seqs, "count")[0], [0, 2, 1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(tok.sequences_to_matrix(seqs, "freq")[0], [0, 2 / 3, 1 / 3, 0, 0, 0, 0, 0])
    tfidf = tok.sequences_to_matrix(seqs, "tfidf")
    # 'the' (1): count 2, in 2 of 3 texts; 'cat' (2): count 1, in 2 of 3 texts
    expected_the = (1 + np.log(2)) * np.log(1 + 3 / (1 + 2))
    expected_cat = 1 * np.log(1 + 3 / (1 + 2))
    np.testing.assert_allclose(tfidf[0, :3], [0, expected_the, expected_cat])
    assert not tfidf[1].any()
    assert tok.texts_to_matrix(["the the cat"], mode="count").tolist() == [[0, 2, 1, 0, 0, 0, 0, 0]]


def test_fit_on_sequences_feeds_tfidf() -> None:
    tok = Tokenizer(num_words=4)
    tok.fit_on_sequences([[1, 2], [1], [3, 3]])
    assert tok.document_count == 3 and dict(tok.index_docs) == {1: 2, 2: 1, 3: 1}
    np.testing.assert_allclose(tok.sequences_to_matrix([[3, 3]], "tfidf")[0],
                               [0, 0, 0, (1 + np.log(2)) * np.log(1 + 3 / 2)])


def test_tokenizer_errors() -> None:
    with pytest.raises(ValueError, match=r"Specify a dimension \(`num_words` argument\), or fit"):
        Tokenizer().sequences_to_matrix([[1]])
    with pytest.raises(ValueError, match="Fit the Tokenizer on some data before using tfidf mode"):
        Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(ValueError, match="Unknown vectorization mode: 'onehot'"):
        Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="onehot")
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        Tokenizer(vocabulary=3)  # type: ignore[call-arg]
    assert Tokenizer(nb_words=5).num_words == 5  # Keras 1's name


# --- image: arrays and files --------------------------------------------------------------------

def test_img_to_array_layouts() -> None:
    rgb = np.zeros((4, 5, 3))
    assert image.img_to_array(rgb).shape == (4, 5, 3)
    assert image.img_to_array(rgb, data_format="channels_first").shape == (3, 4, 5)
    assert image.img_to_array(np.zeros((4, 5))).shape == (4, 5, 1)
    assert image.img_to_array(np.zeros((4, 5)), data_format="channels_first").shape == (1, 4, 5)
    with pytest.raises(ValueError, match="Unsupported image shape"):
        image.img_to_array(np.zeros((1, 2, 3, 4)))
    with pytest.raises(ValueError, match="Unknown data_format: channels_middle"):
        image.img_to_array(rgb, data_format="channels_middle")


def test_image_files_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 256, (6, 4, 3)).astype("float32")
    pixels[0, 0] = [0, 0, 0]
    pixels[0, 1] = [255, 255, 255]  # min 0 and max 255: scaling changes nothing
    image.save_img(tmp_path / "a.png", pixels)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temporary file left
    img = image.load_img(tmp_path / "a.png")
    assert img.size == (4, 6) and img.mode == "RGB"
    np.testing.assert_array_equal(image.img_to_array(img), pixels)
    grey = image.load_img(tmp_path / "a.png", color_mode="grayscale", target_size=(3, 2))
    assert grey.mode == "L" and image.img_to_array(grey).shape == (3, 2, 1)
    assert image.load_img(tmp_path / "a.png", grayscale=True).mode == "L"
    with pytest.raises(ValueError, match="color_mode"):
        image.load_img(tmp_path / "a.png", color_mode="cmyk")


def test_array_to_img_scales_and_picks_the_mode() -> None:
    pytest.importorskip("PIL")
    x = np.array([[[-1.0], [1.0]]])  # scaled to 0..255
    img = image.array_to_img(x)
    assert img.mode == "L" and np.asarray(img).tolist() == [[0, 255]]
    assert image.array_to_img(np.zeros((2, 2, 4))).mode == "RGBA"
    assert image.array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    assert image.array_to_img(np.zeros((3, 2, 2)), data_format="channels_first").size == (2, 2)
    with pytest.raises(ValueError, match="Unsupported channel number: 2"):
        image.array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="Expected image array to have rank 3"):
        image.array_to_img(np.zeros((2, 2)))


def test_missing_pillow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"Pillow.*pip install 'minikeras\[image\]'"):
        image.array_to_img(np.zeros((2, 2, 3)))


def test_missing_scipy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.ndimage", None)
    with pytest.raises(ImportError, match=r"rotation_range.*SciPy.*pip install 'minikeras\[image\]'"):
        ImageDataGenerator(rotation_range=10)
    flips = ImageDataGenerator(horizontal_flip=True, rescale=0.5)  # flips need no SciPy
    assert next(flips.flow(np.ones((1, 2, 2, 1)), batch_size=1)).tolist() == [[[[0.5], [0.5]], [[0.5], [0.5]]]]


# --- image: transformations ---------------------------------------------------------------------

X = np.arange(16.0).reshape(4, 4, 1)


def test_apply_transform_flips_shifts_and_rotations() -> None:
    gen = ImageDataGenerator(fill_mode="constant", cval=-1)
    np.testing.assert_array_equal(gen.apply_transform(X, {"flip_horizontal": True})[..., 0], X[:, ::-1, 0])
    np.testing.assert_array_equal(gen.apply_transform(X, {"flip_vertical": True})[..., 0], X[::-1, :, 0])
    # tx shifts rows: output row i shows input row i + 1, the last row is filled with cval
    shifted = gen.apply_transform(X, {"tx": 1})[..., 0]
    np.testing.assert_array_equal(shifted, np.vstack([X[1:, :, 0], [[-1] * 4]]))
    shifted = gen.apply_transform(X, {"ty": -1})[..., 0]
    np.testing.assert_array_equal(shifted, np.hstack([[[-1]] * 4, X[:, :-1, 0]]))
    np.testing.assert_allclose(gen.apply_transform(X, {"theta": 90})[..., 0], np.rot90(X[..., 0], -1), atol=1e-9)
    np.testing.assert_array_equal(gen.apply_transform(X, {"zx": 1, "zy": 1}), X)


def test_zoom_reads_closer_to_the_centre() -> None:
    zoomed = ImageDataGenerator().apply_transform(X, {"zx": 0.5, "zy": 0.5})[..., 0]
    # output pixel (i, j) reads input (1.5 + (i - 1.5) / 2, 1.5 + (j - 1.5) / 2), bilinear
    rows = 1.5 + (np.arange(4) - 1.5) / 2
    np.testing.assert_allclose(zoomed, 4 * rows[:, None] + rows[None, :])


def test_fill_modes_and_channels_first() -> None:
    nearest = ImageDataGenerator(fill_mode="nearest").apply_transform(X, {"tx": 1})[..., 0]
    np.testing.assert_array_equal(nearest[-1], X[-1, :, 0])
    cf = ImageDataGenerator(data_format="channels_first")
    x = np.moveaxis(X, -1, 0)
    np.testing.assert_array_equal(cf.apply_transform(x, {"flip_horizontal": True})[0], X[:, ::-1, 0])
    np.testing.assert_array_equal(cf.apply_transform(x, {"tx": 1})[0, 0], X[1, :, 0])
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="`zoom_range` should be a float or a tuple or list of two floats"):
        ImageDataGenerator(zoom_range=[0.5, 1, 2])


def test_random_transform_ranges() -> None:
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.25, height_shift_range=2,
                             zoom_range=0.2, horizontal_flip=True)
    params = [gen.get_random_transform((8, 8, 1), seed=s) for s in range(200)]
    assert all(-30 <= p["theta"] <= 30 for p in params)
    assert all(-2 <= p["ty"] <= 2 for p in params)  # 0.25 of a width of 8 pixels
    assert {p["tx"] for p in params} == {-1.0, 0.0, 1.0}  # an int n: whole pixels in (-n, n)
    assert all(0.8 <= p["zx"] <= 1.2 and 0.8 <= p["zy"] <= 1.2 for p in params)
    assert {p["flip_horizontal"] for p in params} == {True, False}
    assert not any(p["flip_vertical"] for p in params)
    assert gen.get_random_transform((8, 8, 1), seed=5) == gen.get_random_transform((8, 8, 1), seed=5)
    listed = ImageDataGenerator(width_shift_range=[2, 3])
    assert {abs(listed.get_random_transform((8, 8, 1), seed=s)["ty"]) for s in range(50)} == {2.0, 3.0}


# --- image: standardisation, fit and flow --------------------------------------------------------

def images(n: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).uniform(0, 255, (n, 5, 4, 3)).astype("float32")


def test_fit_and_featurewise_standardize() -> None:
    x = images()
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(x)
    assert gen.mean is not None and gen.std is not None
    np.testing.assert_allclose(gen.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(gen.std.ravel(), x.std(axis=(0, 1, 2)), rtol=1e-4)
    out = np.stack([gen.standardize(img.copy()) for img in x])
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-4)
    with pytest.raises(ValueError, match="Input to `.fit\\(\\)` should have rank 4"):
        gen.fit(x[0])
    with pytest.warns(UserWarning, match="hasn't been fit"):
        ImageDataGenerator(featurewise_center=True).standardize(x[0])


def test_samplewise_rescale_and_preprocessing_function() -> None:
    x = images(2)
    gen = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True)
    out = gen.standardize(x[0].copy())
    assert abs(out.mean()) < 1e-5 and abs(out.std() - 1) < 1e-4
    calls = []

    def first(img: np.ndarray) -> np.ndarray:
        calls.append(img.copy())
        return img + 1

    gen = ImageDataGenerator(preprocessing_function=first, rescale=0.5)
    np.testing.assert_allclose(gen.standardize(x[0].copy()), (x[0] + 1) * 0.5)  # the function runs first
    assert len(calls) == 1


def test_flow_batches_labels_and_order() -> None:
    x = images(10)
    y = np.arange(10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    batches = [next(it) for _ in range(4)]
    assert [len(b[1]) for b in batches] == [4, 4, 2, 4]  # the pass ends with a short batch, then repeats
    np.testing.assert_array_equal(batches[1][0], x[4:8])
    np.testing.assert_array_equal(batches[1][1], [4, 5, 6, 7])
    assert len(it) == 3
    np.testing.assert_array_equal(it[2][0], x[8:])
    only_x = ImageDataGenerator().flow(x, batch_size=3, shuffle=False)
    assert next(only_x).shape == (3, 5, 4, 3)


def test_flow_shuffles_with_a_seed_and_keeps_pairs() -> None:
    x = images(12)
    y = np.arange(12)
    gen = ImageDataGenerator(horizontal_flip=True)
    first = [next(gen.flow(x, y, batch_size=6, seed=7)) for _ in range(2)]
    np.testing.assert_array_equal(first[0][0], first[1][0])  # the same seed, the same batch
    bx, by = first[0]
    for img, label in zip(bx, by):  # each image is its own sample, maybe mirrored
        assert np.array_equal(img, x[label]) or np.array_equal(img, x[label][:, ::-1])
    seen = np.concatenate([next(it)[1] for it in [gen.flow(x, y, batch_size=6, seed=1)] for _ in range(2)])
    assert sorted(seen) == list(range(12)) and list(seen) != list(range(12))


def test_flow_errors_and_sample_weight() -> None:
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match="`x` \\(images tensor\\) and `y` \\(labels\\) should have the same length"):
        gen.flow(images(3), np.arange(2))
    with pytest.raises(ValueError, match="should have rank 4"):
        gen.flow(np.zeros((3, 4, 4)))
    bx, by, bw = next(gen.flow(images(3), np.arange(3), sample_weight=np.array([1.0, 2, 3]), shuffle=False))
    assert bx.shape == (3, 5, 4, 3) and by.tolist() == [0, 1, 2] and bw.tolist() == [1.0, 2.0, 3.0]


def test_unsupported_options_say_so() -> None:
    with pytest.raises(NotImplementedError, match="zca_whitening"):
        ImageDataGenerator(zca_whitening=True)
    with pytest.raises(NotImplementedError, match="validation_split"):
        ImageDataGenerator(validation_split=0.2)


# --- a Keras 2 program: text classification -------------------------------------------------------

def test_program_text_classification_with_tokenizer_and_pad_sequences() -> None:
    rng = np.random.RandomState(0)
    filler = "the a movie film plot actor scene story was is it this".split()
    good, bad = "great wonderful loved superb".split(), "awful boring hated terrible".split()
    texts, labels = [], []
    for i in range(200):
        label = i % 2
        words = list(rng.choice(filler, rng.randint(3, 9))) + [rng.choice(good if label else bad)]
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + "!")
        labels.append(label)

    tokenizer = Tokenizer(num_words=50)
    tokenizer.fit_on_texts(texts)
    x = pad_sequences(tokenizer.texts_to_sequences(texts), maxlen=10)
    y = np.array(labels)
    assert x.shape == (200, 10) and x.max() < 50

    np.random.seed(0)
    model = Sequential([Embedding(50, 8, input_length=10), Flatten(), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=10, epochs=40, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    new = pad_sequences(tokenizer.texts_to_sequences(["A wonderful film", "The plot was boring"]), maxlen=10)
    assert model.predict(new)[:, 0].round().tolist() == [1.0, 0.0]


def test_modules_are_keras_paths() -> None:
    import minikeras

    assert minikeras.preprocessing.text is text and minikeras.preprocessing.sequence is sequence
