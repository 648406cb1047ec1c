"""PyTorch and numpy habits a student brings: each one works as they expect, or is
caught with a message that says what to write instead (issue 16, items 4 and 5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tensorgraph as tg

W0 = np.arange(6.0).reshape(2, 3)


# ----- item 4: transpose(0, 1), and t() -----


def test_t_is_pytorchs_t_values_and_gradients() -> None:
    for shape in [(2, 3), (4,), ()]:
        a = np.random.default_rng(0).standard_normal(shape)
        x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, yt = x.t(), xt.t()
        assert y.op == "transpose" and y.shape == tuple(yt.shape)
        np.testing.assert_array_equal(y.data, yt.detach().numpy())
        g = np.arange(float(y.size)).reshape(y.shape)
        (y * g).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_array_equal(x.grad, xt.grad.numpy())


def test_t_refuses_more_than_two_dimensions_like_pytorch() -> None:
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3, 4).t()
    with pytest.raises(ValueError, match=r"t: expects a tensor of at most 2 dimensions.*swapaxes"):
        tg.tensor(np.zeros((2, 3, 4))).t()


@pytest.mark.parametrize("axes", [(0, 1), (-2, -1), (0, -1), (-2, 1)])
def test_transpose_0_1_on_a_matrix_is_loud(axes) -> None:
    W = tg.tensor(W0, requires_grad=True)
    loud = r"identity permutation.*x\.T, x\.t\(\) or x\.swapaxes"
    with pytest.raises(ValueError, match=loud) as e:
        W.transpose(*axes)
    assert "PyTorch's transpose(0, 1) swaps the axes" in str(e.value)


def test_what_numpy_and_pytorch_agree_on_still_works() -> None:
    W, Wt = tg.tensor(W0), torch.tensor(W0)
    for y in (W.transpose(1, 0), W.T, W.t(), W.swapaxes(0, 1), W.transpose()):
        np.testing.assert_array_equal(y.data, Wt.transpose(0, 1).numpy())
    # numpy's identity, spelled as a tuple (numpy's own spelling): on purpose, allowed.
    np.testing.assert_array_equal(W.transpose((0, 1)).data, W0)
    np.testing.assert_array_equal(tg.transpose(W, (0, 1)).data, W0)
    assert tg.tensor(np.zeros((2, 3, 4))).transpose(2, 0, 1).shape == (4, 2, 3)


def test_a_pytorch_swap_on_three_axes_points_at_swapaxes() -> None:
    x = tg.tensor(np.zeros((2, 3, 4)))
    assert tuple(torch.zeros(2, 3, 4).transpose(0, 2).shape) == x.swapaxes(0, 2).shape
    with pytest.raises(ValueError, match=r"not a permutation.*write x\.swapaxes\(0, 2\)"):
        x.transpose(0, 2)
