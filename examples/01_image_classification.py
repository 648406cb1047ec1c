"""Slide 'Image Classification': what the computer sees is a grid of numbers.

A handwritten digit is an 8 x 8 grid of integers 0..16. We print the grid, train a
softmax classifier on the training split, and show the test image beside the class
probabilities, like the slide's '82% cat, 15% dog, 2% hat, 1% mug'.

    python examples/01_image_classification.py [OUT]
"""

import sys
from pathlib import Path

import numpy as np

import tensorgraph as tg
from viz.course import plots


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    X, y = tg.data.load_digits()
    X_train, X_val, X_test, y_train, y_val, y_test = tg.data.train_val_test_split(X, y)
    image, label = X_test[0].reshape(8, 8), int(y_test[0])
    print(f"what the computer sees (a test image of a {label}):")
    for row in image.astype(int):
        print("  " + " ".join(f"{v:2d}" for v in row))

    scaler = tg.data.Standardizer().fit(X_train)
    clf = tg.SoftmaxClassifier(learning_rate=0.01, reg=1e-3, epochs=15, verbose=True)
    clf.fit(scaler.transform(X_train), y_train)
    p = clf.predict_proba(scaler.transform(X_test[:1]))[0]
    print("image classification:")
    for k in np.argsort(-p)[:4]:
        print(f"  {100 * p[k]:5.1f}% {tg.data.DIGITS_CLASSES[k]}")
    path = plots.pixel_view(
        image, p, out / "image_classification.png", tg.data.DIGITS_CLASSES, true_label=label
    )
    print("wrote", path)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
