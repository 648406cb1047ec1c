"""The README's pictures of PyTorch graphs, drawn by viz: ``python docs/torch_pictures.py``.

Writes into docs/ (or the folder given): the lecture in PyTorch, recorded
(torch_lecture.png); tensorgraph's lecture beside the slide's own PyTorch code
(torch_compare.png); one SVM training step written in PyTorch (torch_svm_step.png);
one step of a small MLP, torch.nn (torch_mlp_step.png). Needs torch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

import viz
from viz.course.lecture import lecture_graph, torch_slide


def svm_step() -> torch.Tensor:
    """One step of the CS231n multiclass SVM on 4 examples, with PyTorch's own hinge."""
    torch.manual_seed(0)
    X = torch.randn(4, 3)  # 4 examples, 3 features
    y = torch.tensor([0, 2, 1, 2])
    W = (0.5 * torch.randn(3, 3)).requires_grad_()  # 3 classes
    b = torch.zeros(3, requires_grad=True)
    with viz.record_torch():
        scores = X @ W.T + b
        # multi_margin_loss divides by the K = 3 classes; CS231n's hinge does not.
        loss = 3 * F.multi_margin_loss(scores, y) + 0.1 * (W * W).sum()
        loss.backward()
    return loss


def mlp_step() -> torch.Tensor:
    """One step of a 2-4-2 MLP (torch.nn) with cross-entropy on 4 points."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    X = torch.randn(4, 2)
    y = torch.tensor([0, 1, 1, 0])
    with viz.record_torch():
        loss = F.cross_entropy(model(X), y)
        loss.backward()
    return loss


def small(path: Path) -> Path:
    """The PNG with a 256-colour palette: a diagram loses nothing, the file gets smaller."""
    from PIL import Image  # matplotlib's dependency

    with Image.open(path) as image:
        image.load()
        quantized = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
    quantized.save(path, optimize=True)
    return path


def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    ours = lecture_graph()
    ours.backward()
    title = "PyTorch Computation Graph: f = 2·(x·y + torch.maximum(z, w))"
    compared = viz.compare(ours, torch_slide(), title="tensorgraph vs the slide's q = max(z, w)")
    steps = {"rankdir": "TB"}  # a training step is long: top to bottom reads in a page
    paths = [
        viz.render(torch_slide(python_max=False), out / "torch_lecture.png", title=title),
        viz.render(compared, out / "torch_compare.png"),
        viz.render(svm_step(), out / "torch_svm_step.png", title="One SVM step, PyTorch", **steps),
        viz.render(mlp_step(), out / "torch_mlp_step.png", title="One MLP step, torch.nn", **steps),
    ]
    return [small(path) for path in paths]


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent):
        print("wrote", path)
