"""LinearSVM and SoftmaxClassifier: accuracy on digits, training equal to PyTorch,
the scikit-learn style API, save/load and bad input; grid_search; doctests."""

from __future__ import annotations

import doctest
import importlib
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgraph as tg

MODELS = [tg.LinearSVM, tg.SoftmaxClassifier]


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, ...]:
    """Digits, stratified 60/20/20 with a fixed seed, standardized on the training split."""
    X, y = tg.data.load_digits()
    Xtr, Xva, Xte, ytr, yva, yte = tg.data.train_val_test_split(X, y, val=0.2, test=0.2, seed=0)
    scaler = tg.data.Standardizer().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xva), scaler.transform(Xte), ytr, yva, yte


def _toy(seed: int = 0, n: int = 30, d: int = 4, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.standard_normal((n, d)) + 4.0 * np.eye(k, d)[y]
    return X, y


# ----- the quality bar: the lecture's pipeline on real data -----


@pytest.mark.parametrize(
    ("Model", "grid"),
    [
        (tg.LinearSVM, {"learning_rate": [0.01, 0.03], "reg": [1e-3, 1e-2]}),
        (tg.SoftmaxClassifier, {"learning_rate": [0.03, 0.1], "reg": [1e-3, 1e-2]}),
    ],
    ids=["svm", "softmax"],
)
def test_digits_test_accuracy_at_least_095(digits, Model, grid) -> None:
    Xtr, Xva, Xte, ytr, yva, yte = digits
    result = tg.tune.grid_search(
        Model, grid, Xtr, ytr, Xva, yva, epochs=30, batch_size=64, seed=0, progress=False
    )
    assert len(result.table) == 4
    assert result.best_val_accuracy == max(row["val_accuracy"] for row in result.table)
    model = result.best_model
    assert model.get_params() | result.best_params == model.get_params()
    assert model.score(Xva, yva) == result.best_val_accuracy
    # The test split, once, at the end.
    assert model.score(Xte, yte) >= 0.95


# ----- fit is gradient descent on the documented loss (against PyTorch) -----


@pytest.mark.parametrize(
    ("Model", "kw"),
    [
        (tg.LinearSVM, {"delta": 1.0, "squared": False, "regularizer": "l2"}),
        (tg.LinearSVM, {"delta": 0.5, "squared": True, "regularizer": "l1"}),
        (tg.SoftmaxClassifier, {"regularizer": "l2"}),
    ],
    ids=["svm-l2", "l2svm-l1", "softmax-l2"],
)
def test_full_batch_fit_equals_torch_gradient_descent(Model, kw) -> None:
    X, y = _toy(1, n=12, d=5, k=3)
    lr, reg, momentum, epochs, seed = 0.05, 0.01, 0.9, 6, 3
    clf = Model(
        learning_rate=lr, reg=reg, momentum=momentum, epochs=epochs, batch_size=100, seed=seed,
        verbose=False, **kw,
    )  # fmt: skip
    clf.fit(X, y)

    # The documented start: W = 0.001 * N(0, 1) from default_rng(seed), b = 0.
    W = torch.tensor(
        0.001 * np.random.default_rng(seed).standard_normal((3, 5)), requires_grad=True
    )
    b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=lr, momentum=momentum)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    losses = []
    for _ in range(epochs):
        scores = Xt @ W.T + b
        if Model is tg.LinearSVM:
            p = 2 if kw["squared"] else 1
            data = F.multi_margin_loss(scores, yt, p=p, margin=kw["delta"]) * 3
        else:
            data = F.cross_entropy(scores, yt)
        penalty = W.abs().sum() if kw["regularizer"] == "l1" else (W * W).sum()
        loss = data + reg * penalty
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(clf.history_["loss"], losses, rtol=1e-10)
    np.testing.assert_allclose(clf.W.data, W.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(clf.b.data, b.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_loss_graph_is_one_training_step(digits) -> None:
    Xtr, _, _, ytr, _, _ = digits
    clf = tg.LinearSVM(epochs=1, reg=0.1, verbose=False).fit(Xtr, ytr)
    L = clf.loss(Xtr[:4], ytr[:4])
    ops = [t.op for t in tg.graph_nodes(L)]
    assert {"matmul", "transpose", "add", "svm_loss", "l2", "mul"} <= set(ops)
    assert L.name == "L" and {t.name for t in tg.graph_nodes(L)} >= {"X", "W", "b", "reg"}
    svm = next(t for t in tg.graph_nodes(L) if t.op == "svm_loss")
    np.testing.assert_array_equal(svm.attrs["y"], np.searchsorted(clf.classes_, ytr[:4]))
    L.backward()

    W = torch.tensor(clf.W.data, requires_grad=True)
    b = torch.tensor(clf.b.data, requires_grad=True)
    scores = torch.from_numpy(Xtr[:4]) @ W.T + b
    ref = F.multi_margin_loss(scores, torch.from_numpy(ytr[:4]), margin=1.0) * 10
    ref = ref + 0.1 * (W * W).sum()
    ref.backward()
    np.testing.assert_allclose(L.item(), ref.item(), rtol=1e-10)
    np.testing.assert_allclose(clf.W.grad, W.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(clf.b.grad, b.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_no_regularization_means_no_penalty_gate() -> None:
    X, y = _toy()
    clf = tg.SoftmaxClassifier(reg=0.0, epochs=1, verbose=False).fit(X, y)
    assert clf.loss(X, y).op == "softmax_loss"
    clf = tg.SoftmaxClassifier(reg=0.1, regularizer="l1", epochs=1, verbose=False).fit(X, y)
    assert "l1" in {t.op for t in tg.graph_nodes(clf.loss(X, y))}


# ----- the scikit-learn style API -----


@pytest.mark.parametrize("Model", MODELS)
def test_predict_score_decision_function(Model) -> None:
    X, y = _toy(2)
    labels = np.array(["cat", "dog", "frog"])[y]  # any sortable labels, like sklearn
    clf = Model(epochs=30, learning_rate=0.05, verbose=False).fit(X, labels)
    assert clf.classes_.tolist() == ["cat", "dog", "frog"]
    assert clf.n_features_in_ == 4 and clf.W.shape == (3, 4) and clf.b.shape == (3,)
    scores = clf.decision_function(X)
    np.testing.assert_allclose(scores, X @ clf.W.data.T + clf.b.data, rtol=1e-12)
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, clf.classes_[scores.argmax(axis=1)])
    assert clf.score(X, labels) == np.mean(predicted == labels) > 0.9
    assert clf.score(tg.tensor(X), list(labels)) == clf.score(X, labels)


def test_predict_proba() -> None:
    X, y = _toy(3)
    clf = tg.SoftmaxClassifier(epochs=10, verbose=False).fit(X, y)
    proba = clf.predict_proba(X)
    ref = torch.softmax(torch.from_numpy(clf.decision_function(X)), dim=1).numpy()
    np.testing.assert_allclose(proba, ref, rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert not hasattr(tg.LinearSVM(), "predict_proba")


def test_prediction_records_no_graph() -> None:
    X, y = _toy()
    clf = tg.LinearSVM(epochs=2, verbose=False).fit(X, y)
    assert clf.W.grad is None and clf.b.grad is None  # fit leaves no stale gradient
    clf.predict(X)
    clf.decision_function(X)
    assert clf.W.grad is None and tg.is_grad_enabled()


def test_history(digits) -> None:
    Xtr, Xva, _, ytr, yva, _ = digits
    clf = tg.SoftmaxClassifier(epochs=3, batch_size=100, verbose=False).fit(Xtr, ytr, Xva, yva)
    steps = math.ceil(len(Xtr) / 100)
    assert len(clf.history_["loss"]) == 3 * steps
    assert len(clf.history_["train_accuracy"]) == len(clf.history_["val_accuracy"]) == 3
    assert clf.history_["train_accuracy"][-1] == clf.score(Xtr, ytr)
    assert clf.history_["val_accuracy"][-1] == clf.score(Xva, yva)
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    clf.fit(Xtr[:50], ytr[:50])  # refit from scratch, no validation this time
    assert clf.history_["val_accuracy"] == [] and len(clf.history_["loss"]) == 3


def test_batch_size_larger_than_the_data_is_full_batch() -> None:
    X, y = _toy(n=9)
    clf = tg.LinearSVM(batch_size=1000, epochs=4, verbose=False).fit(X, y)
    assert len(clf.history_["loss"]) == 4  # one step per epoch


def test_same_seed_same_model_other_seed_other_model() -> None:
    X, y = _toy()
    a = tg.LinearSVM(epochs=3, seed=5, verbose=False).fit(X, y)
    b = tg.LinearSVM(epochs=3, seed=5, verbose=False).fit(X, y)
    c = tg.LinearSVM(epochs=3, seed=6, verbose=False).fit(X, y)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    assert not np.array_equal(a.W.data, c.W.data)


def test_float32_data_trains_in_float32() -> None:
    X, y = _toy()
    clf = tg.SoftmaxClassifier(epochs=5, verbose=False).fit(X.astype(np.float32), y)
    assert clf.W.dtype == np.float32 and clf.b.dtype == np.float32
    assert clf.decision_function(X).dtype == np.float32
    assert clf.score(X, y) > 0.8


def test_progress_bar(capsys) -> None:
    X, y = _toy()
    tg.LinearSVM(epochs=2, verbose=True).fit(X, y)
    err = capsys.readouterr().err
    assert "LinearSVM" in err and "step" in err
    tg.LinearSVM(epochs=2, verbose=False).fit(X, y)
    assert capsys.readouterr().err == ""


def test_divergence_is_a_floating_point_error() -> None:
    X, y = _toy()
    with pytest.raises(FloatingPointError, match="training diverged; lower learning_rate"):
        tg.LinearSVM(learning_rate=1e300, reg=0.0, epochs=3, verbose=False).fit(X * 1e10, y)


def test_repr_and_get_params() -> None:
    clf = tg.LinearSVM(reg=0.5, squared=True)
    params = clf.get_params()
    assert params["reg"] == 0.5 and params["squared"] is True and "delta" in params
    assert "delta" not in tg.SoftmaxClassifier().get_params()
    assert repr(clf).startswith("LinearSVM(learning_rate=")


# ----- bad input -----


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": float("nan")}, ValueError, "learning_rate"),
        ({"reg": -0.1}, ValueError, "reg must be a finite number >= 0"),
        ({"regularizer": "l3"}, ValueError, "regularizer must be 'l2' or 'l1'"),
        ({"epochs": 0}, ValueError, "epochs must be at least 1"),
        ({"epochs": 2.5}, TypeError, "epochs must be an int"),
        ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
        ({"momentum": 1.0}, ValueError, r"momentum must be in \[0, 1\)"),
        ({"momentum": -0.5}, ValueError, "momentum"),
        ({"seed": -1}, ValueError, "seed must be an int >= 0"),
        ({"verbose": "yes"}, TypeError, "verbose must be True or False"),
        ({"learning_rate": "0.1"}, TypeError, "learning_rate must be a number"),
        ({"delta": -1.0}, ValueError, "delta must be a finite number >= 0"),
        ({"squared": 1}, TypeError, "squared must be True or False"),
    ],
)
def test_bad_hyperparameters(kw, error, message: str) -> None:
    with pytest.raises(error, match=f"LinearSVM: {message}"):
        tg.LinearSVM(**kw)


def test_unknown_keyword_and_the_abstract_base() -> None:
    with pytest.raises(TypeError):
        tg.SoftmaxClassifier(delta=1.0)
    with pytest.raises(TypeError, match="use tg.LinearSVM or tg.SoftmaxClassifier"):
        tg.LinearClassifier()


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), [0, 1, 0], r"nan at row 0, column 1"),
        (np.array([[0.0, 1.0], [np.inf, 2.0], [3.0, 4.0]]), [0, 1, 0], r"inf at row 1, column 0"),
        (np.zeros(3), [0, 1, 0], r"X must be 2-D.*\(3,\)"),
        (np.zeros((0, 2)), [], "X has no rows"),
        (np.zeros((3, 2)), [0, 1], r"one label per row of X \(3\)"),
        (np.zeros((3, 2)), [1, 1, 1], "one class only"),
        (np.zeros((3, 2)), [0.0, np.nan, 1.0], "NaN or inf"),
    ],
)
def test_bad_training_data(X, y, message: str) -> None:
    with pytest.raises(ValueError, match=f"SoftmaxClassifier.fit: .*{message}"):
        tg.SoftmaxClassifier(verbose=False).fit(X, y)


def test_bad_data_after_fit() -> None:
    X, y = _toy()
    clf = tg.LinearSVM(epochs=1, verbose=False)
    with pytest.raises(RuntimeError, match="not trained yet; call fit"):
        clf.predict(X)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="LinearSVM.predict: X has 3 features per row.*4"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match=r"LinearSVM.loss: label 7 \(y\[1\]\) is not one of"):
        clf.loss(X[:2], [0, 7])
    with pytest.raises(ValueError, match="pass both X_val and y_val"):
        clf.fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="LinearSVM.fit: label 9"):
        clf.fit(X, y, X, np.full(len(y), 9))
    with pytest.raises(ValueError, match="LinearSVM.score: y must be 1-D"):
        clf.score(X, y[:3])
    assert tg.LinearSVM(epochs=1, verbose=False).fit(X, y).score(X, (y + 1) % 3) < 1.0


# ----- save and load -----


@pytest.mark.parametrize("Model", MODELS)
@pytest.mark.parametrize("labels", ["ints", "strings", "float32-data"])
def test_save_load_round_trip(tmp_path, Model, labels) -> None:
    X, y = _toy(4)
    if labels == "strings":
        y = np.array(["a", "bb", "ccc"])[y]
    if labels == "float32-data":
        X = X.astype(np.float32)
    clf = Model(epochs=4, reg=0.01, seed=2, verbose=False).fit(X, y, X[:6], y[:6])
    path = clf.save(tmp_path / "model")
    assert path == tmp_path / "model.npz" and path.exists()
    with np.load(path, allow_pickle=False) as archive:  # nothing in it needs pickle
        assert archive["W"].shape == (3, 4)
    for loader in (tg.LinearClassifier, Model):
        back = loader.load(path)
        assert type(back) is Model
        assert back.get_params() == clf.get_params()
        np.testing.assert_array_equal(back.classes_, clf.classes_)
        np.testing.assert_array_equal(back.W.data, clf.W.data)
        assert back.W.dtype == clf.W.dtype and back.W.requires_grad
        np.testing.assert_array_equal(back.predict(X), clf.predict(X))
        assert back.history_ == clf.history_


def test_load_the_wrong_kind(tmp_path) -> None:
    X, y = _toy()
    path = tg.SoftmaxClassifier(epochs=1, verbose=False).fit(X, y).save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="holds a SoftmaxClassifier; use SoftmaxClassifier.load"):
        tg.LinearSVM.load(path)


def _saved(tmp_path) -> dict[str, np.ndarray]:
    X, y = _toy()
    path = tg.LinearSVM(epochs=1, verbose=False).fit(X, y).save(tmp_path / "good.npz")
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files}


def _header(**changes) -> np.ndarray:
    """The JSON header of a saved LinearSVM with some entries changed."""
    header = {"model": "LinearSVM", "params": tg.LinearSVM(verbose=False).get_params()}
    return np.array(json.dumps(header | changes))


def _tampered(tmp_path, **changes) -> str:
    arrays = _saved(tmp_path)
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"W": None}, r"missing \['W'\]"),
        ({"W": np.zeros(4)}, "W must be a"),
        ({"W": np.zeros((1, 4))}, "K >= 2"),
        ({"b": np.zeros(5)}, r"b must have shape \(3,\)"),
        ({"b": np.zeros(3, dtype=np.float32)}, "b must have shape .* dtype float64"),
        ({"classes": np.array([0, 1])}, "classes must be 3 labels"),
        ({"classes": np.array([2, 1, 0])}, "sorted and distinct"),
        ({"W": np.full((3, 4), np.nan)}, "NaN or inf"),
        ({"header": _header(model="MLP")}, "unknown model"),
        ({"format": np.array("other/9")}, "unknown format"),
        ({"header": _header(params={"learning_rate": -1})}, "bad hyperparameters"),
        ({"header": _header(params={"gamma": 2})}, "bad hyperparameters"),
        ({"header": _header(params="{not json")}, "bad hyperparameters"),
        ({"header": np.array("{not json")}, "the header is not JSON"),
        ({"header": np.array("[1, 2]")}, "the header must be a JSON object"),
        ({"header": None}, r"missing \['header'\]"),
        ({"history_loss": np.zeros((2, 2))}, "history_loss must be a 1-D array"),
    ],
)
def test_bad_model_files(tmp_path, changes, message: str) -> None:
    path = _tampered(tmp_path, **changes)
    with pytest.raises(ValueError, match=f"LinearSVM.load: .* {message}"):
        tg.LinearSVM.load(path)


def test_pickled_truncated_and_foreign_files(tmp_path) -> None:
    good = tg.LinearSVM(epochs=1, verbose=False).fit(*_toy()).save(tmp_path / "good.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    pickled = tmp_path / "pickled.npz"
    arrays = _saved(tmp_path)
    arrays["classes"] = np.array([0, "one", 2.0], dtype=object)  # needs pickle to load
    np.savez(pickled, **arrays)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all" * 10)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    for path, message in [
        (truncated, "damaged or truncated"),
        (pickled, "(?i)pickle"),
        (garbage, "not a classifier saved by save"),
        (single, "single .npy array"),
    ]:
        with pytest.raises(ValueError, match=message):
            tg.LinearClassifier.load(path)
    with pytest.raises(FileNotFoundError, match="no file"):
        tg.LinearClassifier.load(tmp_path / "missing.npz")
    with pytest.raises(RuntimeError, match="call fit"):
        tg.LinearSVM().save(tmp_path / "unfitted.npz")


# ----- grid search -----


def test_grid_search_table_and_best(capsys) -> None:
    X, y = _toy(5, n=60)
    Xv, yv = _toy(6, n=30)
    grid = {"learning_rate": [0.01, 1e308], "reg": [0.0, 0.1]}
    result = tg.tune.grid_search(tg.LinearSVM, grid, X, y, Xv, yv, epochs=3, progress=True)
    assert "grid search LinearSVM" in capsys.readouterr().err
    assert [(r["learning_rate"], r["reg"]) for r in result.table] == [
        (0.01, 0.0),
        (0.01, 0.1),
        (1e308, 0.0),
        (1e308, 0.1),
    ]
    diverged = [r for r in result.table if r["learning_rate"] == 1e308]
    assert all(math.isnan(r["val_accuracy"]) and "diverged" in r["error"] for r in diverged)
    fine = [r for r in result.table if r["learning_rate"] == 0.01]
    best = max(fine, key=lambda r: r["val_accuracy"])
    assert result.best_params == {"learning_rate": 0.01, "reg": best["reg"]}
    assert result.best_model.score(Xv, yv) == best["val_accuracy"] == result.best_val_accuracy
    assert result.best_model.score(X, y) == best["train_accuracy"]
    assert all(r["fit_seconds"] >= 0 for r in result.table)
    # The best model was trained on the training split only: a fresh fit reproduces it.
    refit = tg.LinearSVM(epochs=3, verbose=False, **result.best_params).fit(X, y)
    np.testing.assert_array_equal(refit.W.data, result.best_model.W.data)
    text = str(result)
    assert "val_accuracy" in text and "<- best" in text and "diverged" in text


def test_grid_search_bad_calls() -> None:
    X, y = _toy()
    with pytest.raises(ValueError, match="non-empty dict"):
        tg.tune.grid_search(tg.LinearSVM, {}, X, y, X, y)
    with pytest.raises(ValueError, match=r"grid\['reg'\] must be a non-empty list"):
        tg.tune.grid_search(tg.LinearSVM, {"reg": []}, X, y, X, y)
    with pytest.raises(ValueError, match="both in the grid and a fixed keyword"):
        tg.tune.grid_search(tg.LinearSVM, {"reg": [0.1]}, X, y, X, y, reg=0.2)
    with pytest.raises(TypeError, match="grid_search: SoftmaxClassifier"):
        tg.tune.grid_search(tg.SoftmaxClassifier, {"delta": [1.0]}, X, y, X, y, progress=False)
    with pytest.raises(FloatingPointError, match="diverged for every setting"):
        tg.tune.grid_search(
            tg.LinearSVM, {"learning_rate": [1e300]}, X * 1e10, y, X, y, progress=False
        )


# ----- the examples in the docstrings -----


@pytest.mark.parametrize(
    "module",
    [
        "tensorgraph.losses",
        "tensorgraph.gradcheck",
        "tensorgraph.optim",
        "tensorgraph.linear",
        "tensorgraph.tune",
    ],
)
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
