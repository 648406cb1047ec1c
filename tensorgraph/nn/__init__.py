"""``tg.nn``: neural-network layers in PyTorch's names and semantics.

The two-layer network of the lecture, written as in PyTorch::

    >>> import numpy as np, tensorgraph as tg
    >>> from tensorgraph import nn
    >>> import tensorgraph.nn.functional as F
    >>> _ = tg.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    >>> opt = tg.optim.SGD(model.parameters(), lr=0.1)
    >>> X, y = np.zeros((4, 784)), np.array([0, 1, 2, 3])
    >>> loss = F.cross_entropy(model(X), y)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    >>> round(loss.item(), 1)
    2.3

- :class:`Module` (``parameters()``, ``named_parameters()``, ``zero_grad()``,
  ``train()``/``eval()``, ``state_dict()``/``load_state_dict()`` with PyTorch's keys, a
  repr as PyTorch's), :class:`Parameter`, :class:`Linear` (initialised as
  ``torch.nn.Linear``), :class:`ReLU`, :class:`Tanh`, :class:`Sigmoid`,
  :class:`Flatten`, :class:`Sequential` and :class:`MLP` (a Sequential of Linear layers
  with an activation between them).
- :mod:`tensorgraph.nn.functional`: ``cross_entropy``, ``multi_margin_loss``,
  ``mse_loss``, ``linear``, ``relu``, ``tanh``, ``sigmoid``.
- :mod:`tensorgraph.nn.init`: ``uniform_``, ``normal_``, ``zeros_``, ... and the seed
  (``tg.manual_seed``).

State dicts load into PyTorch as they stand, and PyTorch's into these modules:
``torch_model.load_state_dict(model.state_dict())``; ``tg.nn.to_torch(model)`` builds the
equal PyTorch model for the layers above. PyTorch is needed only for that, and only then
imported.
"""

from . import functional, init
from .bridge import to_torch
from .init import manual_seed
from .modules import (
    MLP,
    Flatten,
    IncompatibleKeys,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    StateDictError,
    Tanh,
)

__all__ = [
    "MLP",
    "Flatten",
    "IncompatibleKeys",
    "Linear",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "StateDictError",
    "Tanh",
    "functional",
    "init",
    "manual_seed",
    "to_torch",
]
