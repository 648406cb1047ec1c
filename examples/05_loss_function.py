"""Slides 'Loss Function' and its code: the lecture's L1_i (SVM) and L2_i (softmax).

The slide's per-example numpy functions are copied verbatim below and compared with
tensorgraph's fused loss gates, tg.svm_loss and tg.softmax_loss (which average over
the batch), first on the cs231n numbers, then on random W, b, x. Finally the
regularized loss L = (1/N) sum_i L_i + lambda R(W), with R = L1 or L2.

    python examples/05_loss_function.py [OUT]
"""

import sys
from pathlib import Path

import numpy as np

import tensorgraph as tg


# SVM classifier (the slide's code)
def L1_i(x_i, y_i, W, b):
    delta = 1.0
    f = W.dot(x_i) + b
    margins = np.maximum(0, f - f[y_i] + delta)
    margins[y_i] = 0  # ignore true class
    return np.sum(margins)


# Softmax classifier (the slide's code)
def L2_i(x_i, y_i, W, b):
    f = W.dot(x_i) + b
    f -= np.max(f)  # avoid potential blowup
    p = np.exp(f) / np.sum(np.exp(f))
    return -np.log(p[y_i])


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # cs231n's three examples (cat, car, frog): with W = I and b = 0, x_i are the scores.
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    y = np.array([0, 1, 2])
    W, b = np.eye(3), np.zeros(3)
    svm_i = [L1_i(s, t, W, b) for s, t in zip(scores, y, strict=True)]
    soft_i = [L2_i(s, t, W, b) for s, t in zip(scores, y, strict=True)]
    print("cs231n scores (rows: examples; columns: cat, car, frog), labels", y.tolist())
    print("  SVM     L_i:", [round(float(v), 4) for v in svm_i], f"mean {np.mean(svm_i):.4f}")
    print("  softmax L_i:", [round(float(v), 4) for v in soft_i], f"mean {np.mean(soft_i):.4f}")
    S = tg.tensor(scores)
    print(f"  tg.svm_loss     = {tg.svm_loss(S, y).item():.4f}")
    print(f"  tg.softmax_loss = {tg.softmax_loss(S, y).item():.4f}")

    # Random weights on random 'images': the slide's loop against the one-gate batch loss.
    rng = np.random.default_rng(0)
    N, D, K = 8, 5, 4
    X, yy = rng.normal(size=(N, D)), rng.integers(0, K, size=N)
    W, b = rng.normal(size=(K, D)), rng.normal(size=K)
    f = tg.tensor(X) @ tg.tensor(W).T + tg.tensor(b)  # scores, (N, K)
    for name, per_example, gate in (
        ("SVM", L1_i, tg.svm_loss),
        ("softmax", L2_i, tg.softmax_loss),
    ):
        loop = np.mean([per_example(X[i], yy[i], W, b) for i in range(N)])
        fused = gate(f, yy).item()
        print(
            f"random batch {name:7s}: lecture loop {loop:.12f}  tg {fused:.12f}  "
            f"|diff| {abs(loop - fused):.1e}"
        )

    # Regularization: L = data loss + lambda * R(W).
    lam = 0.1
    Wt = tg.tensor(W, requires_grad=True, name="W")
    data_loss = tg.softmax_loss(tg.tensor(X) @ Wt.T + tg.tensor(b), yy)
    for rname, R, ref in (("L1", tg.l1, np.abs(W).sum()), ("L2", tg.l2, (W**2).sum())):
        L = data_loss + lam * R(Wt)
        print(
            f"{rname}: R(W) = {R(Wt).item():.4f} (numpy {ref:.4f}), "
            f"L = {data_loss.item():.4f} + {lam} * R(W) = {L.item():.4f}"
        )
    (out / "loss_function.txt").write_text(
        f"svm {np.mean(svm_i):.6f}\nsoftmax {np.mean(soft_i):.6f}\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
