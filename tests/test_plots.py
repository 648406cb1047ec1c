"""viz.course.plots: each figure is written as a real PNG; bad input is a clear error."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

import tensorgraph as tg
from viz.course import plots


def _png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = imread(path)
    assert img.shape[0] > 100 and img.shape[1] > 100
    # Not a blank canvas: many distinct colours were drawn.
    assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 20
    return img


def test_loss_curve(tmp_path):
    h = {
        "loss": np.linspace(2.3, 0.4, 120),
        "train_accuracy": [0.8, 0.9],
        "val_accuracy": [0.7, 0.8],
    }
    _png(plots.loss_curve(h, tmp_path / "sub" / "loss.png"))
    with pytest.raises(ValueError, match="no 'loss'"):
        plots.loss_curve({"loss": []}, tmp_path / "x.png")


def test_templates_accepts_tensor(tmp_path):
    W = tg.tensor(np.random.default_rng(0).normal(size=(10, 64)))
    _png(plots.templates(W, (8, 8), tmp_path / "W.png", tg.data.DIGITS_CLASSES))
    with pytest.raises(ValueError, match=r"W of shape \(10, 64\).*\(7, 7\)"):
        plots.templates(W, (7, 7), tmp_path / "bad.png")
    with pytest.raises(ValueError, match="3 class names for 10 classes"):
        plots.templates(W, (8, 8), tmp_path / "bad.png", ["a", "b", "c"])


def test_decision_regions(tmp_path):
    X, y = tg.data.make_blobs(n_per_class=20)
    W = np.array([[-1.0, -0.5], [1.0, -0.5], [0.0, 1.0]])
    _png(plots.decision_regions(W, np.zeros(3), X, y, tmp_path / "r.png"))
    with pytest.raises(ValueError, match=r"W \(K, 2\)"):
        plots.decision_regions(np.zeros((3, 4)), np.zeros(3), X, y, tmp_path / "bad.png")


def test_svm_vs_softmax(tmp_path):
    _png(plots.svm_vs_softmax([-2.85, 0.86, 0.28], 2, tmp_path / "s.png", ["cat", "dog", "ship"]))
    with pytest.raises(ValueError, match=r"label 3 is not in \[0, 3\)"):
        plots.svm_vs_softmax([1.0, 2.0, 3.0], 3, tmp_path / "bad.png")


def test_pixel_view(tmp_path):
    X, y = tg.data.load_digits()
    p = np.full(10, 0.05)
    p[y[0]] = 0.55
    _png(plots.pixel_view(X[0].reshape(8, 8), p, tmp_path / "p.png", tg.data.DIGITS_CLASSES, 0))
    with pytest.raises(ValueError, match="2-D"):
        plots.pixel_view(X[0], p, tmp_path / "bad.png")


def test_make_blobs():
    X, y = tg.data.make_blobs(n_per_class=200, centers=[[0.0, 0.0], [10.0, -5.0]], std=0.5)
    assert X.shape == (400, 2) and np.bincount(y).tolist() == [200, 200]
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [10.0, -5.0], atol=0.15)
    np.testing.assert_allclose(X[y == 0].std(axis=0), [0.5, 0.5], rtol=0.2)
    with pytest.raises(ValueError, match="std > 0"):
        tg.data.make_blobs(std=0)


def test_doctests():
    import doctest

    result = doctest.testmod(plots, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0
