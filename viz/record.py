"""``with viz.record_torch():``: PyTorch's values and gradients, recorded for the drawings.

PyTorch keeps no intermediate values and no intermediate gradients. Around ordinary
PyTorch code, :func:`record_torch` runs as a :class:`torch.overrides.TorchFunctionMode`
that copies each op's output as it is made, and puts hooks on every node of the graph
(``Node.register_prehook`` and ``register_hook``) that copy, during ``backward()``, the
gradient each node receives, what it sends to each input, its local gradient and the
order the engine ran it in. Everything goes into the node's own ``metadata`` dict (a
:class:`viz.pytorch.NodeRecord`), so it lives and dies with the graph and
:mod:`viz.pytorch` finds it from any tensor. Results and gradients are exactly those
without the recorder; its hooks go when the block ends, also on an exception. On exit
the block's variables name their tensors (``x``, ``p``, ``model.0.weight``).

Thread-local, as PyTorch's function modes are: only the ops of the thread that entered
the block are recorded.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .pytorch import (
    MAX_NODES,
    NodeRecord,
    _array,
    _count,
    _dtype,
    _is_leaf_node,
    _output_meta,
    _post_order,
    _record,
    _saved_inputs,
    require_torch,
)

__all__ = ["TorchRecording", "record_torch"]

_SEQ = itertools.count()  # the order ops ran in, forward
_ORDER = itertools.count()  # the order PyTorch's engine ran the backward nodes in


@functools.cache
def _mode_class() -> type:
    """The TorchFunctionMode the recorder runs as (made once torch is imported)."""
    torch = require_torch("viz.record_torch")

    class _RecordingMode(torch.overrides.TorchFunctionMode):  # type: ignore[name-defined, misc]
        def __init__(self, recording: TorchRecording) -> None:
            super().__init__()
            self.recording = recording

        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            # The graphs behind the inputs first: a tensor this mode never saw made (by
            # your own autograd.Function, or before the block) gets its hooks before it is
            # used, and before `f.backward()` runs.
            self.recording._saw(args, values=False)
            out = func(*args, **(kwargs or {}))
            self.recording._saw(out)
            return out

    return _RecordingMode


class TorchRecording:
    """The context manager :func:`record_torch` returns (see there).

    ``errors`` lists what went wrong inside the recorder, if anything (it never lets an
    error reach your PyTorch code; it warns once at the end of the block instead).
    """

    def __init__(self) -> None:
        self._torch = require_torch("viz.record_torch")
        self._mode: Any = None
        self._handles: list[Any] = []
        self._nodes: dict[int, Any] = {}  # id -> node, each node this recording hooked
        self._leaves: dict[int, Any] = {}  # id(leaf tensor) -> its AccumulateGrad node
        self.errors: list[str] = []
        self.full = False  # stopped at MAX_NODES nodes

    def __repr__(self) -> str:
        state = "recording" if self._mode is not None else "done"
        return f"<viz.TorchRecording {state}: {len(self._nodes)} nodes hooked>"

    def __enter__(self) -> TorchRecording:
        if self._mode is not None:
            raise RuntimeError("record_torch: this recording is running already")
        self._mode = _mode_class()(self)
        self._mode.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._mode.__exit__(exc_type, exc, tb)
        finally:
            self._mode = None
            for handle in self._handles:
                handle.remove()
            self._handles.clear()
            if exc_type is None:
                caller = inspect.currentframe()
                caller = caller.f_back if caller is not None else None
                if caller is not None:
                    self._name_locals(caller.f_locals)
                del caller
            self._nodes.clear()  # the graph is the user's again: we hold none of it
        if self.full:
            warnings.warn(
                f"record_torch: recorded the first {MAX_NODES:,} nodes of PyTorch's graph "
                "only; drawings and films are for small graphs (one example, one step)",
                RuntimeWarning,
                stacklevel=2,
            )
        if self.errors:
            warnings.warn(
                f"record_torch: {len(self.errors)} node(s) could not be recorded "
                f"(first: {self.errors[0]})",
                RuntimeWarning,
                stacklevel=2,
            )

    def name(self, **tensors: Any) -> None:
        """Name tensors for the drawing: ``rec.name(x=x, W=model.weight)``.

        The block's variables are named this way when it ends; this sets (or overrides)
        names by hand, e.g. for tensors kept in a dict.

        >>> import torch, viz
        >>> with viz.record_torch() as rec:
        ...     ts = {"a": torch.tensor(1.0, requires_grad=True)}
        ...     out = ts["a"] * 2
        >>> rec.name(a=ts["a"], doubled=out)
        >>> sorted(d["name"] for _, d in viz.to_networkx(out).nodes(data=True) if "name" in d)
        ['a', 'doubled']
        """
        for label, t in tensors.items():
            self._name(t, label, overwrite=True)

    # ----- what the mode calls

    def _saw(self, out: Any, values: bool = True) -> None:
        """Hook the graph of every tensor with a ``grad_fn`` among an op's results (or
        arguments) and, with ``values``, record its value."""
        if self.full or len(self._nodes) >= MAX_NODES:
            # Past here even reading t.grad_fn would risk PyTorch's crash when the graph
            # is freed (viz.pytorch.MAX_NODES): record nothing more.
            self.full = True
            return
        torch = self._torch
        if isinstance(out, torch.Tensor):
            results: Any = (out,)
        elif isinstance(out, tuple | list):
            results = [o for o in out if isinstance(o, torch.Tensor)]
        else:
            return
        for t in results:
            fn = t.grad_fn
            if fn is None:
                continue
            try:
                rec = self._hook_graph(fn)
                if rec is None:
                    return
                nr = t.output_nr
                if values and nr not in rec.values:
                    rec.values[nr] = _array(t)
                    rec.dtypes[nr] = _dtype(t)
            except Exception as err:  # never break the user's code: note it, warn at the end
                self.errors.append(f"{fn.name()}: {type(err).__name__}: {err}")

    def _hook_graph(self, start: Any) -> NodeRecord | None:
        """Hook ``start`` and every node behind it this recording has not hooked yet
        (None, and nothing hooked, when that would pass MAX_NODES in all)."""

        def hooked(fn: Any) -> bool:
            return id(fn) in self._nodes

        if hooked(start):
            new = []
        else:
            size, _, complete = _count(start, MAX_NODES - len(self._nodes), skip=hooked)
            if not complete or len(self._nodes) + size > MAX_NODES:
                self.full = True
                return None
            new = _post_order(start, skip=hooked)
        for fn in new:
            self._nodes[id(fn)] = fn
            rec = _record(fn)
            assert rec is not None
            rec.upstream = rec.sent = rec.local = rec.order = None
            leaf = _is_leaf_node(fn)
            if leaf:
                var = fn.variable
                self._leaves[id(var)] = fn
                rec.values[0], rec.dtypes[0] = _array(var), _dtype(var)
            else:
                if rec.seq is None:
                    rec.seq = next(_SEQ)
                self._note_saved(fn, rec)
            self._handles.append(fn.register_prehook(self._prehook(fn, rec, leaf)))
            if not leaf:
                self._handles.append(fn.register_hook(self._posthook(rec)))
        rec = _record(start)
        assert rec is not None
        return rec

    def _note_saved(self, fn: Any, rec: NodeRecord) -> None:
        """What autograd saved now that it will free after backward: the constants among
        fn's inputs, and the values of inputs no recorded op made (an op's inner steps)."""
        saved = _saved_inputs(fn)
        for k, (nxt, nr) in enumerate(fn.next_functions):
            if k not in saved:
                continue
            if nxt is None:
                rec.constants[k] = saved[k]
            elif not _is_leaf_node(nxt):
                shape, dtype = _output_meta(nxt, nr)
                inner = _record(nxt)
                assert inner is not None
                if nr not in inner.values and shape == saved[k].shape:
                    inner.values[nr], inner.dtypes[nr] = saved[k], dtype or str(saved[k].dtype)

    def _prehook(self, fn: Any, rec: NodeRecord, leaf: bool) -> Callable[[Any], None]:
        def hook(grad_outputs: Any) -> None:
            try:
                rec.order = next(_ORDER)
                rec.upstream = tuple(None if g is None else _array(g) for g in grad_outputs)
                if not leaf:
                    rec.local = self._local(fn, grad_outputs)
            except Exception as err:
                self.errors.append(f"{fn.name()}: {type(err).__name__}: {err}")

        return hook

    def _posthook(self, rec: NodeRecord) -> Callable[[Any, Any], None]:
        def hook(grad_inputs: Any, grad_outputs: Any) -> None:
            rec.sent = tuple(None if g is None else _array(g) for g in grad_inputs)

        return hook

    def _local(self, fn: Any, grad_outputs: Any) -> tuple[np.ndarray | None, ...] | None:
        """What fn sends back for an upstream gradient of ones: its local gradient.

        Every backward rule is linear in the upstream gradient, so this is the local
        factor of "upstream × local = downstream", computed by PyTorch's own node while
        its saved tensors are still there. Not for a node of your own Function (its
        backward is your code, and may do anything) or a node with several outputs.
        """
        torch = self._torch
        if len(grad_outputs) != 1 or grad_outputs[0] is None:
            return None
        if isinstance(fn, torch.autograd.function.BackwardCFunction):
            return None
        with torch.no_grad():
            out = fn(torch.ones_like(grad_outputs[0]))
        out = out if isinstance(out, tuple) else (out,)
        return tuple(None if g is None else _array(g) for g in out)

    # ----- names

    def _name_locals(self, scope: dict[str, Any]) -> None:
        """Name the tensors among the block's variables (first name wins), and the
        parameters of its modules as ``model.0.weight``."""
        torch = self._torch
        for label, value in list(scope.items()):
            if label.startswith("_"):
                continue
            if isinstance(value, torch.Tensor):
                self._name(value, label, overwrite=False)
            elif isinstance(value, torch.nn.Module):
                for pname, p in value.named_parameters():
                    self._name(p, f"{label}.{pname}", overwrite=False)

    def _name(self, t: Any, label: str, overwrite: bool) -> None:
        if not isinstance(t, self._torch.Tensor):
            raise TypeError(f"record_torch: can only name tensors, got {type(t).__name__}")
        if t.grad_fn is not None:
            rec, nr = _record(t.grad_fn), t.output_nr
        else:
            acc = self._leaves.get(id(t))
            if acc is None or acc.variable is not t:
                return  # not in a graph this recording saw: nothing drawn to name
            rec, nr = _record(acc), 0
        assert rec is not None
        if overwrite or nr not in rec.names:
            rec.names[nr] = label


def record_torch() -> TorchRecording:
    """Record PyTorch's values and gradients for the drawings: ``with viz.record_torch():``.

    Around ordinary PyTorch code (forward and ``backward()``), every op's output is
    copied as it is made and, during backward, every node's incoming gradient, what it
    sends to each input and its local gradient, in the order PyTorch's engine ran them.
    Then ``viz.draw``, ``viz.steps`` and ``viz.animate`` of the result show every node's
    value and gradient, as they do for tensorgraph, without ``retain_grad()``. Results
    and gradients are exactly those without the recorder; its hooks are removed when the
    block ends (also on an exception), and the block's variables become the names of
    their tensors. Put ``backward()`` inside the block: hooks are gone after it.

    >>> import torch, viz
    >>> with viz.record_torch():
    ...     x = torch.tensor(3.0, requires_grad=True)
    ...     f = x * x
    ...     f.backward()
    >>> "grad 6" in viz.draw(f).source
    True
    """
    return TorchRecording()
