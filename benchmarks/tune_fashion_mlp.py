"""Choose the Fashion-MNIST MLP's hyperparameters on the validation split (never the test set).

    .venv/bin/python benchmarks/tune_fashion_mlp.py

A two-layer net 784-256-10 (ReLU), tg.MLPClassifier with Adam, batch 128, float32 pixels
(x/255 minus the training split's mean image): a grid over learning rate and L2 strength,
each run EPOCHS epochs with the validation accuracy after every epoch; prints the best
(learning rate, reg, epoch). Results go by hand into benchmarks/findings.md (F7) and into
the settings of benchmarks/case_mlp.py and the demo (viz/course/demo.py).
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.case_fashion import load  # noqa: E402

EPOCHS = 30
GRID = {"learning_rate": [3e-4, 1e-3, 3e-3], "reg": [0.0, 1e-4, 1e-3]}


def main() -> None:
    import threadpoolctl

    import tensorgraph as tg

    threadpoolctl.threadpool_limits(1)
    X_train, X_val, _, y_train, y_val, _ = load(quick=False, dtype=np.float32)
    best = (0.0, None)
    for lr, reg in itertools.product(GRID["learning_rate"], GRID["reg"]):
        t0 = time.perf_counter()
        clf = tg.MLPClassifier(
            hidden_sizes=(256,), learning_rate=lr, reg=reg, epochs=EPOCHS, verbose=False
        )
        clf.fit(X_train, y_train, X_val, y_val)
        val = clf.history_["val_accuracy"]
        epoch = max(range(len(val)), key=val.__getitem__)
        curve = " ".join(f"{v:.3f}" for v in val[4::5])
        print(
            f"lr={lr:g} reg={reg:g}: best val {val[epoch]:.4f} at epoch {epoch + 1}, last "
            f"{val[-1]:.4f}, train {clf.history_['train_accuracy'][-1]:.4f} "
            f"(every 5th epoch: {curve}; {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        if val[epoch] > best[0]:
            best = (val[epoch], (lr, reg, epoch + 1))
    print(f"BEST: val {best[0]:.4f} at lr, reg, epochs = {best[1]}", flush=True)


if __name__ == "__main__":
    main()
