"""tg.nn against torch.nn: the same state dict in both, the same outputs and gradients.

Every module is compared with its PyTorch twin loaded from the very same state dict:
forward values and every parameter's gradient. State dicts go both ways
(``torch_model.load_state_dict(tg_model.state_dict())`` and back), and bad state dicts
and inputs raise errors naming the module, the key and the shapes.
"""

from __future__ import annotations

import copy
import doctest
import importlib
import pickle
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorgraph as tg
import tensorgraph.nn.functional as F
from tensorgraph import nn

MODULES = [
    "tensorgraph.nn",
    "tensorgraph.nn.modules",
    "tensorgraph.nn.functional",
    "tensorgraph.nn.init",
    "tensorgraph.nn.bridge",
    "tensorgraph.interop",
    "tensorgraph.optim",
    "tensorgraph.mlp",
]


def torch_mlp(sizes, act=torch.nn.ReLU, dtype=torch.float64):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)):
        layers.append(torch.nn.Linear(a, b, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def grads_match(tg_model, torch_model, rtol=1e-10, atol=1e-12):
    theirs = dict(torch_model.named_parameters())
    ours = dict(tg_model.named_parameters())
    assert list(ours) == list(theirs)
    for key, p in ours.items():
        assert p.grad is not None, key
        np.testing.assert_allclose(p.grad, theirs[key].grad.numpy(), rtol=rtol, atol=atol)


# ----- modules against torch, loaded from the same state dict -----


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mlp_forward_and_every_gradient_equal_torch(activation, dtype):
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[activation]
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    sizes = [5, 7, 6, 3]
    model = nn.MLP(sizes, activation=activation, dtype=dtype, generator=0)
    twin = torch_mlp(sizes, act, tdtype)
    assert repr(twin.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((9, 5)).astype(dtype), rng.integers(0, 3, 9)

    out = model(X)
    ref = twin(torch.from_numpy(X))
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **tol)
    assert out.dtype == dtype
    F.cross_entropy(out, y).backward()
    TF.cross_entropy(ref, torch.from_numpy(y)).backward()
    grads_match(model, twin, **tol)


def test_custom_module_matches_torch_module_of_the_same_shape():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)
            self.act = nn.Tanh()
            self.fc2 = nn.Linear(8, 2, bias=False)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 8, dtype=torch.float64)
            self.act = torch.nn.Tanh()
            self.fc2 = torch.nn.Linear(8, 2, bias=False, dtype=torch.float64)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    net, twin = Net(), TorchNet()
    assert (
        list(net.state_dict())
        == list(twin.state_dict())
        == ["fc1.weight", "fc1.bias", "fc2.weight"]
    )
    twin.load_state_dict(net.state_dict())
    X = np.random.default_rng(0).standard_normal((6, 4))
    target = np.ones((6, 2))
    F.mse_loss(net(X), target).backward()
    TF.mse_loss(twin(torch.from_numpy(X)), torch.from_numpy(target)).backward()
    grads_match(net, twin)
    assert repr(net).replace("Net", "X") == repr(twin).replace("TorchNet", "X")


def test_reprs_are_torchs():
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False), nn.Sigmoid())
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.ReLU(),
        torch.nn.Linear(3, 1, bias=False),
        torch.nn.Sigmoid(),
    )
    assert repr(ours) == repr(theirs)
    assert repr(nn.MLP([2, 3, 1])) == repr(torch_mlp([2, 3, 1])).replace("Sequential", "MLP")
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
    assert repr(nn.Module()) == repr(torch.nn.Module())


def test_flatten_matches_torch():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    for args in [(), (0,), (1, 2), (2, -1), (-3, -2)]:
        ours = nn.Flatten(*args)(tg.tensor(x)).shape
        assert ours == tuple(torch.nn.Flatten(*args)(torch.from_numpy(x)).shape), args
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=3, end_dim=1\): cannot flatten"):
        nn.Flatten(3, 1)(x)


# ----- state dicts both ways -----


@pytest.mark.parametrize(
    "build",
    [
        lambda: (nn.Linear(4, 3), torch.nn.Linear(4, 3)),
        lambda: (
            nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)),
            torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)),
        ),
        lambda: (nn.MLP([4, 8, 8, 3]), torch_mlp([4, 8, 8, 3], dtype=torch.float32)),
    ],
    ids=["Linear", "Sequential", "MLP"],
)
def test_state_dicts_go_both_ways_and_predictions_agree(build):
    ours, theirs = build()  # torch float32, ours float64: values are cast both ways
    X = np.random.default_rng(0).standard_normal((10, 4))
    assert list(ours.state_dict()) == list(theirs.state_dict())

    theirs.load_state_dict(ours.state_dict())  # tg -> torch, as it stands
    pred = theirs(torch.from_numpy(X).float()).detach().numpy()
    np.testing.assert_allclose(pred, ours(X).data, rtol=1e-5, atol=1e-6)

    fresh, _ = build()  # torch -> tg, as it stands
    fresh.load_state_dict(theirs.state_dict())
    np.testing.assert_allclose(fresh(X).data, pred, rtol=1e-5, atol=1e-6)
    for p, q in zip(fresh.parameters(), theirs.parameters(), strict=True):
        assert p.dtype == np.float64 and np.array_equal(p.data, q.detach().numpy())


def test_torch_parameters_that_require_grad_load_too():
    twin = torch_mlp([3, 4, 2])
    model = nn.MLP([3, 4, 2])
    model.load_state_dict(dict(twin.named_parameters()))  # Parameters, not detached
    assert np.array_equal(model[0].weight.data, twin[0].weight.detach().numpy())


def test_state_dict_shares_memory_and_keep_vars_gives_the_parameters():
    lin = nn.Linear(2, 3)
    sd = lin.state_dict()
    assert isinstance(sd["weight"], tg.Tensor) and not isinstance(sd["weight"], nn.Parameter)
    assert not sd["weight"].requires_grad and np.shares_memory(sd["weight"].data, lin.weight.data)
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight
    assert list(lin.state_dict(prefix="fc.")) == ["fc.weight", "fc.bias"]


def test_load_state_dict_copies_in_place_and_a_stale_graph_refuses_backward():
    lin = nn.Linear(2, 1)
    weight = lin.weight.data
    loss = lin(np.ones((1, 2))).sum()
    lin.load_state_dict({"weight": [[1.0, 2.0]], "bias": np.array([3], dtype=np.int64)})
    assert np.shares_memory(lin.weight.data, weight) and lin.weight.data.tolist() == [[1.0, 2.0]]
    assert lin.bias.dtype == np.float64 and lin.bias.data.tolist() == [3.0]
    with pytest.raises(tg.ModifiedInPlaceError):
        loss.backward()


def test_bad_state_dicts_name_the_module_the_key_and_the_shapes():
    model = nn.MLP([2, 16, 16, 1])
    good = model.state_dict()
    before = {k: v.data.copy() for k, v in good.items()}

    bad = {k: v.data + 1 for k, v in good.items()}
    bad["2.weight"] = np.zeros((16, 3))
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "size mismatch for '2.weight'" in message
    assert "(16, 3)" in message and "(16, 16)" in message
    assert "Linear(in_features=16, out_features=16, bias=True) at '2'" in message
    for k, v in model.state_dict().items():  # nothing was copied
        assert np.array_equal(v.data, before[k]), k

    missing = {k: v for k, v in good.items() if k != "4.bias"}
    with pytest.raises(RuntimeError, match=r"missing key '4\.bias'.*at '4' has shape \(1,\)"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected key '6\.weight' \(shape \(2, 2\)\)"):
        model.load_state_dict({**good, "6.weight": np.zeros((2, 2))})
    result = model.load_state_dict({**missing, "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["4.bias"] and result.unexpected_keys == ["extra"]
    with pytest.raises(nn.StateDictError, match="size mismatch"):  # even when not strict
        model.load_state_dict({"0.bias": np.zeros(3)}, strict=False)
    with pytest.raises(TypeError, match="'0.bias' holds 'abc', not an array of numbers"):
        model.load_state_dict({**good, "0.bias": "abc"})
    with pytest.raises(TypeError, match="expected a dict of arrays"):
        model.load_state_dict([1, 2])


def test_torch_refuses_a_misshaped_tensorgraph_state_dict_by_name():
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        theirs.load_state_dict(ours.state_dict())


# ----- building modules -----


def test_registration_order_names_and_paths():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.scale = nn.Parameter(np.ones(2))

        def forward(self, x):
            return self.lin(x) * self.scale

    outer = nn.Sequential(Block(), nn.ReLU(), Block())
    names = [n for n, _ in outer.named_parameters()]
    assert names == [
        "0.scale",
        "0.lin.weight",
        "0.lin.bias",
        "2.scale",
        "2.lin.weight",
        "2.lin.bias",
    ]
    assert [p.name for p in outer.parameters()] == names  # drawings label parameters by key
    assert [n for n, _ in outer.named_modules()] == ["", "0", "0.lin", "1", "2", "2.lin"]
    assert [type(m).__name__ for m in outer.children()] == ["Block", "ReLU", "Block"]
    out = outer(np.ones((1, 2)))
    assert out.name == "2: Block"  # a submodule names what it returns
    assert any(t.name == "input" for t in tg.graph_nodes(out))  # an array input is "input"


def test_shared_parameters_are_listed_once_but_saved_under_both_keys():
    a = nn.Linear(2, 2)
    model = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assigning_and_deleting_attributes():
    m = nn.Module()
    m.w = nn.Parameter([1.0])
    m.sub = nn.Linear(1, 1)
    m.plain = tg.tensor([1.0], requires_grad=True)  # a tensor, not a parameter: not registered
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'w'"):
        m.w = tg.tensor([2.0])
    with pytest.raises(TypeError, match="cannot assign int as module 'sub'"):
        m.sub = 3
    m.w = None
    assert [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias"]
    del m.sub
    assert list(m.parameters()) == [] and not hasattr(m, "sub")

    class Forgot(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first in Forgot"):
        Forgot()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_sequential_indexing_and_append():
    model = nn.MLP([2, 3, 4, 1])
    assert len(model) == 5 and isinstance(model[-1], nn.Linear)
    head = model[:2]
    assert (
        isinstance(head, nn.Sequential) and len(head) == 2 and head(np.ones((1, 2))).shape == (1, 3)
    )
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="out of range"):
        model[5]
    with pytest.raises(TypeError, match="not a tg.nn.Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    seq = nn.Sequential().append(nn.Linear(2, 2)).append(nn.Tanh())
    assert list(seq.state_dict()) == ["0.weight", "0.bias"]


def test_mlp_arguments():
    model = nn.MLP((3, 5, 2), activation=nn.Sigmoid, bias=False, dtype=np.float32)
    assert [type(m).__name__ for m in model] == ["Linear", "Sigmoid", "Linear"]
    assert all(p.dtype == np.float32 for p in model.parameters()) and model[0].bias is None
    for bad in ([3], [3, 0], [3, 2.5], "32", [True, 2], 5):
        with pytest.raises(ValueError, match="MLP: sizes must be a list"):
            nn.MLP(bad)
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.MLP([2, 2], activation="gelu")


def test_train_eval_zero_grad_requires_grad_and_dtype():
    model = nn.MLP([2, 3, 1])
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model(np.ones((2, 2))).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(np.array_equal(p.grad, np.zeros(p.shape)) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not model(np.ones((1, 2))).requires_grad
    model.requires_grad_()
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model(np.ones((1, 2), dtype=np.float64)).dtype == np.float32  # arrays are data
    model.double()
    assert model[0].weight.dtype == np.float64


# ----- initialisation and seeding -----


def test_linear_initialises_as_torch_uniform_within_one_over_sqrt_fan_in():
    lin = nn.Linear(400, 300, generator=0)
    bound = 1 / np.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.95 * bound
    assert abs(lin.weight.data.std() - bound / np.sqrt(3)) < 0.01 * bound  # uniform's std
    torch_lin = torch.nn.Linear(400, 300)
    assert np.abs(torch_lin.weight.detach().numpy()).max() <= bound  # the same bound
    assert nn.Linear(0, 2).bias.data.tolist() == [0.0, 0.0]  # torch: bound 0 for no inputs


def test_manual_seed_and_generator_make_weights_reproducible():
    tg.manual_seed(7)
    a = nn.MLP([3, 4, 2])
    tg.manual_seed(7)
    b = nn.MLP([3, 4, 2])
    c = nn.MLP([3, 4, 2])
    for p, q, r in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert np.array_equal(p.data, q.data) and not np.array_equal(p.data, r.data)
    d, e = nn.MLP([3, 4, 2], generator=1), nn.MLP([3, 4, 2], generator=np.random.default_rng(1))
    assert all(
        np.array_equal(p.data, q.data) for p, q in zip(d.parameters(), e.parameters(), strict=True)
    )
    with pytest.raises(TypeError, match="generator must be None, an int seed"):
        nn.Linear(2, 2, generator="x")
    with pytest.raises(ValueError, match="manual_seed: seed must be an int >= 0"):
        tg.manual_seed(-1)


def test_init_functions_fill_in_place():
    w = nn.Parameter(np.zeros((50, 40)))
    data = w.data
    nn.init.uniform_(w, -1, 1, generator=0)
    assert np.shares_memory(w.data, data) and w.data.min() >= -1 and w.data.max() < 1
    assert w.data.std() > 0.5
    nn.init.normal_(w, 2.0, 0.1, generator=0)
    assert abs(w.data.mean() - 2.0) < 0.01
    assert nn.init.zeros_(w) is w and not w.data.any()
    nn.init.ones_(w)
    nn.init.constant_(w, 0.25)
    assert (w.data == 0.25).all()
    with pytest.raises(ValueError, match="uniform_: a must not exceed b"):
        nn.init.uniform_(w, 1, -1)
    with pytest.raises(TypeError, match="expected a tensorgraph Tensor"):
        nn.init.zeros_(np.zeros(2))


# ----- parameters -----


def test_parameter_is_a_leaf_tensor_whose_ops_give_plain_tensors():
    p = nn.Parameter(np.array([1.0, -2.0]))
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf
    assert type(p + 1) is tg.Tensor and type(tg.relu(p)) is tg.Tensor
    (p * p).sum().backward()
    assert p.grad.tolist() == [2.0, -4.0]
    assert repr(p).startswith("Parameter containing:\ntensor([ 1., -2.]")
    frozen = nn.Parameter(tg.tensor([1.0]), requires_grad=False)
    assert not frozen.requires_grad
    assert nn.Parameter([1, 2]).dtype == np.float64  # integers become float64, as in tg.tensor
    with pytest.raises(TypeError, match="expected numbers, got the string"):
        nn.Parameter("abc")


def test_models_copy_and_pickle():
    model = nn.MLP([2, 4, 1], generator=0)
    X = np.ones((3, 2))
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert np.array_equal(other(X).data, model(X).data)
        assert isinstance(other[0].weight, nn.Parameter)
        other[0].weight.data[0, 0] = 100.0
        assert model[0].weight.data[0, 0] != 100.0


# ----- forward-time errors -----


def test_wrong_in_features_names_the_module_and_the_shapes():
    model = nn.MLP([2, 16, 16, 1])
    with pytest.raises(
        ValueError,
        match=r"Linear\(in_features=2, out_features=16, bias=True\) at '0': the input has "
        r"shape \(5, 3\) \(3 features in its last dimension\); expected \(\.\.\., 2\)",
    ):
        model(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=1, bias=True\): "):
        nn.Linear(4, 1)(tg.tensor(np.ones((2, 5))))
    with pytest.raises(ValueError, match=r"shape \(\) \(a 0-d input"):
        nn.Linear(4, 1)(3.0)
    with pytest.raises(
        TypeError, match=r"the input is float32 but the layer's parameters are float64"
    ):
        model(tg.tensor(np.ones((5, 2)), dtype=np.float32))
    with pytest.raises(TypeError, match="the input must be numbers"):
        model(np.array([["a", "b"]]))


# ----- functional -----


def test_cross_entropy_matches_torch():
    rng = np.random.default_rng(0)
    s0, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    for reduction in ("mean", "sum"):
        s, st = tg.tensor(s0, requires_grad=True), torch.tensor(s0, requires_grad=True)
        F.cross_entropy(s, y, reduction=reduction).backward()
        ref = TF.cross_entropy(st, torch.from_numpy(y), reduction=reduction)
        ref.backward()
        np.testing.assert_allclose(s.grad, st.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum'\)"):
        F.cross_entropy(s, y, reduction="none")


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.5])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_multi_margin_loss_matches_torch_which_divides_by_k(p, margin, reduction):
    rng = np.random.default_rng(p)
    s0, y = rng.standard_normal((7, 5)), rng.integers(0, 5, 7)
    s0[0, 1] = s0[0, y[0]] - margin  # a margin of exactly 0: torch passes no gradient
    s, st = tg.tensor(s0, requires_grad=True), torch.tensor(s0, requires_grad=True)
    ours = F.multi_margin_loss(s, y, p=p, margin=margin, reduction=reduction)
    ref = TF.multi_margin_loss(st, torch.from_numpy(y), p=p, margin=margin, reduction=reduction)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-12)
    ours.backward()
    ref.backward()
    np.testing.assert_allclose(s.grad, st.grad.numpy(), rtol=1e-12, atol=1e-15)
    k = 5
    cs231n = tg.svm_loss(tg.tensor(s0), y, delta=margin, squared=p == 2).item()
    assert ours.item() * k == pytest.approx(cs231n * (7 if reduction == "sum" else 1))
    with pytest.raises(ValueError, match="multi_margin_loss: p must be 1 or 2"):
        F.multi_margin_loss(s, y, p=3)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(reduction):
    rng = np.random.default_rng(0)
    a0, t0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    a, at = tg.tensor(a0, requires_grad=True), torch.tensor(a0, requires_grad=True)
    ours = F.mse_loss(a, t0, reduction=reduction)
    ref = TF.mse_loss(at, torch.from_numpy(t0), reduction=reduction)
    np.testing.assert_allclose(ours.data, ref.detach().numpy(), rtol=1e-12)
    g = np.ones(ours.shape)
    ours.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-12)
    with pytest.raises(
        ValueError, match=r"mse_loss: input has shape \(4, 3\) but target has shape \(3,\)"
    ):
        F.mse_loss(a, t0[0])


def test_functional_linear_and_activations_match_torch():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    ref = TF.linear(*(torch.from_numpy(a) for a in (x, w, b))).numpy()
    np.testing.assert_allclose(F.linear(x, w, b).data, ref, rtol=1e-12)
    np.testing.assert_allclose(F.linear(x, w).data, ref - b, rtol=1e-12)
    assert F.relu is tg.relu and F.tanh is tg.tanh and F.sigmoid is tg.sigmoid


# ----- to PyTorch: tg.nn.to_torch, the linear classifiers, torch missing -----


def test_to_torch_builds_the_equal_model():
    model = nn.Sequential(nn.Flatten(), nn.MLP([12, 5, 3], activation="tanh", dtype=np.float32))
    twin = nn.to_torch(model)
    X = np.random.default_rng(0).standard_normal((4, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(twin(torch.from_numpy(X)).detach().numpy(), model(X).data, rtol=1e-6)
    assert twin[1][0].weight.dtype == torch.float32

    class Own(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="no PyTorch twin is known for Own"):
        nn.to_torch(Own())


@pytest.mark.parametrize("Model", [tg.LinearSVM, tg.SoftmaxClassifier])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_classifiers_to_torch_predict_the_same(Model, dtype):
    X, y = tg.data.make_blobs(n_per_class=30, seed=1)
    X = X.astype(dtype)
    clf = Model(epochs=10, verbose=False).fit(X, y)
    twin = clf.to_torch()
    assert isinstance(twin, torch.nn.Linear) and (twin.in_features, twin.out_features) == (2, 3)
    scores = twin(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(scores, clf.decision_function(X), rtol=1e-6, atol=1e-6)
    assert np.array_equal(clf.classes_[scores.argmax(axis=1)], clf.predict(X))
    assert twin.weight.dtype == (torch.float64 if dtype == np.float64 else torch.float32)
    with pytest.raises(RuntimeError, match="not trained yet"):
        Model().to_torch()


def test_without_torch_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(
        ImportError, match=r"tg.nn.to_torch needs PyTorch.*pip install torch==2\.13\.0"
    ):
        nn.to_torch(nn.Linear(2, 2))
    clf = tg.SoftmaxClassifier(epochs=1, verbose=False).fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    with pytest.raises(ImportError, match=r"tensorgraph\[torch\]"):
        clf.to_torch()
    # Everything else works without torch.
    model = nn.MLP([2, 2])
    model.load_state_dict(model.state_dict())


def test_a_tensorgraph_tensor_in_a_torch_function_arrives_as_a_torch_tensor():
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    out = torch.add(torch.ones(2, dtype=torch.float64), t)
    assert isinstance(out, torch.Tensor) and out.tolist() == [2.0, 3.0] and not out.requires_grad
    assert torch.overrides.is_tensor_like(t)
    twin = torch.nn.Linear(2, 1, dtype=torch.float64)
    twin.load_state_dict({"weight": tg.tensor([[1.0, 2.0]]), "bias": tg.tensor([0.5])})
    assert twin.weight.tolist() == [[1.0, 2.0]]
    torch.cat([torch.zeros(1, dtype=torch.float64), t]).add_(1)  # a copy: t is untouched
    assert t.data.tolist() == [1.0, 2.0]


# ----- docstrings -----


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{module} has no doctest"
    assert result.failed == 0, f"{result.failed} doctest(s) of {module} failed (output above)"


@pytest.mark.parametrize("module", MODULES)
def test_public_functions_have_an_example(module):
    mod = importlib.import_module(module)
    missing = []
    for name in getattr(mod, "__all__", None) or []:
        obj = getattr(mod, name)
        mine = callable(obj) and getattr(obj, "__module__", None) == module
        if mine and ">>>" not in (obj.__doc__ or ""):
            missing.append(name)
    assert not missing, f"public functions of {module} without a >>> example: {missing}"


# ----- tg.MLPClassifier: the scikit-learn-style estimator on top -----


def test_mlp_classifier_learns_the_digits_and_tunes_on_validation():
    X, y = tg.data.load_digits()
    X_tr, X_val, X_te, y_tr, y_val, y_te = tg.data.train_val_test_split(X, y, seed=0)
    scaler = tg.data.Standardizer().fit(X_tr)
    X_tr, X_val, X_te = (scaler.transform(a) for a in (X_tr, X_val, X_te))
    search = tg.tune.grid_search(
        tg.MLPClassifier,
        {"learning_rate": [3e-3, 1e-2]},
        X_tr,
        y_tr,
        X_val,
        y_val,
        hidden_sizes=(32,),
        epochs=10,
        batch_size=64,
        progress=False,
    )
    clf = search.best_model
    assert clf.score(X_te, y_te) > 0.93
    assert len(clf.history_["val_accuracy"]) == 10 and len(clf.history_["loss"]) == 10 * 17
    proba = clf.predict_proba(X_te[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(
        proba.argmax(axis=1), np.searchsorted(clf.classes_, clf.predict(X_te[:5]))
    )
    twin = clf.to_torch()
    scores = twin(torch.from_numpy(X_te)).detach().numpy()
    np.testing.assert_allclose(scores, clf.decision_function(X_te), rtol=1e-6, atol=1e-6)
    # Same seed, same network: training is reproducible.
    again = tg.MLPClassifier(**clf.get_params()).fit(X_tr, y_tr)
    assert np.array_equal(
        again.decision_function(X_te),
        tg.MLPClassifier(**clf.get_params()).fit(X_tr, y_tr).decision_function(X_te),
    )


def test_mlp_classifier_keeps_float32_labels_and_its_loss_graph():
    X, y = tg.data.make_moons(60, 0.1, seed=0)
    labels = np.where(y == 1, "lower", "upper")
    clf = tg.MLPClassifier(
        hidden_sizes=(8, 8),
        activation="tanh",
        optimizer="sgd",
        learning_rate=0.1,
        epochs=20,
        batch_size=16,
        verbose=False,
    )
    clf.fit(X.astype(np.float32), labels)
    assert clf.model_[0].weight.dtype == np.float32 and list(clf.classes_) == ["lower", "upper"]
    assert clf.score(X, labels) > 0.8 and set(clf.predict(X)) <= {"lower", "upper"}
    loss = clf.loss(X[:4], labels[:4])
    loss.backward()
    names = {t.name for t in tg.graph_nodes(loss)}
    assert {"L", "data loss", "R(W)", "scores", "0.weight", "4.weight"} <= names
    assert all(p.grad is not None for p in clf.model_.parameters())


def test_mlp_classifier_bad_input():
    for kwargs, match in [
        ({"hidden_sizes": (0,)}, "hidden_sizes must be a tuple of layer widths >= 1"),
        ({"hidden_sizes": "64"}, "hidden_sizes must be a tuple"),
        ({"activation": "gelu"}, "activation must be 'relu', 'tanh' or 'sigmoid'"),
        ({"optimizer": "rmsprop"}, "optimizer must be 'adam' or 'sgd'"),
        ({"learning_rate": 0}, "learning_rate must be a finite number > 0"),
        ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
        ({"seed": -1}, "seed must be an int >= 0"),
    ]:
        with pytest.raises(ValueError, match=match):
            tg.MLPClassifier(**kwargs)
    with pytest.raises(
        RuntimeError, match="MLPClassifier.predict: this classifier is not trained yet"
    ):
        tg.MLPClassifier().predict([[1.0, 2.0]])
    clf = tg.MLPClassifier(hidden_sizes=(4,), epochs=1, verbose=False).fit(
        [[0.0, 1.0], [1.0, 0.0]], [0, 1]
    )
    with pytest.raises(
        ValueError, match="X has 3 features per row, the classifier was trained on 2"
    ):
        clf.predict([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="label 7 .* is not one of the classes seen in fit"):
        clf.loss([[0.0, 1.0]], [7])
    with pytest.raises(FloatingPointError, match="training diverged; lower learning_rate"):
        tg.MLPClassifier(
            hidden_sizes=(4,),
            optimizer="sgd",
            momentum=0.0,
            learning_rate=1e300,
            epochs=3,
            verbose=False,
        ).fit([[1e3, -1e3], [-1e3, 1e3]] * 4, [0, 1] * 4)
