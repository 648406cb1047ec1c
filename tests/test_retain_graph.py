"""A second backward() through the same graph is refused unless retain_graph=True, as in
PyTorch (it used to add the same gradients to every leaf again, silently). The replays
(tg.backward_steps, tg.gradients, the player, the check overlay) store nothing and keep
working after a backward().
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tensorgraph as tg
import viz

REFUSED = r"zero_grad\(\).*retain_graph=True"


def _pair(values=(1.0, -2.0, 3.0)):
    return (
        tg.tensor(list(values), requires_grad=True, name="x"),
        torch.tensor(list(values), dtype=torch.float64, requires_grad=True),
    )


def test_second_backward_is_refused_as_in_pytorch() -> None:
    x, xt = _pair()
    loss, loss_t = (x * x).sum(), (xt * xt).sum()
    loss.backward()
    loss_t.backward()
    with pytest.raises(RuntimeError, match="a second time"):
        loss_t.backward()  # PyTorch refuses ...
    with pytest.raises(RuntimeError, match=REFUSED) as err:
        loss.backward()  # ... and so do we, naming the gate, zero_grad and retain_graph
    assert "gate mul" in str(err.value) and "shape (3,)" in str(err.value)
    # Refused before anything was stored: the gradient is the one pass's.
    np.testing.assert_array_equal(x.grad, [2.0, -4.0, 6.0])
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())


def test_the_message_names_the_gate_by_its_name() -> None:
    x, _ = _pair()
    h = x * 2.0
    h.name = "h"
    loss = h.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"gate mul \(output 'h', shape \(3,\)\)"):
        loss.backward()


def test_retain_graph_lets_a_second_pass_through_and_gradients_add_up() -> None:
    x, xt = _pair()
    loss, loss_t = (x * x).sum() + tg.max(x), (xt * xt).sum() + torch.amax(xt)
    loss.backward(retain_graph=True)
    loss_t.backward(retain_graph=True)
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, 2 * (2 * np.array([1.0, -2.0, 3.0]) + [0, 0, 1]))
    # The last pass did not retain: a third one is refused, in both.
    with pytest.raises(RuntimeError):
        loss_t.backward()
    with pytest.raises(RuntimeError, match=REFUSED):
        loss.backward()


def test_retain_graph_on_the_second_call_is_too_late() -> None:
    x, xt = _pair()
    loss, loss_t = (x * x).sum(), (xt * xt).sum()
    loss.backward()
    loss_t.backward()
    with pytest.raises(RuntimeError):
        loss_t.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match=REFUSED):
        loss.backward(retain_graph=True)


def test_two_losses_sharing_an_intermediate() -> None:
    """As in PyTorch: the first backward frees the shared part; retain_graph keeps it."""
    x, xt = _pair()
    h, ht = tg.exp(x), torch.exp(xt)
    (h * 2.0).sum().backward()
    (ht * 2.0).sum().backward()
    with pytest.raises(RuntimeError):
        (ht * 3.0).sum().backward()
    with pytest.raises(RuntimeError, match="gate exp"):
        (h * 3.0).sum().backward()

    x, xt = _pair()
    h, ht = tg.exp(x), torch.exp(xt)
    (h * 2.0).sum().backward(retain_graph=True)
    (ht * 2.0).sum().backward(retain_graph=True)
    (h * 3.0).sum().backward()
    (ht * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)


def test_a_new_graph_from_the_same_leaves_is_fine() -> None:
    """The training loop: zero_grad, a new forward pass, backward, step."""
    W = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = tg.optim.SGD([W], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = (W * W).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(W.data, np.array([1.0, -2.0]) * 0.8**3)


def test_a_leaf_backpropagates_any_number_of_times() -> None:
    # No gate, nothing freed: PyTorch accumulates here too.
    x, xt = tg.tensor(2.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    for _ in range(2):
        x.backward()
        xt.backward()
    assert x.grad.item() == xt.grad.item() == 2.0


def test_the_replays_keep_working_after_backward(tmp_path) -> None:
    from viz.course.lecture import lecture_graph

    f = lecture_graph()
    f.backward()
    leaves = [t for t in tg.graph_nodes(f) if t.is_leaf and t.requires_grad]
    grads = [t.grad.item() for t in leaves]
    assert grads == [-8.0, 6.0, 2.0, 0.0]
    for _ in range(2):  # any number of times, storing nothing
        assert [float(tg.gradients(f)[t]) for t in leaves] == grads
        assert len(list(tg.backward_steps(f))) == 4
        assert viz.steps(f)[-1].caption.endswith("∂f/∂w = 0.")
        assert "gradient check" in viz.draw(f, check=True).source
    assert viz.animate(f, tmp_path / "f.html").exists()
    assert [t.grad.item() for t in leaves] == grads  # untouched by the replays
    with pytest.raises(RuntimeError, match=REFUSED):
        f.backward()  # a storing pass is still refused
