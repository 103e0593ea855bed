"""The primitives, grouped by kind. Each module defines ops and the functions that build them."""

from .array import (
    concatenate,
    expand_dims,
    gather,
    getitem,
    one_hot,
    reshape,
    shape,
    squeeze,
    stack,
    tile,
    transpose,
)
from .broadcast import broadcast_like, sum_to
from .linalg import batch_dot, dot, matmul
from .math import (
    abs,
    add,
    add_n,
    cast,
    clip,
    divide,
    equal,
    exp,
    greater,
    greater_equal,
    identity,
    less,
    less_equal,
    log,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    ones_like,
    pow,
    round,
    sign,
    sqrt,
    square,
    stop_gradient,
    subtract,
    where,
    zeros_like,
)
from .nn import bias_add, elu, hard_sigmoid, log_softmax, relu, sigmoid, softmax, softplus, softsign, tanh
from .random import random_normal, random_uniform
from .reduce import argmax, argmin, max, mean, min, prod, sum
from .state import (
    Variable,
    as_tensor,
    assign,
    assign_add,
    assign_sub,
    constant,
    is_placeholder,
    is_variable,
    placeholder,
    placeholder_with_default,
    variable,
)
