"""Bad input to the ops PyTorch users reach for (issue 13): a clear error naming the op and
the shapes or values at fault, never a traceback from inside numpy or a wrong result."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import tensorgraph as tg

A23 = tg.tensor(np.ones((2, 3)), requires_grad=True)
A24 = tg.tensor(np.ones((2, 4)))
V3 = tg.tensor(np.ones(3))

CASES: list[tuple[str, Callable, type, list[str]]] = [
    # cat and stack: shapes that do not fit, and lists that are not lists
    (
        "cat-mismatch",
        lambda: tg.cat([A23, A24]),
        ValueError,
        ["cat:", "(2, 4)", "(2, 3)", "axis 0"],
    ),
    ("cat-ndim", lambda: tg.cat([A23, V3], axis=1), ValueError, ["cat:", "(3,)", "(2, 3)"]),
    (
        "cat-0d",
        lambda: tg.cat([tg.tensor(1.0), tg.tensor(2.0)]),
        ValueError,
        ["cat:", "0-d", "stack"],
    ),
    ("cat-empty", lambda: tg.cat([]), ValueError, ["cat:", "non-empty"]),
    ("cat-tensor", lambda: tg.cat(A23), TypeError, ["cat:", "list or tuple", "Tensor"]),
    ("cat-axis", lambda: tg.cat([A23, A23], axis=2), ValueError, ["cat:", "axis 2", "2 dimension"]),
    ("cat-axis-tuple", lambda: tg.cat([A23], axis=(0,)), TypeError, ["cat:", "axis", "integer"]),
    ("cat-string", lambda: tg.cat([A23, "a"]), TypeError, ["cat:", "string"]),
    ("stack-mismatch", lambda: tg.stack([A23, A24]), ValueError, ["stack:", "(2, 3)", "(2, 4)"]),
    ("stack-axis", lambda: tg.stack([V3, V3], axis=3), ValueError, ["stack:", "axis 3"]),
    # where: the mask must be bool, and everything must broadcast
    ("where-float", lambda: tg.where(np.ones(3), V3, V3), TypeError, ["where:", "bool", "float64"]),
    ("where-int", lambda: tg.where(np.array([1, 0, 1]), V3, 0.0), TypeError, ["where:", "int64"]),
    ("where-tensor", lambda: tg.where(V3, V3, V3), TypeError, ["where:", "float64"]),
    (
        "where-shapes",
        lambda: tg.where(np.array([True, False]), V3, V3),
        ValueError,
        ["where:", "(2,)", "(3,)", "broadcast"],
    ),
    ("where-ab", lambda: tg.where(True, A23, A24), ValueError, ["where:", "(2, 3)", "(2, 4)"]),
    # squeeze, unsqueeze, flatten: axes that do not exist or cannot go
    ("squeeze-3", lambda: A23.squeeze(1), ValueError, ["squeeze:", "axis 1", "(2, 3)", "3, not 1"]),
    ("squeeze-range", lambda: tg.squeeze(A23, 5), ValueError, ["squeeze:", "axis 5"]),
    ("unsqueeze-range", lambda: A23.unsqueeze(3), ValueError, ["unsqueeze:", "axis 3", "(2, 3)"]),
    ("unsqueeze-none", lambda: tg.unsqueeze(A23, None), TypeError, ["unsqueeze:", "None"]),
    ("unsqueeze-missing", lambda: A23.unsqueeze(), TypeError, ["unsqueeze()", "axis"]),
    (
        "flatten-order",
        lambda: tg.flatten(A23, 1, 0),
        ValueError,
        ["flatten:", "start (1)", "end (0)"],
    ),
    ("flatten-range", lambda: A23.flatten(start_dim=4), ValueError, ["flatten:", "start 4"]),
    # softmax and the reductions: axes out of range, attributes of the wrong kind
    ("softmax-axis", lambda: tg.softmax(A23, 2), ValueError, ["softmax:", "axis 2"]),
    ("log_softmax-axis", lambda: A23.log_softmax(dim=-3), ValueError, ["log_softmax:", "-3"]),
    ("logsumexp-axis", lambda: tg.logsumexp(A23, (0, 0)), ValueError, ["logsumexp:", "twice"]),
    ("var-correction", lambda: tg.var(A23, correction="1"), TypeError, ["var:", "correction"]),
    ("std-unbiased", lambda: A23.std(unbiased=False), TypeError, ["std()", "unbiased"]),
    # clamp and leaky_relu: bounds and slopes are numbers
    ("clamp-neither", lambda: tg.clamp(A23), ValueError, ["clamp:", "min, max or both"]),
    ("clamp-tensor", lambda: A23.clamp(min=V3), TypeError, ["clamp:", "min", "number"]),
    ("clip-string", lambda: tg.clip(A23, 0, "1"), TypeError, ["clamp:", "max", "'1'"]),
    (
        "leaky-slope",
        lambda: tg.leaky_relu(A23, "0.1"),
        TypeError,
        ["leaky_relu:", "negative_slope"],
    ),
    # casts: to float dtypes only
    ("astype-int", lambda: A23.astype(np.int64), TypeError, ["astype:", "int64", "floating"]),
    ("astype-nonsense", lambda: A23.astype("floot32"), TypeError, ["astype:", "floot32"]),
    # a tensor exponent: its operands must be numbers
    (
        "power-shapes",
        lambda: A23 ** tg.tensor([1.0, 2.0]),
        ValueError,
        ["power:", "(2, 3)", "(2,)"],
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "parts"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_names_the_op_and_what_is_wrong(
    call: Callable, error: type, parts: list[str]
) -> None:
    with pytest.raises(error) as err:
        call()
    text = str(err.value)
    for part in parts:
        assert part in text, (part, text)
    assert "numpy" not in type(err.value).__module__ or isinstance(err.value, ValueError)


def test_nothing_is_recorded_or_changed_by_a_refused_op() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError):
        tg.cat([x, tg.tensor([[1.0]])])
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
