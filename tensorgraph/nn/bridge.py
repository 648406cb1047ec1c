"""To PyTorch: the ``torch.nn`` module equal to a ``tg.nn`` module, weights included.

``tg.nn.to_torch(model)`` builds the same layers in PyTorch (Linear, ReLU, Tanh,
Sigmoid, Flatten, Sequential and MLP, which becomes a Sequential), in the parameters'
dtype, and loads the state dict into them, so the two compute the same function::

    >>> import numpy as np, tensorgraph as tg
    >>> model = tg.nn.MLP([2, 8, 1], generator=0)
    >>> twin = tg.nn.to_torch(model)  # doctest: +SKIP
    >>> twin(torch.from_numpy(X))  # == model(X).data  # doctest: +SKIP

For a module of your own, build its PyTorch twin by hand and load the state dict:
``torch_model.load_state_dict(model.state_dict())``. PyTorch is imported here only.
"""

from __future__ import annotations

from typing import Any

from ..interop import require_torch
from .modules import Flatten, Linear, Module, ReLU, Sequential, Sigmoid, Tanh

__all__ = ["to_torch"]


def to_torch(module: Module) -> Any:
    """The ``torch.nn`` module equal to ``module``, with its weights (copies) loaded.

    >>> import tensorgraph as tg
    >>> tg.nn.to_torch(tg.nn.Linear(3, 2))  # doctest: +SKIP
    Linear(in_features=3, out_features=2, bias=True)
    """
    torch = require_torch("tg.nn.to_torch")
    twin = _twin(torch, module)
    twin.load_state_dict(module.state_dict())
    return twin


def _twin(torch: Any, module: Module) -> Any:
    nn = torch.nn
    if isinstance(module, Sequential):  # MLP too: the same layers, the same keys
        return nn.Sequential(*(_twin(torch, m) for m in module))
    if isinstance(module, Linear):
        dtype = getattr(torch, module.weight.dtype.name)
        return nn.Linear(
            module.in_features, module.out_features, bias=module.bias is not None, dtype=dtype
        )
    simple = {ReLU: nn.ReLU, Tanh: nn.Tanh, Sigmoid: nn.Sigmoid}
    if type(module) in simple:
        return simple[type(module)]()
    if isinstance(module, Flatten):
        return nn.Flatten(module.start_dim, module.end_dim)
    raise TypeError(
        f"to_torch: no PyTorch twin is known for {type(module).__name__}; build it in "
        "PyTorch and load the weights with torch_model.load_state_dict(model.state_dict())"
    )
