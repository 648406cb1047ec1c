"""The graph as code: its forward and backward pass as straight-line numpy.

    print(tg.flat_code(f))        the lecture slide's code for any graph: one line per
                                  gate with its value, then the backward pass written
                                  with the gate patterns; exec it and call grads(...)
    step = tg.compile(loss_fn)    trace a function once, then run that code on new
                                  inputs of the same shapes, building no graph

Each op's registry entry carries its code template (``code=``; the format is in
``registry.py``'s docstring). The writer walks the graph: the forward pass in the order
the gates were made, the backward pass in the engine's order (:func:`backward_steps`),
and fills each gate's template with the tensors' names. It runs every line as it writes
it, on the traced values, so each comment is the line's value and each line is checked
against the engine's own forward and backward: a template that disagrees with its op's
rule is an error naming the op, never wrong code. The shapes are known then, so the code
sums a broadcast gradient down to its input's shape (``.sum(axis=0)``), writes ``+=``
where a tensor is used twice, and holds for inputs of the traced shapes and dtypes.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import inspect
import keyword
import re
import textwrap
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .losses import labels as _check_labels
from .registry import OPS, OpInfo
from .tensor import Tensor, _seed, _short, backward_steps, graph_nodes

__all__ = ["Compiled", "compile", "describe", "flat_code"]

MAX_LITERAL = 10_000  # entries of a constant written into the code; larger ones are passed
LETTERS = ("p", "q", "v", "r", "s", "u")  # unnamed gates, in the slide's order (p, q, v)

# What a template may call when its `if`s are decided and its shapes folded.
_SAFE_NAMES = "abs all any bool float int isinstance len list max min range slice sum tuple"
_SAFE = {n: getattr(builtins, n) for n in _SAFE_NAMES.split()}
_SHAPES = frozenset({"shape", "ndim", "size", "dtype"})
_RESERVED = frozenset({*keyword.kwlist, *_SAFE, "np", "grads", "Ellipsis", "print"})
_SCRATCH = "_tg_c"  # the name the writer runs a contribution under (never in the code)


# ----- names -----


def _identifier(text: str) -> str:
    """``text`` as a Python identifier: "data loss" -> "data_loss", "R(W)" -> "R_W"."""
    name = re.sub(r"\W+", "_", text).strip("_")
    if not name:
        return "t"
    return name if name.isidentifier() and not name[0].isdigit() else "t_" + name


class _Names:
    """Identifiers handed out once each: a tensor's own name where it is free."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self.taken = set(_RESERVED) | set(reserved)

    def claim(self, wanted: str) -> str:
        base = _identifier(wanted)
        name, k = base, 2
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def numbered(self, prefix: str) -> str:
        k = 1
        while f"{prefix}{k}" in self.taken:
            k += 1
        self.taken.add(f"{prefix}{k}")
        return f"{prefix}{k}"


# ----- values as code, and in comments -----


def _number_text(v: Any) -> str:
    """A number as code that gives it back exactly: 2, 0.1, -1e-07, np.inf."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v) if isinstance(v, float) else v
    if np.isnan(v):
        return "np.nan"
    if np.isinf(v):
        return "np.inf" if v > 0 else "-np.inf"
    if float(v) == int(v) and abs(float(v)) < 2**53 and not (v == 0 and np.signbit(v)):
        return str(int(v))
    return str(v) if isinstance(v, np.floating) else repr(v)  # shortest text for its dtype


def _float_text(v: np.floating) -> str:
    """An entry of a float array, exactly and as a float: 3.0, not 3 (an int array)."""
    return _number_text(v) if not np.isfinite(v) else str(v)


def _literal(value: Any) -> ast.expr | None:
    """``value`` as an expression (numbers, None, bools, words such as a dtype's name,
    tuples, slices), else None."""
    if value is None or value is Ellipsis or isinstance(value, str):
        return ast.Constant(value)
    if isinstance(value, bool | np.bool_ | int | np.integer | float | np.floating):
        expr = ast.parse(_number_text(value), mode="eval").body
        return expr
    if isinstance(value, tuple | list):
        items = [_literal(v) for v in value]
        if any(i is None for i in items):
            return None
        return (ast.Tuple if isinstance(value, tuple) else ast.List)(items, ast.Load())
    if isinstance(value, slice):
        return _slice_call([_literal(v) for v in (value.start, value.stop, value.step)])
    return None


def _slice_call(parts: list[ast.expr | None]) -> ast.expr:
    """``slice(...)`` with as few arguments as say the same."""
    start, stop, step = parts
    args = [stop] if _is_none(start) and _is_none(step) else [start, stop]
    if not _is_none(step):
        args = [start, stop, step]
    return ast.Call(ast.Name("slice", ast.Load()), args, [])


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _dtype_expr(dtype: np.dtype) -> ast.expr:
    return ast.Attribute(ast.Name("np", ast.Load()), dtype.name, ast.Load())


def _array_text(a: np.ndarray, name: str = "") -> str:
    """An array as code that gives it back exactly, dtype included."""
    dtype = "" if a.dtype in (np.float64, np.int64, np.bool_) else f", dtype=np.{a.dtype.name}"
    if a.size == 0:
        return f"np.zeros({a.shape}, dtype=np.{a.dtype.name})"
    if a.ndim == 0:
        return f"np.array({_number_text(a.item() if a.dtype.kind != 'f' else a[()])}{dtype})"
    body = np.array2string(
        a,
        separator=", ",
        threshold=a.size + 1,
        max_line_width=88,
        formatter={"all": _float_text if a.dtype.kind == "f" else _number_text},
        prefix=f"{name} = np.array(" if name else "np.array(",
    )
    return f"np.array({body}{dtype})"


def _num(v: Any) -> str:
    """A number for a comment: -12, 0.5, 2.5e-05."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    return f"{float(v) + 0.0:.6g}"  # + 0.0: no "-0"


def describe(value: Any) -> str:
    """A value as a line's comment: numbers as numbers, arrays by shape and a summary.

    >>> describe(-12.0), describe(np.array([1.0, 2.5])), describe(np.ones((3, 4)))
    ('-12', '(2,) [1, 2.5]', '(3, 4) min 1, mean 1, max 1')
    >>> describe([np.zeros(2), np.ones((1, 2))])  # one gradient per input of cat or stack
    '[(2,) [0, 0]; (1, 2) [[1, 1]]]'
    """
    if isinstance(value, list | tuple):
        return "[" + "; ".join(describe(v) for v in value) + "]"
    a = np.asarray(value)
    dtype = "" if a.dtype in (np.float64, np.int64) else f" {a.dtype.name}"
    if a.ndim == 0:
        return _num(a.item())
    shape = f"({', '.join(map(str, a.shape))}{',' if a.ndim == 1 else ''})"
    if a.size == 0:
        return f"{shape}{dtype} empty"
    if a.dtype.kind == "b":
        return f"{shape} bool, {int(a.sum())} True"
    if a.size <= 6:
        body = np.array2string(a, separator=", ", formatter={"all": _num})
        return f"{shape}{dtype} {' '.join(body.split())}"
    summary = f"min {_num(a.min())}, mean {_num(a.mean())}, max {_num(a.max())}"
    return f"{shape}{dtype} {summary}"


# ----- a template, decided and folded for one gate -----


@functools.cache
def _parsed(name: str, code: str) -> tuple[ast.stmt, ...]:
    if not code.strip():
        raise ValueError(
            f"flat_code: op {name!r} has no code template; give its @op entry code=... "
            "(the format is in tensorgraph/registry.py)"
        )
    try:
        return tuple(ast.parse(textwrap.dedent(code)).body)
    except SyntaxError as err:
        raise ValueError(
            f"flat_code: the code template of op {name!r} is not Python: {err}"
        ) from None


def _template(info: OpInfo) -> list[ast.stmt]:
    """A fresh copy of the op's template (the transformers below change it in place)."""
    return [ast.parse(ast.unparse(s)).body[0] for s in _parsed(info.name, info.code)]


class _Fold(ast.NodeTransformer):
    """Decide a template's ``if``s and fold what is known once the graph is traced: the
    attributes, the inputs' shapes, arithmetic on them; drop ``k=k`` keywords of
    attributes at their default."""

    def __init__(self, op: str, env: dict[str, Any], shaped: set[str], defaults: dict) -> None:
        self.op = op
        self.env = {"__builtins__": _SAFE, **_SAFE, "np": np, **env}
        self.statics = set(_SAFE) | {"np"} | (set(env) - shaped)
        self.shaped = shaped
        self.defaults = defaults

    def body(self, stmts: Sequence[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            result = self.visit(stmt)
            if isinstance(result, list):
                out.extend(result)
            elif result is not None:
                out.append(result)
        return out

    def visit_If(self, node: ast.If) -> list[ast.stmt]:
        if not self.static(node.test):
            raise ValueError(
                f"flat_code: the code template of op {self.op!r} tests `{ast.unparse(node.test)}`"
                ", which reads values; an if may read attributes and shapes only"
            )
        return self.body(node.body if self.evaluate(node.test) else node.orelse)

    def visit_Assign(self, node: ast.Assign) -> ast.Assign | None:
        node = self.generic_visit(node)  # type: ignore[assignment]
        (target,) = node.targets if len(node.targets) == 1 else (None,)
        same = isinstance(node.value, ast.Name) and node.value.id == getattr(target, "id", None)
        if isinstance(target, ast.Name) and same:
            return None  # `g2 = g2`, what a decided if-expression may leave
        return node

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name):
            node.value = self.visit(node.value)  # x[index]: _Fill writes the index
            return node
        if isinstance(node, ast.IfExp) and self.static(node.test):
            return self.visit(node.body if self.evaluate(node.test) else node.orelse)
        if isinstance(node, ast.Call):
            node.keywords = [k for k in node.keywords if not self.at_default(k)]
        slices = isinstance(node, ast.Slice) or (
            isinstance(node, ast.Tuple) and any(isinstance(e, ast.Slice) for e in node.elts)
        )  # a slice stays a slice (x[:, None]), not slice(None)
        if (
            isinstance(node, ast.expr)
            and not (isinstance(node, ast.Constant) or slices)
            and self.static(node)
        ):
            try:
                literal = _literal(self.evaluate(node))
            except Exception:  # e.g. 0 // 0: left for the code to say
                literal = None
            if literal is not None:
                return literal
        return super().visit(node)

    def at_default(self, k: ast.keyword) -> bool:
        if not (isinstance(k.value, ast.Name) and k.value.id == k.arg and k.arg in self.defaults):
            return False
        value, default = self.env[k.arg], self.defaults[k.arg]
        if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
            return False
        return type(value) is type(default) and value == default

    def static(self, node: ast.AST, bound: frozenset[str] = frozenset()) -> bool:
        """Whether ``node`` is known now: attributes, shapes, numbers, builtins, np."""
        if isinstance(node, ast.Name):
            return node.id in bound or (isinstance(node.ctx, ast.Load) and node.id in self.statics)
        value = node.value if isinstance(node, ast.Attribute) else None
        if isinstance(value, ast.Name) and value.id in self.shaped:
            return node.attr in _SHAPES  # type: ignore[attr-defined]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
            (arg,) = node.args if len(node.args) == 1 else (None,)
            if isinstance(arg, ast.Name) and arg.id in self.shaped:
                return True
        if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp | ast.DictComp):
            targets = (n for g in node.generators for n in ast.walk(g.target))
            bound = bound | {n.id for n in targets if isinstance(n, ast.Name)}
        if isinstance(node, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom):
            return False
        return all(self.static(child, bound) for child in ast.iter_child_nodes(node))

    def evaluate(self, node: ast.expr) -> Any:
        expr = ast.fix_missing_locations(ast.Expression(body=node))
        return eval(builtins.compile(expr, f"<code template of {self.op}>", "eval"), dict(self.env))


def _base(target: ast.expr) -> set[str]:
    """The names an assignment target writes: x, x[i] and x.a write x; (a, b) both."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Subscript | ast.Attribute | ast.Starred):
        return _base(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        return set().union(*(_base(e) for e in target.elts))
    return set()


def _writes(stmt: ast.stmt) -> set[str]:
    """What a template statement assigns or changes in place (``np.add.at(dx, ...)``
    changes its first argument)."""
    if isinstance(stmt, ast.Assign):
        return set().union(*(_base(t) for t in stmt.targets))
    if isinstance(stmt, ast.AugAssign | ast.AnnAssign):
        return _base(stmt.target)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and stmt.value.args:
        return _base(stmt.value.args[0])
    if isinstance(stmt, ast.Expr | ast.Pass):
        return set()
    raise ValueError(f"a code template is straight-line code; `{ast.unparse(stmt)}` is not")


def _reads(stmt: ast.stmt) -> set[str]:
    names = {
        n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    if isinstance(stmt, ast.AugAssign):
        names |= _base(stmt.target)
    return names


def _prune(stmts: list[ast.stmt], wanted: set[str]) -> list[ast.stmt]:
    """The statements the names ``wanted`` need (the gradients of inputs that want one)."""
    live, kept = set(wanted), []
    for stmt in reversed(stmts):
        if _writes(stmt) & live:
            kept.append(stmt)
            live |= _reads(stmt)
    return kept[::-1]


class _Fill(ast.NodeTransformer):
    """Put the graph's names into a decided template (``resolve(name, load, subscript)``)."""

    def __init__(self, resolve: Callable[[str, bool, bool], ast.expr]) -> None:
        self.resolve = resolve

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.resolve(node.id, isinstance(node.ctx, ast.Load), False)

    def visit_Subscript(self, node: ast.Subscript) -> ast.Subscript:
        if isinstance(node.slice, ast.Name):  # x[index]: an index may hold slices
            node.value = self.visit(node.value)
            node.slice = self.resolve(node.slice.id, True, True)
            return node
        return self.generic_visit(node)  # type: ignore[return-value]


# ----- the writer -----


class _Gate:
    """One gate's template, decided for its attributes and shapes, split in two."""

    def __init__(self, writer: _Writer, node: Tensor) -> None:
        info = OPS.get(node.op or "")
        if info is None:
            raise ValueError(f"flat_code: {node.op!r} is not an op of tg.OPS")
        self.info, self.node, self.writer = info, node, writer
        ins = list(node.inputs)
        self.inputs: dict[str, Any] = (
            {info.inputs[0]: ins} if info.variadic else dict(zip(info.inputs, ins, strict=True))
        )
        self.attrs = dict(node.attrs)
        params = inspect.signature(info.forward).parameters
        defaults = {
            a: params[a].default
            for a in info.attrs
            if a in params and params[a].default is not inspect.Parameter.empty
        }
        values = {
            k: [t._data for t in v] if isinstance(v, list) else v._data
            for k, v in self.inputs.items()
        }
        env = {**self.attrs, **values, "out": node._data, "g": node._data}
        fold = _Fold(info.name, env, {*self.inputs, "out", "g"}, defaults)
        stmts = fold.body(_template(info))
        outs = [i for i, s in enumerate(stmts) if "out" in _writes(s)]
        if not outs:
            raise ValueError(f"flat_code: the code template of op {info.name!r} assigns no `out`")
        self.forward, self.backward = stmts[: outs[-1] + 1], stmts[outs[-1] + 1 :]
        self.dnames = {f"d{name}" for name in info.inputs}
        written = set().union(*(_writes(s) for s in stmts))
        comprehension = {
            n.id
            for s in stmts
            for c in ast.walk(s)
            if isinstance(c, ast.comprehension)
            for n in ast.walk(c.target)
            if isinstance(n, ast.Name)
        }
        self.temps = (written | comprehension) - self.dnames - {"out"}
        self.renamed: dict[str, str] = {}
        self.out = writer.var[id(node)]

    def resolve(self, name: str, load: bool, subscript: bool, d: dict[str, str]) -> ast.expr:
        """The expression for template name ``name`` in this gate."""
        w = self.writer
        if name in d:
            return ast.Name(d[name], ast.Load() if load else ast.Store())
        if name == "out":
            return ast.Name(self.out, ast.Load() if load else ast.Store())
        if name in self.temps:
            if name not in self.renamed:
                self.renamed[name] = w.names.claim(name)
            return ast.Name(self.renamed[name], ast.Load() if load else ast.Store())
        if not load:
            raise ValueError(
                f"flat_code: the code template of op {self.info.name!r} writes to {name!r}"
            )
        if name in self.inputs:
            ts = self.inputs[name]
            if isinstance(ts, list):
                return ast.List([w.operand(t, self.node) for t in ts], ast.Load())
            return w.operand(ts, self.node)
        if name in self.attrs:
            return w.attribute(self.attrs[name], name, subscript)
        if name == "g":
            return ast.Name(w.grad[id(self.node)], ast.Load())
        if name == "np" or name in _SAFE or name in dir(builtins):
            return ast.Name(name, ast.Load())
        raise ValueError(
            f"flat_code: the code template of op {self.info.name!r} uses {name!r}, which is "
            "no input, attribute, out, g, d<input>, temporary or builtin"
        )

    def filled(self, stmts: list[ast.stmt], d: dict[str, str]) -> list[ast.stmt]:
        fill = _Fill(lambda n, load, sub: self.resolve(n, load, sub, d))
        return [ast.fix_missing_locations(fill.visit(s)) for s in stmts]


class _Writer:
    """Writes a graph's forward and backward pass as lines of code, running each one on
    the traced values and checking it against the engine as it goes."""

    def __init__(
        self,
        root: Tensor,
        seed: np.ndarray | None,
        params: list[Tensor],
        reserved: Iterable[str] = (),
        bound: dict[int, str] | None = None,
        max_literal: int | None = MAX_LITERAL,
    ) -> None:
        self.root = root
        self.params = params
        self.max_literal = max_literal
        self.names = _Names(reserved)
        self.bound_names: dict[str, str] = {}  # a compiled function's labels -> their variable
        for raw in (bound or {}).values():
            if raw not in self.bound_names:
                self.bound_names[raw] = self.names.claim(raw)
        self.bound = {key: self.bound_names[raw] for key, raw in (bound or {}).items()}
        self.nodes = graph_nodes(root)
        ids = {id(p) for p in params}
        self.live: set[int] = set()
        for t in self.nodes:
            if id(t) in ids or (t.op is not None and any(id(i) in self.live for i in t.inputs)):
                self.live.add(id(t))
        self.gates = sorted((t for t in self.nodes if t.op and id(t) in self.live), key=_made)
        self.var: dict[int, str] = {}
        self.grad: dict[int, str] = {}
        self.constants: list[tuple[str, np.ndarray, str | None]] = []  # name, value, code
        self._const: dict[int, str] = {}
        self._keep: list[Any] = []  # whatever a constant's id was taken from stays alive
        self.ns: dict[str, Any] = {"np": np}
        self.lines: list[str] = []  # the function's body, unindented
        self.assigned: set[str] = set()  # gradient variables written so far
        self._name_everything()
        self.seed = seed

    # --- names ---

    def _name_everything(self) -> None:
        root, claim = self.root, self.names.claim
        computed = [t for t in self.gates if t is not root]
        constants = [t for t in self.nodes if id(t) not in self.live]
        # Own names first, so a tensor named "q" keeps it; then generated ones.
        for t in [root, *self.params, *computed, *constants]:
            if t.name is not None and id(t) not in self.var:
                self.var[id(t)] = claim(t.name)
        if id(root) not in self.var:
            self.var[id(root)] = claim("f" if "f" not in self.names.taken else "out")
        for t in self.params:
            if id(t) not in self.var:
                self.var[id(t)] = self.names.numbered("x")
        unnamed = [t for t in computed if id(t) not in self.var]
        letters = [c for c in LETTERS if c not in self.names.taken]
        use_letters = len(unnamed) <= len(letters)
        for t in unnamed:
            self.var[id(t)] = claim(letters.pop(0)) if use_letters else self.names.numbered("t")
        r = self.var[id(root)]
        for t in [root, *computed, *self.params]:  # (the root may be a leaf: once)
            if t.requires_grad and id(t) not in self.grad:
                self.grad[id(t)] = claim(f"d{r}d{self.var[id(t)]}")

    def operand(self, t: Tensor, gate: Tensor) -> ast.expr:
        """An input of a gate in the code: its variable, or a constant (a number inline)."""
        if id(t) in self.live:
            return ast.Name(self.var[id(t)], ast.Load())
        data = t._data
        if t.name is None and data.ndim == 0 and _one_dtype(gate, data.dtype):
            return _literal(data[()])  # type: ignore[return-value]  # 2 * v
        if id(t) not in self._const:
            name = self.var.get(id(t)) or self.names.numbered("c")
            # A float64 number reads as one (reg = 0.001) where every gate it meets is float64.
            users = [g for g in self.gates if any(i is t for i in g.inputs)]
            plain = all(_one_dtype(g, np.dtype(np.float64)) for g in users)
            self._add_constant(id(t), name, data, t, plain)
        return ast.Name(self._const[id(t)], ast.Load())

    def attribute(self, value: Any, hint: str, subscript: bool) -> ast.expr:
        """An attribute of a gate in the code: a number, a tuple, a slice, or (arrays) a
        constant by name."""
        if isinstance(value, np.ndarray):
            if id(value) not in self._const:
                name = self.bound.get(id(value)) or self.names.claim(hint)
                self._add_constant(id(value), name, value, value)
            return ast.Name(self._const[id(value)], ast.Load())
        if isinstance(value, tuple) and subscript:
            return ast.Tuple([self.attribute(v, hint, True) for v in value], ast.Load())
        if isinstance(value, tuple | list):
            kind = ast.Tuple if isinstance(value, tuple) else ast.List
            return kind([self.attribute(v, hint, False) for v in value], ast.Load())
        if isinstance(value, slice):
            parts = [_literal(v) for v in (value.start, value.stop, value.step)]
            if subscript:
                return ast.Slice(*(None if _is_none(p) else p for p in parts))
            return _slice_call(parts)
        literal = _literal(value)
        if literal is None:
            raise ValueError(f"flat_code: cannot write the attribute {hint}={_short(value)}")
        return literal

    def _add_constant(
        self, key: int, name: str, value: np.ndarray, owner: Any, plain: bool = False
    ) -> None:
        self._const[key] = name
        self._keep.append(owner)
        if key in self.bound:  # a compiled function's argument (labels): no value here
            self.ns[name] = np.array(value)
            return
        text = _constant_text(value, plain, name)
        if self.max_literal is None or value.size <= self.max_literal:
            self.constants.append((name, value, text))
            self.ns[name] = eval(text, {"np": np})  # exactly what the code will hold
        else:
            self.constants.append((name, value, None))
            self.ns[name] = np.array(value)  # a copy: the code must not reach the graph's

    # --- running and writing lines ---

    def run(self, stmt: ast.stmt) -> None:
        exec(builtins.compile(ast.Module([stmt], []), "<flat_code>", "exec"), self.ns)

    def emit(self, stmt: ast.stmt, comment: str | None = None) -> None:
        text = ast.unparse(stmt)
        self.lines.append(f"{text}  # {comment}" if comment else text)

    def commented(self, stmt: ast.stmt) -> str | None:
        written = _writes(stmt)
        return describe(self.ns[next(iter(written))]) if len(written) == 1 else None

    # --- the passes ---

    def write(self) -> None:
        self.gate: dict[int, _Gate] = {}
        for t in self.params:
            self.ns[self.var[id(t)]] = np.array(t._data)
        if self.gates:
            self.lines.append("# Forward pass")
        for node in self.gates:
            self.forward(node)
        self.lines.append("# Backward pass")
        root, G = self.root, self.grad[id(self.root)]
        seed = _seed(root, self.seed, "flat_code")
        if self.seed is not None:
            self.seed_name = self.names.claim("seed")
            self._add_constant(id(seed), self.seed_name, seed, seed)
            stmt = f"{G} = {self.seed_name}"
        elif seed.ndim == 0:  # a number: np.float64(1.0), fast where np.ones_like is not
            stmt = f"{G} = np.{seed.dtype.name}(1.0)"
        else:
            stmt = f"{G} = np.ones_like({self.var[id(root)]})"
        self.run(ast.parse(stmt).body[0])
        self.emit(ast.parse(stmt).body[0])
        self.assigned.add(G)
        self.uses = _uses(self.nodes, self.live)
        for step in backward_steps(root, seed):
            if id(step.node) in self.live:
                self.backward(step)

    def forward(self, node: Tensor) -> None:
        gate = self.gate[id(node)] = _Gate(self, node)
        for stmt in gate.filled(gate.forward, {}):
            self.run(stmt)
            self.emit(stmt, self.commented(stmt))
        _check(self.ns[gate.out], node._data, node.op, "output", "forward")

    def backward(self, step: Any) -> None:
        node = step.node
        gate = self.gate[id(node)]
        info = gate.info
        edges = [
            (i, t)
            for i, (t, sent) in enumerate(zip(node.inputs, step.sent, strict=True))
            if sent is not None and id(t) in self.live
        ]
        if not edges:
            return
        dname = (
            (lambda i: f"d{info.inputs[0]}") if info.variadic else (lambda i: f"d{info.inputs[i]}")
        )
        wanted = {dname(i) for i, _ in edges}
        stmts = _prune(gate.backward, wanted)
        for d in wanted:
            if not any(d in _writes(s) for s in stmts):
                raise ValueError(
                    f"flat_code: the code template of op {info.name!r} assigns no {d!r}"
                )
        direct = {} if info.variadic else _direct(stmts, wanted)
        # What holds each input's gradient while the gate runs: a scratch name for a direct
        # one (written straight into dfdx = ...), else a temporary of the code (dfdx_t1).
        holders = {
            d: f"_tg_{d}" if d in direct else self.names.claim(f"{d}_{gate.out}")
            for d in sorted(wanted)
        }
        filled = gate.filled(stmts, holders)
        lines: list[tuple[ast.stmt, str | None]] = []
        for stmt in filled:
            self.run(stmt)
            lines.append((stmt, self.commented(stmt)))
        renames: dict[str, str] = {}
        combines: list[tuple[ast.stmt, str | None]] = []
        # In the order the code will say them: direct ones where they stand, others after.
        ordered = sorted(edges, key=lambda e: (direct.get(dname(e[0]), len(filled)), e[0]))
        for i, t in ordered:
            d = dname(i)
            holder: ast.expr = ast.Name(holders[d], ast.Load())
            if info.variadic:
                holder = ast.Subscript(holder, ast.Constant(i), ast.Load())
            V = self.grad[id(t)]
            first = V not in self.assigned
            raw = _eval(holder, self.ns)
            others = [v for k, v in self.ns.items() if k != holders[d] and k[:4] != "_tg_"]
            wrap = _wrapper(raw, t._data, first and self.uses[id(t)] > 1, others)
            self.ns[_SCRATCH] = _eval(wrap(holder), self.ns)
            _check(self.ns[_SCRATCH], step.sent[i], node.op, f"gradient of input {i}", "backward")
            self.run(ast.parse(f"{V} {'=' if first else '+='} {_SCRATCH}").body[0])
            del self.ns[_SCRATCH]
            self.assigned.add(V)
            if d in direct:
                k = direct[d]
                value = filled[k].value  # type: ignore[attr-defined]
                new = _combine(V, wrap(value), first)
                lines[k] = (new, describe(self.ns[V]))
            elif first and wrap is _same and not info.variadic:
                renames[holders[d]] = V  # the temporary is the gradient itself
            else:
                combines.append((_combine(V, wrap(holder), first), describe(self.ns[V])))
        for stmt, comment in lines + combines:
            if renames:
                stmt = _Rename(renames).visit(stmt)
            self.emit(stmt, comment)
        for d in direct:
            del self.ns[holders[d]]


def _one_dtype(gate: Tensor, dtype: np.dtype) -> bool:
    """Whether a gate and all its inputs have ``dtype``: there a number written as a Python
    literal (weak in numpy's promotion) gives what a constant of that dtype gives."""
    return gate._data.dtype == dtype and all(i._data.dtype == dtype for i in gate.inputs)


def _eval(expr: ast.expr, ns: dict[str, Any]) -> Any:
    tree = ast.fix_missing_locations(ast.Expression(copy.deepcopy(expr)))
    return eval(builtins.compile(tree, "<flat_code>", "eval"), ns)


def _made(t: Tensor) -> int:
    return t._seq


def _uses(nodes: list[Tensor], live: set[int]) -> dict[int, int]:
    """How many gradient contributions each tensor gets (edges from live gates)."""
    count = dict.fromkeys((id(t) for t in nodes), 0)
    for t in nodes:
        if t.op is not None and t.requires_grad and id(t) in live:
            for i in t.inputs:
                if i.requires_grad and id(i) in live:
                    count[id(i)] += 1
    return count


def _direct(stmts: list[ast.stmt], wanted: set[str]) -> dict[str, int]:
    """The gradients a single statement ``dx = expr`` gives, which nothing reads after:
    written straight into ``dfdx = expr`` (or ``dfdx += expr``)."""
    direct = {}
    for d in wanted:
        defs = [k for k, s in enumerate(stmts) if d in _writes(s)]
        if len(defs) != 1:
            continue
        k = defs[0]
        s = stmts[k]
        simple = isinstance(s, ast.Assign) and len(s.targets) == 1
        if not (simple and isinstance(s.targets[0], ast.Name)):  # type: ignore[attr-defined]
            continue
        if any(d in _reads(later) for later in stmts[k:]):
            continue
        direct[d] = k
    return direct


def _same(expr: ast.expr) -> ast.expr:
    return expr


def _call(expr: ast.expr, method: str, *args: ast.expr, **kwargs: Any) -> ast.expr:
    keywords = [ast.keyword(k, _literal(v)) for k, v in kwargs.items()]
    return ast.Call(ast.Attribute(expr, method, ast.Load()), list(args), keywords)


def _wrapper(raw: Any, target: np.ndarray, own: bool, others: list[Any]) -> Callable:
    """How a gate's gradient for an input becomes that input's: summed down to its shape
    (undoing broadcasting), cast to its dtype, copied where ``+=`` will follow and it is
    shared. Returns the identity when nothing is needed."""
    steps: list[Callable[[ast.expr], ast.expr]] = []
    shape = np.shape(raw)
    if shape != target.shape:
        extra = len(shape) - target.ndim
        if extra > 0:
            lead = tuple(range(extra))
            steps.append(lambda e: _call(e, "sum", axis=lead[0] if extra == 1 else lead))
            shape = shape[extra:]
        ones = tuple(i for i, n in enumerate(target.shape) if n == 1 and shape[i] != 1)
        if ones:
            axis = ones[0] if len(ones) == 1 else ones
            steps.append(lambda e: _call(e, "sum", axis=axis, keepdims=True))
            shape = tuple(1 if i in ones else n for i, n in enumerate(shape))
        if shape != target.shape:
            steps.append(lambda e: _call(e, "reshape", _literal(target.shape)))  # type: ignore[arg-type]
    dtype = np.asarray(raw).dtype
    if dtype != target.dtype:
        if isinstance(raw, np.ndarray | np.generic):
            steps.append(lambda e: _call(e, "astype", _dtype_expr(target.dtype)))
        else:  # a Python number
            steps.append(lambda e: ast.Call(_dtype_expr(target.dtype), [e], []))
    shared = isinstance(raw, np.ndarray) and (
        not raw.flags.owndata or any(v is raw for v in others)
    )
    if own and not steps and shared:
        steps.append(lambda e: _call(e, "copy"))
    if not steps:
        return _same

    def wrap(expr: ast.expr) -> ast.expr:
        for step in steps:
            expr = step(expr)
        return expr

    return wrap


def _combine(var: str, expr: ast.expr, first: bool) -> ast.stmt:
    target = ast.Name(var, ast.Store())
    stmt = ast.Assign([target], expr) if first else ast.AugAssign(target, ast.Add(), expr)
    return ast.fix_missing_locations(stmt)


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.names.get(node.id, node.id), node.ctx)


def _check(value: Any, expected: Any, op: str | None, what: str, where: str) -> None:
    """A line's value against the engine's: the same shape, dtype and (nearly) numbers."""
    a, b = np.asarray(value), np.asarray(expected)
    ok = a.shape == b.shape and a.dtype == b.dtype
    if ok and a.size:
        tol = 1e-5 if a.dtype.itemsize < 8 else 1e-9
        with np.errstate(invalid="ignore", over="ignore"):
            finite = np.isfinite(b)
            scale = float(np.max(np.abs(np.where(finite, b, 0)), initial=0.0))
            close = np.isclose(a, b, rtol=tol, atol=tol * scale)
            # Where the engine's own number is inf or nan, any inf or nan agrees with it
            # (inf * 0 is nan in one order of the arithmetic and 0 in none).
            ok = bool(np.all(np.where(finite, close, ~np.isfinite(a))))
    if not ok:
        raise RuntimeError(
            f"flat_code: the code template of op {op!r} gives {describe(a)} ({a.dtype}) as "
            f"its {what} where its rule gives {describe(b)} ({b.dtype}) ({where} pass); fix "
            "the template in its @op entry"
        )


# ----- flat_code -----


def flat_code(f: Tensor, grad: Any = None, max_literal: int | None = MAX_LITERAL) -> str:
    """The forward and backward pass of ``f``'s graph as straight-line Python.

    One line per gate, named after the tensors (``p = x * y``; unnamed ones get p, q,
    v, ... or t1, t2, ...), each commented with its value; then the backward pass with
    the gate patterns (``dfdx = dfdp * y``, masks for max, ``.sum(axis=0)`` where a
    broadcast is undone, ``+=`` where a tensor is used twice). The code is real:
    ``exec`` it and ``grads(x=..., ...)`` takes every leaf that requires a gradient by
    its name (numbers or arrays of the traced shapes) and returns their gradients by
    name, the numbers ``f.backward()`` gives. Constants are written inline (numbers) or
    as keyword defaults; one with more than ``max_literal`` entries is a keyword the
    caller passes. A non-scalar ``f`` needs ``grad``, the seed of backward.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> y = tg.tensor(-4.0, requires_grad=True, name="y")
    >>> print(tg.flat_code(x * y))  # doctest: +NORMALIZE_WHITESPACE
    # f's forward and backward pass, one line per gate (tg.flat_code).
    # grads(x, y) returns {"x": df/dx, "y": df/dy}, at inputs of the shapes here.
    import numpy as np
    <BLANKLINE>
    <BLANKLINE>
    def grads(x, y):
        x, y = (np.asarray(a, dtype=np.float64) for a in (x, y))
        # Forward pass
        f = x * y  # -12
        # Backward pass
        dfdf = np.float64(1.0)
        dfdx = dfdf * y  # -4
        dfdy = dfdf * x  # 3
        return {"x": dfdx, "y": dfdy}
    <BLANKLINE>
    """
    if not isinstance(f, Tensor):
        kind = f"{type(f).__module__.split('.')[0]}.{type(f).__name__}"
        raise TypeError(f"flat_code: expected a tensorgraph Tensor, got a {kind}")
    _seed(f, grad, "flat_code")  # the engine's own checks and messages
    params = [t for t in graph_nodes(f) if t.op is None and t.requires_grad]
    writer = _Writer(f, grad, params, max_literal=max_literal)
    writer.write()
    names = [writer.var[id(t)] for t in params]
    r = writer.var[id(f)]
    wanted = ", ".join([f'"{n}": d{r}/d{n}' for n in names[:2]] + ["..."] * (len(names) > 2))
    head = [
        f"# {r}'s forward and backward pass, one line per gate (tg.flat_code).",
        f"# grads({', '.join(names)}) returns {{{wanted}}}, at inputs of the shapes here.",
        "import numpy as np",
    ]
    keywords, constants = [], []
    for name, value, text in writer.constants:
        if text is not None:
            constants.append(f"{name} = {text}")
            keywords.append(f"{name}={name}")
        else:
            head.append(
                f"# {name}: a constant of shape {value.shape} ({value.size:,} entries, "
                f"{value.dtype}), too large to write here: pass it, grads(..., {name}=...)"
            )
            keywords.append(name)
    signature = ", ".join(names + (["*", *keywords] if keywords else []))
    body = []
    by_dtype: dict[np.dtype, list[str]] = {}
    for t, n in zip(params, names, strict=True):
        by_dtype.setdefault(t.dtype, []).append(n)
    for dtype, group in by_dtype.items():
        if len(group) == 1:
            body.append(f"{group[0]} = np.asarray({group[0]}, dtype=np.{dtype.name})")
        else:
            joined = ", ".join(group)
            body.append(f"{joined} = (np.asarray(a, dtype=np.{dtype.name}) for a in ({joined}))")
    body += writer.lines
    returned = ", ".join(
        f'"{n}": {_grad_or_none(writer, t)}' for t, n in zip(params, names, strict=True)
    )
    body.append(f"return {{{returned}}}")
    text = "\n".join(head) + "\n"
    if constants:
        text += "\n" + "\n".join(constants) + "\n"
    text += "\n\ndef grads(" + signature + "):\n"
    text += "".join(f"    {line}\n" for line in body)
    return text


def _grad_or_none(writer: _Writer, t: Tensor) -> str:
    name = writer.grad.get(id(t))
    return name if name in writer.assigned else "None"


def _constant_text(value: np.ndarray, plain: bool, name: str = "") -> str:
    """A constant's definition: a number (``plain``: a float64 scalar as Python writes
    it, 0.001), a typed scalar (np.float32(0.5)) or an array, exactly."""
    value = np.asarray(value)
    if value.ndim == 0 and value.dtype.kind == "f":
        number = _number_text(value[()])
        if plain and value.dtype == np.float64:
            return number if "." in number or "e" in number or "np." in number else number + ".0"
        return f"np.{value.dtype.name}({number})"
    return _array_text(value, name)


# ----- compile -----

_NUMBER = "number"


def _key(a: Any) -> Any:
    """What a compiled function's argument must keep for its code to hold: the kind, the
    shape and the dtype of an array; the value of anything else (a flag)."""
    t = type(a)
    if t is np.ndarray:
        return (a.shape, a.dtype.char)
    if t is float or t is int:
        return _NUMBER
    if t is Tensor:
        return (a._data.shape, a._data.dtype.char, Tensor)
    if t is list or t is tuple:  # a list of parameters: arrays, written out for speed
        return (t, *[(v.shape, v.dtype.char) if type(v) is np.ndarray else _key(v) for v in a])
    if isinstance(a, np.generic):
        return (a.dtype.char, np.generic)
    try:
        hash(a)
    except TypeError:
        raise TypeError(
            f"compile: an argument of type {t.__name__} is neither a number, an array, a "
            "tensor, a list of them nor hashable (a flag)"
        ) from None
    return (t, a)


class _Arg:
    """How one argument of a compiled function enters the traced graph."""

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.items: list[np.ndarray] = []  # the leaf values, one per tensor (a list: several)
        self.forms: list[str] = []  # how each was given: number, tensor, array
        self.kind = "static"  # "input", "inputs" (a list of them), "labels" or "static"
        if isinstance(value, list | tuple) and value and all(_is_input(v) for v in value):
            if all(isinstance(v, Tensor | np.ndarray) for v in value):
                self.kind = "inputs"
                self.items = [_leaf_array(v) for v in value]
                self.forms = [_form(v) for v in value]
                return
            value = np.asarray(value)
        if isinstance(value, list | tuple) and value:
            value = np.asarray(value)
        if _is_input(value):
            array = _leaf_array(value)
            self.items, self.forms = [array], [_form(value)]
            if array.dtype.kind == "f":
                self.kind = "input"
            elif array.dtype.kind in "iu":
                self.kind = "labels"
            else:
                raise TypeError(
                    f"compile: argument {name!r} has dtype {array.dtype}; pass numbers as "
                    "floats and labels as integers"
                )

    def probe(self, shift: bool) -> list[np.ndarray] | None:
        """Other values of the same shapes: scaled and shifted, or negated; labels moved."""
        if self.kind == "static":
            return None
        if self.kind == "labels":
            y = self.items[0]
            moved = np.roll(y, 1, axis=0) if y.ndim else y
            if np.array_equal(moved, y) and y.size and y.max() > 0:
                moved = (y + 1) % (y.max() + 1)
            return [moved]
        return [a * 1.125 + 0.0625 if shift else -a for a in self.items]


def _form(v: Any) -> str:
    if isinstance(v, Tensor):
        return "tensor"
    return "number" if isinstance(v, float | int) else "array"


def _is_input(v: Any) -> bool:
    return isinstance(v, Tensor | np.ndarray | np.generic | float | int) and not isinstance(
        v, bool | np.bool_
    )


def _leaf_array(v: Any) -> np.ndarray:
    if isinstance(v, Tensor):
        return v._data
    return np.asarray(float(v)) if isinstance(v, float | int) else np.asarray(v)


class Compiled:
    """A function traced once per argument shape, then run as generated numpy code.

    Calling it returns ``(value, grads)``: the function's value and the gradient of
    every argument in ``wrt`` by name (a list of them for a list argument). ``.code``
    is the code of the last trace (what :func:`flat_code` writes, with a ``return`` of
    both); made by :func:`compile`.

    >>> step = Compiled(lambda w: (w * w).sum())
    >>> step(np.array([1.0, -2.0]))[1]["w"]
    array([ 2., -4.])
    >>> step
    <tg.compile of <lambda>: 1 trace(s)>
    """

    def __init__(self, fn: Callable[..., Tensor], wrt: str | Sequence[str] | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"compile: expected a function, got {_short(fn)}")
        self.fn = fn
        self._signature = inspect.signature(fn)
        params = list(self._signature.parameters.values())
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(
                    f"compile: {getattr(fn, '__name__', 'fn')} takes *{p.name}; give each "
                    "argument a name (a list of arrays may be one argument)"
                )
        self._names = [p.name for p in params]
        self.wrt = None if wrt is None else ((wrt,) if isinstance(wrt, str) else tuple(wrt))
        for name in self.wrt or ():
            if name not in self._names:
                raise ValueError(f"compile: wrt names {name!r}, which fn has no argument of")
        self._cache: dict[tuple, Callable[..., Any]] = {}
        self.code: str | None = None
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<tg.compile of {getattr(self.fn, '__name__', 'fn')}: {len(self._cache)} trace(s)>"

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        if kwargs or len(args) != len(self._names):
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments[n] for n in self._names)
        key = tuple([_key(a) for a in args])
        run = self._cache.get(key)
        if run is None:
            run = self._cache[key] = self._trace(args)
        return run(*args)

    # --- tracing ---

    def _trace(self, values: tuple[Any, ...]) -> Callable[..., Any]:
        args = [_Arg(n, v) for n, v in zip(self._names, values, strict=True)]
        inputs = [a for a in args if a.kind in ("input", "inputs")]
        wrt = set(self.wrt) if self.wrt is not None else {a.name for a in inputs}
        for a in args:
            if a.name in wrt and a.kind not in ("input", "inputs"):
                raise TypeError(f"compile: wrt names {a.name!r}, which is not a float input")
        root, leaves = self._call(args, values, wrt, None)
        if not isinstance(root, Tensor) or root.size != 1:
            raise TypeError(
                "compile: fn must return a one-element tensor (a loss), got "
                + (f"shape {root.shape}" if isinstance(root, Tensor) else type(root).__name__)
            )
        if not root.requires_grad:
            raise RuntimeError("compile: fn's result does not depend on the arguments in wrt")
        labels = {a.name: a.items[0] for a in args if a.kind == "labels"}
        first = _structure(root, leaves)
        bindings: dict[tuple, str] = {}
        for shift in (True, False):  # two other sets of values: the graph must not change
            probes = [a.probe(shift) for a in args]
            probed = {a.name: p[0] for a, p in zip(args, probes, strict=True) if a.kind == "labels"}
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    other, other_leaves = self._call(args, values, wrt, probes)
            except Exception as err:
                raise ValueError(
                    "compile: fn failed on other values of its arguments (compile runs it "
                    f"twice more to check that its graph does not depend on them): {err}"
                ) from err
            _compare(first, _structure(other, other_leaves), labels, probed, bindings)
        writer = _Writer(
            root,
            None,
            [t for group in leaves for t in group],
            reserved=(),
            bound={id(_at(first, path)): name for path, name in bindings.items()},
            max_literal=0,
        )
        writer.write()
        source = _compiled_source(writer, args, leaves, wrt)
        self.code = source
        namespace = {"np": np, "_tg_labels": _label_checker(root, bindings)}
        for name, _, _ in writer.constants:
            namespace[name] = writer.ns[name]
        exec(builtins.compile(source, f"<tg.compile of {self.fn.__name__}>", "exec"), namespace)
        return namespace["_compiled"]

    def _call(
        self, args: list[_Arg], values: tuple, wrt: set[str], probes: list | None
    ) -> tuple[Any, list[list[Tensor]]]:
        """Run fn on leaf tensors made from the arguments (or from ``probes`` of them)."""
        from .modes import enable_grad

        call, leaves = [], []
        for k, (a, value) in enumerate(zip(args, values, strict=True)):
            items = probes[k] if probes is not None and probes[k] is not None else a.items
            if a.kind in ("input", "inputs"):
                ts = [
                    Tensor(
                        v,
                        requires_grad=a.name in wrt,
                        name=a.name if a.kind == "input" else f"{a.name}_{i}",
                    )
                    for i, v in enumerate(items)
                ]
                leaves.append(ts)
                call.append(ts[0] if a.kind == "input" else ts)
            elif a.kind == "labels":
                call.append(items[0])
            else:
                call.append(value)
        with enable_grad():
            return self.fn(*call), leaves


def compile(  # noqa: A001 - tg.compile, as torch.compile
    fn: Callable[..., Tensor], wrt: str | Sequence[str] | None = None
) -> Compiled:
    """Trace ``fn`` once per shape of its arguments; then run the code :func:`flat_code`
    writes for its graph, on new values, without building a graph.

    ``fn`` takes numbers, float arrays or tensors (inputs; a list of them is one
    argument), integer arrays (labels, where a loss gate or an index takes them) and
    anything hashable (flags), and returns a one-element tensor. Calling the result
    returns ``(value, grads)``, the gradients of the arguments named in ``wrt`` (default:
    every float input) by name: the numbers ``backward()`` would give. New shapes,
    dtypes or flags trace again. fn must build the same graph whatever the values: it is
    run twice more at the first trace, at other values, and refused if the graph changes
    (a Python ``if`` or ``max`` on a tensor's value would be fixed at the first call).

    >>> import tensorgraph as tg
    >>> step = tg.compile(lambda x, y, z, w: 2 * (x * y + tg.maximum(z, w)))
    >>> f, grads = step(3.0, -4.0, 2.0, -1.0)
    >>> float(f), {k: float(g) for k, g in grads.items()}
    (-20.0, {'x': -8.0, 'y': 6.0, 'z': 2.0, 'w': 0.0})
    >>> float(step(1.0, 2.0, -3.0, 5.0)[1]["w"])  # the same code, new numbers
    2.0
    """
    return Compiled(fn, wrt)


def _structure(root: Tensor, leaves: list[list[Tensor]]) -> list[tuple]:
    """A graph as comparable entries: each node's op, inputs (by position) and attributes,
    each leaf an argument (by position) or a constant (by value)."""
    where = {id(t): (k, i) for k, group in enumerate(leaves) for i, t in enumerate(group)}
    nodes = graph_nodes(root)
    index = {id(t): n for n, t in enumerate(nodes)}
    out = []
    for t in nodes:
        if id(t) in where:
            out.append(("argument", where[id(t)]))
        elif t.op is None:
            out.append(("constant", t._data))
        else:
            out.append((t.op, tuple(index[id(i)] for i in t.inputs), t.attrs, t.requires_grad))
    return out


def _arrays(value: Any, path: tuple = ()) -> Iterable[tuple[tuple, np.ndarray]]:
    """The arrays inside an attribute (an index tuple holds several), with their paths."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, tuple | list):
        for i, v in enumerate(value):
            yield from _arrays(v, (*path, i))


def _at(structure: list[tuple], path: tuple) -> np.ndarray:
    node, key, *inner = path
    value = structure[node][2][key]
    for i in inner:
        value = value[i]
    return value


def _compare(
    first: list[tuple],
    other: list[tuple],
    labels: dict[str, np.ndarray],
    probed: dict[str, np.ndarray],
    bindings: dict[tuple, str],
) -> None:
    """Refuse a graph that changed with the values; find where labels went (bindings:
    the path of an attribute array -> the labels argument it is)."""

    def refuse(n: int, what: str) -> None:
        raise ValueError(
            f"compile: fn's graph depends on the values of its arguments ({what}, node {n} "
            "of the graph); compile runs one graph for every call. Compute with tensorgraph "
            "ops on the inputs (tg.maximum, not Python's max; no if on a tensor's value); "
            "labels may go into a loss gate or an index"
        )

    if len(first) != len(other):
        refuse(len(other), f"{len(first)} nodes, then {len(other)}")
    for n, (a, b) in enumerate(zip(first, other, strict=True)):
        if a[0] != b[0] or (a[0] != "constant" and a[1:2] != b[1:2]):
            refuse(n, f"{a[0]} became {b[0]}")
        if a[0] == "constant":
            same = a[1].shape == b[1].shape and np.array_equal(a[1], b[1], equal_nan=True)
            if not same:
                refuse(n, f"the constant of shape {a[1].shape} changed")
            continue
        if a[0] == "argument":
            continue
        if set(a[2]) != set(b[2]) or a[3] != b[3]:
            refuse(n, f"the attributes of {a[0]} changed")
        for key in a[2]:
            va, vb = a[2][key], b[2][key]
            arrays_a, arrays_b = list(_arrays(va)), list(_arrays(vb))
            if [p for p, _ in arrays_a] != [p for p, _ in arrays_b]:
                refuse(n, f"{a[0]}'s {key} changed")
            for (path, x), (_, z) in zip(arrays_a, arrays_b, strict=True):
                name = next((m for m, y in labels.items() if _equal(x, y)), None)
                if name is not None and _equal(z, probed[name]):
                    bindings.setdefault((n, key, *path), name)
                elif not _equal(x, z) or (n, key, *path) in bindings:
                    refuse(n, f"{a[0]}'s {key} changed in a way compile cannot follow")
            if not arrays_a and not _equal_value(va, vb):
                refuse(n, f"{a[0]}'s {key} changed from {_short(va)} to {_short(vb)}")


def _equal(x: np.ndarray, y: np.ndarray) -> bool:
    return x.shape == y.shape and bool(np.array_equal(x, y))


def _equal_value(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _label_checker(root: Tensor, bindings: dict[tuple, str]) -> Callable:
    """Labels for a call, checked as the loss gates that take them check theirs."""
    nodes = graph_nodes(root)
    checks: dict[str, list[tuple[str, int, int]]] = {}
    for (n, key, *_), name in bindings.items():
        node = nodes[n]
        info = OPS[node.op]  # type: ignore[index]
        if info.kind == "loss" and key == "y" and node.inputs[0].ndim == 2:
            checks.setdefault(name, []).append((node.op, *node.inputs[0].shape))  # type: ignore[arg-type]

    def labels_for(name: str, y: Any) -> np.ndarray:
        for op, n, k in checks.get(name, ()):
            y = _check_labels(op, y, n, k)
        return np.asarray(y)

    return labels_for


def _compiled_source(
    writer: _Writer, args: list[_Arg], leaves: list[list[Tensor]], wrt: set[str]
) -> str:
    """The compiled function: its arguments made arrays, the writer's lines, the return."""
    lines = []
    groups = iter(leaves)
    returned = []
    for k, a in enumerate(args):
        arg = f"_tg_a{k}"
        if a.kind == "input":
            (t,) = next(groups)
            lines.append(f"{writer.var[id(t)]} = {_unwrapped(arg, a.forms[0], t)}")
            if a.name in wrt:
                returned.append(f"{a.name!r}: {_grad_or_none(writer, t)}")
        elif a.kind == "inputs":
            ts = next(groups)
            names = [writer.var[id(t)] for t in ts]
            lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {arg}")
            for t, name, form in zip(ts, names, a.forms, strict=True):
                if form != "array":
                    lines.append(f"{name} = {_unwrapped(name, form, t)}")
            if a.name in wrt:
                grads = ", ".join(_grad_or_none(writer, t) for t in ts)
                returned.append(f"{a.name!r}: [{grads}]")
        elif a.kind == "labels" and a.name in writer.bound_names:
            lines.append(f"{writer.bound_names[a.name]} = _tg_labels({a.name!r}, {arg})")
    r = writer.var[id(writer.root)]
    params = ", ".join(f"_tg_a{k}" for k in range(len(args)))
    keywords = "".join(f", {n}={n}" for n, _, _ in writer.constants)
    body = lines + writer.lines + [f"return {r}, {{{', '.join(returned)}}}"]
    head = f"def _compiled({params}{', *' if keywords else ''}{keywords}):\n"
    return head + "".join(f"    {line}\n" for line in body)


def _unwrapped(name: str, form: str, t: Tensor) -> str:
    """An argument as the array its leaf held: a number typed, a tensor's array."""
    if form == "number":
        return f"np.{t._data.dtype.name}({name})"
    return f"{name}._data" if form == "tensor" else name
