"""PyTorch and numpy habits a student brings: each one works as they expect, or is
caught with a message that says what to write instead (issue 16, items 4 and 5)."""

from __future__ import annotations

import re
import warnings

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


# ----- item 5: PyTorch's argument names, the max gate, numpy ufuncs, viz.draw, sklearn -----


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_dim_and_keepdim_are_pytorchs_axis_and_keepdims(name) -> None:
    a = np.random.default_rng(1).standard_normal((3, 4))
    reference = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}
    expected = reference[name](torch.tensor(a), dim=1, keepdim=True).numpy()
    x = tg.tensor(a)
    for y in (getattr(tg, name)(x, dim=1, keepdim=True), getattr(x, name)(dim=1, keepdim=True)):
        assert y.attrs == {"axis": 1, "keepdims": True}
        np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    with pytest.raises(TypeError, match="got both axis and dim"):
        getattr(x, name)(axis=0, dim=1)
    with pytest.raises(TypeError, match="multiple values for argument 'axis'"):
        getattr(tg, name)(x, axis=0, dim=1)


@pytest.mark.parametrize(
    ("call", "gate"),
    [
        (lambda z, w: tg.max(z, w), "tg.maximum(z, w)"),
        (lambda z, w: z.max(w), "tg.maximum(z, w)"),
        (lambda z, w: tg.min(z, w), "tg.minimum(z, w)"),
        (lambda z, w: tg.max(z, -1.0), "tg.maximum(z, w)"),
        (lambda z, w: tg.max(z, np.array(-1.0)), "tg.maximum(z, w)"),
    ],
)
def test_max_of_two_tensors_points_at_the_gate(call, gate) -> None:
    z, w = tg.tensor(2.0, requires_grad=True), tg.tensor(-1.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"as the axis .*" + re.escape(gate)):
        call(z, w)
    assert tg.max(tg.tensor([[1.0, 5.0]]), 1).item() == 5.0  # a whole-number axis: a reduction


@pytest.mark.parametrize(
    ("call", "use"),
    [
        (lambda t, u: np.exp(t), "use tg.exp(t)"),
        (lambda t, u: np.log(t), "use tg.log(t)"),
        (lambda t, u: np.tanh(t), "use tg.tanh(t)"),
        (lambda t, u: np.abs(t), "use tg.abs(t)"),
        (lambda t, u: np.maximum(t, u), "use tg.maximum(a, b)"),
        (lambda t, u: np.maximum(t.data, u), "use tg.maximum(a, b)"),
        (lambda t, u: np.arctan(t), "tensorgraph has no arctan op"),
        (lambda t, u: np.add.reduce(t), "np.add.reduce"),
        (lambda t, u: np.add(np.ones(2), t, out=np.empty(2)), "np.add(..., out=...)"),
    ],
)
def test_numpy_ufuncs_on_a_tensor_name_the_tensorgraph_op(call, use) -> None:
    t, u = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([0.5, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match="on a tensorgraph tensor: numpy would") as err:
        call(t, u)
    assert use in str(err.value) and "__array_ufunc__" not in str(err.value)


def test_numpy_operators_with_an_array_still_record_the_op() -> None:
    a = np.array([1.0, 2.0])
    t = tg.tensor([3.0, 4.0], requires_grad=True)
    results = {
        "add": a + t,
        "sub": a - t,
        "mul": a * t,
        "div": a / t,
        "matmul": a @ t,
        "mul ": np.float64(2.0) * t,
    }
    for op, r in results.items():
        assert isinstance(r, tg.Tensor) and r.op == op.strip() and r.inputs[-1] is t, op
    np.testing.assert_array_equal((a - t).data, [-2.0, -2.0])
    np.testing.assert_array_equal((a < t).data, [True, True])
    np.testing.assert_array_equal((a == tg.tensor([1.0, 0.0])).data, [True, False])
    b = np.ones(2)
    b += t  # as before: the name is rebound to the recorded sum
    assert isinstance(b, tg.Tensor) and b.op == "add"
    (a * t).sum().backward()
    np.testing.assert_array_equal(t.grad, a)


@pytest.mark.parametrize("value", [3.0, np.ones(3), [1.0, 2.0], "f", None])
def test_viz_draw_takes_a_tensor(value) -> None:
    import viz

    with pytest.raises(TypeError, match=r"draw: takes a tensorgraph \(or PyTorch\) tensor"):
        viz.draw(value)


@pytest.mark.parametrize("Model", [tg.LinearSVM, tg.SoftmaxClassifier])
def test_coef_and_intercept_are_read_only_views_of_W_and_b(Model) -> None:
    clf = Model(epochs=2)
    assert not hasattr(clf, "coef_") and not hasattr(clf, "intercept_")  # as scikit-learn
    X = np.random.default_rng(0).standard_normal((30, 4))
    clf.fit(X, np.arange(30) % 3)
    assert clf.coef_.shape == (3, 4) and clf.intercept_.shape == (3,)
    np.testing.assert_array_equal(clf.coef_, clf.W.data)
    np.testing.assert_array_equal(clf.intercept_, clf.b.data)
    np.testing.assert_allclose(X @ clf.coef_.T + clf.intercept_, clf.decision_function(X))
    with pytest.raises(ValueError, match="read-only"):
        clf.coef_[0, 0] = 1.0
    with pytest.raises(AttributeError):
        clf.coef_ = np.zeros((3, 4))


def test_verbose_is_quiet_by_default_as_in_scikit_learn(capsys) -> None:
    X, y = np.eye(4), [0, 1, 0, 1]
    assert tg.LinearSVM().verbose is False
    tg.LinearSVM(epochs=2).fit(X, y)
    tg.tune.grid_search(tg.LinearSVM, {"reg": [0.0, 0.1]}, X, y, X, y, epochs=2)
    assert capsys.readouterr().err == ""
    tg.LinearSVM(epochs=2, verbose=True).fit(X, y)
    assert "LinearSVM" in capsys.readouterr().err  # the bar, on request
    tg.tune.grid_search(tg.LinearSVM, {"reg": [0.0]}, X, y, X, y, epochs=2, progress=True)
    assert "grid search LinearSVM" in capsys.readouterr().err


# ----- item 6: a run that blows up says so, and the bar stays short -----


def _digits():
    X, y = tg.data.load_digits()
    Xtr, Xva, _, ytr, yva, _ = tg.data.train_val_test_split(X, y, seed=0)
    scaler = tg.data.Standardizer().fit(Xtr)
    return scaler.transform(Xtr), ytr, scaler.transform(Xva), yva


def test_a_diverging_fit_warns_once_naming_learning_rate_and_reg() -> None:
    Xtr, ytr, Xva, yva = _digits()
    clf = tg.SoftmaxClassifier(learning_rate=100, reg=1e-3)
    with pytest.warns(tg.linear.DivergenceWarning) as caught:
        clf.fit(Xtr, ytr, Xva, yva)
    assert len(caught) == 1  # once, not every step
    text = str(caught[0].message)
    assert "learning_rate (now 100)" in text and "reg (now 0.001)" in text
    assert "at epoch 1," in text  # during fit, as soon as it shows
    assert caught[0].filename == __file__  # pointing at the caller's fit
    # It really diverged: the loss ends far above its start, accuracy far below a good run.
    assert clf.history_["loss"][-1] > 100 * clf.history_["loss"][0]
    assert clf.score(Xva, yva) < 0.8


def test_a_healthy_fit_does_not_warn() -> None:
    Xtr, ytr, Xva, yva = _digits()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for Model in (tg.LinearSVM, tg.SoftmaxClassifier):
            clf = Model(learning_rate=0.03, epochs=10).fit(Xtr, ytr, Xva, yva)
            assert clf.score(Xva, yva) > 0.9


def test_the_progress_bar_shows_the_loss_short(capsys) -> None:
    X = np.random.default_rng(0).standard_normal((20, 3)) * 1e100  # a loss near 1e100
    with pytest.warns(tg.linear.DivergenceWarning):
        clf = tg.SoftmaxClassifier(learning_rate=10.0, epochs=2, verbose=True)
        clf.fit(X, np.arange(20) % 2)
    err = capsys.readouterr().err
    shown = re.findall(r"loss=([^,\]]*)", err)
    assert shown and all(len(s) <= 10 for s in shown), shown  # 1.234e+100, not 100 digits
    assert float(shown[-1]) == pytest.approx(clf.history_["loss"][-1], rel=1e-3)
