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
