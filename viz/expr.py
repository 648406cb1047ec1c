"""A safe little expression language for ``tensorgraph draw``: parsed with ``ast``, never eval'd.

Allowed: numbers, names bound by ``NAME=VALUE``, ``+ - * / ** @``, unary ``-`` and ``+``,
parentheses, and calls of the functions in :data:`FUNCTIONS` with positional arguments.
``max(a, b)`` is the elementwise ``tg.maximum`` (the lecture's max gate) and ``max(a)``
the reduction ``tg.max``; ``min`` alike. Everything else (attributes, subscripts,
keywords, lambdas, comprehensions, strings, unknown names) is refused with a message
that names it, before anything runs.
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import tensorgraph as tg

MAX_LENGTH = 2000  # characters of an expression
MAX_DEPTH = 50  # nesting of the syntax tree
MAX_EXPONENT = 1000  # |p| in x ** p
MAX_VALUE_LENGTH = 100_000  # characters of one NAME=VALUE value
MAX_ENTRIES = 10_000  # entries of one value ("a small nested list")

# name -> (function for one argument, function for two); None where that count is wrong.
FUNCTIONS: dict[str, tuple[Callable | None, Callable | None]] = {
    "max": (tg.max, tg.maximum),
    "min": (tg.min, tg.minimum),
    "exp": (tg.exp, None),
    "log": (tg.log, None),
    "relu": (tg.relu, None),
    "sum": (tg.sum, None),
    "mean": (tg.mean, None),
    "abs": (tg.abs, None),
    "sqrt": (tg.sqrt, None),
    "tanh": (tg.tanh, None),
    "sigmoid": (tg.sigmoid, None),
}

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.MatMult: tg.matmul,
    ast.Pow: lambda a, b: a**b,
}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}

# What to call the things we refuse, so the message names them in words.
_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if-expressions",
    ast.NamedExpr: "assignments (:=)",
    ast.Starred: "starred arguments",
    ast.List: "list literals (give lists as NAME=VALUE)",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.JoinedStr: "f-strings",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}


class ExpressionError(ValueError):
    """An expression or value that ``tensorgraph draw`` refuses, with the reason."""


def _snippet(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(node: ast.AST) -> float | None:
    """The value of a numeric literal, possibly negated (``-2``), else None."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return sign * float(node.value)
    return None


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _has_name(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) for n in ast.walk(node))


def _check(tree: ast.Expression, names: set[str]) -> None:
    """Walk the tree (iteratively) and refuse anything outside the whitelist."""
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            if not _is_number(node.value):
                raise ExpressionError(
                    f"only numbers are allowed as constants, not {_snippet(node)}"
                )
            try:
                finite = bool(np.isfinite(float(node.value)))
            except OverflowError:  # an int too large for a float
                finite = False
            if not finite:  # 1e999 is read as inf
                raise ExpressionError(f"the number {_snippet(node)} is too large")
            continue
        if isinstance(node, ast.Name):
            if node.id not in names:
                hint = (
                    f"; {node.id} is a function: call it, {node.id}(...)"
                    if node.id in FUNCTIONS
                    else f"; bind it with {node.id}=VALUE"
                )
                raise ExpressionError(f"unknown name {node.id!r}{hint}")
            continue
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise ExpressionError(
                    f"the operator in {_snippet(node)} is not allowed (use + - * / ** @)"
                )
            if isinstance(node.op, ast.Pow):
                p = _number(node.right)
                if _has_name(node.right) and _has_name(node.left):
                    raise ExpressionError(
                        f"in {_snippet(node)} the exponent must be a number like 2 or -0.5 "
                        "(or the base a number, as in 2 ** x)"
                    )
                if p is not None and abs(p) > MAX_EXPONENT:
                    raise ExpressionError(
                        f"the exponent in {_snippet(node)} is too large "
                        f"(at most {MAX_EXPONENT} in size)"
                    )
            stack += [(node.left, depth + 1), (node.right, depth + 1)]
            continue
        if isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise ExpressionError(f"the operator in {_snippet(node)} is not allowed")
            stack.append((node.operand, depth + 1))
            continue
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                what = _REFUSED.get(type(node.func), "this kind of call")
                raise ExpressionError(f"{what} not allowed ({_snippet(node.func)})")
            name = node.func.id
            if name not in FUNCTIONS:
                raise ExpressionError(
                    f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
                )
            if node.keywords:
                raise ExpressionError(
                    f"keyword arguments are not allowed ({_snippet(node)}); "
                    "give arguments by position"
                )
            one, two = FUNCTIONS[name]
            n = len(node.args)
            if (n == 1 and one is None) or (n == 2 and two is None) or n not in (1, 2):
                counts = " or ".join(str(k) for k, f in ((1, one), (2, two)) if f is not None)
                raise ExpressionError(f"{name}() takes {counts} argument(s), got {n}")
            stack += [(arg, depth + 1) for arg in node.args]
            continue
        what = _REFUSED.get(type(node), type(node).__name__)
        raise ExpressionError(f"{what} not allowed ({_snippet(node)})")


def parse(expr: str, names: set[str] | frozenset[str] = frozenset()) -> ast.Expression:
    """Parse ``expr`` and check it against the whitelist; raise ExpressionError if refused.

    >>> tree = parse("2*(x*y + max(z, w))", {"x", "y", "z", "w"})
    >>> try:
    ...     parse("__import__('os')")
    ... except ExpressionError as err:
    ...     print(str(err)[:33])
    unknown function '__import__'; al
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ExpressionError("the expression is empty")
    if len(expr) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"not a valid expression: {err.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is too deeply nested to parse") from None
    _check(tree, set(names))
    return tree


# Bindings are small (MAX_ENTRIES each), but `x * y` with a 10,000-entry column and a
# 10,000-entry row is 10^8 entries (10 GB with its gradients): every intermediate is
# bounded too, checked from the operands' shapes before the op allocates anything.
MAX_INTERMEDIATE = 1_000_000  # entries of any one tensor the expression makes
MAX_TOTAL = 10_000_000  # entries of all of them together
MAX_MATMUL_FLOPS = 100_000_000  # multiply-adds of one @ (a tenth of a second or so)


def _evaluate(node: ast.AST, env: dict[str, tg.Tensor], budget: list[int] | None = None) -> Any:
    # Recursion is safe here: _check has bounded the depth by MAX_DEPTH.
    budget = [0] if budget is None else budget  # entries made so far, for MAX_TOTAL
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        a = _evaluate(node.operand, env, budget)
        _reserve(node, [a], budget)
        return _UNARY[type(node.op)](a)
    if isinstance(node, ast.BinOp):
        a, b = _evaluate(node.left, env, budget), _evaluate(node.right, env, budget)
        pow_of_number = isinstance(node.op, ast.Pow) and not isinstance(b, tg.Tensor)
        if pow_of_number and abs(b) > MAX_EXPONENT:
            raise ExpressionError(f"the exponent {b:g} is too large")
        _reserve(node, [a, b], budget, matmul=isinstance(node.op, ast.MatMult))
        try:
            return _BINARY[type(node.op)](a, b)
        except ZeroDivisionError:
            raise ExpressionError(f"division by zero in {_snippet(node)}") from None
        except OverflowError:
            raise ExpressionError(f"{_snippet(node)} overflows") from None
    if isinstance(node, ast.Call):
        one, two = FUNCTIONS[node.func.id]
        args = [_evaluate(arg, env, budget) for arg in node.args]
        _reserve(node, args, budget)
        out = (one if len(args) == 1 else two)(*args)
        _count(node, out, budget)  # a function's own shape rule: checked after, too
        return out
    raise ExpressionError(f"{_snippet(node)} is not allowed")  # _check stops this first


def _shape(v: Any) -> tuple[int, ...]:
    return tuple(v.shape) if isinstance(v, tg.Tensor) else ()


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], int] | None:
    """The shape of ``A @ B`` and its multiply-adds, by numpy's rules (None: no fit)."""
    if not a or not b:
        return None
    # A 1-D operand is a row (left) or a column (right), and loses that axis afterwards.
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        return None
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        return None
    shape = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        shape = (*shape[:-2], shape[-1])
    if len(b) == 1:
        shape = shape[:-1]
    return shape, math.prod(batch) * a2[-2] * a2[-1] * b2[-1]


def _reserve(node: ast.AST, args: list[Any], budget: list[int], matmul: bool = False) -> None:
    """Refuse ``node`` before it runs if its result would be too large.

    The result of an elementwise op (and of every function, which broadcasts its
    arguments or reduces them) has at most the broadcast shape of its operands; ``@``
    has numpy's matmul shape. Operands that do not fit are left to the op, which says so.
    """
    shapes = [_shape(a) for a in args]
    if matmul:
        fit = _matmul_shape(*shapes)
        if fit is None:
            return
        shape, flops = fit
        if flops > MAX_MATMUL_FLOPS:
            raise ExpressionError(
                f"{_snippet(node)}: {' @ '.join(map(str, shapes))} takes {flops:,} "
                f"multiply-adds; at most {MAX_MATMUL_FLOPS:,} in one @"
            )
    else:
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:
            return
    size = math.prod(shape)
    if size > MAX_INTERMEDIATE:
        operands = " and ".join(map(str, shapes))
        raise ExpressionError(
            f"{_snippet(node)} would make a tensor of shape {shape} ({size:,} entries, from "
            f"{operands}); an expression's tensors may have at most {MAX_INTERMEDIATE:,}"
        )
    if budget[0] + size > MAX_TOTAL:
        raise ExpressionError(
            f"{_snippet(node)} of shape {shape}: the expression's tensors would hold more than "
            f"{MAX_TOTAL:,} entries in all"
        )
    budget[0] += size


def _count(node: ast.AST, out: Any, budget: list[int]) -> None:
    """After a function ran: refuse a result larger than its operands let us expect."""
    size = out.size if isinstance(out, tg.Tensor) else 1
    if size > MAX_INTERMEDIATE:
        raise ExpressionError(
            f"{_snippet(node)} made a tensor of shape {_shape(out)}; an expression's tensors "
            f"may have at most {MAX_INTERMEDIATE:,} entries"
        )


def parse_value(text: str) -> np.ndarray:
    """A value from the command line: a number or a small nested list of numbers.

    >>> parse_value("-4"), parse_value("[[1, 2], [3, 4.5]]").shape
    (array(-4.), (2, 2))
    """
    if len(text) > MAX_VALUE_LENGTH:
        raise ExpressionError(f"a value is longer than {MAX_VALUE_LENGTH} characters")
    try:
        obj = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        raise ExpressionError(
            f"{text[:40]!r} is not a number or a nested list of numbers"
        ) from None

    stack = [obj]
    while stack:  # only numbers and lists/tuples of them
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif not _is_number(item):
            raise ExpressionError(f"{text[:40]!r}: {item!r} is not a number")
    try:
        arr = np.asarray(obj, dtype=np.float64)
    except (ValueError, OverflowError):
        raise ExpressionError(
            f"{text[:40]!r} is not a rectangular nested list of numbers"
        ) from None
    if arr.size > MAX_ENTRIES:
        raise ExpressionError(f"a value may have at most {MAX_ENTRIES} entries, got {arr.size}")
    return arr


def parse_bindings(pairs: list[str]) -> dict[str, np.ndarray]:
    """``["x=3", "y=[1, 2]"]`` -> ``{"x": array(3.), "y": array([1., 2.])}``.

    >>> parse_bindings(["x=3", "y=-4"])
    {'x': array(3.), 'y': array(-4.)}
    """
    values: dict[str, np.ndarray] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ExpressionError(f"expected NAME=VALUE, got {pair[:40]!r}")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExpressionError(f"{name[:40]!r} is not a valid name")
        if name in values:
            raise ExpressionError(f"{name} is given twice")
        values[name] = parse_value(text)
    return values


def evaluate(expr: str, values: dict[str, Any]) -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    """Build the graph of ``expr`` with every name a leaf that requires a gradient.

    Returns the output tensor (named "f") and the variables by name.

    >>> f, xs = evaluate("2*(x*y + max(z, w))", {"x": 3, "y": -4, "z": 2, "w": -1})
    >>> f.item()
    -20.0
    """
    tree = parse(expr, set(values))
    env = {name: tg.tensor(value, requires_grad=True, name=name) for name, value in values.items()}
    out = _evaluate(tree.body, env)
    if not isinstance(out, tg.Tensor) or not out.requires_grad:
        raise ExpressionError("the expression uses no variable, so there is nothing to draw")
    if out.op is not None:  # a bare `x` stays x
        out.name = "f" if "f" not in env else "out"
    return out, env
