"""tg.optim.SGD against torch.optim.SGD, step by step, and its bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgraph as tg


@pytest.mark.parametrize("momentum", [0.0, 0.9, 0.5])
def test_sgd_matches_torch_over_several_steps(momentum: float) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    W0, b0 = rng.standard_normal((3, 5)), rng.standard_normal(3)

    W = tg.tensor(W0.copy(), requires_grad=True)  # tg.tensor shares the array; SGD is in place
    b = tg.tensor(b0.copy(), requires_grad=True)
    opt = tg.optim.SGD([W, b], lr=0.3, momentum=momentum)
    Wt = torch.tensor(W0, requires_grad=True)
    bt = torch.tensor(b0, requires_grad=True)
    ref = torch.optim.SGD([Wt, bt], lr=0.3, momentum=momentum)

    for step in range(6):
        lo, hi = (step % 2) * 4, (step % 2) * 4 + 4  # alternate two minibatches
        opt.zero_grad()
        (tg.softmax_loss(tg.tensor(X[lo:hi]) @ W.T + b, y[lo:hi]) + 0.1 * tg.l2(W)).backward()
        opt.step()
        ref.zero_grad()
        loss = F.cross_entropy(torch.from_numpy(X[lo:hi]) @ Wt.T + bt, torch.from_numpy(y[lo:hi]))
        (loss + 0.1 * (Wt * Wt).sum()).backward()
        ref.step()
        np.testing.assert_allclose(W.data, Wt.detach().numpy(), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(b.data, bt.detach().numpy(), rtol=1e-10, atol=1e-13)
    assert not np.allclose(W.data, W0)


def test_parameters_without_a_gradient_are_skipped_as_in_torch() -> None:
    a0, c0 = np.array([1.0, 2.0]), np.array([3.0])
    a, c = tg.tensor(a0.copy(), requires_grad=True), tg.tensor(c0.copy(), requires_grad=True)
    at, ct = torch.tensor(a0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    opt = tg.optim.SGD([a, c], lr=0.1, momentum=0.9)
    ref = torch.optim.SGD([at, ct], lr=0.1, momentum=0.9)
    for step in range(4):
        opt.zero_grad()
        ref.zero_grad()
        if step in (1, 2):  # c takes no part in these steps: no gradient, no move
            tg.sum(a * a).backward()
            (at * at).sum().backward()
        else:
            tg.sum(a * a * c).backward()
            (at * at * ct).sum().backward()
        assert (c.grad is None) == (ct.grad is None)
        opt.step()
        ref.step()
        np.testing.assert_allclose(a.data, at.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(c.data, ct.detach().numpy(), rtol=1e-12)


def test_step_is_in_place_and_keeps_float32() -> None:
    w = tg.tensor(np.array([1.0, -1.0], dtype=np.float32), requires_grad=True)
    data = w.data
    opt = tg.optim.SGD([w], lr=0.25)
    tg.l2(w).backward()
    opt.step()
    assert np.shares_memory(w.data, data) and w.data.dtype == np.float32
    np.testing.assert_allclose(w.data, [0.5, -0.5])


def test_zero_grad_and_lr_schedule() -> None:
    w = tg.tensor([2.0], requires_grad=True)
    opt = tg.optim.SGD(w, lr=1.0)  # a single tensor is accepted too
    tg.sum(w).backward()
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # nothing to do without a gradient
    assert w.data.tolist() == [2.0]
    opt.lr = 0.5
    tg.sum(w * 3).backward()
    opt.step()
    assert w.data.tolist() == [0.5]
    assert "lr=0.5" in repr(opt)


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_learning_rate(lr: float) -> None:
    w = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="SGD: lr must be a positive finite number"):
        tg.optim.SGD([w], lr=lr)
    opt = tg.optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="SGD: lr must be a positive"):
        opt.lr = lr


@pytest.mark.parametrize("momentum", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_momentum(momentum: float) -> None:
    w = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"SGD: momentum must be in \[0, 1\)"):
        tg.optim.SGD([w], lr=0.1, momentum=momentum)


def test_bad_parameters() -> None:
    w = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="empty list of parameters"):
        tg.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="leaf tensor made with requires_grad=True"):
        tg.optim.SGD([tg.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="parameter 1 .*leaf tensor"):
        tg.optim.SGD([w, w * 2], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray, not a Tensor"):
        tg.optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="lr must be a number"):
        tg.optim.SGD([w], lr="0.1")
    with pytest.raises(TypeError, match="momentum must be a number"):
        tg.optim.SGD([w], lr=0.1, momentum=True)


# ----- weight decay and Adam, against torch.optim -----


def _twins(dtype):
    """A tg.nn MLP and the equal torch model, loaded from the same state dict."""
    model = tg.nn.MLP([5, 6, 3], dtype=dtype, generator=0)
    twin = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)).to(
        torch.float64 if dtype == np.float64 else torch.float32
    )
    twin.load_state_dict(model.state_dict())
    return model, twin


def _train_side_by_side(model, twin, opt, ref, dtype, steps=20):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 5)).astype(dtype), rng.integers(0, 3, 12)
    rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (2e-4, 2e-6)
    for step in range(steps):
        lo = (step % 3) * 4  # three minibatches in turn
        opt.zero_grad()
        tg.nn.functional.cross_entropy(model(X[lo : lo + 4]), y[lo : lo + 4]).backward()
        opt.step()
        ref.zero_grad()
        F.cross_entropy(
            twin(torch.from_numpy(X[lo : lo + 4])), torch.from_numpy(y[lo : lo + 4])
        ).backward()
        ref.step()
        for (name, p), q in zip(model.named_parameters(), twin.parameters(), strict=True):
            np.testing.assert_allclose(
                p.data, q.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{name}, step {step}"
            )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05},
    ],
)
def test_adam_matches_torch_over_20_steps(dtype, settings):
    model, twin = _twins(dtype)
    before = [p.data.copy() for p in model.parameters()]
    opt = tg.optim.Adam(model.parameters(), **settings)
    ref = torch.optim.Adam(twin.parameters(), **settings)
    _train_side_by_side(model, twin, opt, ref, dtype)
    assert all(not np.allclose(p.data, b) for p, b in zip(model.parameters(), before, strict=True))
    assert all(p.dtype == dtype for p in model.parameters())


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_matches_torch(momentum):
    model, twin = _twins(np.float64)
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=momentum, weight_decay=0.01)
    ref = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=momentum, weight_decay=0.01)
    _train_side_by_side(model, twin, opt, ref, np.float64)
    assert "weight_decay=0.01" in repr(opt)


def test_adam_skips_parameters_without_a_gradient_as_torch():
    a0, c0 = np.array([1.0, 2.0]), np.array([3.0])
    a, c = tg.tensor(a0.copy(), requires_grad=True), tg.tensor(c0.copy(), requires_grad=True)
    at, ct = torch.tensor(a0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    opt, ref = tg.optim.Adam([a, c], lr=0.1), torch.optim.Adam([at, ct], lr=0.1)
    for step in range(5):
        opt.zero_grad()
        ref.zero_grad()
        if step in (1, 2):  # c's step count must not advance here (its bias correction)
            tg.sum(a * a).backward()
            (at * at).sum().backward()
        else:
            tg.sum(a * a * c).backward()
            (at * at * ct).sum().backward()
        opt.step()
        ref.step()
        np.testing.assert_allclose(a.data, at.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(c.data, ct.detach().numpy(), rtol=1e-12)


def test_optimizers_take_model_parameters_and_refuse_bad_arguments():
    model = tg.nn.MLP([2, 3, 1])
    opt = tg.optim.Adam(model.parameters())  # a generator, as in PyTorch
    assert len(opt.params) == 4 and opt.lr == 1e-3 and tg.optim.SGD(model.parameters()).lr == 1e-3
    assert repr(opt) == "Adam(4 parameters, lr=0.001, betas=(0.9, 0.999), eps=1e-08)"
    w = tg.tensor([1.0], requires_grad=True)
    for kwargs, error, match in [
        ({"betas": (0.9, 1.0)}, ValueError, r"Adam: betas\[1\] must be in \[0, 1\)"),
        ({"betas": 0.9}, TypeError, "Adam: betas must be a pair"),
        ({"eps": -1.0}, ValueError, "Adam: eps must be >= 0"),
        ({"weight_decay": float("nan")}, ValueError, "Adam: weight_decay must be >= 0"),
        ({"lr": 0.0}, ValueError, "Adam: lr must be a positive finite number"),
    ]:
        with pytest.raises(error, match=match):
            tg.optim.Adam([w], **kwargs)
    with pytest.raises(ValueError, match="SGD: weight_decay must be >= 0"):
        tg.optim.SGD([w], lr=0.1, weight_decay=-0.1)
    with pytest.raises(ValueError, match="parameter 1 .* is listed twice"):
        tg.optim.Adam([w, w])
    with pytest.raises(TypeError, match="parameter groups"):
        tg.optim.Adam([{"params": [w]}])
