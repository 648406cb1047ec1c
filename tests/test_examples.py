"""Every script in examples/ runs and prints what its slide shows.

The scripts run in-process (runpy), each writing into its own tmp folder. Expected
numbers come from the lecture and cs231n's notes, or are recomputed here by hand.
"""

from __future__ import annotations

import math
import re
import runpy
import sys
from pathlib import Path

import pytest
from conftest import STRICT

import tensorgraph as tg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str, tmp_path: Path, capsys, monkeypatch) -> tuple[str, Path]:
    (script,) = EXAMPLES.glob(f"{name}_*.py")
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", [str(script), str(out)])
    runpy.run_path(str(script), run_name="__main__")
    return capsys.readouterr().out, out


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)]


def test_every_example_is_tested():
    tested = {n for n in globals() if n.startswith("test_0") or n.startswith("test_1")}
    names = {p.name.split("_")[0] for p in EXAMPLES.glob("[0-9][0-9]_*.py")}
    assert names == {t.split("_")[1] for t in tested}


def test_01_image_classification(tmp_path, capsys, monkeypatch):
    text, out = run("01", tmp_path, capsys, monkeypatch)
    grid = [line for line in text.splitlines() if re.fullmatch(r"(\s+\d+){8}", line)]
    assert len(grid) == 8
    assert all(0 <= v <= 16 for row in grid for v in numbers(row))
    true = int(re.search(r"a test image of a (\d)", text).group(1))
    first = re.search(r"^\s+([\d.]+)% (\d)$", text, re.M)
    assert int(first.group(2)) == true and float(first.group(1)) > 50
    assert (out / "image_classification.png").stat().st_size > 10_000


def test_02_score_function(tmp_path, capsys, monkeypatch):
    text, _ = run("02", tmp_path, capsys, monkeypatch)
    x = [56, 231, 24, 2]
    W = [[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]]
    b = [1.1, 3.2, -1.2]
    for row, bias, name in zip(W, b, ("cat", "dog", "ship"), strict=True):
        f = sum(w * v for w, v in zip(row, x, strict=True)) + bias
        line = next(s for s in text.splitlines() if f"score of {name}" in s)
        assert numbers(line) == pytest.approx([round(f, 2)] * 2)
    assert "predicted class: dog" in text
    assert "train 1077, validation 360, test 360" in text


def test_03_algebraic_interpretation(tmp_path, capsys, monkeypatch):
    text, out = run("03", tmp_path, capsys, monkeypatch)
    assert "W is 10 x 64" in text
    assert float(re.search(r"validation accuracy: ([\d.]+)", text).group(1)) >= 0.9
    assert (out / "templates.png").stat().st_size > 10_000


def test_04_geometric_interpretation(tmp_path, capsys, monkeypatch):
    text, out = run("04", tmp_path, capsys, monkeypatch)
    assert float(re.search(r"training accuracy: ([\d.]+)", text).group(1)) >= 0.95
    assert (out / "geometric.png").stat().st_size > 10_000


def test_05_loss_function(tmp_path, capsys, monkeypatch):
    text, _ = run("05", tmp_path, capsys, monkeypatch)
    # cs231n's worked example: SVM losses 2.9, 0 and 12.9, average 5.27.
    svm = next(s for s in text.splitlines() if "SVM     L_i" in s)
    assert numbers(svm)[:4] == pytest.approx([2.9, 0.0, 12.9, 5.2667], abs=1e-4)
    scores = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
    ce = [math.log(sum(math.exp(v) for v in s)) - s[i] for i, s in enumerate(scores)]
    assert f"tg.softmax_loss = {sum(ce) / 3:.4f}" in text
    assert "tg.svm_loss     = 5.2667" in text
    diffs = [float(d) for d in re.findall(r"\|diff\| ([\d.e+-]+)", text)]
    assert len(diffs) == 2 and max(diffs) < 1e-12


def test_06_svm_vs_softmax(tmp_path, capsys, monkeypatch):
    text, out = run("06", tmp_path, capsys, monkeypatch)
    # cs231n's 'SVM vs. Softmax' figure: hinge loss 1.58, cross-entropy 1.04.
    assert "SVM loss     = 1.58" in text
    assert "softmax loss = 1.04" in text
    assert (out / "svm_vs_softmax.png").stat().st_size > 10_000


def test_07_derivatives(tmp_path, capsys, monkeypatch):
    text, _ = run("07", tmp_path, capsys, monkeypatch)
    lines = [s for s in text.splitlines() if "backward grad" in s]
    # At (3, -4): grad xy = [y, x], grad x+y = [1, 1], grad max = [1, 0].
    for line, expected in zip(lines, ([-4, 3], [1, 1], [1, 0]), strict=True):
        backward = re.search(r"backward grad = \[([^\]]+)\]", line).group(1)
        limit = re.search(r"/h = \[([^\]]+)\]", line).group(1)
        assert numbers(backward) == expected
        assert numbers(limit) == pytest.approx(expected, abs=1e-3)


def test_08_numerical_gradient(tmp_path, capsys, monkeypatch):
    text, _ = run("08", tmp_path, capsys, monkeypatch)
    lecture = float(re.search(r"lecture num_grad vs backward:\s+([\d.e+-]+)", text).group(1))
    central = float(re.search(r"tg.numerical_grad vs backward:\s+([\d.e+-]+)", text).group(1))
    assert central < 1e-6 < lecture < 1e-2  # central differences win by orders of magnitude
    assert "gradcheck: ok" in text


def test_09_gradient_descent(tmp_path, capsys, monkeypatch):
    text, out = run("09", tmp_path, capsys, monkeypatch)
    acc = {
        float(m[0]): float(m[1]) for m in re.findall(r"step size (\S+) .* accuracy ([\d.]+)", text)
    }
    assert set(acc) == {0.01, 1.0, 50.0}
    assert acc[1.0] > 0.95 and acc[1.0] > acc[0.01] and acc[1.0] > acc[50.0]
    assert "chosen on validation: step size 1" in text
    assert (out / "gradient_descent.png").stat().st_size > 10_000


def test_10_backpropagation(tmp_path, capsys, monkeypatch):
    text, out = run("10", tmp_path, capsys, monkeypatch)
    # The slide: p = -12, q = 2, v = -10, f = -20; grad [x, y, z, w] = [-8, 6, 2, 0].
    assert numbers(text.splitlines()[0]) == [-12, 2, -10, 2, -20]
    assert "df/dx = -8, df/dy = 6, df/dz = 2, df/dw = 0" in text
    assert "tensorgraph: f = -20, grad [x, y, z, w] = [-8.0, 6.0, 2.0, 0.0]" in text
    # The graph drawn, and the code tensorgraph writes for it, which runs.
    assert "-20" in (out / "backpropagation.svg").read_text()
    code = (out / "backpropagation_code.py").read_text()
    assert "    q = np.maximum(z, w)  # 2\n" in code and "    dfdx = dfdp * y  # -8\n" in code
    assert "its grads(x=1, y=2, z=-3, w=5): {'x': 4.0, 'y': 2.0, 'z': 0.0, 'w': 2.0}" in text


def test_11_pytorch(tmp_path, capsys, monkeypatch):
    if not STRICT:
        pytest.importorskip("torch")
    text, out = run("11", tmp_path, capsys, monkeypatch)
    rows = {line.split()[0]: line for line in text.splitlines()[1:9]}
    for name, value in (("x.grad", -8), ("y.grad", 6), ("z.grad", 2)):
        assert f"tensor({value}.)" in rows[name] and f"array({value}.)" in rows[name]
    assert "tensor(-20., grad_fn=<MulBackward0>)" in rows["f"]
    assert "torch.maximum: z.grad = 2.0, w.grad = 0.0" in text
    # viz.compare: the slide's Python max parts from tg.maximum, torch.maximum agrees.
    assert "PyTorch with q = max(z, w): they differ" in text
    assert (
        "q: tensorgraph computes it with a max gate (maximum); PyTorch's graph has the leaf z"
        in text
    )
    assert "w: only in tensorgraph's graph" in text
    assert "PyTorch with q = torch.maximum(z, w): they agree" in text
    for name in ("compare", "compare_maximum"):
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert "MulBackward0" in (out / f"{name}.svg").read_text()


def test_12_computation_graph(tmp_path, capsys, monkeypatch):
    if not STRICT:
        pytest.importorskip("torch")
    text, out = run("12", tmp_path, capsys, monkeypatch)
    slide, maximum = text.split("q = torch.maximum(z, w):")
    # PyTorch's own graph of the slide: no max gate, no w, and w.grad None.
    assert "MaximumBackward0" not in slide and re.search(r"tensor w\s", slide) is None
    assert re.search(r"tensor f\s+value -20, grad 1", slide)
    assert re.search(r"tensor z\s+value 2, grad 2", slide)
    assert "w.grad = None" in slide
    # With torch.maximum: the max gate, and w's gradient 0.
    assert re.search(r"gate\s+MaximumBackward0\s+\(max\)", maximum)
    assert re.search(r"tensor w\s+value -1, grad 0", maximum) and "w.grad = 0.0" in maximum
    for name, gate in (
        ("computation_graph", "AddBackward0"),
        ("computation_graph_maximum", "MaximumBackward0"),
    ):
        svg = (out / f"{name}.svg").read_text()
        assert "PyTorch Computation Graph" in svg and gate in svg and "grad &#45;8" in svg
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_13_neural_network(tmp_path, capsys, monkeypatch):
    if not STRICT:
        pytest.importorskip("torch")
    text, out = run("13", tmp_path, capsys, monkeypatch)
    # micrograd's demo: 337 parameters, 100 steps, the moons learned without an error.
    assert "number of parameters 337" in text
    assert "step 99 loss" in text and "training accuracy 1.000 after 100 steps" in text
    losses = [float(v) for v in re.findall(r"step \d+ loss ([\d.]+)", text)]
    assert len(losses) == 11 and losses[-1] < 0.02 < losses[0]
    line = next(s for s in text.splitlines() if s.startswith("PyTorch, step 0"))
    ours, theirs = re.search(r"loss ([\d.]+) \(tensorgraph ([\d.]+)\)", line).groups()
    assert ours == theirs
    assert float(re.search(r"equal to ([\d.e+-]+)", line).group(1)) < 1e-12
    assert "the same predictions on all 100 points: True" in text
    assert (out / "moons_boundary.png").stat().st_size > 10_000
    assert (out / "mlp_step.png").read_bytes()[:4] == b"\x89PNG"
    assert "total loss" in (out / "mlp_step.svg").read_text()
    assert "Backward" in (out / "tiny_net_backprop.html").read_text(encoding="utf-8")


def test_14_fashion_mnist_mlp(tmp_path, capsys, monkeypatch):
    """A smoke test on 5k images for 2 epochs; the full run is benchmarks' case 7 (--full)."""
    if not STRICT:
        pytest.importorskip("torch")
        if not (tg.data.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
            pytest.skip("dataset-fashion-mnist is not installed")
    (script,) = EXAMPLES.glob("14_*.py")
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", [str(script), str(out), "--quick"])
    runpy.run_path(str(script), run_name="__main__")
    text = capsys.readouterr().out
    assert "train 5000, validation 10000, test 10000 images" in text
    epochs = [float(v) for v in re.findall(r"validation accuracy ([\d.]+)", text)]
    assert len(epochs) == 2 and epochs[-1] > 0.7
    test = float(re.search(r"^test accuracy ([\d.]+)", text, re.M).group(1))
    assert test > 0.7  # 5k images, 2 epochs: far above chance (0.1)
    assert "PyTorch load_state_dict: <All keys matched successfully>" in text
    assert f"PyTorch's test accuracy {test:.4f}" in text
    assert "the same prediction on 100.00% of the test images" in text
    assert (out / "fashion_first_layer.png").stat().st_size > 10_000
