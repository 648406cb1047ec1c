"""Slide 'SVM vs. Softmax': the same scores, two losses.

cs231n's example scores f = [-2.85, 0.86, 0.28] with the third class correct: the SVM
sees one margin violated (hinge loss 1.58); the softmax turns the scores into
probabilities and pays -log of the correct one (cross-entropy 1.04). Then: the SVM is
satisfied once the margins hold, the softmax always wants more.

    python examples/06_svm_vs_softmax.py [OUT]
"""

import sys
from pathlib import Path

import numpy as np

import tensorgraph as tg
from viz.course import plots


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    f = np.array([-2.85, 0.86, 0.28])
    y = 2
    hinge = np.maximum(0, f - f[y] + 1.0)
    hinge[y] = 0
    p = np.exp(f - f.max()) / np.exp(f - f.max()).sum()
    print("scores f          :", f.tolist(), "(correct class: 2)")
    print("hinge terms       :", hinge.round(2).tolist())
    print("probabilities p   :", p.round(3).tolist())
    svm = tg.svm_loss(tg.tensor([f]), [y]).item()
    soft = tg.softmax_loss(tg.tensor([f]), [y]).item()
    print(f"SVM loss     = {svm:.2f}")
    print(f"softmax loss = {soft:.2f}")

    # Push the correct score up: the hinge reaches 0 and stays; cross-entropy keeps falling.
    print("raise the correct score:   f_y    SVM   softmax")
    for fy in (0.28, 1.86, 3.0, 6.0):
        g = np.array([[-2.85, 0.86, fy]])
        print(
            f"                        {fy:5.2f}  {tg.svm_loss(g, [y]).item():5.2f}"
            f"   {tg.softmax_loss(g, [y]).item():.4f}"
        )
    path = plots.svm_vs_softmax(f, y, out / "svm_vs_softmax.png", ["cat", "car", "frog"])
    print("wrote", path)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
