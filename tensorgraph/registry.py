"""The op registry: ``tg.OPS``, one :class:`OpInfo` per op, and the ``@op`` decorator.

An op is written once, in ``ops.py`` (or ``losses.py``), as a function of numpy arrays
that returns its output and its backward rule, side by side::

    @op("*", "∂/∂a = b,  ∂/∂b = a", kind="elementwise", operator="*", ...)
    def mul(a: Array, b: Array) -> Forward:
        return a * b, lambda g: (g * b, g * a)

Parameters annotated ``Array`` are the op's inputs: callers pass tensors, numbers or
arrays, the function receives their arrays. A parameter annotated ``Arrays`` takes a
sequence of inputs (``cat``). Every other parameter is an attribute of the op, recorded
in ``t.attrs`` under its name (the function may return a third item, the attributes as
they should be recorded, e.g. an index with its lists made into arrays). A keyword-only
``needs_grad`` parameter, if declared, receives a bool per input, so a rule can skip a
gradient no input needs. The rule takes the upstream gradient ``g`` (the output's shape)
and returns one gradient per input (None for one that needs none), at the shape numpy
broadcasting gave: the engine sums each down to its input's shape.

``@op`` turns that function into the public one (``tg.mul``), which converts operands
(Python numbers and integer arrays take a float tensor's dtype, as in torch), runs the
forward, names the op in every error it raises, and records the result. The decorator's
arguments are every other fact about the op: its gate symbol, its local gradient for the
derivative table, its Python operator and Tensor methods, its name in the
``tensorgraph draw`` expression language, whether its rule reads saved data (the
in-place check), its kinks, whether its inputs commute, its PyTorch twin. Everything
that lists ops (exports, the expression language, the CLI help, ``docs/derivatives.md``,
the README's op lists, the tests) is derived from here or checked against it.

The code template (``code=``) is the op written as straight-line numpy, the lines a
student would write for it; ``tg.flat_code`` and ``tg.compile`` (``flatcode.py``) put
one template per gate together into the forward and backward pass of a whole graph::

    @op("*", ..., code="out = a * b; da = g * b; db = g * a")

A template is a few statements of Python (one string; ``;`` or newlines between them):

- Names: the op's inputs and attributes by their parameter names, ``out`` the output,
  ``g`` the upstream gradient (out's shape), ``d<input>`` the gradient of each input
  (``da``, ``db``, ``dx``), ``np``, and Python's builtins. Any other name a template
  assigns is a temporary of that gate (``margins``; ``margins_2`` where taken). See
  ``sum``, ``index`` and ``svm_loss`` for templates of several lines.
- The statements up to the last one that assigns ``out`` are the forward pass; the rest
  are the backward pass, which assigns every ``d<input>`` at the shape numpy
  broadcasting gives, as the rule returns it (the code sums it down to the input's
  shape, casts it to the input's dtype and adds it up where a tensor is used twice). The
  backward may read the forward's temporaries; it writes to no input, ``g`` or ``out``.
- It computes what the rule computes, in the same order (the generated code is checked
  against the engine on every graph it is made from; the tests want equal numbers).
- An ``if`` statement or ``x if c else y`` is decided once, when the code is written,
  from the attributes and the inputs' shapes (``if keepdims or axis is None:``);
  ``x.shape``, ``x.ndim``, ``x.size`` and ``len(x)`` become numbers there too.
- A keyword ``name=name`` of an attribute (``x.sum(axis=axis)``) is left out where the
  attribute has its default value: write it so only where numpy's default is the same.
- Lines an input that needs no gradient would use are dropped (``X`` of ``X @ W.T``).
- A sequence input (``Arrays``, e.g. ``xs``) is a list of arrays in the template, and
  its ``dxs`` a sequence of gradients, one per array.

``dev.py test`` runs every template on random graphs (tests/test_flatcode.py) and fails
for an op that has none.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .tensor import Backward, Tensor, _as_array, _new

Array = np.ndarray  # in an op's signature: an input, given as its array
Arrays = Sequence[np.ndarray]  # a sequence of inputs (cat, stack)
Forward = tuple[np.ndarray, Backward] | tuple[np.ndarray, Backward, dict[str, Any]]
Kink = Callable[[list[np.ndarray], dict[str, Any]], np.ndarray]

KINDS = ("elementwise", "normalization", "reduction", "linear algebra", "shape", "loss")
DOMAINS = ("real", "positive")
_MISSING = inspect.Parameter.empty


@dataclass(frozen=True)
class OpInfo:
    """Everything the engine, the drawings, the docs and the tests know about one op.

    >>> import tensorgraph as tg
    >>> info = tg.OPS["mul"]
    >>> info.symbol, info.operator, info.methods, info.inputs, info.commutative
    ('*', '*', ('__mul__', '__rmul__'), ('a', 'b'), True)
    """

    name: str  # the record's t.op, and the function's name: tg.<name>
    function: Callable[..., Tensor]  # the public function
    forward: Callable[..., Forward]  # the array-level function it wraps
    symbol: str  # what the gate shows in a drawing
    local: str  # the local gradient, for the derivative table
    kind: str  # one of KINDS: how the docs group it
    inputs: tuple[str, ...]  # the parameters that are inputs, in order
    attrs: tuple[str, ...]  # the parameters that are attributes (t.attrs keys)
    variadic: bool  # the one input parameter takes a sequence of tensors
    pattern: str  # the lecture's name for its backward flow ("mul swaps"), or ""
    operator: str  # the Python operator that records it ("*", "[]", unary "-"), or ""
    methods: tuple[str, ...]  # the Tensor methods that record it
    expr: str  # its function name in the `tensorgraph draw` language, or ""
    reads_data: bool  # its rule reads saved arrays: an in-place change must be caught
    kink: Kink | None  # which branch it takes, where its gradient jumps (gradcheck)
    commutative: bool  # its inputs may be swapped (a drawing need not number its edges)
    torch: str  # its PyTorch twin ("torch.mul"), or ""
    domain: str  # where it is smooth for every input: "real" or "positive"
    code: str = ""  # the op as straight-line numpy, a template for tg.flat_code (see above)

    @property
    def params(self) -> tuple[str, ...]:
        """Inputs and attributes in the order the function takes them (``where(cond, a, b)``).

        >>> import tensorgraph as tg
        >>> tg.OPS["where"].params, tg.OPS["where"].inputs
        (('cond', 'a', 'b'), ('a', 'b'))
        """
        names = inspect.signature(self.forward).parameters
        return tuple(n for n in names if n != "needs_grad")

    @property
    def arity(self) -> int | None:
        """How many inputs it takes (None: a sequence of any length)."""
        return None if self.variadic else len(self.inputs)

    def call(self, inputs: Sequence[Any], attrs: dict[str, Any]) -> Tensor:
        """Run the op again on new inputs with recorded attributes (``t.inputs``, ``t.attrs``).

        >>> import tensorgraph as tg
        >>> s = tg.tensor([[1.0, 5.0]]).sum(axis=1)
        >>> tg.OPS[s.op].call([tg.tensor([[2.0, 3.0]])], s.attrs)
        tensor([5.])
        """
        if self.variadic:
            return self.function(list(inputs), **attrs)
        return self.function(**dict(zip(self.inputs, inputs, strict=True)), **attrs)

    def example(self) -> str:
        """How the op is written in Python: "a * b", "x[index]", "tg.sum(x, axis, keepdims)".

        >>> import tensorgraph as tg
        >>> tg.OPS["mul"].example(), tg.OPS["neg"].example(), tg.OPS["exp"].example()
        ('a * b', '-x', 'tg.exp(x)')
        """
        return self._spelled(f"tg.{self.name}")

    def expression(self) -> str:
        """How the op is written in the ``tensorgraph draw`` language ("" if it is not).

        >>> import tensorgraph as tg
        >>> tg.OPS["maximum"].expression(), tg.OPS["pow"].expression()
        ('max(a, b)', 'x ** exponent')
        """
        return self._spelled(self.expr) if self.operator or self.expr else ""

    def _spelled(self, function: str) -> str:
        x = self.inputs[0]
        if self.operator == "[]":
            return f"{x}[{self.attrs[0]}]"
        if self.operator and self.attrs:  # x ** exponent
            return f"{x} {self.operator} {self.attrs[0]}"
        if self.operator and len(self.inputs) == 1:
            return f"{self.operator}{x}"
        if self.operator:
            return f" {self.operator} ".join(self.inputs)
        args = [f"[{p}, ...]" if self.variadic and p == x else p for p in self.params]
        return f"{function}({', '.join(args)})"


OPS: dict[str, OpInfo] = {}


def op(
    symbol: str,
    local: str,
    *,
    kind: str,
    pattern: str = "",
    operator: str = "",
    methods: tuple[str, ...] = (),
    expr: str = "",
    reads_data: bool = True,
    kink: Kink | None = None,
    commutative: bool = False,
    torch: str = "",
    domain: str = "real",
    code: str = "",
) -> Callable[[Callable[..., Forward]], Callable[..., Tensor]]:
    """Register an array-level op function in ``OPS``; return the public function.

    >>> @op("2×", "∂/∂x = 2", kind="elementwise", reads_data=False,
    ...     code="out = 2 * x; dx = 2 * g")
    ... def twice(x: Array) -> Forward:
    ...     return 2 * x, lambda g: (2 * g,)
    >>> twice([1.0, 2.0])
    tensor([2., 4.])
    >>> OPS.pop("twice").symbol
    '2×'
    """
    if kind not in KINDS:
        raise ValueError(f"op: kind must be one of {KINDS}, got {kind!r}")
    if domain not in DOMAINS:
        raise ValueError(f"op: domain must be one of {DOMAINS}, got {domain!r}")

    def register(forward: Callable[..., Forward]) -> Callable[..., Tensor]:
        name = forward.__name__
        params = [
            p for p in inspect.signature(forward).parameters.values() if p.name != "needs_grad"
        ]
        inputs = tuple(p.name for p in params if p.annotation in ("Array", "Arrays"))
        variadic = any(p.annotation == "Arrays" for p in params)
        if not inputs or (variadic and len(inputs) > 1):
            raise TypeError(
                f"op {name}: annotate its inputs `Array` (or one sequence of them `Arrays`)"
            )
        info = OpInfo(
            name=name,
            function=_public(name, forward, params, kind),
            forward=forward,
            symbol=symbol,
            local=local,
            kind=kind,
            inputs=inputs,
            attrs=tuple(p.name for p in params if p.name not in inputs),
            variadic=variadic,
            pattern=pattern,
            operator=operator,
            methods=methods,
            expr=expr,
            reads_data=reads_data,
            kink=kink,
            commutative=commutative,
            torch=torch,
            domain=domain,
            code=code,
        )
        OPS[name] = info
        return info.function

    return register


# ----- the public function an op's forward becomes -----


def _public(
    name: str, forward: Callable[..., Forward], params: list[inspect.Parameter], kind: str
) -> Callable[..., Tensor]:
    """The function users call: operands in, a recorded tensor out, errors named."""
    names = [p.name for p in params]
    where = {n: i for i, n in enumerate(names)}
    is_input = [p.annotation in ("Array", "Arrays") for p in params]
    variadic = [p.annotation == "Arrays" for p in params]
    defaults = [p.default for p in params]
    wants_needs = "needs_grad" in inspect.signature(forward).parameters
    broadcasting = kind == "elementwise" and len(names) > 1

    fast = all(is_input) and not any(variadic) and not wants_needs

    # The hot paths (a + b, exp(x)): every parameter an input, one or two of them.
    def binary(a: Any = _MISSING, b: Any = _MISSING, /, *more: Any, **kwargs: Any) -> Tensor:
        if kwargs or more or b is _MISSING:
            return general(*(v for v in (a, b) if v is not _MISSING), *more, **kwargs)
        if type(a) is not Tensor or type(b) is not Tensor:
            a, b = _operands(name, (a, b))
        try:
            out, rule = forward(a._data, b._data)
        except (ValueError, TypeError, IndexError) as err:
            raise _named(err, name, (a, b), broadcasting) from None
        return _new(Tensor, out, name, (a, b), rule, None)

    def unary(x: Any = _MISSING, /, *more: Any, **kwargs: Any) -> Tensor:
        if kwargs or more or x is _MISSING:
            return general(*(v for v in (x,) if v is not _MISSING), *more, **kwargs)
        if type(x) is not Tensor:
            (x,) = _operands(name, (x,))
        try:
            out, rule = forward(x._data)
        except (ValueError, TypeError, IndexError) as err:
            raise _named(err, name, (x,), broadcasting) from None
        return _new(Tensor, out, name, (x,), rule, None)

    inputs_at = [i for i, inp in enumerate(is_input) if inp]
    attrs_at = [i for i, inp in enumerate(is_input) if not inp]
    sequence = any(variadic)

    def general(*args: Any, **kwargs: Any) -> Tensor:
        # Every argument in parameter order (a call that gives them all by position, as
        # the Tensor methods do, needs no binding).
        if kwargs or len(args) != len(names):
            values = _bind(name, names, where, defaults, args, kwargs)
        else:
            values = list(args)
        if sequence:
            (i,) = inputs_at
            given = values[i]
            if isinstance(given, Tensor | np.ndarray) or not isinstance(given, Sequence):
                raise TypeError(
                    f"{name}: {names[i]} must be a list or tuple of tensors, "
                    f"got {type(given).__name__}"
                )
            tensors = _operands(name, tuple(given))
            values[i] = [t._data for t in tensors]
        else:
            tensors = tuple(values[i] for i in inputs_at)
            if any(type(t) is not Tensor for t in tensors):
                tensors = _operands(name, tensors)
            for i, t in zip(inputs_at, tensors, strict=True):
                values[i] = t._data
        extra = {"needs_grad": tuple(t.requires_grad for t in tensors)} if wants_needs else {}
        try:
            result = forward(*values, **extra)
        except (ValueError, TypeError, IndexError) as err:
            raise _named(err, name, tensors, broadcasting) from None
        if len(result) == 3:
            out, rule, attrs = result
        else:
            out, rule = result
            attrs = {names[i]: _frozen(values[i]) for i in attrs_at}
        return _new(Tensor, out, name, tensors, rule, attrs)

    public = binary if fast and len(names) == 2 else unary if fast and len(names) == 1 else general
    public.__name__ = public.__qualname__ = name
    public.__doc__ = forward.__doc__
    public.__module__ = forward.__module__
    public.__wrapped__ = forward  # type: ignore[attr-defined]
    return public


_PLAIN = (int, float, bool, str, type(None))  # attributes kept as they are, at once


def _frozen(value: Any) -> Any:
    """An attribute as the record keeps it: a list becomes a tuple and an array a
    read-only copy, so a later change to the caller's object cannot change the record
    (``viz.check`` re-runs ops from it, gradcheck reads kinks from it)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
    return value


def _bind(
    name: str,
    names: list[str],
    where: dict[str, int],
    defaults: list[Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> list[Any]:
    """The arguments of a call in parameter order, defaults filled in, or a TypeError.

    PyTorch's names ``dim``, ``keepdim``, ``start_dim`` and ``end_dim`` are accepted for
    ``axis``, ``keepdims``, ``start`` and ``end``, and numpy's ``ddof`` for ``correction``.
    """
    if len(args) > len(names):
        raise TypeError(f"{name}() takes {len(names)} arguments, got {len(args)}")
    values = list(args) + defaults[len(args) :]
    given = set(range(len(args)))
    for key, value in kwargs.items():
        i = where.get(key)
        if i is None and key in _ALIASES:
            i = where.get(_ALIASES[key])
        if i is None:
            raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
        if i in given:
            raise TypeError(f"{name}() got multiple values for argument {names[i]!r}")
        given.add(i)
        values[i] = value
    for i, value in enumerate(values):
        if value is _MISSING:
            raise TypeError(f"{name}() missing required argument {names[i]!r}")
    return values


# PyTorch's argument names (and numpy's ddof), accepted where the op names them otherwise.
_ALIASES = {
    "dim": "axis",
    "keepdim": "keepdims",
    "start_dim": "start",
    "end_dim": "end",
    "ddof": "correction",
}


def _operands(name: str, values: tuple[Any, ...]) -> tuple[Tensor, ...]:
    """Every operand as a tensor. Python numbers and integer or bool arrays take the dtype
    of the first tensor among them (so float32 stays float32, as in torch)."""
    if len(values) == 2:  # the usual case, written out: 2 * x, x + 1
        a, b = values
        if isinstance(a, Tensor):
            return a, constant(b, a._data.dtype, name)
        if isinstance(b, Tensor):
            return constant(a, b._data.dtype, name), b
    like = next((v._data.dtype for v in values if isinstance(v, Tensor)), None)
    return tuple([constant(v, like, name) for v in values])


def constant(x: Any, like: np.dtype | None, where: str) -> Tensor:
    """A non-tensor operand as a constant tensor (a leaf that needs no gradient).

    A Python number, or an integer or bool array, takes the dtype of the float tensor it
    meets, as in torch (numpy would make int64 * float32 float64).

    >>> import numpy as np
    >>> constant(2, np.dtype(np.float32), "mul").dtype
    dtype('float32')
    """
    if isinstance(x, Tensor):
        return x
    if like is not None and like.kind == "f":
        if isinstance(x, int | float) and not isinstance(x, bool):
            return _new(Tensor, np.asarray(x, dtype=like), None, (), None, None)
        if isinstance(x, np.ndarray) and x.dtype.kind in "iub":
            return _new(Tensor, x.astype(like), None, (), None, None)
    # Name the op in the message ("mul: complex numbers are not supported (got 1j)").
    return Tensor(_as_array(x, where=where))


def _named(err: Exception, name: str, inputs: Sequence[Tensor], broadcasting: bool) -> Exception:
    """The error an op's forward raised, with the op's name (and, for a broadcasting
    failure, the shapes) in front, instead of a traceback from inside numpy."""
    message = str(err)
    if broadcasting and isinstance(err, ValueError):
        shapes = [t.shape for t in inputs]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            message = f"shapes {' and '.join(map(str, shapes))} cannot be broadcast together"
    if not message.startswith(f"{name}:"):
        message = f"{name}: {message}"
    try:
        return type(err)(message)
    except Exception:  # an exception class that wants other arguments
        return ValueError(message)


# ----- what is derived from the registry: the docs -----


def derivative_table() -> str:
    """The derivative table (op, how it is written, gate, local gradient, pattern) as Markdown.

    ``docs/derivatives.md`` holds this text under a header (:func:`derivative_doc`); a
    test checks that it is up to date.

    >>> "| mul | `a * b` | `*` |" in derivative_table()
    True
    """
    lines = [
        "| op | written | gate | local gradient | backward-flow pattern |",
        "|---|---|---|---|---|",
    ]
    for info in OPS.values():
        cells = [info.name, f"`{info.example()}`", f"`{info.symbol}`", info.local, info.pattern]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def op_catalogue() -> str:
    """Every op by kind, as the README lists them: ``tg.<name>`` and its operator, if any.

    >>> print(op_catalogue().splitlines()[0][:40])
      - elementwise: `tg.add` (`a + b`), `tg
    """
    lines = []
    for kind in KINDS:
        spelled = [
            f"`tg.{i.name}`" + (f" (`{i.example()}`)" if i.operator else "")
            for i in OPS.values()
            if i.kind == kind
        ]
        if spelled:
            lines.append(f"  - {kind}: " + ", ".join(spelled))
    return "\n".join(lines) + "\n"


def expression_catalogue() -> str:
    """Every op as the ``tensorgraph draw`` expression language writes it.

    >>> "`max(a, b)`" in expression_catalogue()
    True
    """
    return ", ".join(f"`{i.expression()}`" for i in OPS.values() if i.expression()) + "\n"


def derivative_doc() -> str:
    """The whole text of ``docs/derivatives.md``: a fixed header, then the table.

    >>> derivative_doc().startswith("# Derivative table")
    True
    """
    header = (
        "# Derivative table\n\n"
        "Generated from the op registry `tg.OPS` by `python3 dev.py docs`; a test keeps "
        "this file equal to it. `G` is the upstream gradient; every rule is applied as "
        "upstream x local = downstream, then summed back over broadcast dimensions.\n\n"
    )
    return (
        header + "## Every op, by kind\n\n" + op_catalogue() + "\n## Rules\n\n" + derivative_table()
    )


README_BLOCKS = {"ops": op_catalogue, "expression": expression_catalogue}


def readme_with_blocks(text: str) -> str:
    """``text`` (the README) with each generated block rewritten from the registry.

    A block sits between ``<!-- ops:begin -->`` and ``<!-- ops:end -->`` (and likewise
    ``expression``).

    >>> readme_with_blocks("a\\n<!-- ops:begin -->\\nold\\n<!-- ops:end -->\\n").count("`tg.exp`")
    1
    """
    for key, make in README_BLOCKS.items():
        begin, end = f"<!-- {key}:begin -->\n", f"<!-- {key}:end -->"
        head, sep, rest = text.partition(begin)
        if not sep:
            continue
        _, sep2, tail = rest.partition(end)
        if not sep2:
            raise ValueError(f"README: {begin.strip()} has no matching {end}")
        text = head + begin + make() + end + tail
    return text


def write_docs(root: str | Path | None = None) -> list[Path]:
    """Regenerate ``docs/derivatives.md`` and the README's op lists under ``root``.

    ``python3 dev.py docs`` runs this after an op is added; ``tests/test_docs.py``
    fails until it has been run.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in write_docs(d)]
    ['derivatives.md']
    """
    base = Path(root) if root else Path(__file__).resolve().parent.parent
    doc = base / "docs" / "derivatives.md"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(derivative_doc(), encoding="utf-8", newline="\n")
    written = [doc]
    readme = base / "README.md"
    if readme.exists():
        readme.write_text(
            readme_with_blocks(readme.read_text(encoding="utf-8")), encoding="utf-8", newline="\n"
        )
        written.append(readme)
    return written
