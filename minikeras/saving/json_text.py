"""JSON read from a file, with its nesting checked before Python's parser sees it.

Python's ``json`` parses nested brackets by recursion: a few kilobytes of ``[[[[...`` raise
``RecursionError`` from deep inside the parser (and a config that just fits would make every
later walk over it recurse as deep). A model config needs a few levels per nested model, so
anything deeper than ``MAX_JSON_DEPTH`` is refused before parsing, with a message that says so.
What a student misses: the depth is counted on the text, outside strings, in one pass; the
parser is only called once it is known to be safe.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

#: Deepest bracket nesting accepted. A model of plain layers needs about 10 levels (Keras 3's
#: call records included), each model nested in another about 4 more: this allows some twenty.
MAX_JSON_DEPTH = 100

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in ``text``, brackets inside strings not counted."""
    steps = (1 if b in "[{" else -1 for b in _BRACKET.findall(_STRING.sub("", text)))
    return max(accumulate(steps), default=0)


def parse_json(data: str | bytes, what: str) -> Any:
    """``json.loads(data)``, or a ``ValueError`` starting with ``what`` that says what is wrong."""
    try:
        text = data.decode("utf8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} is not UTF-8 text ({e}).") from e
    if not isinstance(text, str):
        raise ValueError(f"{what} should be JSON text, not a {type(text).__name__}.")
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"{what} nests brackets {depth} levels deep; a model config needs far fewer "
                         f"(at most {MAX_JSON_DEPTH} are read). Refusing to parse it: it is damaged "
                         "or was built to crash the parser.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{what} is not valid JSON ({e}).") from e
    except RecursionError as e:  # cannot happen under the limit above; never let it escape
        raise ValueError(f"{what} nests too deeply to be parsed.") from e
