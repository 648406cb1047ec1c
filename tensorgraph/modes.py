"""Switches that hold for the length of a ``with`` block: grad mode and anomaly mode.

Grad mode (:class:`no_grad`, :class:`enable_grad`) is local to the thread, and to the
asyncio task, as in PyTorch: it lives in a :class:`contextvars.ContextVar`, so a
``no_grad`` block in one thread never stops another thread from recording its graph.
Anomaly mode (``tg.detect_anomaly()``) is process-wide, as PyTorch's is.

Both are written the same way, by :class:`Switch`: re-entrant, usable as a decorator,
and each ``with`` restores exactly what its own entry found.

This module imports nothing from the rest of the engine.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any

__all__ = ["enable_grad", "is_grad_enabled", "no_grad"]


class GlobalFlag:
    """A process-wide flag with :class:`~contextvars.ContextVar`'s ``get``/``set``/``reset``.

    >>> flag = GlobalFlag(False)
    >>> token = flag.set(True); flag.get()
    True
    >>> flag.reset(token); flag.get()
    False
    """

    def __init__(self, value: bool) -> None:
        self.value = value

    def get(self) -> bool:
        return self.value

    def set(self, value: bool) -> bool:
        old, self.value = self.value, value
        return old  # the token: what to restore

    def reset(self, token: bool) -> None:
        self.value = token


class Switch(contextlib.ContextDecorator):
    """A context manager (and decorator) that sets ``FLAG`` to ``VALUE`` inside its block.

    Subclasses name the flag (a ContextVar or a :class:`GlobalFlag`) and the value.
    Entering saves the flag's state on a stack, leaving restores it, so one object may be
    entered again inside its own block; as a decorator each call gets a fresh object.

    >>> class shouting(Switch):
    ...     FLAG, VALUE = GlobalFlag(False), True
    >>> with shouting():
    ...     shouting.FLAG.get()
    True
    """

    FLAG: Any  # ContextVar[bool] or GlobalFlag
    VALUE: bool

    def __init__(self) -> None:
        self._tokens: list[Any] = []

    def _recreate_cm(self) -> Switch:
        return type(self)()  # a decorated function may run in several threads at once

    def __enter__(self) -> Switch:
        self._tokens.append(self.FLAG.set(self.VALUE))
        return self

    def __exit__(self, *exc: object) -> None:
        self.FLAG.reset(self._tokens.pop())


GRAD_ENABLED: ContextVar[bool] = ContextVar("tensorgraph_grad_enabled", default=True)


def is_grad_enabled() -> bool:
    """Whether ops record the graph now, in this thread (False inside ``no_grad``).

    >>> import tensorgraph as tg
    >>> tg.is_grad_enabled()
    True
    """
    return GRAD_ENABLED.get()


class no_grad(Switch):
    """Context manager (and decorator) under which ops record no graph, in this thread.

    Results made inside are plain leaves that require no gradient, as in PyTorch. Other
    threads (and asyncio tasks) keep recording.

    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad, y.op
    (False, None)
    """

    FLAG, VALUE = GRAD_ENABLED, False


class enable_grad(Switch):
    """Record the graph again inside a ``no_grad`` block, as ``torch.enable_grad``.

    >>> import tensorgraph as tg
    >>> w = tg.tensor(1.0, requires_grad=True)
    >>> with tg.no_grad(), tg.enable_grad():
    ...     (w * 2).requires_grad
    True
    """

    FLAG, VALUE = GRAD_ENABLED, True
