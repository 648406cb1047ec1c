"""The loss gates (svm_loss, softmax_loss, l1, l2) against PyTorch, primitive ops and the
lecture's own numpy code, plus float32 stability, ties and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgraph as tg

RTOL = 1e-10


def _torch_svm(s: torch.Tensor, y: np.ndarray, delta: float, squared: bool) -> torch.Tensor:
    # multi_margin_loss divides by K as well as N; the lecture's loss divides by N only.
    target = torch.from_numpy(y)
    return F.multi_margin_loss(s, target, p=2 if squared else 1, margin=delta) * s.shape[1]


def _batch(seed: int, n: int, k: int, dtype: type = np.float64, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal((n, k))).astype(dtype), rng.integers(0, k, n)


# ----- against PyTorch, values and gradients in float64 -----


@pytest.mark.parametrize(
    ("n", "k", "delta", "squared"),
    [
        (5, 4, 1.0, False),
        (8, 10, 1.0, True),
        (1, 3, 0.0, False),
        (6, 2, 2.5, True),
        (3, 1, 1.0, False),
    ],
)
def test_svm_loss_matches_torch(n: int, k: int, delta: float, squared: bool) -> None:
    s, y = _batch(n * 100 + k, n, k, scale=1.5)
    upstream = 1.7  # a seed other than 1 checks the chain rule through the gate
    t = tg.tensor(s, requires_grad=True)
    out = tg.svm_loss(t, y, delta=delta, squared=squared)
    out.backward(upstream)
    u = torch.tensor(s, requires_grad=True)
    ref = _torch_svm(u, y, delta, squared)
    ref.backward(torch.tensor(upstream, dtype=torch.float64))
    assert out.shape == () and out.dtype == np.float64
    np.testing.assert_allclose(out.item(), ref.item(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(t.grad, u.grad.numpy(), rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize(
    ("n", "k", "scale"), [(5, 4, 1.0), (16, 10, 30.0), (1, 2, 1.0), (3, 1, 1.0)]
)
def test_softmax_loss_matches_torch(n: int, k: int, scale: float) -> None:
    s, y = _batch(n * 100 + k + 7, n, k, scale=scale)
    t = tg.tensor(s, requires_grad=True)
    out = tg.softmax_loss(t, y)
    out.backward(0.3)
    u = torch.tensor(s, requires_grad=True)
    ref = F.cross_entropy(u, torch.from_numpy(y))
    ref.backward(torch.tensor(0.3, dtype=torch.float64))
    np.testing.assert_allclose(out.item(), ref.item(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(t.grad, u.grad.numpy(), rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize(
    ("tg_fn", "torch_fn"),
    [(tg.l1, lambda w: w.abs().sum()), (tg.l2, lambda w: (w * w).sum())],
    ids=["l1", "l2"],
)
def test_regularizers_match_torch(tg_fn, torch_fn) -> None:
    w = np.random.default_rng(3).standard_normal((4, 6))
    w[0, 0] = 0.0  # |w| at 0: torch's gradient there is 0, and so is ours
    t = tg.tensor(w, requires_grad=True)
    out = tg_fn(t)
    out.backward(2.0)
    u = torch.tensor(w, requires_grad=True)
    ref = torch_fn(u)
    ref.backward(torch.tensor(2.0, dtype=torch.float64))
    np.testing.assert_allclose(out.item(), ref.item(), rtol=RTOL)
    np.testing.assert_allclose(t.grad, u.grad.numpy(), rtol=RTOL, atol=1e-15)


def test_svm_gradient_at_a_margin_of_exactly_zero_matches_torch() -> None:
    # Row 0: s_0 - s_1 + 1 = 0 exactly; row 1: s_2 - s_0 + 1 = 0 exactly. torch passes
    # no gradient through a zero margin (it tests z > 0), and neither do we.
    s = np.array([[1.0, 2.0, 0.0], [3.0, -1.0, 2.0]])
    y = np.array([1, 0])
    for squared in (False, True):
        t = tg.tensor(s, requires_grad=True)
        tg.svm_loss(t, y, squared=squared).backward()
        u = torch.tensor(s, requires_grad=True)
        _torch_svm(u, y, 1.0, squared).backward()
        np.testing.assert_array_equal(t.grad, u.grad.numpy())
    assert not np.any(t.grad)


# ----- against the same loss composed from primitive ops -----


def _svm_from_primitives(s: tg.Tensor, y: np.ndarray, delta: float, squared: bool) -> tg.Tensor:
    n, k = s.shape
    correct = s[np.arange(n), y].reshape(n, 1)
    margins = tg.maximum(s - correct + delta, 0.0)
    if squared:
        margins = margins * margins
    others = 1.0 - np.eye(k)[y]  # leaves out j = y_i
    return tg.sum(margins * others) / n


def _softmax_from_primitives(s: tg.Tensor, y: np.ndarray) -> tg.Tensor:
    n = s.shape[0]
    shift = s.data.max(axis=1, keepdims=True)  # a constant: the loss does not depend on it
    lse = tg.log(tg.sum(tg.exp(s - shift), axis=1)) + shift[:, 0]
    return tg.mean(lse - s[np.arange(n), y])


@pytest.mark.parametrize("squared", [False, True])
def test_svm_loss_equals_primitive_ops(squared: bool) -> None:
    s, y = _batch(11, 7, 5, scale=2.0)
    fused, plain = tg.tensor(s, requires_grad=True), tg.tensor(s, requires_grad=True)
    a = tg.svm_loss(fused, y, delta=0.8, squared=squared)
    b = _svm_from_primitives(plain, y, 0.8, squared)
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.item(), b.item(), rtol=RTOL)
    np.testing.assert_allclose(fused.grad, plain.grad, rtol=RTOL, atol=1e-15)
    # The fused gate is one node; the composition is many.
    assert len(tg.graph_nodes(a)) == 2
    assert len(tg.graph_nodes(b)) > 10


def test_softmax_loss_equals_primitive_ops() -> None:
    s, y = _batch(12, 9, 6, scale=3.0)
    fused, plain = tg.tensor(s, requires_grad=True), tg.tensor(s, requires_grad=True)
    a, b = tg.softmax_loss(fused, y), _softmax_from_primitives(plain, y)
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.item(), b.item(), rtol=RTOL)
    np.testing.assert_allclose(fused.grad, plain.grad, rtol=RTOL, atol=1e-15)


def test_regularizers_equal_primitive_ops() -> None:
    w = np.random.default_rng(5).standard_normal((3, 7))
    for fused_fn, plain_fn in (
        (tg.l1, lambda t: tg.sum(tg.abs(t))),
        (tg.l2, lambda t: tg.sum(t * t)),
    ):
        a, b = tg.tensor(w, requires_grad=True), tg.tensor(w, requires_grad=True)
        fa, fb = fused_fn(a), plain_fn(b)
        fa.backward()
        fb.backward()
        np.testing.assert_allclose(fa.item(), fb.item(), rtol=RTOL)
        np.testing.assert_allclose(a.grad, b.grad, rtol=RTOL)


# ----- the lecture's numpy code (slide "Loss Function (Cont'd)"), verbatim -----


def L1_i(x_i, y_i, W, b):  # noqa: N802 - the slide's names
    delta = 1.0
    f = W.dot(x_i) + b
    margins = np.maximum(0, f - f[y_i] + delta)
    margins[y_i] = 0  # ignore true class
    return np.sum(margins)


def L2_i(x_i, y_i, W, b):  # noqa: N802
    f = W.dot(x_i) + b
    f -= np.max(f)  # avoid potential blowup
    p = np.exp(f) / np.sum(np.exp(f))
    return -np.log(p[y_i])


def test_losses_equal_the_lecture_per_example_code() -> None:
    rng = np.random.default_rng(2)
    n, d, k = 6, 5, 4
    X, y = rng.standard_normal((n, d)), rng.integers(0, k, n)
    W, b = rng.standard_normal((k, d)), rng.standard_normal(k)
    scores = tg.tensor(X) @ tg.tensor(W).T + tg.tensor(b)
    svm_ref = np.mean([L1_i(X[i], y[i], W, b) for i in range(n)])
    softmax_ref = np.mean([L2_i(X[i], y[i], W, b) for i in range(n)])
    np.testing.assert_allclose(tg.svm_loss(scores, y).item(), svm_ref, rtol=RTOL)
    np.testing.assert_allclose(tg.softmax_loss(scores, y).item(), softmax_ref, rtol=RTOL)


def test_lecture_cat_car_frog_example() -> None:
    # The classic three-image example: per-image hinge losses 2.9, 0 and 12.9.
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    y = np.array([0, 1, 2])
    eye = np.eye(3)
    per_image = [L1_i(scores[i], y[i], eye, np.zeros(3)) for i in range(3)]
    np.testing.assert_allclose(per_image, [2.9, 0.0, 12.9], atol=1e-12)
    np.testing.assert_allclose(tg.svm_loss(scores, y).item(), np.mean(per_image), rtol=RTOL)


# ----- float32: dtype kept, no inf where the naive formula has one -----


def test_float32_softmax_stays_finite_where_the_naive_form_is_inf() -> None:
    s = np.array([[0.0, 200.0, -50.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    y = np.array([0, 2])
    with np.errstate(all="ignore"):
        e = np.exp(s - s.max(axis=1, keepdims=True))
        naive = -np.log((e / e.sum(axis=1, keepdims=True))[np.arange(2), y])
    assert np.isinf(naive[0])  # p = e^-200 underflows to 0 in float32
    t = tg.tensor(s, requires_grad=True)
    out = tg.softmax_loss(t, y)
    out.backward()
    u = torch.tensor(s, requires_grad=True)
    ref = F.cross_entropy(u, torch.from_numpy(y))
    ref.backward()
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    assert np.isfinite(out.item()) and np.all(np.isfinite(t.grad))
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-6)
    np.testing.assert_allclose(t.grad, u.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_huge_scores_do_not_overflow() -> None:
    s = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)
    t = tg.tensor(s, requires_grad=True)
    out = tg.softmax_loss(t, [1])
    out.backward()
    np.testing.assert_allclose(out.item(), 2e4, rtol=1e-6)
    np.testing.assert_allclose(t.grad, [[1.0, -1.0, 0.0]], atol=1e-6)


@pytest.mark.parametrize("squared", [False, True])
def test_float32_svm_matches_torch(squared: bool) -> None:
    s, y = _batch(21, 12, 7, dtype=np.float32, scale=2.0)
    t = tg.tensor(s, requires_grad=True)
    out = tg.svm_loss(t, y, squared=squared)
    out.backward()
    u = torch.tensor(s, requires_grad=True)
    _torch_svm(u, y, 1.0, squared).backward()
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    np.testing.assert_allclose(
        out.item(), _torch_svm(torch.tensor(s), y, 1.0, squared).item(), rtol=1e-5
    )
    np.testing.assert_allclose(t.grad, u.grad.numpy(), rtol=1e-5, atol=1e-6)


# ----- the record the visualizer reads -----


def test_each_loss_is_one_registered_gate_with_its_attrs() -> None:
    s = tg.tensor(np.zeros((2, 3)), requires_grad=True)
    svm = tg.svm_loss(s, [2, 0], delta=0.5, squared=True)
    assert svm.op == "svm_loss" and svm.inputs == (s,)
    assert svm.attrs["y"].tolist() == [2, 0]
    assert svm.attrs["delta"] == 0.5 and svm.attrs["squared"] is True
    soft = tg.softmax_loss(s, np.array([1.0, 2.0]))
    assert soft.op == "softmax_loss" and soft.attrs["y"].tolist() == [1, 2]
    assert tg.l1(s).op == "l1" and tg.l2(s).op == "l2"
    symbols = {name: tg.OPS[name].symbol for name in ("svm_loss", "softmax_loss", "l1", "l2")}
    assert symbols == {
        "svm_loss": "svm loss",
        "softmax_loss": "softmax loss",
        "l1": "L1",
        "l2": "L2",
    }
    for name in symbols:
        assert f"| {name} |" in tg.derivative_table()


# ----- labels: what passes and what is refused -----


@pytest.mark.parametrize(
    "y",
    [
        [2, 0, 1],
        np.array([2, 0, 1], dtype=np.uint8),
        np.array([2.0, 0.0, 1.0]),
        tg.tensor([2, 0, 1]),
        (2, 0, 1),
    ],
    ids=["list", "uint8", "integral-floats", "tensor", "tuple"],
)
@pytest.mark.parametrize("loss", [tg.svm_loss, tg.softmax_loss])
def test_labels_accepted(loss, y) -> None:
    s = np.random.default_rng(0).standard_normal((3, 3))
    expected = loss(s, np.array([2, 0, 1])).item()
    assert loss(s, y).item() == expected


BAD_LABELS = [
    ([0, 1], "one label per row"),
    ([0, 1, 2, 0], "one label per row"),
    ([[0, 1, 2]], "one label per row"),
    ([0, 3, 1], r"y\[1\] = 3 is out of range.*\[0, 3\)"),
    ([0, -1, 1], r"y\[1\] = -1 is out of range"),
    ([0.0, 1.5, 1.0], r"y\[1\] = 1.5 is not an integer"),
    ([0.0, np.nan, 1.0], r"y\[1\] is nan"),
    ([0.0, np.inf, 1.0], r"y\[1\] is inf"),
    ([True, False, True], "must be integers"),
    (["a", "b", "c"], "must be integers"),
]


@pytest.mark.parametrize(("y", "message"), BAD_LABELS)
@pytest.mark.parametrize("loss", [tg.svm_loss, tg.softmax_loss])
def test_bad_labels_are_a_clear_value_error(loss, y, message: str) -> None:
    s = np.zeros((3, 3))
    with pytest.raises(ValueError, match=message) as err:
        loss(s, y)
    assert loss.__name__ in str(err.value)


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (np.zeros(3), r"2-D.*\(3,\)"),
        (np.zeros((2, 3, 4)), r"2-D.*\(2, 3, 4\)"),
        (np.zeros((0, 3)), r"empty batch.*N = 0"),
        (np.zeros((2, 0)), r"no classes"),
    ],
)
@pytest.mark.parametrize("loss", [tg.svm_loss, tg.softmax_loss])
def test_bad_scores_are_a_clear_value_error(loss, scores, message: str) -> None:
    y = [0] * len(scores) if scores.ndim == 2 else [0]
    with pytest.raises(ValueError, match=message) as err:
        loss(scores, y)
    assert loss.__name__ in str(err.value)


@pytest.mark.parametrize("delta", [-0.5, float("nan"), float("inf")])
def test_bad_delta_is_a_value_error(delta: float) -> None:
    with pytest.raises(ValueError, match=r"svm_loss: delta must be a finite number >= 0"):
        tg.svm_loss(np.zeros((2, 3)), [0, 1], delta=delta)


def test_delta_and_squared_types() -> None:
    with pytest.raises(TypeError, match="svm_loss: delta must be a number"):
        tg.svm_loss(np.zeros((2, 3)), [0, 1], delta="1")
    with pytest.raises(TypeError, match="svm_loss: squared must be True or False"):
        tg.svm_loss(np.zeros((2, 3)), [0, 1], squared=1)


def test_regularizers_refuse_integer_tensors() -> None:
    ints = tg.tensor([1, 2], dtype=np.int64)
    for fn in (tg.l1, tg.l2):
        with pytest.raises(TypeError, match=f"{fn.__name__}: weights must be floating point"):
            fn(ints)
