"""Switches that hold for the length of a ``with`` block: grad mode and anomaly mode.

Grad mode (:class:`no_grad`, :class:`enable_grad`) is local to the thread, and to the
asyncio task, as in PyTorch: it lives in a :class:`contextvars.ContextVar`, so a
``no_grad`` block in one thread never stops another thread from recording its graph.
Anomaly mode (``tg.detect_anomaly()``) is process-wide, as PyTorch's is: on while a
block is open in any thread (:class:`GlobalFlag`).

Both are written the same way, by :class:`Switch`: re-entrant, usable as a decorator
(of a generator function too: each step runs inside, as in PyTorch), and each ``with``
restores exactly what its own entry found.

This module imports nothing from the rest of the engine.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

__all__ = ["enable_grad", "is_grad_enabled", "no_grad"]


class GlobalFlag:
    """A process-wide switch: on while at least one block that turned it on is open, in
    any thread. Same ``get``/``set``/``reset`` as a :class:`~contextvars.ContextVar`.

    It counts the open blocks rather than saving and restoring a value, so blocks that
    overlap in two threads neither switch it off under the one still inside (when the
    first leaves) nor leave it on for good (when the last restores what the first found),
    as saving and restoring would (PyTorch's anomaly mode does).

    >>> flag = GlobalFlag()
    >>> token = flag.set(True); flag.get()
    True
    >>> flag.reset(token); flag.get()
    False
    """

    def __init__(self) -> None:
        self.value = False
        self._open = 0
        self._lock = threading.Lock()

    def get(self) -> bool:
        return self.value

    def set(self, value: bool) -> None:
        if value is not True:
            raise ValueError("a GlobalFlag is only switched on, by a block")
        with self._lock:
            self._open += 1
            self.value = True

    def reset(self, token: None) -> None:
        with self._lock:
            self._open -= 1
            self.value = self._open > 0


# The tokens of the switches open in this thread (or asyncio task), innermost last. One
# switch object may be open in several threads at once (a module-level `no_grad()`), so
# the tokens cannot live on the object: each `with` restores what its own entry found.
_OPEN: ContextVar[tuple[tuple[Any, Any], ...]] = ContextVar("tensorgraph_open", default=())


class Switch(contextlib.ContextDecorator):
    """A context manager (and decorator) that sets ``FLAG`` to ``VALUE`` inside its block.

    Subclasses name the flag (a ContextVar or a :class:`GlobalFlag`) and the value.
    Entering saves the flag's state for this thread (and asyncio task), leaving restores
    it, so one object may be entered again inside its own block, and in several threads
    at once; as a decorator each call gets a fresh object.

    >>> class shouting(Switch):
    ...     FLAG, VALUE = GlobalFlag(), True
    >>> with shouting():
    ...     shouting.FLAG.get()
    True
    """

    FLAG: Any  # ContextVar[bool] or GlobalFlag
    VALUE: bool

    def _recreate_cm(self) -> Switch:
        return type(self)()  # a decorated function may run in several threads at once

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(func):
            return _each_step(type(self), func)
        return super().__call__(func)

    def __enter__(self) -> Switch:
        token = self.FLAG.set(self.VALUE)
        _OPEN.set((*_OPEN.get(), (self.FLAG, token)))
        return self

    def __exit__(self, *exc: object) -> None:
        open_ = _OPEN.get()
        # The innermost open switch of this flag: blocks nest, so it is this one's.
        i = max((i for i, (flag, _) in enumerate(open_) if flag is self.FLAG), default=None)
        if i is None:
            raise RuntimeError(
                f"{type(self).__name__}: leaving a block that this thread (or asyncio task) "
                "did not enter; enter and leave it in the same one"
            )
        _OPEN.set(open_[:i] + open_[i + 1 :])
        self.FLAG.reset(open_[i][1])


def _each_step(switch: type[Switch], func: Callable[..., Any]) -> Callable[..., Any]:
    """A generator function whose every step runs inside ``switch``, as PyTorch's
    decorators do: its body runs at each ``next()``, long after the call returned, so
    switching around the call alone would switch nothing."""

    @functools.wraps(func)
    def steps(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)
        try:
            with switch():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with switch():
                        gen.close()
                    raise
                except BaseException as exc:
                    with switch():
                        response = gen.throw(exc)
                else:
                    with switch():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return steps


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
