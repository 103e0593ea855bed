"""The primitives, grouped by kind. Each module defines its ops, each op's builder right
below it, and lists the builders in its own ``__all__``; this package gathers them."""

from . import (
    array,
    broadcast,
    compare,
    conv,
    debug,
    index,
    linalg,
    loops,
    math,
    nn,
    padding,
    parts,
    patches,
    pool,
    random,
    reduce,
    scan,
    state,
    trig,
)
from .array import *  # noqa: F403
from .broadcast import *  # noqa: F403
from .compare import *  # noqa: F403
from .conv import *  # noqa: F403
from .debug import *  # noqa: F403
from .index import *  # noqa: F403
from .linalg import *  # noqa: F403
from .loops import *  # noqa: F403
from .math import *  # noqa: F403
from .nn import *  # noqa: F403
from .padding import *  # noqa: F403
from .parts import *  # noqa: F403
from .patches import *  # noqa: F403
from .pool import *  # noqa: F403
from .random import *  # noqa: F403
from .reduce import *  # noqa: F403
from .scan import *  # noqa: F403
from .state import *  # noqa: F403
from .trig import *  # noqa: F403

MODULES = (array, broadcast, compare, conv, debug, index, linalg, loops, math, nn, padding, parts, patches,
           pool, random, reduce, scan, state, trig)
BUILDERS = [name for module in MODULES for name in module.__all__]
