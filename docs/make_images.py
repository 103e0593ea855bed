"""Regenerate the pictures in docs/images: ``python docs/make_images.py``.

Each example builds a graph from a fresh session, so the DOT text is the same on every
run; ``tests/test_viz.py`` re-creates it and compares it with the committed ``.dot`` files.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras.layers import Dense, Dropout, Input, concatenate
from minikeras.optimizers import SGD
from minikeras.viz import Explorer, Picture, explore, plot_graph, plot_model

IMAGES = Path(__file__).resolve().parent / "images"


def sequential_layers() -> Picture:
    """plot_model of a Sequential: Keras's picture, with shapes."""
    K.clear_session()
    model = keras.Sequential([Dense(16, activation="relu", input_shape=(8,)), Dropout(0.5),
                              Dense(3, activation="softmax")])
    return plot_model(model, to_file=None, show_shapes=True)


def multi_input_layers() -> Picture:
    """plot_model of a model with two inputs and two outputs."""
    K.clear_session()
    image, meta = Input(shape=(64,), name="image"), Input(shape=(3,), name="meta")
    features = Dense(32, activation="relu", name="features")(image)
    merged = concatenate([features, meta], name="merge")
    digit = Dense(10, activation="softmax", name="digit")(merged)
    odd = Dense(1, activation="sigmoid", name="is_odd")(merged)
    return plot_model(keras.Model([image, meta], [digit, odd]), to_file=None, show_shapes=True)


def dense_ops() -> Picture:
    """plot_graph of a layer output: the ops of two Dense layers, clustered by layer."""
    K.clear_session()
    x = Input(shape=(3,), name="x")
    hidden = Dense(4, activation="relu")(x)  # made first, so it is dense_1
    y = Dense(2, activation="softmax")(hidden)
    return plot_graph(y)


def function_subgraph() -> Picture:
    """plot_graph of a K.function fed an intermediate tensor: the ops before it are dimmed."""
    K.clear_session()
    x = Input(shape=(3,), name="x")
    hidden = Dense(4, activation="relu", name="hidden")(x)
    out = Dense(2, name="out")(hidden)
    f = K.function([hidden], [out])
    return plot_graph(f)


def gradient_graph() -> Picture:
    """plot_graph of a gradient: the backward ops are more graph, in their own scope."""
    K.clear_session()
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(np.ones((3, 2)), name="w")
    loss = K.mean(K.square(K.tanh(K.dot(x, w))))
    (grad,) = K.gradients(loss, [w])
    return plot_graph([loss, grad])


def training_step() -> Picture:
    """plot_graph of one SGD step through K.function, with the values of its last call."""
    K.clear_session()
    np.random.seed(0)
    x = Input(shape=(2,), name="x")
    y = Dense(1, name="linear")(x)
    target = K.placeholder(shape=(None, 1), name="target")
    loss = K.mean(K.square(y - target))
    with K.name_scope("training"):
        updates = SGD(lr=0.1).get_updates(loss=loss, params=[w for w in keras.Model(x, y).weights])
    step = K.function([x, target], [loss], updates=updates)
    step.record_values = True
    step([np.array([[1.0, 2.0]]), np.array([[1.0]])])
    return plot_graph(step, show_values=True)


def explore_training_step() -> Explorer:
    """explore of the same SGD step, called twice: the page the screenshot shows."""
    K.clear_session()
    np.random.seed(0)
    x = Input(shape=(2,), name="x")
    y = Dense(1, name="linear")(x)
    target = K.placeholder(shape=(None, 1), name="target")
    loss = K.mean(K.square(y - target))
    with K.name_scope("training"):
        updates = SGD(lr=0.1).get_updates(loss=loss, params=[w for w in keras.Model(x, y).weights])
    step = K.function([x, target], [loss], updates=updates)
    explorer = explore(step, [np.array([[1.0, 2.0]]), np.array([[1.0]])])
    explorer.add_call([np.array([[1.0, 2.0]]), np.array([[1.0]])])
    return explorer


#: Debian's chromium and its driver, and the flags that keep it offline and quiet
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,900"]


def headless_chromium(user_data_dir: Path) -> Any:
    """A selenium driver of the system's headless Chromium (never a downloaded browser)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console messages
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


def explore_screenshot(path: Path, step: int = 12) -> None:
    """A screenshot of the explore page at ``step`` (0-based) with the kernel's panel open."""
    with tempfile.TemporaryDirectory() as tmp:
        page = explore_training_step().save(Path(tmp) / "step.html")
        driver = headless_chromium(Path(tmp) / "profile")
        try:
            driver.get(Path(page).as_uri())
            driver.execute_script(f"show({step}); select('linear/kernel');")
            driver.save_screenshot(str(path))
        finally:
            driver.quit()


EXAMPLES: dict[str, Callable[[], Picture]] = {
    "sequential_layers": sequential_layers,
    "multi_input_layers": multi_input_layers,
    "dense_ops": dense_ops,
    "function_subgraph": function_subgraph,
    "gradient_graph": gradient_graph,
    "training_step": training_step,
}


def main() -> int:
    IMAGES.mkdir(exist_ok=True)
    for name, make in EXAMPLES.items():
        picture = make()
        picture.save(IMAGES / f"{name}.dot")
        picture.save(IMAGES / f"{name}.svg")
        picture.save(IMAGES / f"{name}.png")
        print(f"wrote {name}.dot/.svg/.png")
    if shutil.which("chromedriver"):
        explore_screenshot(IMAGES / "explore_step.png")
        print("wrote explore_step.png")
    else:
        print("no chromedriver: explore_step.png not redrawn (apt-get install chromium chromium-driver)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
