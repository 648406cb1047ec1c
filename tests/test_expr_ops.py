"""The ``tensorgraph draw`` language reaches the ops of issue 13 as Python writes them:
a list for cat and stack, a comparison as where's mask, a dtype's name in quotes, a
tensor exponent; and refuses what they cannot take, with a message naming it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tensorgraph as tg
from viz.expr import ExpressionError, evaluate, parse

X = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
Y = np.array([[0.5, 1.5, 2.0], [1.0, 2.5, 0.75]])


def torch_grads(f, *arrays: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = f(*ts)
    out.backward()
    return out.detach().numpy(), [
        np.zeros_like(a) if t.grad is None else t.grad.numpy()
        for a, t in zip(arrays, ts, strict=True)
    ]


@pytest.mark.parametrize(
    ("text", "op", "reference"),
    [
        ("sum(cat([x, y], 0))", "sum", lambda x, y: torch.cat([x, y], 0).sum()),
        (
            "sum(stack([x, y, x], -1) * 2)",
            "sum",
            lambda x, y: (torch.stack([x, y, x], -1) * 2).sum(),
        ),
        ("sum(where(x > 0, x, 0.1 * y))", "sum", lambda x, y: torch.where(x > 0, x, 0.1 * y).sum()),
        ("sum(where(0 >= x, x, y))", "sum", lambda x, y: torch.where(x <= 0, x, y).sum()),
        ("sum(y ** x)", "sum", lambda x, y: (y**x).sum()),
        ("sum(2 ** x)", "sum", lambda x, y: (2**x).sum()),
        ("sum(astype(x, 'float32') * y)", "sum", lambda x, y: (x.float() * y).sum()),
        ("logsumexp(softmax(x, 0) + log_softmax(y))", "logsumexp", None),
        ("std(clamp(x, -1, 1), 1, 0, True)[0, 0]", "index", None),
        ("sum(flatten(unsqueeze(squeeze(x), 0)))", "sum", lambda x, y: x.sum()),
    ],
)
def test_new_ops_in_expressions_match_torch(text: str, op: str, reference) -> None:
    f, env = evaluate(text, {"x": X, "y": Y})
    assert f.op == op
    f.backward()
    if reference is None:
        return
    value, grads = torch_grads(reference, X, Y)
    np.testing.assert_allclose(f.data, value, rtol=1e-6)
    for name, g in zip("xy", grads, strict=True):
        np.testing.assert_allclose(
            env[name].grad if env[name].grad is not None else np.zeros_like(g), g, rtol=1e-6
        )


def test_where_reads_its_arguments_in_torchs_order() -> None:
    f, _ = evaluate("where(x > 0, x, y)", {"x": X, "y": Y})
    assert f.op == "where" and f.inputs[0].name == "x" and f.inputs[1].name == "y"
    np.testing.assert_array_equal(f.attrs["cond"], X > 0)
    with pytest.raises(ExpressionError, match="where"):
        parse("where(x, y)", {"x", "y"})  # the mask and both values are needed


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("cat(x, y)", ["cat()", "list of tensors", "cat([a, b])"]),
        ("cat([], 0)", ["cat()", "list of tensors"]),
        ("cat([x, 1 < 2])", ["comparisons"]),
        ("where(x < y < x, x, y)", ["where()", "compare two values once"]),
        ("x < y", ["comparisons"]),  # outside where's mask a comparison is still refused
        ("astype(x, 'os.system')", ["astype()", "quotes"]),
        ("astype(x, 'float32' + 'x')", ["astype()"]),
        ("[x, y]", ["list literals"]),
    ],
)
def test_what_the_new_forms_refuse(text: str, parts: list[str]) -> None:
    with pytest.raises(ExpressionError) as err:
        parse(text, {"x", "y"})
    for part in parts:
        assert part in str(err.value), (part, str(err.value))


def test_an_op_error_in_an_expression_names_the_op() -> None:
    with pytest.raises(TypeError, match="where: cond must be a bool array"):
        evaluate("where(x, x, y)", {"x": X, "y": Y})
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(3,\)"):
        evaluate("cat([x, y[0]])", {"x": X, "y": Y})
    with pytest.raises(TypeError, match="astype: only floating-point"):
        evaluate("astype(x, 'int64')", {"x": X})


def test_the_help_lists_the_new_ops_and_star_star_once() -> None:
    from viz import cli

    text = cli.expression_help()
    assert "cat([tensors, ...], axis)" in text and "where(cond, a, b)" in text
    assert text.count(" ** ") <= 1 and "**" in text
    assert tg.OPS["power"].expression() == "a ** b"
