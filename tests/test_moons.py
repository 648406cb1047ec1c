"""micrograd's demo, reproduced: the moons (scikit-learn's, number for number), the
2-16-16-1 MLP reaching 100% training accuracy, its plot, and the tiny net for the player."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_moons as sklearn_moons

import tensorgraph as tg
from viz.course import moons, plots


@pytest.mark.parametrize(
    "n, noise, seed", [(100, 0.1, 1337), (7, None, 0), (1, 0.3, 5), (250, 0.2, 2**32 - 1)]
)
def test_make_moons_equals_scikit_learn(n, noise, seed):
    X, y = tg.data.make_moons(n, noise, seed)
    X_ref, y_ref = sklearn_moons(n, noise=noise, random_state=seed)
    assert np.array_equal(X, X_ref) and np.array_equal(y, y_ref)
    assert X.dtype == np.float64 and y.dtype == np.int64
    X2, y2 = tg.data.make_moons(n, noise, seed, shuffle=False)
    X2_ref, y2_ref = sklearn_moons(n, shuffle=False, noise=noise, random_state=seed)
    assert np.array_equal(X2, X2_ref) and np.array_equal(y2, y2_ref)


def test_make_moons_refuses_bad_arguments():
    for kwargs, match in [
        ({"n_samples": 0}, "n_samples must be at least 1"),
        ({"noise": -0.1}, "noise must be None or a finite number >= 0"),
        ({"noise": float("nan")}, "noise must be None"),
        ({"seed": -1}, r"seed must be an int in \[0, 2\*\*32\)"),
        ({"seed": 1.5}, "seed must be an int"),
    ]:
        with pytest.raises(ValueError, match=match):
            tg.data.make_moons(**kwargs)
    with pytest.raises(TypeError, match="n_samples must be an int"):
        tg.data.make_moons(10.0)


def test_micrograd_demo_reaches_100_percent_training_accuracy():
    run = moons.train_moons()  # seed 1337, as micrograd's notebook
    assert [p.size for p in run.model.parameters()] == [32, 16, 256, 16, 16, 1]  # 337
    assert run.accuracy == 1.0
    loss, acc = run.history["loss"], run.history["accuracy"]
    assert len(loss) == 100 and loss[-1] < 0.02 < loss[0] and acc[-1] == 1.0
    rates = run.history["learning_rate"]
    assert rates[0] == 1.0 and rates[-1] == pytest.approx(0.109)  # 1.0 - 0.9*k/100
    # It started from micrograd's weights: uniform in [-1, 1], biases 0.
    start = run.initial_state
    assert not start["0.bias"].any() and 0.9 < np.abs(start["2.weight"]).max() <= 1.0


def test_the_demo_step_equals_the_sum_of_micrograd_terms():
    run = moons.train_moons(steps=1)
    model = run.initial_model()
    loss, acc = moons.moons_loss(model, run.X, run.y)
    scores = model(run.X).data.reshape(-1)
    hinge = np.maximum(0, 1 - run.y * scores).mean()
    reg = 1e-4 * sum(float((p.data**2).sum()) for p in model.parameters())
    assert loss.item() == pytest.approx(hinge + reg, rel=1e-12)
    assert acc == np.mean((run.y > 0) == (scores > 0))
    assert loss.item() == pytest.approx(run.history["loss"][0], rel=1e-12)


def test_decision_boundary_plot(tmp_path):
    run = moons.train_moons()
    path = plots.decision_boundary(run.predict_scores, run.X, run.y, tmp_path / "b.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    X, y = tg.data.make_blobs(n_per_class=10)  # K scores per point: argmax
    clf = tg.SoftmaxClassifier(epochs=5, verbose=False).fit(X, y)
    assert plots.decision_boundary(clf.decision_function, X, y, tmp_path / "k.png").exists()
    with pytest.raises(ValueError, match=r"needs X \(N, 2\) and y \(N,\)"):
        plots.decision_boundary(run.predict_scores, np.zeros((3, 3)), y[:3], tmp_path / "x.png")


def test_tiny_net_is_small_enough_for_the_player():
    loss = moons.tiny_net_loss()
    assert loss.shape == () and loss.name == "loss"
    steps = list(tg.backward_steps(loss))
    assert 8 <= len(steps) <= 16
    names = {t.name for t in tg.graph_nodes(loss)}
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "x", "score", "1: Tanh"} <= names


def test_doctests():
    import doctest

    result = doctest.testmod(moons, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
