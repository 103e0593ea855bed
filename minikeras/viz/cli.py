"""``python -m minikeras plot [MODEL.h5] -o model.svg``: draw a saved model from the shell."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .. import backend as K
from ..engine import Network
from ..layers import Dense, Input, concatenate
from ..models import Model
from ..saving import load_model
from .layers import plot_model
from .ops import plot_graph


def example_model() -> Network:
    """A small multi-input model, for when no file is given."""
    image = Input(shape=(64,), name="image")
    meta = Input(shape=(3,), name="meta")
    h = Dense(32, activation="relu", name="features")(image)
    merged = concatenate([h, meta], name="merge")
    return Model([image, meta], [Dense(10, activation="softmax", name="digit")(merged),
                                 Dense(1, activation="sigmoid", name="is_odd")(merged)], name="example")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minikeras plot",
                                     description="Draw a model saved as .h5 (or a built-in example).")
    parser.add_argument("model", nargs="?", help="a .h5 file written by model.save (Keras's layout)")
    parser.add_argument("-o", "--output", default="model.svg",
                        help="picture file: .svg .png .jpg .dot (.pdf)")
    parser.add_argument("--ops", action="store_true", help="draw the op graph instead of the layers")
    parser.add_argument("--no-shapes", action="store_true", help="leave the shapes out")
    parser.add_argument("--expand-nested", action="store_true", help="draw nested models' layers")
    args = parser.parse_args(argv)
    K.clear_session()
    if args.model:
        try:
            model = load_model(args.model, compile=False)
        except (OSError, ValueError) as e:  # a missing or unreadable file: one line, not a traceback
            parser.exit(2, f"{parser.prog}: error: {e}\n")
    else:
        model = example_model()
    if args.ops:
        plot_graph(model, to_file=args.output, show_shapes=not args.no_shapes)
    else:
        plot_model(model, to_file=args.output, show_shapes=not args.no_shapes,
                   expand_nested=args.expand_nested)
    print(f"wrote {args.output}: {'ops' if args.ops else 'layers'} of {model.name} "
          f"({len(model.layers)} layers)")
    return 0
