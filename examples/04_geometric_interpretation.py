"""Slide 'Geometric Interpretation': each class score is a linear function of x.

In two dimensions the points where class k scores zero, w_k . x + b_k = 0, form a line;
w_k points to where the score grows. Three Gaussian blobs, a linear SVM, the three
lines and the region each class wins.

    python examples/04_geometric_interpretation.py [OUT]
"""

import sys
from pathlib import Path

import tensorgraph as tg
from viz.course import plots


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    X, y = tg.data.make_blobs(n_per_class=60, seed=0)
    clf = tg.LinearSVM(learning_rate=0.05, reg=1e-3, epochs=30, batch_size=32, verbose=True)
    clf.fit(X, y)
    W, b = clf.W.data, clf.b.data
    for k in range(3):
        print(f"class {k}: score {W[k, 0]:+.2f} x1 {W[k, 1]:+.2f} x2 {b[k]:+.2f}")
    print(f"training accuracy: {clf.score(X, y):.3f}")
    path = plots.decision_regions(W, b, X, y, out / "geometric.png", ["blob 0", "blob 1", "blob 2"])
    print("wrote", path)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
