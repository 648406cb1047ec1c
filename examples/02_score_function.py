"""Slide 'Score Function': f(x_i, W, b) = W x_i + b, and the train / val / test pipeline.

The cs231n picture: an image of 4 pixels, 3 classes. W is K x D (3 x 4), b has K
entries, and each class gets one score, computed here twice, in numpy and as a graph.

    python examples/02_score_function.py [OUT]
"""

import sys
from pathlib import Path

import numpy as np

import tensorgraph as tg


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    classes = ["cat", "dog", "ship"]
    x = np.array([56.0, 231.0, 24.0, 2.0])  # the image stretched into a column, D = 4
    W = np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]])
    b = np.array([1.1, 3.2, -1.2])
    print(f"W is {W.shape[0]} x {W.shape[1]} (K x D), b has {b.size} entries, x has {x.size}")

    f_numpy = W.dot(x) + b
    f_graph = tg.tensor(W, name="W") @ tg.tensor(x, name="x") + tg.tensor(b, name="b")
    for name, s, t in zip(classes, f_numpy, f_graph.data, strict=True):
        print(f"  score of {name:4s}: numpy {s:8.2f}   tensorgraph {t:8.2f}")
    print(f"predicted class: {classes[int(np.argmax(f_numpy))]} (the largest score)")

    # The pipeline: split once, fit on train, choose hyperparameters on val, test once.
    X, y = tg.data.load_digits()
    X_train, X_val, X_test, y_train, y_val, y_test = tg.data.train_val_test_split(X, y, seed=0)
    print(f"digits: N = {len(y)} examples of D = {X.shape[1]} features, K = 10 classes")
    print(f"split: train {len(y_train)}, validation {len(y_val)}, test {len(y_test)}")
    scaler = tg.data.Standardizer().fit(X_train)  # statistics of the training split only
    Xs = scaler.transform(X_train)
    print(f"standardized train features: mean {Xs.mean():+.3f}, std {Xs.std():.3f}")
    (out / "score_function.txt").write_text(
        "\n".join(f"{c} {s:.2f}" for c, s in zip(classes, f_numpy, strict=True)) + "\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
