"""``python -m minikeras``: the demo. Train on the digits, then look inside the model.

It answers, on a real model, the questions Keras users keep asking: what a layer's output
is, how ``K.function`` gets an intermediate value, and how to see the value *before* the
last activation.
"""

from __future__ import annotations

import sys

import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras.datasets import digits
from minikeras.layers import Dense, Dropout


def demo(epochs: int = 20) -> None:
    np.random.seed(0)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train.reshape(-1, 64).astype("float32") / 16
    x_test = x_test.reshape(-1, 64).astype("float32") / 16
    print(f"Digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels.\n")

    model = keras.Sequential([
        Dense(128, activation="relu", input_shape=(64,), name="hidden"),
        Dropout(0.2),
        Dense(10, activation="softmax", name="classes"),
    ])
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=1)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"\nTest accuracy: {accuracy:.3f} (loss {loss:.3f})")

    print("\nA layer's output is a symbolic tensor, not a value:")
    for layer in model.layers:
        print(f"  {layer.name:8} -> {layer.output!r}")

    hidden = K.function([model.input], [model.get_layer("hidden").output])
    (h,) = hidden([x_test[:3]])
    print(f"\nK.function([model.input], [hidden.output]) on 3 images: shape {h.shape}, "
          f"{(h > 0).mean():.0%} of the ReLUs active")

    logits = model.output.op.inputs[0]  # the input of the softmax: the value before it
    (z,) = K.function([model.input], [logits])([x_test[:1]])
    p = model.predict(x_test[:1])
    print(f"Before the softmax, {logits.name}: {np.round(z[0], 1)}")
    print(f"After it, predicted {p[0].argmax()} with probability {p[0].max():.3f}; "
          f"the true label is {y_test[0]}.")
    assert np.allclose(np.exp(z) / np.exp(z).sum(), p, atol=1e-5)


USAGE = """\
usage: python -m minikeras [demo | plot [MODEL.h5] [-o FILE] ... | -h]

  (no argument), demo   train a small network on the 8x8 digits, then look inside it:
                        layer outputs, K.function, the value before the softmax
  plot                  draw a saved model's layers or ops (python -m minikeras plot -h)
  -h, --help            show this help

Also: python -m minikeras.assignments -h (the instructor's kit).
"""


def main(argv: list[str]) -> int:
    """Dispatch the command line; the demo is the default action."""
    command = argv[0] if argv else "demo"
    if command in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if command == "plot":
        from minikeras.viz.cli import main as plot_main

        return plot_main(argv[1:])
    if command == "demo" and len(argv) <= 1:
        demo()
        return 0
    print(f"{USAGE}python -m minikeras: error: unknown command {' '.join(argv)!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
