"""The main job: train both linear classifiers on real data and write an HTML report.

``run_demo(out, dataset)`` follows the lecture's pipeline end to end:

1. draw the lecture graph f = 2(xy + max(z, w)) after backward, and PyTorch's graph of
   the same (when torch is installed), compared with ours;
2. split the data (digits: stratified 60/20/20; Fashion-MNIST: its official 10k test
   set, and 50k / 10k train / validation out of the 60k training images);
3. fit the preprocessing on the training split only;
4. for the SVM and the softmax classifier, search learning rate x regularization on the
   validation split (progress bars), keeping the best model;
5. evaluate the test split once, at the end, and print a table of validation and test
   accuracy and training time;
6. write the plots, one test image as the computer sees it beside the predicted
   probabilities, the graph of one SVM training step on 4 examples, and ``index.html``
   that shows everything (graphs inline as SVG, pictures as relative links);
7. beyond the linear classifier: a two-layer neural network (``tg.MLPClassifier``, tuned
   on the same validation split, its test accuracy in the same table) with its curves
   and first-layer weights, and micrograd's demo (the two moons, viz/course/moons.py).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tensorgraph as tg
from viz.course import plots
from viz.course.lecture import (
    lecture_graph,
    lecture_graph_svg,
    lecture_player,
    torch_lecture_svgs,
)
from viz.draw import render

__all__ = ["DATASETS", "run_demo"]

DATASETS = ("digits", "fashion-mnist")


@dataclass
class Split:
    """A dataset, split and preprocessed, with what the report needs to show it."""

    name: str
    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    raw_test: np.ndarray  # test images before preprocessing (the pixels the computer sees)
    image_shape: tuple[int, int]
    classes: tuple[str, ...]
    preprocessing: str
    source: str


@dataclass
class Settings:
    """Hyperparameter grid and fixed training keywords, per dataset and speed."""

    grid: dict[str, list[float]]
    fixed: dict[str, Any] = field(default_factory=dict)


def _settings(dataset: str, quick: bool) -> Settings:
    if dataset == "digits":
        if quick:
            return Settings({"learning_rate": [0.01, 0.03], "reg": [1e-3]}, {"epochs": 15})
        grid = {"learning_rate": [0.003, 0.01, 0.03], "reg": [1e-4, 1e-3, 1e-2]}
        return Settings(grid, {"epochs": 30, "batch_size": 64})
    if quick:
        return Settings({"learning_rate": [0.01], "reg": [1e-4]}, {"epochs": 2, "batch_size": 256})
    # The grid of benchmarks/findings.md (F4), where every setting reaches 0.842-0.854
    # validation accuracy by epoch 20; 15 epochs keep the demo near a minute of CPU.
    grid = {"learning_rate": [0.003, 0.01, 0.03], "reg": [1e-5, 1e-4, 1e-3]}
    return Settings(grid, {"epochs": 15, "batch_size": 128})


def _mlp_settings(dataset: str, quick: bool) -> Settings:
    """The neural network's grid: Adam, one hidden layer (64 units on the digits, 256 on
    Fashion-MNIST, where benchmarks/tune_fashion_mlp.py chose lr 1e-3, no L2, 20 epochs on
    the validation split; benchmarks/findings.md, F7)."""
    if dataset == "digits":
        if quick:
            return Settings(
                {"learning_rate": [3e-3], "reg": [1e-4]},
                {"hidden_sizes": (64,), "epochs": 15, "batch_size": 64},
            )
        grid = {"learning_rate": [3e-3, 1e-2], "reg": [1e-4]}  # two fits: seconds
        return Settings(grid, {"hidden_sizes": (64,), "epochs": 20, "batch_size": 64})
    if quick:
        return Settings(
            {"learning_rate": [1e-3], "reg": [0.0]},
            {"hidden_sizes": (256,), "epochs": 2, "batch_size": 128},
        )
    grid = {"learning_rate": [1e-3], "reg": [0.0, 1e-4]}
    return Settings(grid, {"hidden_sizes": (256,), "epochs": 20, "batch_size": 128})


def load_split(
    dataset: str, quick: bool = False, seed: int = 0, data_dir: str | Path | None = None
) -> Split:
    """Load, split and preprocess ``dataset`` ("digits" or "fashion-mnist").

    ``data_dir`` is the folder of Fashion-MNIST's four IDX files (default: where Debian's
    ``dataset-fashion-mnist`` puts them); a missing or damaged file raises an error that
    says how to get them.

    >>> s = load_split("digits")
    >>> len(s.y_train), len(s.y_val), len(s.y_test)
    (1077, 360, 360)
    """
    if dataset == "digits":
        X, y = tg.data.load_digits()
        X_train, X_val, X_test, y_train, y_val, y_test = tg.data.train_val_test_split(
            X, y, val=0.2, test=0.2, seed=seed
        )
        prep = tg.data.Standardizer().fit(X_train)
        shown = (
            (8, 8),
            tg.data.DIGITS_CLASSES,
            "per-pixel standardization (mean and std of the training split)",
            "scikit-learn's 8x8 digits (UCI optdigits test set), stratified 60/20/20 split",
        )
    elif dataset == "fashion-mnist":
        X, y, X_test, y_test = tg.data.load_fashion_mnist(data_dir)
        X_train, X_val, _, y_train, y_val, _ = tg.data.train_val_test_split(
            X, y, val=10000, test=0, seed=seed
        )
        if quick:  # a taste only: 5k training images
            X_train, y_train = X_train[:5000], y_train[:5000]
        prep = tg.data.MeanImage(scale=255, dtype=np.float32).fit(X_train)
        shown = (
            (28, 28),
            tg.data.FASHION_MNIST_CLASSES,
            "x / 255 minus the mean image of the training split (float32)",
            "Fashion-MNIST (Debian's dataset-fashion-mnist): official 10k test set, "
            "stratified 50k / 10k train / validation split of the 60k training images",
        )
    else:
        raise ValueError(f"run_demo: unknown dataset {dataset!r}; choose one of {DATASETS}")
    X_train, X_val, X_test_prepared = (prep.transform(a) for a in (X_train, X_val, X_test))
    return Split(dataset, X_train, X_val, X_test_prepared, y_train, y_val, y_test, X_test, *shown)


@dataclass
class Trained:
    """One classifier's search, its best model and the test score taken at the end."""

    name: str
    search: Any
    model: Any
    search_seconds: float
    fit_seconds: float
    val_accuracy: float
    test_accuracy: float = float("nan")


def _search(Model: type, split: Split, settings: Settings) -> Trained:
    start = time.perf_counter()
    result = tg.tune.grid_search(
        Model,
        settings.grid,
        split.X_train,
        split.y_train,
        split.X_val,
        split.y_val,
        progress=True,  # the demo shows its progress bars
        **settings.fixed,
    )
    seconds = time.perf_counter() - start
    best_row = next(
        row for row in result.table if all(row[k] == v for k, v in result.best_params.items())
    )
    return Trained(
        Model.__name__,
        result,
        result.best_model,
        seconds,
        float(best_row["fit_seconds"]),
        float(result.best_val_accuracy),
    )


def _table(trained: list[Trained]) -> list[list[str]]:
    rows = [["model", "learning_rate", "reg", "val acc", "test acc", "fit (s)", "search (s)"]]
    for t in trained:
        p = t.search.best_params
        rows.append(
            [
                t.name,
                f"{p['learning_rate']:g}",
                f"{p['reg']:g}",
                f"{t.val_accuracy:.4f}",
                f"{t.test_accuracy:.4f}",
                f"{t.fit_seconds:.2f}",
                f"{t.search_seconds:.2f}",
            ]
        )
    return rows


def _format_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ----- the pictures -----


def _toy_regions(out: Path) -> list[Path]:
    """The geometric interpretation on three 2-D blobs, for both classifiers."""
    X, y = tg.data.make_blobs(n_per_class=60, seed=0)
    names = ["blob 0", "blob 1", "blob 2"]
    paths = []
    for Model in (tg.LinearSVM, tg.SoftmaxClassifier):
        clf = Model(learning_rate=0.05, reg=1e-3, epochs=30, batch_size=32, verbose=False)
        clf.fit(X, y)
        paths.append(
            plots.decision_regions(
                clf.W,
                clf.b,
                X,
                y,
                out / f"regions_{Model.__name__}.png",
                names,
                title=f"{Model.__name__}: regions and lines",
            )
        )
    return paths


def _torch_section(svgs: tuple[Path, Path] | None) -> str:
    """The report's "PyTorch computation graph": PyTorch's own graph of the lecture,
    drawn by viz from what viz.record_torch() saw, and ours beside the slide's code."""
    if svgs is None:
        return (
            "<p>PyTorch is not installed, so its graph is not drawn here: "
            "<code>pip install 'tensorgraph[torch]'</code> and run the demo again.</p>"
        )
    graph, comparison = svgs
    return (
        "<p>The same f in PyTorch, run inside <code>with viz.record_torch():</code>: the "
        "gates are PyTorch's backward nodes (MulBackward0, MaximumBackward0, AddBackward0), "
        "each tensor with the value and the gradient PyTorch computed, equal to ours "
        f'(<a href="{html.escape(graph.name)}">full size</a>).</p>'
        f'<div class="svg">{_svg_inline(graph)}</div>'
        "<p>The slide's own code writes <code>q = max(z, w)</code> with Python's max, which "
        "returns z itself: PyTorch then records no max gate, and <code>w.grad</code> is "
        "None, not 0. <code>viz.compare</code> matches the two graphs node by node and "
        "says where they part "
        f'(<a href="{html.escape(comparison.name)}">full size</a>):</p>'
        f'<div class="svg">{_svg_inline(comparison)}</div>'
    )


def with_article(name: str) -> str:
    """A class name with "a" or "an" in front, as it is read aloud.

    >>> [with_article(n) for n in ("8", "1", "11", "18", "Ankle boot", "Trouser", "T-shirt/top")]
    ['an 8', 'a 1', 'an 11', 'an 18', 'an Ankle boot', 'a Trouser', 'a T-shirt/top']
    """
    word = name.strip()
    if word[:1].isdigit():  # eight, eleven, eighteen, eighty...: said with a vowel
        number = word.split()[0]
        vowel = number[0] == "8" or (len(number) in (2, 5) and number.startswith(("11", "18")))
    else:
        vowel = word[:1].lower() in "aeiou"
    return f"{'an' if vowel else 'a'} {word}"


def _svg_inline(path: Path) -> str:
    """An SVG file's <svg> element, to paste into HTML (XML prologue and DOCTYPE dropped)."""
    text = path.read_text(encoding="utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


# ----- beyond the linear classifier -----


def _neural_network(out: Path, split: Split, network: Trained) -> tuple[str, str]:
    """The report's "neural network" section: the MLP's curves and first-layer weights,
    and micrograd's demo (the moons, its boundary and one step drawn). HTML, with its
    pictures written into ``out``."""
    from viz.course import moons

    esc = html.escape
    model = network.model
    sizes = "-".join(str(n) for n in model.model_.sizes)
    curves = plots.loss_curve(model.history_, out / "loss_MLPClassifier.png", title=f"MLP {sizes}")
    W1 = model.model_[0].weight.data
    shown = min(20, len(W1))
    units = plots.templates(
        W1[:shown],
        split.image_shape,
        out / "first_layer_MLPClassifier.png",
        [f"unit {i}" for i in range(shown)],
        title=f"first-layer weights: what {shown} of the {len(W1)} hidden units look for",
        raises="the unit's input",
    )
    run = moons.train_moons()
    boundary = plots.decision_boundary(
        run.predict_scores,
        run.X,
        run.y,
        out / "moons_boundary.png",
        title="micrograd's demo in tensorgraph: MLP 2-16-16-1",
    )
    loss, _ = moons.moons_loss(run.initial_model(), run.X, run.y)
    loss.backward()
    step = render(
        loss, out / "moons_step.svg", heatmaps=True, rankdir="TB", title="micrograd's demo, step 0"
    )
    p = network.search.best_params
    code = (
        f"model = tg.nn.MLP([{sizes.replace('-', ', ')}])  # Linear, ReLU, Linear\n"
        f"opt = tg.optim.Adam(model.parameters(), lr={p['learning_rate']:g})\n"
        "loss = F.cross_entropy(model(X_batch), y_batch)"
        + (
            f"\nloss = loss + {p['reg']:g} * (tg.l2(model[0].weight) + tg.l2(model[2].weight))"
            if p["reg"]
            else ""
        )
        + "\nopt.zero_grad(); loss.backward(); opt.step()"
    )
    body = (
        f"<p>A two-layer network, {esc(sizes)} with ReLU, written as in PyTorch "
        "(<code>tg.nn</code>, <code>tg.optim.Adam</code>) and trained by "
        "<code>tg.MLPClassifier</code> on the same split; learning rate and L2 strength "
        "chosen on the validation split, the test split evaluated once (the last row of "
        f"the results table: test accuracy {network.test_accuracy:.4f}).</p>"
        f"<pre><code>{esc(code)}</code></pre>"
        + _img(curves, "MLP training curves")
        + "<p>Each hidden unit's weights on the pixels, as an image (red raises the "
        "unit's input, blue lowers it): no longer one template per class, but features "
        "the second layer combines. Pixels that are nearly always the same (the border) "
        "send almost no gradient, so their weights keep their random start unless L2 "
        "pulls them to 0.</p>"
        + _img(units, "first-layer weights")
        + "<h3>micrograd's demo, reproduced</h3>"
        "<p>The two moons (100 points, noise 0.1, seed 1337), an MLP 2-16-16-1 with "
        "micrograd's start, its max-margin loss plus 1e-4·Σp², 100 full-batch steps with "
        f"the learning rate falling from 1.0 to 0.1: training accuracy {run.accuracy:.0%} "
        f"in {run.seconds:.2f} s (micrograd takes minutes on its graph of scalars). Step 0 "
        "drawn below, layer by layer, every matrix with its heatmap "
        f'(<a href="{esc(step.name)}">full size</a>).</p>'
        + _img(boundary, "moons decision boundary")
        + f'<details><summary>step 0 of the moons net, drawn</summary><div class="svg">'
        f"{_svg_inline(step)}</div></details>"
    )
    return "Beyond the linear classifier: a neural network", body


def _img(path: Path, alt: str) -> str:
    return f'<img src="{html.escape(path.name)}" alt="{html.escape(alt)}">'


# ----- the report -----


def run_demo(
    out: str | Path = "out",
    dataset: str | None = "digits",
    quick: bool = False,
    lecture: bool = True,
    data_dir: str | Path | None = None,
    split: Split | None = None,
) -> Path:
    """Train both linear classifiers on ``dataset`` and write ``out/index.html``.

    ``dataset`` is "digits" (the default, offline, under a minute) or "fashion-mnist"
    (Debian's package, or the four IDX files in ``data_dir``; a few minutes). The data
    is loaded (and checked) before anything is written; ``split``, from
    :func:`load_split`, skips the loading. ``quick=True`` uses a small grid and few
    epochs (for tests). ``lecture=False`` reuses ``out/lecture_backward.svg`` when the
    ``tensorgraph demo`` command has drawn it already. Returns the path of ``index.html``.

    >>> path = run_demo("out", quick=True)  # doctest: +SKIP
    """
    dataset = dataset or "digits"
    if dataset not in DATASETS:
        raise ValueError(f"run_demo: unknown dataset {dataset!r}; choose one of {DATASETS}")
    started = time.perf_counter()
    if split is None:  # first: a missing dataset fails before any file is written
        split = load_split(dataset, quick=quick, data_dir=data_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"== tensorgraph demo on {dataset}{' (quick)' if quick else ''}: writing {out}/")

    lecture_svg = lecture_graph_svg(out, lecture)
    player = lecture_player(out)
    print(f"wrote {player}")
    torch_svgs = torch_lecture_svgs(out)  # PyTorch's graph of the slide, if torch is here

    print(
        f"data: {split.source}\n"
        f"      train {len(split.y_train)}, validation {len(split.y_val)}, "
        f"test {len(split.y_test)}; {split.X_train.shape[1]} features; {split.preprocessing}"
    )
    settings = _settings(dataset, quick)
    trained = [_search(M, split, settings) for M in (tg.LinearSVM, tg.SoftmaxClassifier)]
    network = _search(tg.MLPClassifier, split, _mlp_settings(dataset, quick))
    # The test split, once, at the end.
    for t in [*trained, network]:
        t.test_accuracy = t.model.score(split.X_test, split.y_test)
    rows = _table([*trained, network])
    print(_format_table(rows))
    svm, softmax = trained[0].model, trained[1].model

    # Pictures.
    pictures: dict[str, Path] = {}
    for t in trained:
        pictures[f"loss_{t.name}"] = plots.loss_curve(
            t.model.history_, out / f"loss_{t.name}.png", title=t.name
        )
        pictures[f"templates_{t.name}"] = plots.templates(
            t.model.W,
            split.image_shape,
            out / f"templates_{t.name}.png",
            split.classes,
            title=f"{t.name}: rows of W as images",
        )
    i = 0  # the first test image
    probs = softmax.predict_proba(split.X_test[i : i + 1])[0]
    pictures["pixels"] = plots.pixel_view(
        split.raw_test[i].reshape(split.image_shape),
        probs,
        out / "test_image.png",
        split.classes,
        true_label=int(split.y_test[i]),
    )
    # SVM vs softmax on the test image the softmax model is least sure about.
    p_all = softmax.predict_proba(split.X_test)
    hard = int(np.argmin(p_all[np.arange(len(p_all)), split.y_test]))
    pictures["svm_vs_softmax"] = plots.svm_vs_softmax(
        softmax.decision_function(split.X_test[hard : hard + 1])[0],
        int(split.y_test[hard]),
        out / "svm_vs_softmax.png",
        split.classes,
    )
    regions = _toy_regions(out)

    # One SVM training step on 4 training examples, forward and backward, drawn.
    step = svm.loss(split.X_train[:4], split.y_train[:4])
    step.backward()
    # Top to bottom: about 800 pt wide, so the page shows it at full size, every number
    # readable (left to right it is 1,900 pt, shrunk to a third on the page).
    step_svg = render(
        step, out / "svm_step.svg", title="one SVM training step on 4 examples", rankdir="TB"
    )
    svm.W.grad = svm.b.grad = None
    # Both graphs written back as code (tg.flat_code), for the report's "as code" section.
    codes = (tg.flat_code(lecture_graph()), tg.flat_code(step, max_literal=16))

    network_section = _neural_network(out, split, network)
    index = _write_html(
        out,
        split,
        trained,
        rows,
        pictures,
        regions,
        lecture_svg,
        step_svg,
        hard,
        player,
        network=network_section,
        torch_svgs=torch_svgs,
        codes=codes,
    )
    total = time.perf_counter() - started
    print(f"wrote {index}  ({total:.1f} s in all)")
    return index


_PRE = "background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 12.5px; margin: 0"


def _write_html(
    out: Path,
    split: Split,
    trained: list[Trained],
    rows: list[list[str]],
    pictures: dict[str, Path],
    regions: list[Path],
    lecture_svg: Path,
    step_svg: Path,
    hard: int,
    player: Path | None = None,
    network: tuple[str, str] | None = None,
    torch_svgs: tuple[Path, Path] | None = None,
    codes: tuple[str, str] | None = None,
) -> Path:
    esc = html.escape

    def img(path: Path, alt: str) -> str:
        return f'<img src="{esc(path.name)}" alt="{esc(alt)}">'

    def table(cells: list[list[str]]) -> str:
        head = "".join(f"<th>{esc(c)}</th>" for c in cells[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in cells[1:]
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    grids = [
        f"<details><summary>{esc(t.name)}: every setting tried</summary>"
        f"{t.search._repr_html_()}</details>"  # the table Jupyter shows
        for t in trained
    ]

    true_hard = split.classes[int(split.y_test[hard])]
    sections = [
        (
            "The lecture's graph",
            "<p>f = 2·(x·y + max(z, w)) at x = 3, y = −4, z = 2, w = −1: every gate with "
            "its value (forward) and gradient (backward): f = −20, ∇f = [−8, 6, 2, 0].</p>"
            + (
                f'<p><a href="{esc(player.name)}">Watch backprop happen, step by step</a>: '
                "the forward pass, then each gate's rule with its numbers "
                "(upstream × local = downstream), in a player (one HTML file).</p>"
                if player is not None
                else ""
            )
            + f'<div class="svg">{_svg_inline(lecture_svg)}</div>',
        ),
        ("PyTorch computation graph", _torch_section(torch_svgs)),
        *(
            [
                (
                    "The backward pass as code",
                    "<p><code>tg.flat_code(f)</code> writes the graph back as the straight-line "
                    "code of the slide &ldquo;Backpropagation (Cont'd)&rdquo;: one line per gate "
                    "with its value, then the backward pass with the gate patterns (mul swaps, "
                    "add distributes, max routes). The code runs: <code>exec</code> it and call "
                    "<code>grads(x=3, y=-4, z=2, w=-1)</code>. From the shell: <code>tensorgraph "
                    'code "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1</code>.</p>'
                    '<div class="row" style="align-items: flex-start">'
                    f'<pre style="{_PRE}">{esc(codes[0])}</pre>'
                    f'<div style="flex: 1 1 35%; min-width: 300px">'
                    f'<img src="{esc(lecture_svg.name)}" alt="the lecture graph" '
                    'style="max-width: 100%"></div></div>'
                    "<details><summary>One SVM training step as code (the graph drawn below; "
                    "X is too large to write, so grads takes it as an argument)</summary>"
                    f'<pre style="{_PRE}">{esc(codes[1])}</pre></details>',
                )
            ]
            if codes
            else []
        ),
        (
            "Results",
            f"<p>Data: {esc(split.source)}. Train {len(split.y_train)}, validation "
            f"{len(split.y_val)}, test {len(split.y_test)}; "
            f"{split.X_train.shape[1]} features; {esc(split.preprocessing)}.</p>"
            "<p>Each model: a grid over learning rate and L2 regularization, trained by "
            "minibatch SGD with momentum, chosen by validation accuracy. The test split "
            "was evaluated once, at the end. Times: the best setting's fit, and the whole "
            "search.</p>" + table(rows) + "".join(grids),
        ),
        (
            "What the computer sees",
            "<p>The first test image as its grid of numbers, beside the softmax "
            "classifier's class probabilities.</p>" + img(pictures["pixels"], "test image"),
        ),
        (
            "Training",
            "<p>Loss per SGD step; accuracy on the training and validation splits after "
            "each epoch.</p>"
            + "".join(img(pictures[f"loss_{t.name}"], f"loss {t.name}") for t in trained),
        ),
        (
            "Algebraic interpretation: the rows of W are templates",
            "<p>Each class score is w<sub>k</sub>·x + b<sub>k</sub>, a match of the image "
            "against the row w<sub>k</sub>; red weights raise the score, blue ones lower "
            "it.</p>"
            + "".join(img(pictures[f"templates_{t.name}"], f"templates {t.name}") for t in trained),
        ),
        (
            "Geometric interpretation: K lines",
            "<p>Three 2-D Gaussian blobs. Each class's score is zero on its dashed line "
            "and grows in the direction of its arrow; each point goes to the class with "
            "the highest score.</p>"
            + '<div class="row">'
            + "".join(img(p, "decision regions") for p in regions)
            + "</div>",
        ),
        (
            "SVM vs. softmax",
            f"<p>The trained softmax model's scores for the test image it is least sure "
            f"about (test #{hard}, {esc(with_article(true_hard))}), through both losses.</p>"
            + img(pictures["svm_vs_softmax"], "svm vs softmax"),
        ),
        (
            "One SVM training step, drawn",
            "<p><code>L = svm.loss(X_train[:4], y_train[:4]); L.backward()</code>: "
            "scores = X W<sup>T</sup> + b, the SVM loss gate, the L2 penalty, and the "
            f'gradient of every node (<a href="{esc(step_svg.name)}">full size</a>).</p>'
            + f'<div class="svg">{_svg_inline(step_svg)}</div>',
        ),
    ]
    if network is not None:
        sections.append(network)
    body = "\n".join(f"<section><h2>{esc(h)}</h2>{content}</section>" for h, content in sections)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>tensorgraph demo: {esc(split.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; color: #222; }}
h1 {{ margin-bottom: 0.2em; }}
section {{ margin: 2.2em 0; }}
img {{ max-width: 100%; margin: 0.4em 0; display: block; }}
.svg svg {{ max-width: 100%; height: auto; }}
.svg {{ overflow-x: auto; }}
.row {{ display: flex; flex-wrap: wrap; gap: 1em; }}
.row img {{ max-width: 48%; }}
table {{ border-collapse: collapse; margin: 0.8em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }}
th {{ background: #f3f3f3; }}
td:first-child, th:first-child {{ text-align: left; }}
details {{ margin: 0.4em 0; }}
code {{ background: #f3f3f3; padding: 0 0.2em; }}
</style></head>
<body>
<h1>tensorgraph demo: linear classifiers and a neural network on {esc(split.name)}</h1>
<p>Written by <code>tensorgraph demo --dataset {esc(split.name)}</code>.</p>
{body}
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
