"""Figures for the linear-classifier half of the lecture, saved as PNG with matplotlib.

    loss_curve        the training loss per step, train/validation accuracy per epoch
    templates         the rows of W as K images (the algebraic interpretation)
    decision_regions  a 2-D problem, its class regions and the K lines (geometric)
    decision_boundary a 2-D problem and any model's boundary (micrograd's moons plot)
    svm_vs_softmax    one example's scores, hinge terms and probabilities side by side
    pixel_view        an image as the computer sees it (its numbers) and the predicted
                      class probabilities

Every function takes plain arrays (or tensors, read through ``.data``), writes one PNG
and returns its path. We draw on ``matplotlib.figure.Figure`` objects, never pyplot, so
no GUI backend is touched and nothing global is left open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never open a window (a no-op if pyplot is unused)

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

__all__ = [
    "decision_boundary",
    "decision_regions",
    "loss_curve",
    "pixel_view",
    "svm_vs_softmax",
    "templates",
]

DPI = 110
_CLASS_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]


def _np(x: Any) -> np.ndarray:
    """A numpy array from an array, a list or a tensor (its ``.data``)."""
    return np.asarray(getattr(x, "data", x), dtype=np.float64)


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def _names(class_names: Sequence[str] | None, k: int) -> list[str]:
    if class_names is None:
        return [f"class {i}" for i in range(k)]
    if len(class_names) != k:
        raise ValueError(f"plots: {len(class_names)} class names for {k} classes")
    return [str(c) for c in class_names]


def running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of the last ``window`` values at each step (fewer at the start), so the
    smoothed curve starts where the values do.

    >>> running_mean(np.array([4.0, 2.0, 0.0, 2.0]), 2).tolist()
    [4.0, 3.0, 1.0, 1.0]
    """
    sums = np.cumsum(np.insert(np.asarray(values, dtype=np.float64), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _history(history: Any, *keys: str) -> np.ndarray:
    """One series of a classifier's ``history_`` (a dict), under the first key it has."""
    if not isinstance(history, Mapping):
        raise TypeError(f"loss_curve: history must be a dict, got {type(history).__name__}")
    for key in keys:
        if history.get(key) is not None:
            return np.asarray(history[key], dtype=np.float64)
    return np.empty(0)


# ----- the loss curve -----


def loss_curve(history: Any, path: str | Path, title: str = "training") -> Path:
    """The loss at every SGD step (and its running mean), accuracy per epoch beside it.

    ``history`` is a classifier's ``history_``: ``"loss"`` per step and
    ``"train_accuracy"`` / ``"val_accuracy"`` per epoch (missing series are left out).

    >>> import tempfile, os
    >>> h = {"loss": [2.3, 1.2, 0.8], "train_accuracy": [0.7, 0.9], "val_accuracy": [0.6, 0.8]}
    >>> loss_curve(h, os.path.join(tempfile.mkdtemp(), "loss.png")).suffix
    '.png'
    """
    loss = _history(history, "loss")
    if loss.size == 0:
        raise ValueError("loss_curve: history has no 'loss' values (was the model fitted?)")
    train_acc = _history(history, "train_accuracy", "train_acc")
    val_acc = _history(history, "val_accuracy", "val_acc")

    fig = Figure(figsize=(10, 3.6))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    steps = np.arange(1, loss.size + 1)
    ax.plot(steps, loss, lw=0.8, alpha=0.45, color="#1f77b4", label="minibatch loss")
    window = max(1, loss.size // 25)
    if window > 1:
        ax.plot(steps, running_mean(loss, window), lw=2, color="#1f77b4", label=f"mean of {window}")
    ax.set(xlabel="SGD step", ylabel="loss L = data loss + λR(W)", title=f"{title}: loss")
    if loss.min() > 0 and loss.max() / loss.min() > 20:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)

    for series, label, style in ((train_acc, "train", "o-"), (val_acc, "validation", "s-")):
        if series.size:
            # The last value in the legend, not in a text box the curve could run through.
            shown = f"{label} (last {series[-1]:.3f})"
            ax2.plot(np.arange(1, series.size + 1), series, style, ms=3, label=shown)
    ax2.set(xlabel="epoch", ylabel="accuracy", title=f"{title}: accuracy per epoch")
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.grid(alpha=0.3)
    if train_acc.size or val_acc.size:
        # Accuracy climbs towards the top: the legend goes where the curves are not.
        ax2.legend(frameon=True, framealpha=0.9, edgecolor="none", loc="best")
    fig.tight_layout()
    return _save(fig, path)


# ----- the algebraic interpretation: each row of W is a template -----


def templates(
    W: Any,
    image_shape: tuple[int, int],
    path: str | Path,
    class_names: Sequence[str] | None = None,
    title: str = "rows of W as images (templates)",
    raises: str = "the score",
) -> Path:
    """Each row of W (K x D) reshaped to an image: the template its class score matches.

    Red pixels raise the class score (``raises`` names what a row's weights feed: a
    hidden unit's input, for a network's first layer), blue ones lower it; each template
    has its own symmetric colour scale, as cs231n rescales each one.

    >>> import numpy as np, tempfile, os
    >>> W = np.random.default_rng(0).normal(size=(3, 16))
    >>> templates(W, (4, 4), os.path.join(tempfile.mkdtemp(), "W.png")).name
    'W.png'
    """
    W = _np(W)
    if W.ndim != 2 or W.shape[1] != image_shape[0] * image_shape[1]:
        raise ValueError(
            f"templates: W of shape {W.shape} does not hold K images of shape {image_shape}"
        )
    k = W.shape[0]
    names = _names(class_names, k)
    cols = min(k, 5)
    rows = -(-k // cols)
    fig = Figure(figsize=(2.0 * cols, 2.25 * rows + 0.4))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= k:
            continue
        img = W[i].reshape(image_shape)
        lim = float(np.abs(img).max()) or 1.0
        shown = ax.imshow(img / lim, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(names[i], fontsize=10)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 0.88, 1))
    # One colour bar for all: each template is scaled to its own largest |weight|.
    bar = fig.colorbar(shown, ax=list(axes), fraction=0.025, pad=0.02, ticks=[-1, 0, 1])
    bar.ax.set_yticklabels(["−max", "0", "+max"])
    bar.set_label(
        f"red raises {raises}, blue lowers it\n(weight ÷ its template's largest |weight|)",
        fontsize=9,
    )
    return _save(fig, path)


# ----- the geometric interpretation: K lines in the plane -----


def decision_regions(
    W: Any,
    b: Any,
    X: Any,
    y: Any,
    path: str | Path,
    class_names: Sequence[str] | None = None,
    title: str = "decision regions of f(x) = Wx + b",
) -> Path:
    """A 2-D problem: the region each class wins and each class's line w_k·x + b_k = 0.

    Each point x is coloured by argmax_k (w_k·x + b_k). The dashed line of class k is
    where its score is zero; the arrow on it points to where the score grows.

    >>> import numpy as np, tempfile, os
    >>> W, b = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2)
    >>> X, y = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0, 1])
    >>> decision_regions(W, b, X, y, os.path.join(tempfile.mkdtemp(), "r.png")).suffix
    '.png'
    """
    W, b, X = _np(W), _np(b).ravel(), _np(X)
    y = np.asarray(y).astype(int)
    if W.ndim != 2 or W.shape[1] != 2 or b.shape != (W.shape[0],) or X.ndim != 2:
        raise ValueError(
            f"decision_regions: needs W (K, 2), b (K,), X (N, 2); "
            f"got W {W.shape}, b {b.shape}, X {X.shape}"
        )
    k = W.shape[0]
    names = _names(class_names, k)
    colours = [_CLASS_COLOURS[i % len(_CLASS_COLOURS)] for i in range(k)]
    pad = 1.0
    (x0, y0), (x1, y1) = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    winner = np.argmax(grid @ W.T + b, axis=1).reshape(gx.shape)

    from matplotlib.colors import ListedColormap

    fig = Figure(figsize=(6.4, 5.6))
    ax = fig.subplots()
    ax.contourf(
        gx, gy, winner, levels=np.arange(k + 1) - 0.5, cmap=ListedColormap(colours), alpha=0.18
    )
    for i in range(k):
        pts = X[y == i]
        ax.scatter(
            pts[:, 0], pts[:, 1], s=18, color=colours[i], edgecolor="k", lw=0.4, label=names[i]
        )
        _draw_line(ax, W[i], b[i], (x0, x1, y0, y1), colours[i])
    acc = float(np.mean(np.argmax(X @ W.T + b, axis=1) == y))
    ax.set(
        xlim=(x0, x1),
        ylim=(y0, y1),
        xlabel="x₁",
        ylabel="x₂",
        title=f"{title}\ntraining accuracy {acc:.3f}; dashed: w_k·x + b_k = 0",
    )
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _draw_line(ax: Any, w: np.ndarray, b: float, box: tuple, colour: str) -> None:
    """The line w·x + b = 0 across the box, with an arrow along w (the score's gradient)."""
    x0, x1, y0, y1 = box
    norm = float(np.hypot(*w))
    if norm == 0:
        return
    # Closest point of the line to the box centre, then the direction along the line.
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    foot = centre - (w @ centre + b) / norm**2 * w
    along = np.array([-w[1], w[0]]) / norm
    span = float(np.hypot(x1 - x0, y1 - y0))
    ends = np.array([foot - span * along, foot + span * along])
    ax.plot(ends[:, 0], ends[:, 1], "--", color=colour, lw=1.6)
    if x0 <= foot[0] <= x1 and y0 <= foot[1] <= y1:
        tip = foot + 0.12 * span * w / norm
        ax.annotate("", tip, foot, arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.6})


def decision_boundary(
    scores: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    path: str | Path,
    title: str = "decision boundary",
    resolution: int = 300,
) -> Path:
    """Any model's decision boundary on a 2-D problem, as micrograd's demo draws it.

    ``scores`` maps an (M, 2) array of points to their scores: one per point (the class
    is the score's sign, as in micrograd's max-margin demo) or K per point (the class is
    the argmax). The plane is coloured by predicted class, the boundary drawn as a line,
    the training points on top with their true class, and the training accuracy in the
    title.

    >>> import numpy as np, tempfile, os
    >>> X, y = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1, -1])
    >>> decision_boundary(lambda p: p[:, 0], X, y, os.path.join(tempfile.mkdtemp(), "b.png")).suffix
    '.png'
    """
    X = _np(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),):
        raise ValueError(
            f"decision_boundary: needs X (N, 2) and y (N,); got X {X.shape}, y {y.shape}"
        )

    def classes(points: np.ndarray) -> np.ndarray:
        s = _np(scores(points))
        if s.ndim == 2 and s.shape[1] > 1:
            return np.argmax(s, axis=1)
        return (s.reshape(-1) > 0).astype(int)

    pad = 0.5 * float(np.ptp(X, axis=0).max() or 1.0) / 2
    (x0, y0), (x1, y1) = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    region = classes(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    labels = np.unique(y)
    truth = np.searchsorted(labels, y)  # -1/+1 (micrograd's) and 0..K-1 alike become 0..K-1
    acc = float(np.mean(classes(X) == truth))

    from matplotlib.colors import ListedColormap

    k = max(int(region.max()) + 1, len(labels), 2)
    colours = [_CLASS_COLOURS[i % len(_CLASS_COLOURS)] for i in range(k)]
    fig = Figure(figsize=(6.0, 5.2))
    ax = fig.subplots()
    ax.contourf(
        gx, gy, region, levels=np.arange(k + 1) - 0.5, cmap=ListedColormap(colours), alpha=0.25
    )
    ax.contour(gx, gy, region, levels=np.arange(k) + 0.5, colors="k", linewidths=1.2)
    for i, label in enumerate(labels):
        pts = X[y == label]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=22,
            color=colours[i],
            edgecolor="k",
            lw=0.5,
            label=f"y = {label}",
        )
    ax.set(
        xlim=(x0, x1),
        ylim=(y0, y1),
        xlabel="x₁",
        ylabel="x₂",
        title=f"{title}\ntraining accuracy {acc:.3f}",
    )
    ax.set_aspect("equal")
    ax.legend(loc="best", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


# ----- SVM vs. softmax on the same scores -----


def svm_vs_softmax(
    scores: Any,
    y: int,
    path: str | Path,
    class_names: Sequence[str] | None = None,
    delta: float = 1.0,
) -> Path:
    """One example's scores, its hinge terms (SVM) and its probabilities (softmax).

    The lecture's 'SVM vs. Softmax' slide as three bar charts: the same scores f give
    the hinge loss sum_{j != y} max(0, f_j - f_y + delta) and the cross-entropy
    -log(e^{f_y} / sum_j e^{f_j}).

    >>> import tempfile, os
    >>> svm_vs_softmax([-2.85, 0.86, 0.28], 2, os.path.join(tempfile.mkdtemp(), "s.png")).suffix
    '.png'
    """
    f = _np(scores).ravel()
    k = f.size
    if not 0 <= y < k:
        raise ValueError(f"svm_vs_softmax: label {y} is not in [0, {k})")
    names = _names(class_names, k)
    hinge = np.maximum(0.0, f - f[y] + delta)
    hinge[y] = 0.0
    e = np.exp(f - f.max())
    p = e / e.sum()
    svm, softmax = float(hinge.sum()), float(-np.log(p[y]))

    fig = Figure(figsize=(11, 3.6))
    axes = fig.subplots(1, 3)
    colours = ["#2ca02c" if i == y else "#7f7f7f" for i in range(k)]
    panels = (
        (f, "scores f = Wx + b", "score", "{:.2f}"),
        (hinge, f"SVM: max(0, f_j − f_y + {delta:g})\nL_i = {svm:.2f}", "hinge term", "{:.2f}"),
        (p, f"softmax: p = e^f / Σe^f\nL_i = −log p_y = {softmax:.2f}", "probability", "{:.3f}"),
    )
    tilt = k > 4 and max(len(n) for n in names) > 3  # long names side by side collide
    for ax, (vals, ttl, ylabel, fmt) in zip(axes, panels, strict=True):
        bars = ax.bar(range(k), vals, color=colours)
        # Many bars: label only those that are not ~0, so the numbers do not collide.
        small = 0.01 * float(np.abs(vals).max() or 1.0)
        hide = k > 5 and vals is not f  # every score keeps its number
        labels = ["" if hide and abs(v) <= small else fmt.format(v) for v in vals]
        ax.bar_label(bars, labels, fontsize=8 if k <= 5 else 7, padding=2)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(range(k), names, rotation=30 if tilt else 0, ha="right" if tilt else "center")
        ax.set(title=ttl, ylabel=ylabel)
        lo, hi = float(min(vals.min(), 0)), float(max(vals.max(), 0))
        ax.set_ylim(lo - 0.15 * (hi - lo or 1), hi + 0.2 * (hi - lo or 1))
    fig.suptitle(f"the same scores, two losses (correct class: {names[y]}, in green)")
    fig.tight_layout()
    return _save(fig, path)


# ----- an image as the computer sees it -----


def pixel_view(
    image: Any,
    probs: Any,
    path: str | Path,
    class_names: Sequence[str] | None = None,
    true_label: int | None = None,
    top: int = 5,
) -> Path:
    """Left: the image's grid of pixel numbers; right: the predicted class probabilities.

    The lecture's first slide ("what the computer sees"): each pixel is drawn in its
    grey level with its number written on it, beside the model's top class guesses.

    >>> import numpy as np, tempfile, os
    >>> img = np.arange(16).reshape(4, 4)
    >>> pixel_view(img, [0.7, 0.2, 0.1], os.path.join(tempfile.mkdtemp(), "p.png")).suffix
    '.png'
    """
    img = _np(image)
    if img.ndim != 2:
        raise ValueError(f"pixel_view: image must be 2-D (H, W), got shape {img.shape}")
    p = _np(probs).ravel()
    names = _names(class_names, p.size)
    h, w = img.shape

    side = max(4.0, min(0.42 * w, 12.0))  # room for every number, big images scaled down
    fig = Figure(figsize=(side + 4.5, side))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [side, 4.0]})
    ax.imshow(img, cmap="gray", interpolation="nearest")
    ints = np.allclose(img, np.round(img))
    mid = (img.max() + img.min()) / 2
    size = max(3.0, min(11.0, 150.0 / max(h, w)))
    for (r, c), v in np.ndenumerate(img):
        text = f"{int(round(v))}" if ints else f"{v:.1f}"
        ax.text(
            c,
            r,
            text,
            ha="center",
            va="center",
            fontsize=size,
            color="black" if v > mid else "white",
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"what the computer sees: {h} x {w} numbers")

    order = np.argsort(-p)[: min(top, p.size)]
    colours = [
        "#2ca02c" if true_label is not None and i == true_label else "#1f77b4" for i in order
    ]
    bars = ax2.barh(range(len(order))[::-1], p[order] * 100, color=colours)
    ax2.bar_label(bars, [f"{100 * p[i]:.1f}% {names[i]}" for i in order], padding=3)
    ax2.set_yticks([])
    # Room on the right for the labels, but the axis itself stops at 100%.
    ax2.set_xlim(0, 135)
    ax2.set_xticks(range(0, 101, 20))
    ax2.spines["bottom"].set_bounds(0, 100)
    ax2.set_xlabel("predicted probability (%)", x=100 / 135 / 2)
    truth = f" (true: {names[true_label]}, in green)" if true_label is not None else ""
    ax2.set_title("what the classifier says" + truth)
    for spine in ("top", "right"):
        ax2.spines[spine].set_visible(False)
    fig.tight_layout()
    return _save(fig, path)
