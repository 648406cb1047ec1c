"""Choose the tensorgraph classifiers' hyperparameters for case 6 on the validation split.

    .venv/bin/python benchmarks/tune_fashion.py [softmax|svm ...]

A small grid over learning rate and regularization strength, every run for EPOCHS
epochs with the validation accuracy recorded after each epoch (fit's X_val); prints
the best (learning rate, reg, epoch) by validation accuracy. The test set is never
looked at here. Results go by hand into benchmarks/findings.md and case_fashion.py.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.case_fashion import load  # noqa: E402

EPOCHS = 20
GRID = {
    "learning_rate": [0.003, 0.01, 0.03],
    "reg": [1e-5, 1e-4, 1e-3],
}


def main(kinds: list[str]) -> None:
    import threadpoolctl

    from tensorgraph.linear import LinearSVM, SoftmaxClassifier

    threadpoolctl.threadpool_limits(1)
    X_train, X_val, _, y_train, y_val, _ = load(quick=False)
    classes = {"softmax": SoftmaxClassifier, "svm": LinearSVM}
    for kind in kinds:
        best = (0.0, None)
        for lr, reg in itertools.product(GRID["learning_rate"], GRID["reg"]):
            t0 = time.perf_counter()
            clf = classes[kind](
                learning_rate=lr, reg=reg, epochs=EPOCHS, batch_size=128, verbose=False
            )
            clf.fit(X_train, y_train, X_val, y_val)
            val = clf.history_["val_accuracy"]
            epoch = max(range(len(val)), key=val.__getitem__)
            print(
                f"{kind} lr={lr:g} reg={reg:g}: best val {val[epoch]:.4f} at epoch {epoch + 1}, "
                f"last {val[-1]:.4f} ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            if val[epoch] > best[0]:
                best = (val[epoch], (lr, reg, epoch + 1))
        print(f"BEST {kind}: val {best[0]:.4f} at lr, reg, epochs = {best[1]}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["softmax", "svm"])
