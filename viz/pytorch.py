"""PyTorch's autograd graph in viz's networkx form.

    with viz.record_torch():       # around ordinary PyTorch code (viz.record)
        f = 2 * (x * y + torch.maximum(z, w))
        f.backward()
    viz.draw(f)                     # every node with its value and its gradient
    viz.animate(f, "torch.html")    # backward in the order PyTorch's engine ran it

A tensor's ``grad_fn`` and, behind it, ``next_functions`` are walked iteratively (a
100,000-op chain is fine). Each backward node becomes a gate, named as PyTorch names it
(``MulBackward0``) under a short symbol; the op of ``tg.OPS`` it stands for comes from the
registry's ``torch`` field (``torch.mul`` records ``MulBackward0``) or, where PyTorch's
name differs, from :data:`NODE_OPS`. ``AccumulateGrad`` nodes are the leaves: each is
drawn as its tensor, with its value and ``.grad``. Inputs that need no gradient (PyTorch
keeps no node for them) are not drawn; a one-element constant autograd saved appears on
its gate (``other=2``).

What :func:`viz.record_torch` saw (a :class:`NodeRecord` in each node's ``metadata``)
gives every node its value and gradient. Without it the drawing shows the leaves, the
output and what autograd saved for backward (``_saved_self``, ``_saved_result``); the
other intermediates read "value not recorded".

torch is imported only by the functions that need it; ``import viz`` never imports it.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import networkx as nx
import numpy as np

import tensorgraph as tg

from .graph import is_torch_tensor

__all__ = [
    "MAX_NODES",
    "NODE_OPS",
    "NodeRecord",
    "TorchGate",
    "TorchGraph",
    "TorchNode",
    "evaluate_torch",
    "node_ops",
    "recorded_name",
    "require_torch",
    "short_name",
    "torch_to_networkx",
]

TORCH_HINT = "pip install 'tensorgraph[torch]' (or pip install torch==2.13.0)"
KEY = "tensorgraph"  # our entry in an autograd node's metadata dict
UNRECORDED = (
    "PyTorch keeps no intermediate values or gradients: run the code inside "
    "`with viz.record_torch():` to see them all"
)
INNER = (
    "value not recorded: a step inside one op (the recorder sees each op's result, and "
    "autograd did not save this one)"
)


def require_torch(where: str) -> ModuleType:
    """The torch module, or an ImportError that says how to install it.

    >>> require_torch("viz.record_torch").__name__
    'torch'
    """
    try:
        import torch
    except ImportError:
        raise ImportError(f"{where} needs PyTorch, which is not installed: {TORCH_HINT}") from None
    return torch


# --------------------------------------------------------------------------- which op


# PyTorch's backward nodes whose name is not derived from a registry entry's ``torch``
# field (``torch.matmul`` records ``MmBackward0`` for two matrices), and the op of
# ``tg.OPS`` each stands for.
NODE_OPS = {
    "MmBackward0": "matmul",
    "MvBackward0": "matmul",
    "DotBackward0": "matmul",
    "BmmBackward0": "matmul",
    "SumBackward1": "sum",  # sum over dims
    "MeanBackward1": "mean",
    "MaxBackward0": "max",  # max(dim) ...
    "MaxBackward1": "max",  # ... and max() of everything
    "MinBackward0": "min",
    "MinBackward1": "min",
    "ViewBackward0": "reshape",
    "UnsafeViewBackward0": "reshape",
    "ReshapeAliasBackward0": "reshape",
    "TBackward0": "transpose",
    "TransposeBackward0": "transpose",
    "IndexBackward0": "index",  # x[[0, 2]]
    "SelectBackward0": "index",  # x[0]
    "SliceBackward0": "index",  # x[1:3]
    "RsubBackward0": "sub",
    "RsubBackward1": "sub",
    "PowBackward0": "pow",  # x ** 2
    "PowBackward1": "power",  # x ** y
    "PowBackward2": "power",  # 2 ** x
    "ClampBackward1": "clamp",
    "ClampMinBackward0": "clamp",
    "ClampMaxBackward0": "clamp",
    "SqueezeBackward0": "squeeze",
    "SqueezeBackward1": "squeeze",
    "SqueezeBackward2": "squeeze",
    "ToCopyBackward0": "astype",
    "Log1PBackward0": "log1p",
    "LogsumexpBackward0": "logsumexp",
}
# rsub(a, b) is b - a: its inputs stand in the other order of tg.sub's.
_REVERSED = {"RsubBackward0", "RsubBackward1"}


@functools.cache
def node_ops() -> dict[str, str]:
    """PyTorch backward-node name -> the ``tg.OPS`` op it stands for.

    Derived from each entry's ``torch`` field (``torch.maximum`` records
    ``MaximumBackward0``), plus :data:`NODE_OPS` for the names that differ.

    >>> node_ops()["MulBackward0"], node_ops()["MaximumBackward0"], node_ops()["MmBackward0"]
    ('mul', 'maximum', 'matmul')
    """
    ops = {}
    for info in tg.OPS.values():
        if info.torch:
            base = info.torch.rsplit(".", 1)[-1]
            ops["".join(part.capitalize() for part in base.split("_")) + "Backward0"] = info.name
    ops.update({name: op for name, op in NODE_OPS.items() if op in tg.OPS})
    return ops


def short_name(node_name: str) -> str:
    """A backward node's name as an op name: "NllLossBackward0" -> "nll_loss".

    >>> short_name("NllLossBackward0"), short_name("LogSoftmaxBackward0"), short_name("FBackward")
    ('nll_loss', 'log_softmax', 'f')
    """
    base = re.sub(r"Backward\d*$", "", node_name.rsplit("::", 1)[-1]) or node_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()


# --------------------------------------------------------------------------- arrays


def _array(t: Any) -> np.ndarray:
    """A torch tensor's entries as a new numpy array (bfloat16 read as float32)."""
    t = t.detach().cpu().resolve_conj().resolve_neg()
    try:
        return t.numpy().copy()
    except TypeError:  # numpy has no bfloat16
        return t.float().numpy()


def _dtype(t: Any) -> str:
    """ "float32" for torch.float32."""
    return str(t.dtype).removeprefix("torch.")


def _is_tensor(x: Any) -> bool:
    return is_torch_tensor(x)


_MISSING = object()


def _saved(fn: Any, name: str) -> Any:
    """``fn._saved_<name>``, or _MISSING when the node has none or freed it (after backward).

    Autograd's saved values are readable as ``grad_fn._saved_self`` and the like (PyTorch's
    "Autograd mechanics" notes, "Saved tensors").
    """
    try:
        return getattr(fn, "_saved_" + name)
    except (AttributeError, RuntimeError):
        return _MISSING


def _output_meta(fn: Any, nr: int) -> tuple[tuple[int, ...] | None, str | None]:
    """The shape and dtype of output ``nr`` of node ``fn``, where PyTorch says."""
    try:
        meta = fn._input_metadata[nr]  # what backward receives: the forward outputs
        return tuple(meta.shape), _dtype(meta)
    except (AttributeError, IndexError, RuntimeError, TypeError):
        return None, None


# Saved values that are the node's inputs, by input position: aten's `self` is input 0,
# `other` input 1, and a few nodes name theirs otherwise (nn.Linear records addmm).
_SLOT_ARGS = ("self", "other")
_NODE_ARGS = {
    "AddmmBackward0": ("self", "mat1", "mat2"),
    "MmBackward0": ("self", "mat2"),
    "BmmBackward0": ("self", "mat2"),
    "MvBackward0": ("self", "vec"),
    "AddmvBackward0": ("self", "mat", "vec"),
}


def _slot_args(fn: Any) -> tuple[str, ...]:
    """The names autograd saves fn's inputs under, by input position."""
    return _NODE_ARGS.get(fn.name(), _SLOT_ARGS)[: len(fn.next_functions)]


def _saved_inputs(fn: Any) -> dict[int, np.ndarray]:
    """The inputs node ``fn`` saved for backward, by input position (while not freed)."""
    found = {}
    for k, arg in enumerate(_slot_args(fn)):
        val = _saved(fn, arg)
        if _is_tensor(val):
            found[k] = _array(val)
    return found


# Non-tensor settings autograd saved worth printing on a gate (PyTorch's own names).
_SHOWN_ATTRS = ("dim", "keepdim", "exponent", "dims", "dim0", "dim1", "index", "start", "end")
_SHOWN_ATTRS += ("step", "alpha", "beta")
_DEFAULT_ATTRS = {"alpha": 1, "beta": 1, "step": 1, "keepdim": False}


def _gate_attrs(fn: Any, constants: dict[int, np.ndarray]) -> dict[str, Any]:
    """A gate's settings (dim=1) and its one-element constant inputs (other=2)."""
    attrs: dict[str, Any] = {}
    for name in _SHOWN_ATTRS:
        val = _saved(fn, name)
        dims = isinstance(val, tuple) and all(isinstance(v, int) for v in val)  # dim=(1,)
        if val is _MISSING or val is None or _is_tensor(val) or (not dims and _sequence(val)):
            continue
        if name in _DEFAULT_ATTRS and val == _DEFAULT_ATTRS[name]:
            continue
        if name == "end" and isinstance(val, int) and val >= 2**62:  # x[1:] ends at "max"
            continue
        attrs[name] = val
    names = _slot_args(fn)
    for k, value in constants.items():
        if value.size == 1 and k < len(names):
            attrs[names[k]] = value.reshape(()).item()
    return attrs


def _sequence(val: Any) -> bool:
    return isinstance(val, tuple | list)


def _post_order(start: Any, skip: Callable[[Any], bool] = lambda fn: False) -> list[Any]:
    """The nodes behind ``start`` (itself included), every input before its consumer.

    A depth-first post-order over ``next_functions``, left to right, with an explicit
    stack; nodes for which ``skip`` is true are not entered. The list holds each node's
    Python object, so their ``id``s stay unique while it lives.
    """
    order: list[Any] = []
    seen = {id(start)}
    stack = [(start, iter(start.next_functions))]
    while stack:
        fn, inputs = stack[-1]
        for nxt, _ in inputs:
            if nxt is not None and id(nxt) not in seen and not skip(nxt):
                seen.add(id(nxt))
                stack.append((nxt, iter(nxt.next_functions)))
                break
        else:
            stack.pop()
            order.append(fn)
    return order


# The most nodes of PyTorch's graph viz reads. Every node read from Python gets a Python
# object, and PyTorch 2.13 frees a graph whose nodes have one recursively: a chain of
# more than about 40,000 such nodes overflows the C stack when it is freed and crashes
# the process (plain PyTorch does it too: `y.grad_fn` touched in a 60,000-step loop).
# Larger graphs become a summary card, read only this far.
MAX_NODES = 10_000
TOO_LARGE = (
    "PyTorch's graph has more than {limit:,} nodes; viz reads at most that many (PyTorch "
    "crashes freeing a much deeper graph whose nodes were read from Python). Draw it with "
    "viz.draw (a summary card) or step through a smaller example"
)


def _count(
    start: Any, limit: int, skip: Callable[[Any], bool] = lambda fn: False
) -> tuple[int, Counter[str], bool]:
    """How many nodes are behind ``start`` (not entering those ``skip`` says) and which
    gates, reading at most ``limit`` of them; the flag is False when there are more
    (the counts cover those read)."""
    seen = {id(start)}
    queue, keep = [start], [start]
    names: Counter[str] = Counter()
    for fn in queue:  # grows while we walk it
        if not _is_leaf_node(fn):
            names[fn.name()] += 1
        for nxt, _ in fn.next_functions:
            if nxt is not None and id(nxt) not in seen and not skip(nxt):
                if len(seen) >= limit:
                    return len(seen), names, False
                seen.add(id(nxt))
                keep.append(nxt)
                queue.append(nxt)
    return len(seen), names, True


def _is_leaf_node(fn: Any) -> bool:
    """An ``AccumulateGrad`` node: where a leaf's gradient lands (it holds ``.variable``)."""
    return hasattr(fn, "variable")


# --------------------------------------------------------------------------- the record


@dataclass(eq=False)
class NodeRecord:
    """What :func:`record_torch` learned about one autograd node (in its ``metadata``).

    Per output of the node (``output_nr``): ``values`` (a copy made when the op ran; for
    an ``AccumulateGrad`` node, the leaf's value when the recording first used it),
    ``dtypes`` and ``names``. ``constants``: inputs that need no gradient, by input
    position, as autograd saved them. From ``backward()``: ``upstream`` (the gradient
    the node received, per output), ``sent`` (what it sent to each input), ``local``
    (what it sends for an upstream of ones: its local gradient, computed by the node
    itself) and ``order`` (when the engine ran it). ``seq`` is the forward order.

    >>> NodeRecord().order is None
    True
    """

    seq: int | None = None
    values: dict[int, np.ndarray] = field(default_factory=dict)
    dtypes: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    constants: dict[int, np.ndarray] = field(default_factory=dict)
    upstream: tuple[np.ndarray | None, ...] | None = None
    sent: tuple[np.ndarray | None, ...] | None = None
    local: tuple[np.ndarray | None, ...] | None = None
    order: int | None = None


def _record(fn: Any, create: bool = True) -> NodeRecord | None:
    """The record kept in ``fn.metadata`` (made if ``create`` and missing)."""
    meta = fn.metadata
    rec = meta.get(KEY)
    if rec is None and create:
        rec = meta[KEY] = NodeRecord()
    return rec


# --------------------------------------------------------------------------- reading


@dataclass(eq=False)
class TorchNode:
    """One tensor node of PyTorch's graph, with the fields of tensorgraph's public record
    (``name``, ``op``, ``inputs``, ``attrs``, ``data``, ``requires_grad``), so viz's
    captions read both alike. ``data`` is NaN where the value was not recorded
    (``value`` is then None). Constants (inputs PyTorch keeps no node for) are not drawn.
    """

    id: str
    name: str | None
    op: str | None
    inputs: tuple[TorchNode, ...]
    attrs: dict[str, Any]
    value: np.ndarray | None
    grad: np.ndarray | None
    shape: tuple[int, ...]
    dtype: str
    requires_grad: bool = True
    drawn: bool = True
    gate: str | None = None  # the networkx id of the gate that made it
    torch_id: int | None = None

    @property
    def data(self) -> np.ndarray:
        return self.value if self.value is not None else np.full(self.shape, np.nan)

    @property
    def is_leaf(self) -> bool:
        return self.op is None


@dataclass(eq=False)
class TorchGate:
    """One backward node of PyTorch's graph as a gate: ``op`` is the ``tg.OPS`` op it
    stands for (or its :func:`short_name`), ``inputs`` by input position (constants are
    TorchNodes that are not drawn), ``outputs`` by output number, ``attrs`` what the gate
    prints (its settings, one-element constants), ``record`` what the recorder saw."""

    id: str
    fn: Any
    torch_name: str
    op: str
    symbol: str
    commutative: bool
    reversed: bool
    inputs: tuple[TorchNode, ...]
    attrs: dict[str, Any]
    record: NodeRecord | None
    outputs: dict[int, TorchNode] = field(default_factory=dict)


class TorchGraph:
    """PyTorch's autograd graph behind tensor ``t``, walked once, iteratively.

    At most ``limit`` nodes are read (:data:`MAX_NODES`); ``complete`` says whether that
    was all of them. ``nodes`` (tensors, inputs before outputs, constants included) and
    ``gates`` are built on first use; :meth:`summary` needs only the count, so a graph
    too large to draw costs one pass over its first nodes.

    >>> import torch
    >>> x = torch.tensor(3.0, requires_grad=True)
    >>> walked = TorchGraph(2 * x)
    >>> walked.complete, [g.torch_name for g in walked.gates], walked.drawn_nodes()
    (True, ['MulBackward0'], 3)
    """

    def __init__(self, t: Any, limit: int = MAX_NODES) -> None:
        self.root = t
        fn = t.grad_fn
        self.size, self.ops, self.complete = _count(fn, limit) if fn is not None else (1, {}, True)
        self.n_gates = sum(self.ops.values())
        self.fns: list[Any] = _post_order(fn) if fn is not None and self.complete else []
        self._built: tuple[list[TorchNode], list[TorchGate]] | None = None

    def drawn_nodes(self) -> int:
        """How many nodes a drawing has: each leaf, and each gate with its output (a lower
        bound when the graph was too large to read whole)."""
        return self.size + self.n_gates

    def summary(self) -> tuple[int, Counter[str], dict[str, Any]]:
        """(tensors, gates by PyTorch's name, the output's name/shape/value) for the card
        a graph too large to draw becomes (counted as far as it was read)."""
        t = self.root
        rec = _record(t.grad_fn, create=False) if t.grad_fn is not None else None
        out = {
            "name": rec.names.get(t.output_nr) if rec else None,
            "shape": tuple(t.shape),
            "value": _array(t) if t.numel() == 1 else np.zeros(0),
        }
        return self.size, Counter(self.ops), out

    def require_complete(self, where: str) -> None:
        """Raise ValueError (saying why) when the graph was too large to read whole."""
        if not self.complete:
            raise ValueError(f"{where}: " + TOO_LARGE.format(limit=MAX_NODES))

    @property
    def nodes(self) -> list[TorchNode]:
        return self._build()[0]

    @property
    def gates(self) -> list[TorchGate]:
        return self._build()[1]

    @property
    def output(self) -> TorchNode:
        """The node of ``t`` itself."""
        return next(n for n in self.nodes if n.drawn and n.torch_id == id(self.root))

    def _build(self) -> tuple[list[TorchNode], list[TorchGate]]:
        self.require_complete("viz")
        if self._built is None:
            self._built = _build(self.root, self.fns)
        return self._built

    def to_networkx(self) -> nx.MultiDiGraph:
        """The graph in :func:`viz.to_networkx`'s form (see :mod:`viz.graph`).

        Gates also carry ``torch_name`` ("MulBackward0"), ``slots`` (how many inputs
        PyTorch's node has, drawn or not) and ``reversed`` (rsub); every node carries
        ``torch_id``, the ``id()`` of the PyTorch object it stands for (a backward node,
        a leaf tensor, the output tensor), as torchviz names its nodes. Nodes without a
        recorded value or gradient say so (``missing_value``, ``missing_grad``).
        """
        nodes, gates = self._build()
        out = self.output
        g = nx.MultiDiGraph(output=out.id, engine="torch")
        by_id = {gate.id: gate for gate in gates}
        for node in nodes:
            if not node.drawn:
                continue
            if node.gate is not None and node.gate not in g:
                gate = by_id[node.gate]
                g.add_node(
                    gate.id,
                    kind="op",
                    op=gate.op,
                    symbol=gate.symbol,
                    commutative=gate.commutative,
                    attrs=dict(gate.attrs),
                    torch_name=gate.torch_name,
                    torch_id=id(gate.fn),
                    slots=len(gate.inputs),
                    reversed=gate.reversed,
                )
                for k, inp in enumerate(gate.inputs):
                    if inp.drawn:
                        g.add_edge(inp.id, gate.id, key=k, index=k)
            leaf = node.gate is None
            data = {
                "kind": "tensor",
                "name": node.name,
                "shape": node.shape,
                "dtype": node.dtype,
                "value": node.value,
                "grad": node.grad,
                "leaf": leaf,
                "requires_grad": node.requires_grad,
                "role": "output" if node is out else "input" if leaf else "computed",
                "torch_id": node.torch_id,
            }
            if node.value is None:
                data["missing_value"] = "value not recorded"
            if node.grad is None and not leaf:
                data["missing_grad"] = "grad not recorded"
            g.add_node(node.id, **data)
            if node.gate is not None:
                g.add_edge(node.gate, node.id, key=0)
        missing = [
            d for _, d in g.nodes(data=True) if d.get("missing_value") or d.get("missing_grad")
        ]
        if missing and not any(gate.record is not None for gate in gates):
            g.graph["caption"] = [UNRECORDED]
        elif missing:  # recorded: what is missing are the inner steps of an op
            g.graph["caption"] = [INNER]
        return g


def _build(root: Any, fns: list[Any]) -> tuple[list[TorchNode], list[TorchGate]]:
    """Every tensor node and gate of the walked graph (see :class:`TorchGraph`)."""
    if not fns:  # a tensor without grad_fn: one node
        node = TorchNode(
            "t0",
            None,
            None,
            (),
            {},
            _array(root),
            None if root.grad is None else _array(root.grad),
            tuple(root.shape),
            _dtype(root),
            requires_grad=bool(root.requires_grad),
            torch_id=id(root),
        )
        return [node], []
    ops = node_ops()
    index = {id(fn): i for i, fn in enumerate(fns)}
    records = [_record(fn, create=False) for fn in fns]
    root_key = (index[id(root.grad_fn)], root.output_nr)
    # What autograd saved (until backward frees it): (node index, output) -> value.
    saved: dict[tuple[int, int], np.ndarray] = {}
    for i, fn in enumerate(fns):
        if _is_leaf_node(fn):
            continue
        result = _saved(fn, "result")
        if _is_tensor(result):
            saved[(i, 0)] = _array(result)
        for k, value in _saved_inputs(fn).items():
            nxt, nr = fn.next_functions[k]
            if nxt is not None and not _is_leaf_node(nxt):
                saved.setdefault((index[id(nxt)], nr), value)

    nodes: list[TorchNode] = []
    gates: dict[int, TorchGate] = {}
    tensors: dict[tuple[int, int], TorchNode] = {}

    def output(i: int, nr: int) -> TorchNode:
        """The tensor node of output nr of gate i (made on first use)."""
        if (i, nr) in tensors:
            return tensors[(i, nr)]
        fn, rec, gate = fns[i], records[i], gates[i]
        shape, dtype = _output_meta(fn, nr)
        value = rec.values.get(nr) if rec else None
        if value is None and (i, nr) == root_key:
            value = _array(root)
        if value is None:
            value = saved.get((i, nr))
        if value is not None and shape is not None and tuple(value.shape) != shape:
            value = None  # a saved tensor of another shape: not this output after all
        grad = None
        if rec is not None and rec.order is not None and rec.upstream and nr < len(rec.upstream):
            grad = rec.upstream[nr]
        if grad is None and (i, nr) == root_key and root.retains_grad and root.grad is not None:
            grad = _array(root.grad)  # root.retain_grad()
        node = TorchNode(
            f"t{i}" if nr == 0 else f"t{i}_{nr}",
            rec.names.get(nr) if rec else None,
            gate.op,
            gate.inputs,
            gate.attrs,
            value,
            grad,
            tuple(value.shape) if value is not None else shape or (),
            (rec.dtypes.get(nr) if rec else None) or dtype or "float32",
            gate=gate.id,
            torch_id=id(root) if (i, nr) == root_key else None,
        )
        tensors[(i, nr)] = gate.outputs[nr] = node
        return node

    for i, fn in enumerate(fns):
        rec = records[i]
        if _is_leaf_node(fn):
            var = fn.variable
            value = rec.values[0] if rec and 0 in rec.values else _array(var)
            tensors[(i, 0)] = node = TorchNode(
                f"t{i}",
                rec.names.get(0) if rec else None,
                None,
                (),
                {},
                value,
                None if var.grad is None else _array(var.grad),
                tuple(value.shape),
                (rec.dtypes.get(0) if rec else None) or _dtype(var),
                torch_id=id(var),
            )
            nodes.append(node)
            continue
        inputs, constants = [], {}
        for k, (nxt, nr) in enumerate(fn.next_functions):
            if nxt is not None:
                j = index[id(nxt)]
                inputs.append(tensors[(j, 0)] if _is_leaf_node(nxt) else output(j, nr))
                continue
            value = rec.constants.get(k) if rec else None
            if value is None:
                value = _saved_inputs(fn).get(k)
            if value is not None:
                constants[k] = value
            const = TorchNode(
                f"c{i}_{k}",
                None if value is not None else "const",
                None,
                (),
                {},
                value,
                None,
                tuple(value.shape) if value is not None else (),
                str(value.dtype) if value is not None else "float32",
                requires_grad=False,
                drawn=False,
            )
            nodes.append(const)
            inputs.append(const)
        torch_name = fn.name()
        op = ops.get(torch_name)
        info = tg.OPS.get(op) if op else None
        gates[i] = TorchGate(
            f"g{i}",
            fn,
            torch_name,
            op or short_name(torch_name),
            info.symbol if info else short_name(torch_name),
            bool(info and info.commutative),
            torch_name in _REVERSED,
            tuple(inputs),
            _gate_attrs(fn, constants),
            rec,
        )
    output(*root_key)  # the output is nobody's input
    nodes += [t for gate in gates.values() for t in gate.outputs.values()]
    nodes.sort(key=_node_position)
    return nodes, list(gates.values())


def _node_position(node: TorchNode) -> tuple[int, int, int]:
    """Inputs before outputs: the walk's index of the node, a gate's constants first."""
    head, _, tail = node.id[1:].partition("_")
    return int(head), 0 if node.id[0] == "c" else 1, int(tail or 0)


def torch_to_networkx(t: Any, copy: bool = False) -> nx.MultiDiGraph:
    """PyTorch's autograd graph behind ``t`` in the form :func:`viz.to_networkx` gives.

    >>> import torch
    >>> x = torch.tensor(3.0, requires_grad=True)
    >>> g = torch_to_networkx(x * x)
    >>> [d.get("torch_name") for _, d in g.nodes(data=True)]
    [None, 'MulBackward0', None]
    """
    del copy  # the arrays are copies of PyTorch's already
    walked = TorchGraph(t)
    walked.require_complete("to_networkx")
    return walked.to_networkx()


# --------------------------------------------------------------------------- expressions


# Our attribute names where PyTorch's differ (torch.var's correction is keyword-only, etc.).
_TORCH_NAMES = {
    "axis": "dim",
    "keepdims": "keepdim",
    "axes": "dims",
    "start": "start_dim",
    "end": "end_dim",
    "y": "target",
}


def _torch_call(info: tg.OpInfo, arguments: dict[str, Any]) -> Any:
    """Run op ``info`` with PyTorch: its registry twin, inputs by position and attributes
    by PyTorch's names (an axis of None is every axis; labels become integer tensors; a
    dtype word becomes torch's dtype)."""
    torch = sys.modules["torch"]
    if not info.torch:
        from .expr import ExpressionError

        raise ExpressionError(
            f"{info.expr or info.name}() has no PyTorch twin in the registry "
            f"(tg.OPS[{info.name!r}].torch is empty), so --engine torch cannot evaluate it"
        )
    function: Any = torch
    for part in info.torch.split(".")[1:]:
        function = getattr(function, part)
    flat = [x for name in info.inputs for x in _as_list(arguments[name], info.variadic)]
    like = next((x for x in flat if isinstance(x, torch.Tensor)), None)
    dtype = like.dtype if like is not None else torch.float64

    def tensor(x: Any) -> Any:
        return x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=dtype)

    defaults = inspect.signature(info.forward).parameters
    settings = {n: arguments.get(n, defaults[n].default) for n in info.attrs}
    if info.name in ("sum", "mean") and settings["axis"] is None and not settings["keepdims"]:
        settings = {}  # torch.sum(x): every entry (SumBackward0, not a sum over dims)
    positional, keywords = [], {}
    seen_input = False
    for name in info.params:
        if name in info.inputs:
            value = arguments[name]
            positional.append([tensor(v) for v in value] if info.variadic else tensor(value))
            seen_input = True
            continue
        if name not in settings:
            continue
        value = settings[name]
        ndim = tensor(flat[0]).ndim if flat else 0
        if name == "axis" and value is None and info.name in ("squeeze",):
            continue  # torch.squeeze(x): every axis of size 1
        if name == "axis" and value is None:
            value = tuple(range(ndim))
        elif name == "axes" and value is None:
            value = tuple(reversed(range(ndim)))
        elif name == "dtype":
            value = getattr(torch, np.dtype(value).name)
        elif isinstance(value, np.ndarray):  # labels, a where mask
            if value.dtype.kind == "b":
                value = torch.as_tensor(value)
            else:
                integral = value.dtype.kind in "iu" or bool(np.all(value == np.round(value)))
                value = torch.as_tensor(value.astype(np.int64) if integral else value)
        if not seen_input:  # where(cond, a, b): an attribute before the inputs
            positional.append(value)
        else:
            keywords[_TORCH_NAMES.get(name, name)] = value
    return function(*positional, **keywords)


def _as_list(value: Any, variadic: bool) -> list[Any]:
    return list(value) if variadic else [value]


def evaluate_torch(expr: str, values: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The expression language of ``tensorgraph draw``, evaluated with PyTorch (float64).

    The same parser and whitelist as :func:`viz.expr.evaluate`; each op runs as its
    registry twin (``max(z, w)`` is ``torch.maximum``), Python's operators as PyTorch's.
    Returns the output and the variables by name (leaves that require a gradient).

    >>> f, xs = evaluate_torch("2*(x*y + max(z, w))", dict(x=3, y=-4, z=2, w=-1))
    >>> f.item()
    -20.0
    """
    from .expr import ExpressionError, evaluate_with, parse

    torch = require_torch("--engine torch")
    tree = parse(expr, set(values))
    env = {
        name: torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
        for name, value in values.items()
    }
    out = evaluate_with(tree, env, {n: np.asarray(v) for n, v in values.items()}, _torch_call)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise ExpressionError("the expression uses no variable, so there is nothing to draw")
    return out, env


def recorded_name(t: Any) -> str | None:
    """The name :func:`viz.record_torch` gave PyTorch tensor ``t``, or None.

    >>> import torch, viz
    >>> with viz.record_torch():
    ...     loss = torch.tensor(2.0, requires_grad=True) * 3
    >>> recorded_name(loss), recorded_name(loss * 2)
    ('loss', None)
    """
    fn = t.grad_fn
    if fn is None:
        return None
    rec = _record(fn, create=False)
    return rec.names.get(t.output_nr) if rec else None
