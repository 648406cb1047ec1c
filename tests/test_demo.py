"""viz.course.demo.run_demo: the main job writes a self-contained report and a results table."""

from __future__ import annotations

import contextlib
import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import STRICT

import tensorgraph as tg
from viz.course import demo


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.svgs = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])
        if tag in ("a", "link", "script"):
            self.sources += [v for k, v in attrs if k in ("href", "src") and v]
        if tag == "svg":
            self.svgs += 1


def _check_report(index: Path, text: str) -> dict[str, tuple[float, float]]:
    out = index.parent
    links = _Links()
    links.feed(index.read_text(encoding="utf-8"))
    # Self-contained: every picture is a relative link to a file next to index.html.
    assert links.sources, "no pictures linked"
    for src in links.sources:
        assert "/" not in src and ":" not in src, src
        head = (out / src).read_bytes()[:15]
        if src.endswith(".html"):  # the backprop player: a page of its own, next to index
            assert head == b"<!DOCTYPE html>", src
        elif src.endswith(".svg"):  # a drawn graph, also inline on the page
            assert b"<svg" in (out / src).read_bytes()[:400], src
        else:
            assert head[:8] == b"\x89PNG\r\n\x1a\n", src
    expected = {
        "test_image.png",
        "svm_vs_softmax.png",
        "loss_LinearSVM.png",
        "loss_SoftmaxClassifier.png",
        "templates_LinearSVM.png",
        "templates_SoftmaxClassifier.png",
        "regions_LinearSVM.png",
        "regions_SoftmaxClassifier.png",
    }
    assert expected <= set(links.sources)
    assert links.svgs >= 2  # the lecture graph and the SVM step, inline
    assert (out / "svm_step.svg").exists()
    page = index.read_text(encoding="utf-8")
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    # The printed table: one row per model with validation and test accuracy and times.
    results = {}
    for name in ("LinearSVM", "SoftmaxClassifier"):
        row = re.search(
            rf"^{name}\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", text, re.M
        )
        assert row, f"no table row for {name} in:\n{text}"
        val, test = float(row.group(3)), float(row.group(4))
        assert f"<td>{row.group(4)}</td>" in page  # the same numbers in the HTML table
        results[name] = (val, test)
    return results


@pytest.fixture(scope="module")
def digits_demo(tmp_path_factory):
    """One quick digits run, shared by the tests that read what it wrote."""
    out = tmp_path_factory.mktemp("demo")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        index = demo.run_demo(out, dataset="digits", quick=True)
    return index, buffer.getvalue()


def test_run_demo_quick_digits(digits_demo):
    index, text = digits_demo
    assert index.name == "index.html"
    results = _check_report(index, text)
    # A sanity bar for a 15-epoch run; the 0.95 quality bar is tested with the classifiers.
    for val, test in results.values():
        assert val > 0.9 and test > 0.9
    assert "train 1077, validation 360, test 360" in text
    # The drawn training step shows the SVM loss gate and the L2 penalty.
    step = (index.parent / "svm_step.svg").read_text()
    assert "svm loss" in step and "L2" in step


def test_run_demo_lecture_graph_values(digits_demo):
    index, _ = digits_demo
    svg = html.unescape((index.parent / "lecture_graph.svg").read_text())
    # Values f = -20, p = -12, v = -10; gradients -8 (x) and 6 (y).
    for number in ("-20", "-12", "-10"):
        assert f">{number}<" in svg, number
    for grad in ("-8", "6"):
        assert f">grad {grad}<" in svg, grad
    page = html.unescape(index.read_text())
    assert svg[svg.find("<svg") : svg.find("<svg") + 300] in page


def test_run_demo_links_the_backprop_player(digits_demo):
    index, _ = digits_demo
    page = index.read_text(encoding="utf-8")
    assert 'href="lecture_backprop.html"' in page
    player = (index.parent / "lecture_backprop.html").read_text(encoding="utf-8")
    # The * gate with the lecture's names and numbers: p = x*y, df/dp = 2, y = -4.
    assert "upstream ∂f/∂p = 2" in player and "2 × (-4) = -8" in player
    assert player.count('<div class="frame"') == 11  # 1 + 4 gates, seed + 4 gates + the end


def test_run_demo_shows_the_backward_pass_as_code(digits_demo):
    index, _ = digits_demo
    page = html.unescape(index.read_text(encoding="utf-8"))
    section = page[page.index("<h2>The backward pass as code</h2>") :]
    section = section[: section.index("</section>")]
    for line in ("q = np.maximum(z, w)  # 2", "dfdx = dfdp * y  # -8", "dfdy = dfdp * x  # 6"):
        assert line in section
    assert "def grads(W, b, *, X, y=y, reg=reg):" in section  # the SVM step, X passed in
    assert '<img src="lecture_' in section  # the graph beside the code


def test_run_demo_unknown_dataset(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'cifar'.*digits"):
        demo.run_demo(tmp_path, dataset="cifar")


def test_run_demo_quick_fashion_mnist(tmp_path, capsys):
    if not STRICT and not (tg.data.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("dataset-fashion-mnist is not installed")
    index = demo.run_demo(tmp_path, dataset="fashion-mnist", quick=True)
    text = capsys.readouterr().out
    assert "validation 10000, test 10000; 784 features" in text
    results = _check_report(index, text)
    for _, test in results.values():
        assert test > 0.6  # 5k images, 2 epochs: far above chance (0.1)


def test_doctests():
    import doctest

    result = doctest.testmod(demo, optionflags=doctest.ELLIPSIS)
    # (the lecture's drawings and their doctests moved to viz.course.lecture)
    assert result.attempted >= 2 and result.failed == 0


def test_cli_demo_refuses_an_unknown_dataset(capsys, tmp_path):
    from viz import cli

    assert cli.main(["demo", "--out", str(tmp_path), "--dataset", "cifar"]) == 2
    assert "unknown dataset 'cifar'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before doing anything


FASHION_FILES = {
    "train-images-idx3-ubyte.gz": "26 MB",
    "train-labels-idx1-ubyte.gz": "29 KB",
    "t10k-images-idx3-ubyte.gz": "4.4 MB",
    "t10k-labels-idx1-ubyte.gz": "5.1 KB",
}


@pytest.mark.parametrize("where", ["default", "--data-dir"])
def test_cli_demo_says_how_to_get_fashion_mnist(capsys, tmp_path, monkeypatch, where):
    from viz import cli

    monkeypatch.setattr(tg.data, "FASHION_MNIST_DIR", tmp_path / "nowhere")
    argv = ["demo", "--out", str(tmp_path / "out"), "--dataset", "fashion-mnist"]
    if where == "--data-dir":
        (tmp_path / "mine").mkdir()  # a folder, but without the files
        argv += ["--data-dir", str(tmp_path / "mine")]
    assert cli.main(argv) == 1
    err = " ".join(capsys.readouterr().err.split())  # as one line, however it is wrapped
    # Checked before anything is written: no lecture files in a half-made report.
    assert not (tmp_path / "out").exists()
    assert str(tmp_path / ("nowhere" if where == "default" else "mine")) in err
    # On any system: the four files' names and sizes, where Debian puts them, the option.
    for name, size in FASHION_FILES.items():
        assert f"{name} ({size})" in err
    assert "apt-get install dataset-fashion-mnist" in err
    assert "/usr/share/datasets/fashion-mnist" in err
    assert "--data-dir FOLDER" in err and "path=" in err


def test_fashion_mnist_sizes_in_the_message_are_debians(monkeypatch):
    # The sizes the message promises are those of the real files (to the digits shown).
    folder = tg.data.FASHION_MNIST_DIR
    if not STRICT and not folder.is_dir():
        pytest.skip("dataset-fashion-mnist is not installed")
    for name, size in FASHION_FILES.items():
        number, unit = size.split()
        actual = (folder / name).stat().st_size / {"KB": 1e3, "MB": 1e6}[unit]
        assert f"{actual:.2g}" == f"{float(number):.2g}", (name, actual)


def test_cli_demo_data_dir_reaches_the_loader(monkeypatch, tmp_path, capsys):
    from viz import cli

    folder = tg.data.FASHION_MNIST_DIR
    if not STRICT and not folder.is_dir():
        pytest.skip("dataset-fashion-mnist is not installed")
    monkeypatch.setattr(tg.data, "FASHION_MNIST_DIR", tmp_path / "nowhere")
    seen = {}
    monkeypatch.setattr(cli, "lecture_demo", lambda out: 0)
    monkeypatch.setattr(demo, "run_demo", lambda out, dataset, **kw: seen.update(kw, ds=dataset))
    argv = ["demo", "--out", str(tmp_path), "--dataset", "fashion-mnist", "--quick"]
    assert cli.main([*argv, "--data-dir", str(folder)]) == 0
    assert seen["ds"] == "fashion-mnist" and seen["split"].X_train.shape == (5000, 784)


def test_cli_demo_data_dir_needs_fashion_mnist(capsys, tmp_path):
    from viz import cli

    assert cli.main(["demo", "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path)]) == 2
    assert "--data-dir is the folder of Fashion-MNIST's files" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_run_demo_has_the_neural_network_beside_the_linear_models(digits_demo):
    index, text = digits_demo
    row = re.search(r"^MLPClassifier\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)\s", text, re.M)
    assert row, text
    val, test = float(row.group(1)), float(row.group(2))
    assert val > 0.9 and test > 0.9  # a quick 15-epoch run of the 64-64-10 net
    page = index.read_text(encoding="utf-8")
    assert f"<td>{row.group(2)}</td>" in page
    assert "Beyond the linear classifier: a neural network" in page
    links = _Links()
    links.feed(page)
    for name in ("loss_MLPClassifier.png", "first_layer_MLPClassifier.png", "moons_boundary.png"):
        assert name in links.sources, name
    assert "training accuracy 100%" in page  # micrograd's demo
    assert "total loss" in (index.parent / "moons_step.svg").read_text()


def test_run_demo_draws_pytorchs_graph_beside_ours(digits_demo):
    index, _ = digits_demo
    page = html.unescape(index.read_text(encoding="utf-8"))
    assert "<h2>PyTorch computation graph</h2>" in page
    graph = html.unescape((index.parent / "torch_graph.svg").read_text(encoding="utf-8"))
    for text in ("MaximumBackward0", ">grad -8<", ">grad 0<", ">-20<"):
        assert text in graph, text
    comparison = html.unescape((index.parent / "torch_compare.svg").read_text(encoding="utf-8"))
    assert "Python's built-in max(z, w)" in comparison and "w: only in tensorgraph" in comparison
    assert 'href="torch_graph.svg"' in page and 'href="torch_compare.svg"' in page
    # Without torch the section stays, saying how to get it.
    assert "pip install 'tensorgraph[torch]'" in demo._torch_section(None)
