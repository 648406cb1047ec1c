"""tg.detect_anomaly(): the first NaN or inf raises, naming the op and the user's line;
arrays the graph recorded that change in place before backward raise too."""

from __future__ import annotations

import contextlib
import doctest
import gc
import inspect
import warnings
import weakref

import numpy as np
import pytest

import tensorgraph as tg
import tensorgraph.anomaly

torch = pytest.importorskip("torch")

# These tests make NaN and inf on purpose; numpy's RuntimeWarnings about it are noise.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

HERE = __file__


def line_after() -> int:
    """The line number just after the caller's line (where the op under test is made)."""
    return inspect.currentframe().f_back.f_lineno + 1


def assert_points_here(err: pytest.ExceptionInfo, line: int, source: str) -> None:
    text = str(err.value)
    assert f"{HERE}:{line}" in text, text
    assert source in text, text


# ----- forward -----


def test_forward_nan_names_the_op_and_the_line() -> None:
    x = tg.tensor([1.0, -1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError) as err:
        line = line_after()
        y = tg.log(x)  # noqa: F841
    assert "log produced nan in 1 of 3 entries" in str(err.value)
    assert_points_here(err, line, "y = tg.log(x)")


@pytest.mark.parametrize(
    ("make", "op", "kind"),
    [
        (lambda x: tg.exp(x * 1000.0), "exp", "inf"),
        (lambda x: (x - x) / (x - x), "div", "nan"),  # 0/0
        (lambda x: x / tg.tensor([0.0, 1.0]), "div", "inf"),
        (lambda x: tg.sqrt(-x), "sqrt", "nan"),
        (lambda x: tg.pow(x - x, -1), "pow", "inf"),
        (lambda x: (x - x) @ tg.tensor([np.inf, 1.0]), "matmul", "nan"),
    ],
)
def test_forward_first_bad_op_is_named(make, op: str, kind: str) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError) as err:
        make(x)
    assert f"detect_anomaly: {op} produced {kind}" in str(err.value)
    # The op was called from this file (through a lambda above), not from the package.
    assert HERE in str(err.value)


def test_operators_point_at_the_user_line_not_at_ops_py() -> None:
    x = tg.tensor([np.inf], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError) as err:
        line = line_after()
        y = 0.0 * x  # noqa: F841  (__rmul__ is a lambda in the package)
    assert_points_here(err, line, "y = 0.0 * x")
    assert "ops.py" not in str(err.value)


def test_bad_input_data_is_blamed_on_the_input() -> None:
    x = tg.tensor([1.0, np.nan], requires_grad=True, name="x")
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError) as err:
        tg.tanh(x)
    assert "input 0 ('x', shape (2,), a leaf) already held nan in 1 of 2 entries" in str(err.value)


def test_no_grad_results_are_checked_too() -> None:
    with tg.detect_anomaly(), tg.no_grad(), pytest.raises(tg.AnomalyError, match="log"):
        tg.log(tg.tensor(-1.0))


# ----- backward -----


def test_backward_inf_names_the_op_and_where_it_was_made() -> None:
    x = tg.tensor([0.0, 4.0], requires_grad=True, name="x")
    with tg.detect_anomaly():
        line = line_after()
        y = tg.sqrt(x)  # finite forward: sqrt(0) = 0
        z = (y * 3.0).sum()
        with pytest.raises(tg.AnomalyError) as err, warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            z.backward()
    text = str(err.value)
    assert "the backward of sqrt produced inf in 1 of 2 entries" in text
    assert "input 0 ('x', shape (2,), a leaf)" in text
    assert "the upstream gradient was finite" in text
    assert_points_here(err, line, "y = tg.sqrt(x)")
    # The claim is true: PyTorch's gradient there is not finite either.
    u = torch.tensor([0.0, 4.0], dtype=torch.float64, requires_grad=True)
    (torch.sqrt(u) * 3.0).sum().backward()
    assert not torch.isfinite(u.grad).all()


def test_backward_of_a_graph_built_outside_the_mode_is_still_checked() -> None:
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    z = tg.sqrt(x).sum()
    with (
        tg.detect_anomaly(),
        pytest.raises(tg.AnomalyError, match="outside tg.detect_anomaly"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)
        z.backward()


def test_a_non_finite_seed_is_refused() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x * 2.0
        with pytest.raises(tg.AnomalyError, match="seed grad holds nan"):
            y.backward(np.array([1.0, np.nan]))


def test_only_gradients_that_are_used_are_checked() -> None:
    # x / c with a tiny c: the forward (1e200) and d/dx = 1/c are finite, but
    # d/dc = -x/c^2 overflows. That matters only if c needs a gradient.
    x = tg.tensor([1.0], requires_grad=True)
    with tg.detect_anomaly():
        (x / tg.tensor([1e-200])).sum().backward()  # c a constant: fine
        np.testing.assert_allclose(x.grad, [1e200])
        c = tg.tensor([1e-200], requires_grad=True)
        with pytest.raises(tg.AnomalyError, match="backward of div produced inf .* input 1"):
            (x / c).sum().backward()


# ----- off by default, restored on exit -----


def test_off_by_default_and_costs_no_wrapping() -> None:
    assert not tg.is_anomaly_enabled()
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = tg.log(x)  # no error: nan, as numpy gives
    assert np.isnan(y.data[1])
    assert not hasattr(y._backward, "origin")
    with tg.detect_anomaly():
        z = x * 2.0
    assert hasattr(z._backward, "origin")


def test_mode_is_restored_after_an_error_nesting_and_as_decorator() -> None:
    with pytest.raises(tg.AnomalyError), tg.detect_anomaly():
        tg.log(tg.tensor(-1.0))
    assert not tg.is_anomaly_enabled()

    mode = tg.detect_anomaly()
    with mode:
        with mode:
            assert tg.is_anomaly_enabled()
        assert tg.is_anomaly_enabled()
    assert not tg.is_anomaly_enabled()

    @tg.detect_anomaly()
    def inside() -> bool:
        return tg.is_anomaly_enabled()

    assert inside() and not tg.is_anomaly_enabled()


def test_results_inside_the_mode_match_torch() -> None:
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal((3, 4)), rng.standard_normal((5, 3))
    W = tg.tensor(w0, requires_grad=True)
    with tg.detect_anomaly():
        loss = tg.softmax_loss(tg.tensor(x0) @ W, [0, 1, 2, 3, 0]) + 0.1 * tg.l2(W)
        loss.backward()
    Wt = torch.tensor(w0, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x0) @ Wt, torch.tensor([0, 1, 2, 3, 0]))
    ref = ref + 0.1 * (Wt * Wt).sum()
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(W.grad, Wt.grad.numpy(), rtol=1e-10)


def test_no_reference_cycles_in_the_mode() -> None:
    gc.disable()
    try:
        with tg.detect_anomaly():
            x = tg.tensor([1.0, 2.0], requires_grad=True)
            y = tg.exp(x * 2.0).sum()
            y.backward()
        ref = weakref.ref(y)
        del y
        assert ref() is None, "the graph was not freed by reference counting alone"
    finally:
        gc.enable()


def test_local_backward_works_on_a_watched_node() -> None:
    with tg.detect_anomaly():
        x = tg.tensor(3.0, requires_grad=True)
        y = x * x
    assert [float(g) for g in tg.local_backward(y, 1.0)] == [3.0, 3.0]


def test_doctests() -> None:
    result = doctest.testmod(tensorgraph.anomaly, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ----- arrays changed in place between forward and backward -----


def test_sgd_update_before_backward_is_caught() -> None:
    W = tg.tensor(np.ones((2, 2)), requires_grad=True, name="W")
    x = tg.tensor([1.0, 2.0])
    with tg.detect_anomaly():
        line = line_after()
        s = (W @ x).sum()
        W.data -= 0.1  # the update, one line too early
        with pytest.raises(tg.ModifiedInPlaceError) as err:
            s.backward()
    text = str(err.value)
    assert "input 0 of matmul ('W', shape (2, 2), a leaf) was modified in place" in text
    assert_points_here(err, line, "s = (W @ x).sum()")


def test_element_writes_and_output_writes_are_caught() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x * x
        x.data[0] = 5.0  # through the element, not the attribute
        with pytest.raises(tg.ModifiedInPlaceError, match="input 0 of mul"):
            y.sum().backward()

        e = tg.exp(tg.tensor([0.5], requires_grad=True))  # exp's backward reads its output
        e.data *= 2.0
        with pytest.raises(tg.ModifiedInPlaceError, match="the output of exp"):
            e.sum().backward()


def test_optimizer_step_before_backward_is_caught() -> None:
    W = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = tg.optim.SGD([W], lr=0.1)
    with tg.detect_anomaly():
        loss = (W * W).sum()
        loss.backward(retain_graph=True)
        opt.step()  # fine: after backward; but a second backward of the old graph is stale
        with pytest.raises(tg.ModifiedInPlaceError, match="of mul"):
            loss.backward()


@pytest.mark.parametrize("anomaly", [True, False], ids=["anomaly-mode", "always-on-check"])
def test_the_sgd_idiom_is_untouched(anomaly: bool) -> None:
    """W.data -= lr * W.grad between steps (a fresh graph each step, the previous one still
    alive): no error, right values, with or without anomaly mode."""
    rng = np.random.default_rng(1)
    x0, w0 = rng.standard_normal((6, 3)), rng.standard_normal(3)
    W, X = tg.tensor(w0, requires_grad=True), tg.tensor(x0)
    Wt, Xt = torch.tensor(w0, requires_grad=True), torch.tensor(x0)
    with tg.detect_anomaly() if anomaly else contextlib.nullcontext():
        for _ in range(5):
            loss = tg.tanh(X @ W).sum()
            loss.backward()
            W.data -= 0.1 * W.grad
            W.zero_grad()
            ref = torch.tanh(Xt @ Wt).sum()
            ref.backward()
            with torch.no_grad():
                Wt -= 0.1 * Wt.grad
            Wt.grad = None
    np.testing.assert_allclose(W.data, Wt.detach().numpy(), rtol=1e-12)


def test_rebinding_data_keeps_the_recorded_values() -> None:
    """W.data = new array: the graph still holds the old array, so its gradient is right."""
    w0 = np.array([1.0, 3.0])
    W = tg.tensor(w0.copy(), requires_grad=True)
    with tg.detect_anomaly():
        y = (W * W).sum()
        W.data = W.data - 1.0  # a new array, not an in-place change
        y.backward()
    np.testing.assert_allclose(W.grad, 2 * w0)
