"""Slide 'Algebraic Interpretation': each row of W is a template for its class.

The score of class k is the dot product w_k . x + b_k: a match of the image x against
the template w_k. Reshaped to 8 x 8, the rows of a trained W look like blurred digits.

    python examples/03_algebraic_interpretation.py [OUT]
"""

import sys
from pathlib import Path

import numpy as np

import tensorgraph as tg
from viz.course import plots


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    X, y = tg.data.load_digits()
    X_train, X_val, _, y_train, y_val, _ = tg.data.train_val_test_split(X, y)
    prep = tg.data.MeanImage(scale=16).fit(X_train)  # x / 16 - mean image
    clf = tg.SoftmaxClassifier(learning_rate=0.05, reg=1e-3, epochs=20, verbose=True)
    clf.fit(prep.transform(X_train), y_train)
    W, b = clf.W.data, clf.b.data
    print(f"W is {W.shape[0]} x {W.shape[1]}: one row (template) of 64 weights per class")

    x = prep.transform(X_val[:1])[0]
    scores = W @ x + b  # one dot product per class, plus its bias
    print(f"a validation image of a {y_val[0]}: scores w_k . x + b_k =")
    print("  " + "  ".join(f"{k}:{s:+.1f}" for k, s in enumerate(scores)))
    print(f"best matching template: {int(np.argmax(scores))}")
    print(f"validation accuracy: {clf.score(prep.transform(X_val), y_val):.3f}")
    path = plots.templates(W, (8, 8), out / "templates.png", tg.data.DIGITS_CLASSES)
    print("wrote", path)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
