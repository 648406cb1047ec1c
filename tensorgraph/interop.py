"""The door to PyTorch: torch stays optional, imported only by the functions that need it.

Three pieces, used by ``tg.nn`` and the linear classifiers:

- :func:`require_torch` imports torch or says how to get it (``pip install
  torch==2.13.0``, a CPU build, or the project's ``torch`` extra).
- :func:`torch_function` is what ``tg.Tensor.__torch_function__`` runs. That class
  attribute makes a tg.Tensor "tensor-like" for PyTorch (``torch.overrides``): PyTorch
  hands a call that meets one to it instead of refusing it. Each tg.Tensor among the
  arguments becomes a torch tensor (a copy of its values, without gradient) and the call
  runs. So ``torch_model.load_state_dict(tg_model.state_dict())`` works as it stands: the
  state dict's values are tg.Tensors, and PyTorch's ``param.copy_(value)`` comes here.
- :func:`array_from` reads a value of a state dict (a tg.Tensor, a torch tensor, a numpy
  array or a nested list) as a numpy array, without importing torch, so
  ``tg_model.load_state_dict(torch_model.state_dict())`` needs no conversion either.

    >>> import numpy as np, tensorgraph as tg
    >>> array_from(tg.tensor([1.0, 2.0]), "demo", "w")
    array([1., 2.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .tensor import Tensor, _short

__all__ = ["array_from", "require_torch", "torch_function"]

INSTALL_TORCH = (
    "pip install torch==2.13.0 (a CPU build; or install tensorgraph with its extra: "
    "pip install 'tensorgraph[torch]')"
)


def require_torch(where: str) -> Any:
    """The ``torch`` module, or an ImportError naming ``where`` and how to install it.

    >>> require_torch("demo").__name__  # doctest: +SKIP
    'torch'
    """
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"{where} needs PyTorch, which is not installed: {INSTALL_TORCH}"
        ) from None
    return torch


def to_torch_tensor(t: Tensor) -> Any:
    """A torch tensor with ``t``'s values and dtype: a copy, cut from both graphs.

    >>> import tensorgraph as tg
    >>> to_torch_tensor(tg.tensor([1.0, 2.0]))  # doctest: +SKIP
    tensor([1., 2.], dtype=torch.float64)
    """
    torch = require_torch("converting a tensorgraph Tensor to PyTorch")
    # A copy: torch.from_numpy would share memory, and a write PyTorch made to it would
    # bypass tensorgraph's in-place log (inplace.py).
    return torch.from_numpy(np.array(t._data, copy=True))


def torch_function(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any] | None
) -> Any:
    """Run the PyTorch function ``func`` with every tg.Tensor argument made a torch tensor.

    Lists, tuples and dict values are looked into one level deep (``torch.cat([a, b])``).

    >>> import tensorgraph as tg, torch  # doctest: +SKIP
    >>> torch.add(torch.ones(2, dtype=torch.float64), tg.tensor([1.0, 2.0]))  # doctest: +SKIP
    tensor([2., 3.], dtype=torch.float64)
    """

    def convert(value: Any) -> Any:
        if isinstance(value, Tensor):
            return to_torch_tensor(value)
        if isinstance(value, list | tuple):
            return type(value)(to_torch_tensor(v) if isinstance(v, Tensor) else v for v in value)
        return value

    return func(*(convert(a) for a in args), **{k: convert(v) for k, v in (kwargs or {}).items()})


def array_from(value: Any, where: str, key: str) -> np.ndarray:
    """A state dict's value as a numeric numpy array (no copy where none is needed).

    Takes a tg.Tensor, a torch tensor (detached and moved to the CPU first, by duck
    typing: torch is not imported), a numpy array, a number or a nested list. Anything
    else, or non-numeric data, is a TypeError naming ``where`` and ``key``.

    >>> array_from([[1, 2]], "Linear.load_state_dict", "weight")
    array([[1, 2]])
    """
    if isinstance(value, Tensor):
        return value._data
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        try:
            return value.numpy()
        except (TypeError, RuntimeError) as err:  # bfloat16 and friends numpy lacks
            raise TypeError(
                f"{where}: {key!r} is a torch tensor of dtype {value.dtype}, which numpy "
                f"cannot hold ({err}); convert it first, e.g. value.float()"
            ) from None
    if isinstance(value, str | bytes | dict) or value is None:
        raise TypeError(f"{where}: {key!r} holds {_short(value)}, not an array of numbers")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where}: {key!r} is not an array of numbers: {err}") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{where}: {key!r} holds {arr.dtype} data, not numbers")
    return arr
