"""The main job: train both linear classifiers on real data and write an HTML report.

``run_demo(out, dataset)`` follows the lecture's pipeline end to end:

1. draw the lecture graph f = 2(xy + max(z, w)) after backward;
2. split the data (digits: stratified 60/20/20; Fashion-MNIST: its official 10k test
   set, and 50k / 10k train / validation out of the 60k training images);
3. fit the preprocessing on the training split only;
4. for the SVM and the softmax classifier, search learning rate x regularization on the
   validation split (progress bars), keeping the best model;
5. evaluate the test split once, at the end, and print a table of validation and test
   accuracy and training time;
6. write the plots, one test image as the computer sees it beside the predicted
   probabilities, the graph of one SVM training step on 4 examples, and ``index.html``
   that shows everything (graphs inline as SVG, pictures as relative links).
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
from viz.course.lecture import lecture_graph_svg, lecture_player
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

    print(
        f"data: {split.source}\n"
        f"      train {len(split.y_train)}, validation {len(split.y_val)}, "
        f"test {len(split.y_test)}; {split.X_train.shape[1]} features; {split.preprocessing}"
    )
    settings = _settings(dataset, quick)
    trained = [_search(M, split, settings) for M in (tg.LinearSVM, tg.SoftmaxClassifier)]
    # The test split, once, at the end.
    for t in trained:
        t.test_accuracy = t.model.score(split.X_test, split.y_test)
    rows = _table(trained)
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

    index = _write_html(
        out, split, trained, rows, pictures, regions, lecture_svg, step_svg, hard, player
    )
    total = time.perf_counter() - started
    print(f"wrote {index}  ({total:.1f} s in all)")
    return index


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
<h1>tensorgraph demo: linear classifiers on {esc(split.name)}</h1>
<p>Written by <code>tensorgraph demo --dataset {esc(split.name)}</code>.</p>
{body}
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
