"""Initialisation: filling parameters in place, and the seed of ``tg.nn``'s randomness.

As in PyTorch, a layer draws its initial weights from one process-wide generator, which
``tg.manual_seed(seed)`` resets, so a script copied from PyTorch is reproducible the same
way::

    >>> import tensorgraph as tg
    >>> _ = tg.manual_seed(0)
    >>> a = tg.nn.Linear(2, 3).weight.data.copy()
    >>> _ = tg.manual_seed(0)
    >>> bool((tg.nn.Linear(2, 3).weight.data == a).all())
    True

Code that must not depend on global state (a library, a test, a thread) passes its own
``generator=`` instead: an int seed or a ``numpy.random.Generator``, to a layer
(``tg.nn.Linear(2, 3, generator=0)``) or to the functions here. The numbers are numpy's,
so they differ from PyTorch's for the same seed; to start from PyTorch's very weights,
load its state dict (``model.load_state_dict(torch_model.state_dict())``).

The functions below write into a tensor's memory, as ``torch.nn.init``'s do (their
names end in ``_``), log the write (a graph built before it refuses ``backward()``),
and return the tensor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..inplace import note_write
from ..tensor import Tensor, _short

__all__ = [
    "constant_",
    "default_generator",
    "manual_seed",
    "normal_",
    "ones_",
    "uniform_",
    "zeros_",
]

Generator = int | np.random.Generator | None  # what a ``generator=`` argument takes

_DEFAULT: list[np.random.Generator] = [np.random.default_rng()]  # seeded by manual_seed


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the generator that ``tg.nn`` layers draw their initial weights from.

    As ``torch.manual_seed``: call it once at the top of a script, and the same layers
    built in the same order get the same weights. Returns the new generator.

    >>> import tensorgraph as tg
    >>> _ = tg.manual_seed(42)
    >>> w1 = tg.nn.Linear(4, 2).weight.data.copy()
    >>> _ = tg.manual_seed(42)
    >>> bool((w1 == tg.nn.Linear(4, 2).weight.data).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"manual_seed: seed must be an int >= 0, got {_short(seed)}")
    _DEFAULT[0] = np.random.default_rng(int(seed))
    return _DEFAULT[0]


def default_generator() -> np.random.Generator:
    """The process-wide generator ``manual_seed`` seeds (PyTorch's ``default_generator``).

    >>> import numpy as np
    >>> isinstance(default_generator(), np.random.Generator)
    True
    """
    return _DEFAULT[0]


def generator_from(generator: Generator, where: str) -> np.random.Generator:
    """``generator`` as a numpy Generator: None is the default one, an int a fresh seeded one.

    >>> int(generator_from(0, "demo").integers(10)) == int(generator_from(0, "demo").integers(10))
    True
    """
    if generator is None:
        return _DEFAULT[0]
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        if generator < 0:
            raise ValueError(f"{where}: generator must be a seed >= 0, got {generator}")
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{where}: generator must be None, an int seed or a numpy.random.Generator, "
        f"got {_short(generator)}"
    )


def _fill(tensor: Tensor, values: Any, where: str) -> Tensor:
    """Write ``values`` into ``tensor``'s memory in place (cast to its dtype), logged."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{where}: expected a tensorgraph Tensor, got {type(tensor).__name__}")
    data = tensor._data
    if data.dtype.kind != "f":
        raise TypeError(f"{where}: the tensor must be floating point, got {data.dtype}")
    data[...] = values
    note_write(data)
    return tensor


def _number(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{where}: {name} must be a number, got {_short(value)}")
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite, got {value}")
    return float(value)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator = None) -> Tensor:
    """Fill ``tensor`` with numbers drawn uniformly from [a, b), in place.

    >>> import tensorgraph as tg
    >>> w = uniform_(tg.tensor([[0.0, 0.0]]), -1, 1, generator=0)
    >>> bool(((-1 <= w.data) & (w.data < 1)).all())
    True
    """
    a, b = _number(a, "a", "uniform_"), _number(b, "b", "uniform_")
    if a > b:
        raise ValueError(f"uniform_: a must not exceed b, got a={a}, b={b}")
    shape = getattr(tensor, "shape", ())
    values = generator_from(generator, "uniform_").uniform(a, b, shape)
    return _fill(tensor, values, "uniform_")


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator = None
) -> Tensor:
    """Fill ``tensor`` with numbers drawn from the normal distribution N(mean, std²), in place.

    >>> import tensorgraph as tg
    >>> normal_(tg.tensor([0.0, 0.0, 0.0]), std=0.01, generator=0).shape
    (3,)
    """
    mean, std = _number(mean, "mean", "normal_"), _number(std, "std", "normal_")
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    shape = getattr(tensor, "shape", ())
    values = generator_from(generator, "normal_").normal(mean, std, shape)
    return _fill(tensor, values, "normal_")


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with the number ``val``, in place.

    >>> import tensorgraph as tg
    >>> constant_(tg.tensor([1.0, 2.0]), 0.5)
    tensor([0.5, 0.5])
    """
    return _fill(tensor, _number(val, "val", "constant_"), "constant_")


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros, in place.

    >>> import tensorgraph as tg
    >>> zeros_(tg.tensor([1.0, 2.0]))
    tensor([0., 0.])
    """
    return _fill(tensor, 0.0, "zeros_")


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones, in place.

    >>> import tensorgraph as tg
    >>> ones_(tg.tensor([0.0, 2.0]))
    tensor([1., 1.])
    """
    return _fill(tensor, 1.0, "ones_")
