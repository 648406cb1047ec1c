"""Writes to ``.data`` between forward and backward raise, always (no anomaly mode needed).

tensorgraph/inplace.py: ``t.data`` is a TrackedArray that logs in-place writes; backward
refuses a graph whose backward rules hold an array written after their op ran. The
promise tested here: after any write, backward either raises ModifiedInPlaceError or
returns exactly the gradient of the graph as it was built, never something else.
"""

from __future__ import annotations

import gc
import inspect
import zlib

import numpy as np
import pytest
import torch
from test_ops_torch import CASES, Case, _ids

import tensorgraph as tg
from tensorgraph.inplace import TrackedArray, _Writes

HERE = __file__


def line_after() -> int:
    return inspect.currentframe().f_back.f_lineno + 1


# ----- the promise, op by op: raise, or the gradient of the graph as built -----

# The registry says which ops' rules read an input or output array (a write there must
# raise) and which read none (as in PyTorch: a write must never raise).
READS_DATA = {name for name, info in tg.OPS.items() if info.reads_data}
READS_NOTHING = {name for name, info in tg.OPS.items() if not info.reads_data}


def _grads(c: Case, arrays: list[np.ndarray], seed: np.ndarray) -> list[np.ndarray]:
    xs = [tg.tensor(a.copy(), requires_grad=True) for a in arrays]
    c.tg(*xs).backward(grad=seed)
    return [x.grad for x in xs]


def _outcomes(c: Case) -> list[tuple[str, bool]]:
    """Write to each input (then the output) of a fresh graph; backward; check the promise."""
    arrays = c.make_inputs(np.float64)
    probe = c.tg(*[tg.tensor(a.copy(), requires_grad=True) for a in arrays])
    rng = np.random.default_rng(zlib.crc32(_ids(c).encode()))
    seed = rng.standard_normal(probe.shape)
    expected = _grads(c, arrays, seed)
    outcomes = []
    for target in [*range(len(arrays)), "output"]:
        xs = [tg.tensor(a.copy(), requires_grad=True) for a in arrays]
        out = c.tg(*xs)
        victim = out if target == "output" else xs[target]
        victim.data += 0.375  # a write through .data, in place
        try:
            out.backward(grad=seed)
        except tg.ModifiedInPlaceError as err:
            assert "was modified in place after" in str(err) and HERE in str(err), str(err)
            outcomes.append((str(target), True))
            continue
        for i, (x, want) in enumerate(zip(xs, expected, strict=True)):
            np.testing.assert_allclose(
                x.grad, want, rtol=1e-12, atol=1e-12, err_msg=f"write to {target}: input {i}"
            )
        outcomes.append((str(target), False))
    return outcomes


@pytest.mark.parametrize("c", CASES, ids=_ids)
def test_a_write_raises_or_leaves_the_gradient_right(c: Case) -> None:
    outcomes = _outcomes(c)
    raised = [t for t, r in outcomes if r]
    # (A 0-d output is a fresh array, not the one exp or tanh keep: writing it is harmless.)
    if c.op in READS_DATA and c.tg(*map(tg.tensor, c.make_inputs(np.float64))).ndim > 0:
        assert raised, f"{c.op}: no write raised, yet its rule reads its data"
    if c.op in READS_NOTHING and c.tg.__name__ == c.op:  # the op alone, nothing composed
        assert not raised, f"{c.op}: a write to {raised} raised, yet its rule reads no data"


def test_every_op_is_tried_both_ways() -> None:
    # Each op's classification is tested above on its own cases (test_ops_torch's).
    assert {c.op for c in CASES} >= set(tg.OPS)
    assert READS_DATA and READS_NOTHING


# ----- every way of writing is seen -----

WRITES = {
    "setitem": lambda x: x.data.__setitem__(0, 5.0),
    "isub": lambda x: setattr(x, "data", _isub(x.data)),
    "held-array-iadd": lambda x: _iadd(x.data),
    "fill": lambda x: x.data.fill(0.0),
    "copyto": lambda x: np.copyto(x.data, 7.0),
    "ufunc-out": lambda x: np.multiply(x.data, 3.0, out=x.data),
    "ufunc-at": lambda x: np.add.at(x.data, [0, 0], 1.0),
    "flat": lambda x: x.data.flat.__setitem__(1, 9.0),
    "fill-diagonal": lambda x: np.fill_diagonal(x.data.reshape(2, 2), 4.0),
    "sort": lambda x: x.data.sort(),
    "put": lambda x: x.data.put([1], [8.0]),
    "putmask": lambda x: np.putmask(x.data, x.data > 0, 0.5),
    "numpy()": lambda x: x.numpy().__setitem__(2, 6.0),
    "a-view": lambda x: x.data.reshape(2, 2)[1].__setitem__(0, 2.0),
    "a-slice": lambda x: x.data[1:].__setitem__(0, 2.0),
    "detached": lambda x: x.detach().data.__setitem__(0, 1.5),
    "shared-tensor": lambda x: tg.tensor(x.data, copy=False).data.__setitem__(0, 1.5),
}


def _isub(a: np.ndarray) -> np.ndarray:
    a -= 0.5
    return a


def _iadd(a: np.ndarray) -> None:
    a += 0.5


@pytest.mark.parametrize("how", WRITES)
def test_every_kind_of_write_is_caught(how: str) -> None:
    x = tg.tensor([3.0, 1.0, 2.0, 4.0], requires_grad=True)
    y = (x * x).sum()
    WRITES[how](x)
    with pytest.raises(tg.ModifiedInPlaceError, match=r"input \d of mul"):
        y.backward()
    assert x.grad is None  # raised before any gradient moved


def test_a_write_to_a_view_op_input_reaches_the_op_that_reads_the_view() -> None:
    x = tg.tensor(np.arange(1.0, 7.0), requires_grad=True)
    y = x.reshape(2, 3)  # y's array is a view of x's memory
    z = (y * y).sum()  # mul holds that view
    x.data[4] = 0.0
    with pytest.raises(tg.ModifiedInPlaceError, match=r"input 0 of mul \(shape \(2, 3\)"):
        z.backward()


def test_writing_the_output_an_op_reads_is_caught() -> None:
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    e = tg.exp(x)  # exp's backward reads its output
    e.data *= 2.0
    with pytest.raises(tg.ModifiedInPlaceError, match="the output of exp"):
        e.sum().backward()


def test_local_backward_checks_too() -> None:
    x = tg.tensor([2.0], requires_grad=True)
    y = x * x
    x.data[0] = 3.0
    with pytest.raises(tg.ModifiedInPlaceError, match="input 0 of mul"):
        tg.local_backward(y, 1.0)


def test_the_message_names_op_input_tensor_and_the_line_of_the_write() -> None:
    W = tg.tensor(np.ones((2, 3)), requires_grad=True, name="W")
    loss = (W @ np.ones(3)).sum()
    line = line_after()
    W.data -= 0.1  # the update, one line too early
    with pytest.raises(tg.ModifiedInPlaceError) as err:
        loss.backward()
    text = str(err.value)
    assert "input 0 of matmul ('W', shape (2, 3), a leaf) was modified in place" in text
    assert f"{HERE}:{line}: W.data -= 0.1" in text
    assert "run the forward pass again" in text


def test_an_optimizer_step_then_the_old_graph_raises_naming_the_step() -> None:
    W = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = tg.optim.SGD([W], lr=0.1)
    loss = (W * W).sum()
    loss.backward(retain_graph=True)
    line = line_after()
    opt.step()
    with pytest.raises(tg.ModifiedInPlaceError) as err:
        loss.backward()
    assert f"{HERE}:{line}: opt.step()" in str(err.value)


def test_what_pytorch_gets_wrong_we_refuse() -> None:
    """torch does not track writes through .data: it returns a silently wrong gradient."""
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    yt = (xt * xt).sum()
    xt.data[0] = 5.0
    yt.backward()
    assert xt.grad.tolist() == [10.0, 4.0]  # neither the old gradient [2, 4] nor a new graph's

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data[0] = 5.0
    with pytest.raises(tg.ModifiedInPlaceError):
        y.backward()


# ----- what must stay untouched -----


def test_writes_after_backward_and_reads_never_raise() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    print(x.data, x.data.sum(), x.data.flat[0], list(x.data.flat), np.asarray(x.data) + 1)
    y.backward()
    x.data[0] = 5.0  # after backward: fine
    (x * x).sum().backward()  # a new graph on the new values
    assert x.grad.tolist() == [2.0 + 10.0, 4.0 + 4.0]


def test_rebinding_data_leaves_a_built_graph_alone() -> None:
    """x.data = new rebinds the tensor; the graph keeps the values it was built on."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data = np.array([5.0, 5.0])
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]  # the gradient of y as computed (y == 5)
    assert x.data.tolist() == [5.0, 5.0]


def test_rebinding_checks_the_values() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.data = np.array([1, 2])  # integers become float64, as in tg.tensor
    assert x.data.dtype == np.float64
    with pytest.raises(TypeError, match="data: complex numbers are not supported"):
        x.data = np.array([1j, 2])
    with pytest.raises(TypeError, match="data: expected numbers"):
        x.data = "abc"
    (x * x).sum().backward()
    with pytest.raises(
        ValueError, match=r"shape \(3,\) but .grad has shape \(2,\); call zero_grad"
    ):
        x.data = np.ones(3)
    x.zero_grad()
    x.data = np.ones(3)
    assert x.shape == (3,)
    r = tg.tensor([1.0, 2.0])
    r.data = r.data[::-1]  # a reversed view of its own memory: a rebind, not a write
    assert r.data.tolist() == [2.0, 1.0]


def test_a_write_to_an_unrelated_tensor_does_not_raise() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    other = tg.tensor([1.0, 2.0])
    y = (x * x).sum()
    other.data[0] = 9.0
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_data_is_a_numpy_array_that_looks_like_one() -> None:
    x = tg.tensor([1.0, 2.0])
    assert isinstance(x.data, np.ndarray) and isinstance(x.data, TrackedArray)
    assert repr(x.data) == "array([1., 2.])"
    assert type(x.data + 1) is np.ndarray  # arithmetic results are plain arrays
    assert type(np.exp(x.data)) is np.ndarray
    assert np.shares_memory(x.data, x.numpy())
    a = x.data
    a += 1  # rebinds a to the same tracked array
    assert isinstance(a, TrackedArray) and x.data.tolist() == [2.0, 3.0]
    view = np.asarray(x)  # np.asarray(t) is for reading
    assert not view.flags.writeable and np.shares_memory(view, x.data)
    assert np.array(x).flags.writeable  # a copy


def test_the_log_forgets_arrays_that_are_gone() -> None:
    gc.collect()
    before = len(_Writes.by_root)
    for _ in range(200):
        t = tg.tensor(np.ones(5))
        t.data[0] = 2.0
    del t
    gc.collect()
    assert len(_Writes.by_root) <= before + 1


def test_fit_still_trains() -> None:
    """fit updates the weights in place between steps (opt.step): no error, a good model."""
    X, y = tg.data.make_blobs(n_per_class=30, seed=0)
    model = tg.LinearSVM(epochs=5, seed=0).fit(X, y)
    assert model.score(X, y) > 0.9


# ----- t -= x and friends: PyTorch's in-place operators -----


def test_the_torch_idiom_updates_the_parameter_itself() -> None:
    """with no_grad(): W -= lr * W.grad, as in PyTorch: same tensor, same values as torch."""
    rng = np.random.default_rng(5)
    x0, w0 = rng.standard_normal((8, 3)), rng.standard_normal(3)
    W, X = tg.tensor(w0, requires_grad=True), tg.tensor(x0)
    Wt, Xt = torch.tensor(w0, requires_grad=True), torch.tensor(x0)
    param = W
    for _ in range(4):
        loss = tg.tanh(X @ W).sum()
        loss.backward(retain_graph=True)  # the last graph is tried again below
        with tg.no_grad():
            W -= 0.1 * W.grad
            W *= 0.99  # weight decay, in place too
        W.zero_grad()
        ref = torch.tanh(Xt @ Wt).sum()
        ref.backward()
        with torch.no_grad():
            Wt -= 0.1 * Wt.grad
            Wt *= 0.99
        Wt.grad = None
    assert W is param and W.requires_grad and W.is_leaf
    np.testing.assert_allclose(W.data, Wt.detach().numpy(), rtol=1e-12)
    with pytest.raises(tg.ModifiedInPlaceError, match="input 1 of matmul"):
        loss.backward()  # the last graph saw W before the update, as torch's would


def test_a_leaf_that_needs_a_gradient_is_refused_outside_no_grad() -> None:
    Wt = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        Wt -= 1.0  # torch refuses too
    W = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place -=: this tensor is a leaf .* tg.no_grad"):
        W -= 1.0
    assert W.data.tolist() == [1.0, 2.0]


def test_an_intermediate_gets_a_new_node_with_torchs_gradient() -> None:
    """loss += reg * l2(W) while recording: a new node, the gradient torch's gives."""
    w0 = np.array([0.5, -1.5, 2.0])
    W, Wt = tg.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    loss = (W * 3.0).sum()
    before = loss
    loss += 0.1 * tg.l2(W)
    loss /= 2.0
    loss.backward()
    lt = (Wt * 3.0).sum()
    lt += 0.1 * (Wt * Wt).sum()
    lt /= 2.0
    lt.backward()
    assert loss is not before and before.op == "sum"
    assert loss.item() == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(W.grad, Wt.grad.numpy(), rtol=1e-12)


def test_a_tensor_that_needs_no_gradient_changes_in_place_as_in_torch() -> None:
    c = tg.tensor([1.0, 2.0], dtype=np.float32)
    alias = c
    c += 1  # Python numbers and float64 arrays keep float32, as in torch
    c *= np.array([2.0, 3.0])
    c /= 2
    c -= tg.tensor([0.5, 0.5], dtype=np.float32)
    ct = torch.tensor([1.0, 2.0])
    ct += 1
    ct *= torch.tensor([2.0, 3.0])
    ct /= 2
    ct -= 0.5
    assert alias is c and c.dtype == np.float32
    np.testing.assert_allclose(c.data, ct.numpy())


def test_a_constant_changed_in_place_after_use_is_caught() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([3.0, 4.0])
    y = (x * c).sum()
    c += 1.0  # mul's backward reads c
    with pytest.raises(tg.ModifiedInPlaceError, match="input 1 of mul"):
        y.backward()


@pytest.mark.parametrize(
    ("other", "error", "message"),
    [
        (
            np.ones(3),
            ValueError,
            r"in-place \+=: a \(3,\) operand cannot update a tensor of shape \(2,\)",
        ),
        (np.ones((2, 2)), ValueError, r"\(2, 2\) operand cannot update a tensor of shape \(2,\)"),
        ("a", TypeError, r"in-place \+=: expected numbers"),
        (1j, TypeError, r"in-place \+=: complex numbers are not supported"),
    ],
)
def test_bad_in_place_operands_name_the_operator_and_shapes(other, error, message) -> None:
    t = tg.tensor([1.0, 2.0])
    with pytest.raises(error, match=message):
        t += other
    assert t.data.tolist() == [1.0, 2.0]


def test_tg_tensor_copies_so_changing_your_array_later_is_harmless() -> None:
    """As np.array and torch.tensor: the tensor owns its values unless copy=False."""
    a = np.array([1.0, 2.0])
    x = tg.tensor(a, requires_grad=True)
    y = (x * x).sum()
    a[0] = 100.0  # the caller's own array, not the tensor's
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0] and x.data.tolist() == [1.0, 2.0]
    assert not np.shares_memory(tg.tensor(x).data, x.data)  # a tensor is copied too
    shared = tg.tensor(a, copy=False)
    a[1] = 7.0
    assert shared.data.tolist() == [100.0, 7.0]  # copy=False: torch.from_numpy's sharing
