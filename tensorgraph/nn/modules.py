"""Modules: PyTorch's ``torch.nn`` building blocks, in PyTorch's names and semantics.

A :class:`Module` registers the attributes you give it that are parameters or modules,
in the order you give them, so ``parameters()``, ``state_dict()`` and the ``repr`` find
them::

    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> class TwoLayerNet(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(4, 8)
    ...         self.fc2 = nn.Linear(8, 3)
    ...     def forward(self, x):
    ...         return self.fc2(tg.relu(self.fc1(x)))
    >>> net = TwoLayerNet()
    >>> [name for name, _ in net.named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    >>> net(tg.tensor([[1.0, 2.0, 3.0, 4.0]])).shape
    (1, 3)

Every parameter is a leaf tensor that requires a gradient (:class:`Parameter`); a
forward pass builds the graph from the engine's ops (``x @ W.T + b`` is a matmul, a
transpose and an add), so ``viz.draw(loss)`` draws it and ``loss.backward()`` fills
every parameter's ``.grad``. A parameter's ``name`` is its state-dict key ("fc1.weight"),
given when its module is registered, and a submodule names the tensor it returns after
its place ("fc1: Linear"), so a drawing says which layer made what.

State dicts use PyTorch's keys (``"0.weight"`` in a Sequential, ``"fc1.bias"`` above)
and load both ways: ``torch_model.load_state_dict(net.state_dict())`` and
``net.load_state_dict(torch_model.state_dict())``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import ops
from ..inplace import note_write
from ..interop import array_from
from ..tensor import _SHELL, Tensor, _leaf, _short
from . import init

__all__ = [
    "MLP",
    "Flatten",
    "Linear",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "StateDictError",
    "Tanh",
]


class Parameter(Tensor):
    """A tensor that is a module's parameter: a leaf that requires a gradient.

    Assigning one to a module's attribute registers it (``self.w = Parameter(...)``),
    as ``torch.nn.Parameter`` does. It shares the memory of the array or tensor it is
    made from. Ops on parameters give plain tensors; a parameter is a Tensor in every
    other way.

    >>> import numpy as np, tensorgraph as tg
    >>> w = tg.nn.Parameter(np.zeros((2, 3)))
    >>> w.requires_grad, w.is_leaf, type(w * 2).__name__
    (True, True, 'Tensor')
    """

    __slots__ = ()

    def __new__(cls, data: Any = _SHELL, requires_grad: bool = True) -> Parameter:
        if data is _SHELL:  # copy.copy and pickle fill in the slots afterwards
            return object.__new__(cls)
        if isinstance(data, Tensor):
            data = data._data
        p = _leaf(cls, data, requires_grad, None, None)
        if p._data.dtype.kind != "f":  # integers become float64, as in tg.tensor
            raise TypeError(f"Parameter: data must be floating point, got {p._data.dtype}")
        return p

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class StateDictError(RuntimeError, ValueError):
    """A state dict that does not fit the module: keys missing or unexpected, shapes wrong.

    A RuntimeError, as PyTorch raises, and a ValueError (a bad argument), so either
    ``except`` catches it. The message names the module, each key and the shapes.

    >>> import tensorgraph as tg
    >>> try:
    ...     tg.nn.Linear(2, 3).load_state_dict({"weight": [[1.0, 2.0]]})
    ... except ValueError as err:
    ...     print(str(err).splitlines()[1][:60])
      missing key 'bias': the model's Linear(in_features=2, out_
    """


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` left out, as PyTorch's ``_IncompatibleKeys``."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys!r}, "
            f"unexpected_keys={self.unexpected_keys!r})"
        )


class Module:
    """Base class of every layer and model, as ``torch.nn.Module``.

    Subclasses call ``super().__init__()`` first, assign their parameters and
    submodules as attributes, and write ``forward``; calling the module calls it.

    >>> import tensorgraph as tg
    >>> class Scale(tg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.s = tg.nn.Parameter([2.0])
    ...     def forward(self, x):
    ...         return x * self.s
    >>> Scale()(tg.tensor([1.0, 3.0]))
    tensor([2., 6.], op='mul', requires_grad=True)
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_path", "")  # where it sits in the outermost module
        object.__setattr__(self, "training", True)

    # ----- registration -----

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call: "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
        modules = self._modules
        if isinstance(value, Parameter):
            modules.pop(name, None)
            params[name] = value
            value.name = _join(self._path, name)
        elif isinstance(value, Module):
            params.pop(name, None)
            modules[name] = value
            value._place(_join(self._path, name))
        elif name in params or name in modules:
            if value is not None:
                kind = "parameter" if name in params else "module"
                wanted = "tg.nn.Parameter" if name in params else "tg.nn.Module"
                raise TypeError(
                    f"cannot assign {type(value).__name__} as {kind} {name!r} of "
                    f"{type(self).__name__} ({wanted} or None expected)"
                )
            (params if name in params else modules)[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None: a parameter slot left empty, like a missing bias).

        >>> import tensorgraph as tg
        >>> lin = tg.nn.Linear(2, 3, bias=False)
        >>> lin.bias is None, [n for n, _ in lin.named_parameters()]
        (True, ['weight'])
        """
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be a tg.nn.Parameter or None, "
                f"got {type(param).__name__}"
            )
        self._parameters[name] = None  # so that None is accepted below
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the submodule ``name`` (``self.name = module``).

        >>> import tensorgraph as tg
        >>> m = tg.nn.Module(); m.add_module("act", tg.nn.ReLU()); m
        Module(
          (act): ReLU()
        )
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a tg.nn.Module, got {_short(module)}")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(
                f"add_module: a module name must be a non-empty str without '.', got {name!r}"
            )
        self._modules[name] = None
        setattr(self, name, module)

    def _place(self, path: str) -> None:
        """Say where this module now sits: its parameters are named after their keys."""
        object.__setattr__(self, "_path", path)
        for name, p in self._parameters.items():
            if p is not None:
                p.name = _join(path, name)
        for name, m in self._modules.items():
            if m is not None:
                m._place(_join(path, name))

    # ----- the forward pass -----

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What the module computes; subclasses define it (call the module, not this)."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        # A submodule names what it computes after its place ("0: Linear", "fc1: Linear"),
        # so a drawing of the graph says which layer made which tensor.
        if self._path and type(out) is Tensor and out.name is None and out.op is not None:
            out.name = f"{self._path}: {type(self).__name__}"
        return out

    # ----- walking the tree -----

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its key, this module's own first, then each child's.

        >>> import tensorgraph as tg
        >>> [n for n, p in tg.nn.Sequential(tg.nn.Linear(2, 2), tg.nn.ReLU()).named_parameters()]
        ['0.weight', '0.bias']
        """
        seen: set[int] = set()
        if recurse:  # a shared module is visited under each of its names unless deduplicated
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = iter([(prefix, self)])
        for path, module in modules:
            for name, p in module._parameters.items():
                if p is None or (remove_duplicate and id(p) in seen):
                    continue
                seen.add(id(p))
                yield _join(path, name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, in registration order (what an optimizer takes).

        >>> import tensorgraph as tg
        >>> [p.shape for p in tg.nn.Linear(2, 3).parameters()]
        [(3, 2), (3,)]
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their names.

        >>> import tensorgraph as tg
        >>> [n for n, _ in tg.nn.Sequential(tg.nn.ReLU(), tg.nn.Tanh()).named_children()]
        ['0', '1']
        """
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct submodules.

        >>> import tensorgraph as tg
        >>> list(tg.nn.Sequential(tg.nn.ReLU()).children())
        [ReLU()]
        """
        for _, m in self.named_children():
            yield m

    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, depth first, with its path.

        A module registered twice is listed once unless ``remove_duplicate=False``.

        >>> import tensorgraph as tg
        >>> [n for n, _ in tg.nn.MLP([2, 3, 1]).named_modules()]
        ['', '0', '1', '2']
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            below = [(_join(path, n), m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(below))

    def modules(self) -> Iterator[Module]:
        """This module and every module below it.

        >>> import tensorgraph as tg
        >>> len(list(tg.nn.MLP([2, 3, 1]).modules()))
        4
        """
        for _, m in self.named_modules():
            yield m

    # ----- training helpers -----

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (they accumulate otherwise), as in PyTorch.

        >>> import tensorgraph as tg
        >>> lin = tg.nn.Linear(2, 1)
        >>> lin(tg.tensor([[1.0, 2.0]])).sum().backward()
        >>> lin.zero_grad(); lin.weight.grad is None
        True
        """
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = np.zeros_like(p._data)

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every module below it; returns self.

        No layer here behaves differently in training and evaluation (there is no
        dropout or batch norm yet), but the flag is kept as in PyTorch.

        >>> import tensorgraph as tg
        >>> tg.nn.MLP([2, 2]).eval().training
        False
        """
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be True or False, got {_short(mode)}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """``train(False)``; returns self.

        >>> import tensorgraph as tg
        >>> tg.nn.ReLU().eval().training
        False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradients on or off for every parameter (freezing a layer); returns self.

        >>> import tensorgraph as tg
        >>> [p.requires_grad for p in tg.nn.Linear(2, 1).requires_grad_(False).parameters()]
        [False, False]
        """
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def to(self, dtype: Any) -> Module:
        """Convert every parameter to the float ``dtype`` (in place, as PyTorch); returns self.

        >>> import numpy as np, tensorgraph as tg
        >>> tg.nn.Linear(2, 1).to(np.float32).weight.dtype
        dtype('float32')
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"to: parameters must have a float dtype, got {dtype}")
        for p in self.parameters():
            if p._data.dtype != dtype:
                p._data = p._data.astype(dtype)
                if p.grad is not None:
                    p.grad = p.grad.astype(dtype)
        return self

    def float(self) -> Module:
        """Every parameter as float32; returns self (PyTorch's ``module.float()``)."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Every parameter as float64; returns self (PyTorch's ``module.double()``)."""
        return self.to(np.float64)

    # ----- state dicts -----

    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """Every parameter by its key, in PyTorch's key names ("0.weight", "fc1.bias").

        The values are tensors sharing the parameters' memory, cut from the graph (the
        parameters themselves with ``keep_vars=True``), as in PyTorch. A parameter
        shared by two modules appears under both keys. PyTorch loads it as it stands:
        ``torch_model.load_state_dict(model.state_dict())``.

        >>> import tensorgraph as tg
        >>> {k: v.shape for k, v in tg.nn.MLP([2, 3, 1]).state_dict().items()}
        {'0.weight': (3, 2), '0.bias': (3,), '2.weight': (1, 3), '2.bias': (1,)}
        """
        out: dict[str, Tensor] = OrderedDict()
        for key, p in self.named_parameters(remove_duplicate=False):
            out[prefix + key] = p if keep_vars else p.detach()  # PyTorch's prefix: "fc."
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy the values of ``state_dict`` into the parameters, in place, as PyTorch.

        The values may be tg tensors, torch tensors (``model.load_state_dict(
        torch_model.state_dict())``), numpy arrays or nested lists; each is cast to its
        parameter's dtype. Everything is checked before anything is copied, so a state
        dict that does not fit leaves the model as it was: a key the model has and the
        dict lacks (missing), a key the model lacks (unexpected; both only with
        ``strict=True``) and a value of the wrong shape (always) raise
        :class:`StateDictError`, naming the module, each key and the shapes. Returns the
        missing and unexpected keys (``strict=False`` tolerates them).

        >>> import tensorgraph as tg
        >>> a, b = tg.nn.Linear(2, 1), tg.nn.Linear(2, 1)
        >>> b.load_state_dict(a.state_dict())
        <All keys matched successfully>
        >>> bool((a.weight.data == b.weight.data).all())
        True
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{where}: expected a dict of arrays (a state dict), "
                f"got {type(state_dict).__name__}"
            )
        own = dict(self.named_parameters(remove_duplicate=False))
        owners = dict(self.named_modules())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems, values = [], {}
        for key, p in own.items():
            if key not in state_dict:
                continue
            value = array_from(state_dict[key], where, key)
            if value.shape != p.shape:
                problems.append(
                    f"size mismatch for {key!r}: the state dict has shape {value.shape}, "
                    f"the model's {_owner(owners, key)} has {p.shape}"
                )
                continue
            values[key] = value
        if strict:
            problems = (
                [
                    f"missing key {k!r}: the model's {_owner(owners, k)} has shape {own[k].shape}"
                    for k in missing
                ]
                + [
                    f"unexpected key {k!r} (shape {array_from(state_dict[k], where, k).shape}):"
                    " the model has no such parameter"
                    for k in unexpected
                ]
                + problems
            )
        if problems:
            keys = ", ".join(repr(k) for k in own) or "none"
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(problems)
                + f"\n(the model's keys: {keys})"
            )
        for key, value in values.items():
            data = own[key]._data
            with np.errstate(over="ignore", invalid="ignore"):  # as PyTorch's copy_
                data[...] = value
            note_write(data)  # a graph built before the load refuses backward()
        return IncompatibleKeys(missing, unexpected)

    # ----- printing -----

    def extra_repr(self) -> str:
        """The text between the parentheses of the repr (a layer's settings)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        children = [
            f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()
        ]
        lines = (extra.split("\n") if extra else []) + children
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _owner(owners: dict[str, Module], key: str) -> str:
    """The module a state-dict key belongs to, for a message: "Linear(...) at '2'"."""
    path = key.rpartition(".")[0]
    module = owners.get(path)
    text = repr(module).split("\n")[0] if module is not None else "module"
    return f"{text} at {path!r}" if path else text


def _where(module: Module) -> str:
    """A module for an error message: ``Linear(in_features=2, ...)``, with its path."""
    text = f"{type(module).__name__}({module.extra_repr()})"
    return f"{text} at {module._path!r}" if module._path else text


# ----- layers -----


class Linear(Module):
    """The fully connected layer ``y = x @ W.T + b``, as ``torch.nn.Linear``.

    ``weight`` is (out_features, in_features) and ``bias`` (out_features,), both
    initialised as PyTorch does: uniform in ±1/sqrt(in_features). They are float64
    unless ``dtype`` says otherwise (``dtype=np.float32``, or ``model.float()`` later).
    ``generator`` (an int seed or a ``numpy.random.Generator``) draws them; by default
    the generator ``tg.manual_seed`` seeds (:mod:`tensorgraph.nn.init`).

    Inputs are (..., in_features): a wrong last dimension is a ValueError naming the
    layer and the shapes. numpy arrays and lists are taken as data in the layer's dtype;
    a tensor of another float dtype is refused (as PyTorch refuses it) rather than
    silently promoted.

    >>> import tensorgraph as tg
    >>> lin = tg.nn.Linear(3, 2, generator=0)
    >>> lin
    Linear(in_features=3, out_features=2, bias=True)
    >>> lin([[1.0, 2.0, 3.0]]).shape
    (1, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = None,
        generator: init.Generator = None,
    ) -> None:
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
                raise ValueError(f"Linear: {name} must be an int >= 0, got {_short(n)}")
        if not isinstance(bias, bool):
            raise TypeError(f"Linear: bias must be True or False, got {_short(bias)}")
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        if dtype.kind != "f":
            raise TypeError(f"Linear: dtype must be a float dtype, got {dtype}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = init.generator_from(generator, "Linear")
        # torch.nn.Linear: kaiming_uniform_(a=sqrt(5)) for the weight, which is uniform
        # in ±1/sqrt(fan_in), and the same bound for the bias; weight drawn first.
        bound = 1 / math.sqrt(in_features) if in_features > 0 else 0.0
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype(dtype))
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, self.out_features).astype(dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Tensor:
        x = _features_in(self, x, self.in_features, self.weight._data.dtype)
        out = x @ self.weight.T
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


def _features_in(module: Module, x: Any, n: int, dtype: np.dtype) -> Tensor:
    """The input of a layer that wants (..., n) in ``dtype``, or an error naming it."""
    if not isinstance(x, Tensor):
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{_where(module)}: cannot read the input: {err}") from None
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{_where(module)}: the input must be numbers, got {arr.dtype} data")
        x = Tensor(arr, name="input", dtype=dtype)  # data: it takes the layer's dtype
    elif x._data.dtype != dtype:
        raise TypeError(
            f"{_where(module)}: the input is {x.dtype} but the layer's parameters are "
            f"{dtype}; convert the model (model.to(np.{x.dtype})) or pass {dtype} data"
        )
    shape = x.shape
    if not shape or shape[-1] != n:
        got = f"{shape[-1]} features" if shape else "a 0-d input"
        raise ValueError(
            f"{_where(module)}: the input has shape {shape} ({got} in its last dimension); "
            f"expected (..., {n})"
        )
    return x


class ReLU(Module):
    """``tg.relu`` as a module: max(x, 0), elementwise.

    >>> import tensorgraph as tg
    >>> tg.nn.ReLU()(tg.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def forward(self, x: Any) -> Tensor:
        return ops.relu(x)


class Tanh(Module):
    """``tg.tanh`` as a module.

    >>> import tensorgraph as tg
    >>> tg.nn.Tanh()(tg.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, x: Any) -> Tensor:
        return ops.tanh(x)


class Sigmoid(Module):
    """``tg.sigmoid`` as a module: 1 / (1 + e^-x), elementwise.

    >>> import tensorgraph as tg
    >>> tg.nn.Sigmoid()(tg.tensor([0.0]))
    tensor([0.5])
    """

    def forward(self, x: Any) -> Tensor:
        return ops.sigmoid(x)


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` into one, as ``torch.nn.Flatten``.

    The default keeps the batch dimension: (N, 28, 28) images become (N, 784).

    >>> import numpy as np, tensorgraph as tg
    >>> tg.nn.Flatten()(tg.tensor(np.zeros((5, 28, 28)))).shape
    (5, 784)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Any) -> Tensor:
        shape = np.shape(x._data if isinstance(x, Tensor) else x)
        nd = len(shape)
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not 0 <= start <= end < nd:
            raise ValueError(
                f"{_where(self)}: cannot flatten dimensions {self.start_dim} to "
                f"{self.end_dim} of an input of shape {shape}"
            )
        return ops.reshape(
            x, (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])
        )

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    """Modules applied one after the other, as ``torch.nn.Sequential``.

    Its modules are named "0", "1", ... (or by the keys of an OrderedDict), so its
    state-dict keys are PyTorch's: ``"0.weight"``, ``"2.bias"``. It can be indexed,
    sliced, iterated and appended to.

    >>> import tensorgraph as tg
    >>> model = tg.nn.Sequential(tg.nn.Linear(2, 4), tg.nn.ReLU(), tg.nn.Linear(4, 1))
    >>> len(model), model[0]
    (3, Linear(in_features=2, out_features=4, bias=True))
    >>> model([[1.0, 2.0]]).shape
    (1, 1)
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, m in modules[0].items():
                self.add_module(name, _module(m, name, type(self).__name__))
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), _module(m, i, type(self).__name__))

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns self.

        >>> import tensorgraph as tg
        >>> len(tg.nn.Sequential().append(tg.nn.ReLU()))
        1
        """
        self.add_module(str(len(self._modules)), _module(module, len(self), "append"))
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise TypeError(
                f"{type(self).__name__} indices must be int or slice, got {_short(index)}"
            )
        if not -len(items) <= index < len(items):
            raise IndexError(
                f"index {index} is out of range for {type(self).__name__} of {len(items)} modules"
            )
        return items[index][1]


def _module(m: Any, name: int | str, where: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{where}: item {name!r} is a {type(m).__name__}, not a tg.nn.Module")
    return m


_ACTIVATIONS: dict[str, type[Module]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of the given sizes, an activation between.

    ``MLP([2, 16, 16, 1])`` is exactly ``Sequential(Linear(2, 16), ReLU(), Linear(16,
    16), ReLU(), Linear(16, 1))``, so its state-dict keys ("0.weight", "2.weight",
    "4.weight", ...) are those of that ``torch.nn.Sequential`` and load into it.
    ``activation`` is "relu", "tanh", "sigmoid" or a module class (``tg.nn.Tanh``); the
    last layer has none (its outputs are scores). ``bias``, ``dtype`` and ``generator``
    go to every Linear.

    >>> import tensorgraph as tg
    >>> tg.nn.MLP([2, 16, 1], activation="tanh")
    MLP(
      (0): Linear(in_features=2, out_features=16, bias=True)
      (1): Tanh()
      (2): Linear(in_features=16, out_features=1, bias=True)
    )
    """

    def __init__(
        self,
        sizes: Any,
        activation: str | type[Module] = "relu",
        bias: bool = True,
        dtype: Any = None,
        generator: init.Generator = None,
    ) -> None:
        given = sizes
        sizes = list(sizes) if isinstance(sizes, list | tuple) else []
        if (
            len(sizes) < 2
            or any(isinstance(n, bool) or not isinstance(n, int | np.integer) for n in sizes)
            or min(sizes) < 1
        ):
            raise ValueError(
                f"MLP: sizes must be a list of at least 2 layer widths >= 1 (inputs, ..., "
                f"outputs), e.g. [2, 16, 16, 1]; got {_short(given)}"
            )
        sizes = [int(n) for n in sizes]
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(
                    f"MLP: activation must be one of {sorted(_ACTIVATIONS)} or a module class, "
                    f"got {activation!r}"
                )
            make = _ACTIVATIONS[activation]
        elif isinstance(activation, type) and issubclass(activation, Module):
            make = activation
        else:
            raise TypeError(
                f"MLP: activation must be a name or a module class, got {_short(activation)}"
            )
        rng = init.generator_from(generator, "MLP")  # one stream for every layer, in order
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
            layers.append(Linear(n_in, n_out, bias=bias, dtype=dtype, generator=rng))
            if i < len(sizes) - 2:
                layers.append(make())
        super().__init__(*layers)
        self.sizes = tuple(sizes)
