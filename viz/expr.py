"""A safe little expression language for ``tensorgraph draw``: parsed with ``ast``, never eval'd.

Allowed: numbers, names bound by ``NAME=VALUE``, Python's operators ``+ - * / ** @``
and unary ``-`` and ``+``, parentheses, subscripts of whole numbers, slices and lists
(``x[0]``, ``S[:, (2, 0)]``), and calls of every op that ``tg.OPS`` names for
expressions (:data:`FUNCTIONS`), with positional arguments: first the op's inputs, then
its attributes as literals (``sum(x, 0)``, ``reshape(x, (2, 3))``) or bound names
(``svm_loss(S, y)``). ``max(a, b)`` is the elementwise ``tg.maximum`` (the lecture's max
gate) and ``max(a)`` the reduction ``tg.max``; ``min`` alike. Everything else
(attributes, keywords, lambdas, comprehensions, strings, unknown names) is refused with
a message that names it, before anything runs.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import keyword
import math
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import tensorgraph as tg

MAX_LENGTH = 2000  # characters of an expression
MAX_DEPTH = 50  # nesting of the syntax tree
MAX_EXPONENT = 1000  # |p| in x ** p
MAX_VALUE_LENGTH = 100_000  # characters of one NAME=VALUE value
MAX_ENTRIES = 10_000  # entries of one value ("a small nested list")

# Every op the registry names for expressions, by that name (max: the gate and the reduction).
FUNCTIONS: dict[str, list[tg.OpInfo]] = {}
for _info in tg.OPS.values():
    if _info.expr:
        FUNCTIONS.setdefault(_info.expr, []).append(_info)

# Python's operators: which op each records is the registry's (the Tensor method it calls).
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.MatMult: operator.matmul,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
OPERATORS = {"+", "-", "*", "/", "@", "**", "[]"}  # what the language writes with syntax
# Comparisons make the bool mask of where(x > 0, a, b): allowed there, and only there.
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def _required(info: tg.OpInfo) -> int:
    """How many arguments the op needs: its parameters without a default."""
    params = inspect.signature(info.forward).parameters
    return sum(params[p].default is inspect.Parameter.empty for p in info.params)


def _arg_counts(name: str) -> list[int]:
    """How many positional arguments ``name(...)`` may take."""
    counts: set[int] = set()
    for info in FUNCTIONS[name]:
        counts.update(range(_required(info), len(info.params) + 1))
    return sorted(counts)


def _pick_op(name: str, n: int) -> tg.OpInfo | None:
    """The op ``name(...)`` with ``n`` arguments calls: one taking exactly n inputs first
    (``max(a, b)`` is the gate), else one that takes n arguments (``max(a, 0)``)."""
    fits = [i for i in FUNCTIONS[name] if _required(i) <= n <= len(i.params)]
    exact = [i for i in fits if len(i.inputs) == n and not i.variadic]
    return (exact or fits or [None])[0]


def _roles(info: tg.OpInfo, args: list[ast.expr]) -> list[tuple[ast.expr, str]]:
    """Each argument of a call with what it is: "input", "inputs" (a list of them, for
    cat and stack) or the name of the attribute it gives, in the op's parameter order
    (``where(cond, a, b)``)."""
    roles = []
    for arg, param in zip(args, info.params, strict=False):
        if param in info.inputs:
            roles.append((arg, "inputs" if info.variadic else "input"))
        else:
            roles.append((arg, param))
    return roles


def operators() -> tuple[list[str], list[str]]:
    """The registry's binary and prefix operators, in its order: (["+", ...], ["-"]).

    >>> operators()[1]
    ['-']
    """
    infos = [i for i in tg.OPS.values() if i.operator and i.operator != "[]"]
    binary = [i.operator for i in infos if len(i.inputs) == 2 or i.attrs]
    prefix = [i.operator for i in infos if len(i.inputs) == 1 and not i.attrs]
    return list(dict.fromkeys(binary)), list(dict.fromkeys(prefix))  # ** is pow's and power's


def signatures() -> list[str]:
    """Every function of the language with its arguments, for the help text.

    >>> "max(a, b)" in signatures() and "sum(x, axis, keepdims)" in signatures()
    True
    """
    return [info.expression() for infos in FUNCTIONS.values() for info in infos]


# What to call the things we refuse, so the message names them in words.
_REFUSED = {
    ast.Attribute: "attribute access",
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


def _literal_number(node: ast.AST) -> float | None:
    """The value of a numeric literal, possibly negated (``-2``), else None."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and _is_number(node.value):
        try:
            return sign * float(node.value)
        except OverflowError:  # an int too large for a float
            return sign * float("inf")
    return None


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _has_name(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) for n in ast.walk(node))


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """ "did you mean w?" for the closest known name (any case), or "".

    >>> _did_you_mean("ww", {"w", "x"}), _did_you_mean("W", {"w"}), _did_you_mean("q", {"w"})
    ('did you mean w?', 'did you mean w?', '')
    """
    by_lower = {k.lower(): k for k in sorted(known)}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.5)
    return f"did you mean {by_lower[close[0]]}?" if close else ""


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
                if node.id in FUNCTIONS:
                    hint = f"; {node.id} is a function: call it, {node.id}(...)"
                else:
                    guess = _did_you_mean(node.id, names)
                    bind = f"bind it with {node.id}=VALUE"
                    hint = f"; {guess} (or {bind})" if guess else f"; {bind}"
                raise ExpressionError(f"unknown name {node.id!r}{hint}")
            continue
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise ExpressionError(
                    f"the operator in {_snippet(node)} is not allowed (use + - * / ** @)"
                )
            if isinstance(node.op, ast.Pow):
                p = _literal_number(node.right)
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
        if isinstance(node, ast.Subscript):
            _index_literal(node.slice, node, top=True)
            stack.append((node.value, depth + 1))
            continue
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                what = _REFUSED.get(type(node.func), "this kind of call")
                raise ExpressionError(f"{what} not allowed ({_snippet(node.func)})")
            name = node.func.id
            if name not in FUNCTIONS:
                # tg.maximum is max(a, b) here: the registry says how each op is spelled.
                spelled = {i.name: i.expr for i in tg.OPS.values() if i.expr}.get(name)
                guess = f"did you mean {spelled}?" if spelled else _did_you_mean(name, FUNCTIONS)
                raise ExpressionError(
                    f"unknown function {name!r}{f' ({guess})' if guess else ''}; "
                    f"allowed: {', '.join(sorted(FUNCTIONS))}"
                )
            if node.keywords:
                raise ExpressionError(
                    f"keyword arguments are not allowed ({_snippet(node)}); "
                    "give arguments by position"
                )
            n = len(node.args)
            info = _pick_op(name, n)
            if info is None:
                counts = _arg_counts(name)
                shown = str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
                raise ExpressionError(f"{name}() takes {shown} argument(s), got {n}")
            for arg, role in _roles(info, node.args):
                if role == "input":
                    stack.append((arg, depth + 1))
                elif role == "inputs":  # cat([a, b], 0): a list of expressions
                    if not isinstance(arg, ast.List | ast.Tuple) or not arg.elts:
                        raise ExpressionError(
                            f"{name}() takes a list of tensors first, as in {name}([a, b]), "
                            f"not {_snippet(arg)}"
                        )
                    stack += [(e, depth + 1) for e in arg.elts]
                elif isinstance(arg, ast.Compare):  # where(x > 0, a, b): a mask
                    if len(arg.ops) != 1 or type(arg.ops[0]) not in _COMPARE:
                        raise ExpressionError(
                            f"{name}(): {_snippet(arg)} must compare two values once "
                            "(< <= > >= == !=)"
                        )
                    stack += [(arg.left, depth + 1), (arg.comparators[0], depth + 1)]
                else:
                    _attribute_literal(arg, name, role, names)
            continue
        what = _REFUSED.get(type(node), type(node).__name__)
        raise ExpressionError(f"{what} not allowed ({_snippet(node)})")


def _int_literal(node: ast.AST) -> int | None:
    """A whole-number literal, possibly negated, else None."""
    value = _literal_number(node)
    if value is None or not float(value).is_integer():
        return None
    literal = node
    while isinstance(literal, ast.UnaryOp):
        literal = literal.operand
    if isinstance(literal, ast.Constant) and isinstance(literal.value, float):
        return None  # 2.0 is not an index
    return int(value)


def _index_literal(node: ast.AST, where: ast.AST, top: bool = False) -> Any:
    """The index a subscript's literal stands for (whole numbers, slices, lists of whole
    numbers, a tuple of those), or an ExpressionError."""
    if _int_literal(node) is not None:
        return _int_literal(node)
    if isinstance(node, ast.Slice):
        parts = [node.lower, node.upper, node.step]
        if all(p is None or _int_literal(p) is not None for p in parts):
            return slice(*(None if p is None else _int_literal(p) for p in parts))
    if isinstance(node, ast.Tuple) and top:
        return tuple(_index_literal(e, where) for e in node.elts)
    if isinstance(node, ast.List | ast.Tuple):  # inside an index: an array of positions
        values = [_int_literal(e) for e in node.elts]
        if node.elts and all(v is not None for v in values):
            return list(values)
    raise ExpressionError(
        f"subscripts take whole numbers, slices and lists of whole numbers, not "
        f"{_snippet(node)} (in {_snippet(where)})"
    )


def _attribute_literal(node: ast.AST, func: str, attr: str, names: set[str]) -> None:
    """Check an attribute argument: a number, True/False, a tuple of whole numbers or a
    bound name (labels)."""
    if _literal_number(node) is not None:
        if not np.isfinite(_literal_number(node)):
            raise ExpressionError(f"the number {_snippet(node)} is too large")
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return
    if isinstance(node, ast.Name) and node.id in names:
        return
    if isinstance(node, ast.Tuple) and all(_int_literal(e) is not None for e in node.elts):
        return
    if isinstance(node, ast.Constant) and _is_word(node.value):  # astype(x, 'float32')
        return
    raise ExpressionError(
        f"{func}(): its argument {attr} must be a number, True/False, a tuple of whole "
        f"numbers, a word in quotes ('float32') or a bound name, not {_snippet(node)}"
    )


def _is_word(v: object) -> bool:
    """A short quoted word, such as a dtype's name."""
    return isinstance(v, str) and v.isidentifier() and len(v) <= 16


def _attribute_value(node: ast.AST, values: dict[str, np.ndarray]) -> Any:
    """The Python value of an attribute argument that passed :func:`_attribute_literal`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, bool | str):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Tuple):
        return tuple(_int_literal(e) for e in node.elts)
    whole = _int_literal(node)
    return whole if whole is not None else _literal_number(node)


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


# How an engine runs one op of the language: the op and its arguments by parameter name
# (inputs as tensors, a sequence input as a list, attributes as given).
Call = Callable[[tg.OpInfo, dict[str, Any]], Any]


def _call(info: tg.OpInfo, arguments: dict[str, Any]) -> tg.Tensor:
    """Run a registry op the tensorgraph way: its own function."""
    return info.function(**arguments)


def _evaluate(
    node: ast.AST,
    env: dict[str, Any],
    values: dict[str, np.ndarray],
    budget: list[int] | None = None,
    call: Call = _call,
) -> Any:
    # Recursion is safe here: _check has bounded the depth by MAX_DEPTH.
    budget = [0] if budget is None else budget  # entries made so far, for MAX_TOTAL
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        a = _evaluate(node.operand, env, values, budget, call)
        _reserve(node, [a], budget)
        return _UNARY[type(node.op)](a)
    if isinstance(node, ast.BinOp):
        a = _evaluate(node.left, env, values, budget, call)
        b = _evaluate(node.right, env, values, budget, call)
        pow_of_number = isinstance(node.op, ast.Pow) and not _is_array(b)
        if pow_of_number and abs(b) > MAX_EXPONENT:
            raise ExpressionError(f"the exponent {b:g} is too large")
        _reserve(node, [a, b], budget, matmul=isinstance(node.op, ast.MatMult))
        try:
            return _BINARY[type(node.op)](a, b)
        except ZeroDivisionError:
            raise ExpressionError(f"division by zero in {_snippet(node)}") from None
        except OverflowError:
            raise ExpressionError(f"{_snippet(node)} overflows") from None
    if isinstance(node, ast.Subscript):
        base = _evaluate(node.value, env, values, budget, call)
        out = base[_index_literal(node.slice, node, top=True)]
        _count(node, out, budget)  # a list of positions may repeat them: checked after
        return out
    if isinstance(node, ast.Call):
        info = _pick_op(node.func.id, len(node.args))
        assert info is not None  # _check made sure
        inputs, kwargs = [], {}
        for arg, role in _roles(info, node.args):
            if role == "input":
                inputs.append(_evaluate(arg, env, values, budget, call))
            elif role == "inputs":
                parts = [_evaluate(e, env, values, budget, call) for e in arg.elts]
                inputs += parts
                kwargs[info.inputs[0]] = parts
            elif isinstance(arg, ast.Compare):
                left = _evaluate(arg.left, env, values, budget, call)
                right = _evaluate(arg.comparators[0], env, values, budget, call)
                if not _is_array(left) and not _is_array(right):
                    left = tg.tensor(left)
                kwargs[role] = _COMPARE[type(arg.ops[0])](left, right)
            else:
                kwargs[role] = _attribute_value(arg, values)
        if not info.variadic:
            kwargs.update(zip(info.inputs, inputs, strict=True))
        _reserve(node, [] if info.variadic else inputs, budget)
        out = call(info, kwargs)
        _count(node, out, budget)  # an op's own shape rule: checked after, too
        return out
    raise ExpressionError(f"{_snippet(node)} is not allowed")  # _check stops this first


def _is_array(v: Any) -> bool:
    """A tensor (tensorgraph's or PyTorch's), not a Python number."""
    return hasattr(v, "shape") and not isinstance(v, int | float)


def _shape(v: Any) -> tuple[int, ...]:
    return tuple(v.shape) if _is_array(v) else ()


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
    size = math.prod(_shape(out))
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


def evaluate_with(
    tree: ast.Expression, env: dict[str, Any], values: dict[str, np.ndarray], call: Call
) -> Any:
    """Evaluate a parsed, checked expression over the tensors ``env``, running each
    function of the language through ``call(info, arguments)``: another engine's
    evaluator (``viz.pytorch.evaluate_torch``) shares the language and every bound.

    >>> tree = parse("max(x, 2)", {"x"})
    >>> evaluate_with(tree, {"x": tg.tensor(3.0)}, {}, _call)
    tensor(3.)
    """
    return _evaluate(tree.body, env, values, call=call)


def evaluate(expr: str, values: dict[str, Any]) -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    """Build the graph of ``expr`` with every name a leaf that requires a gradient.

    Returns the output tensor (named "f") and the variables by name.

    >>> f, xs = evaluate("2*(x*y + max(z, w))", {"x": 3, "y": -4, "z": 2, "w": -1})
    >>> f.item()
    -20.0
    """
    tree = parse(expr, set(values))
    env = {name: tg.tensor(value, requires_grad=True, name=name) for name, value in values.items()}
    out = _evaluate(tree.body, env, {name: np.asarray(v) for name, v in values.items()})
    if not isinstance(out, tg.Tensor) or not out.requires_grad:
        raise ExpressionError("the expression uses no variable, so there is nothing to draw")
    if out.op is not None:  # a bare `x` stays x
        out.name = "f" if "f" not in env else "out"
    return out, env
