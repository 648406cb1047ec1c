"""A two-layer neural network on Fashion-MNIST, written exactly as in PyTorch.

784 pixels -> 256 ReLU units -> 10 class scores, softmax cross-entropy, Adam, batches of
128, float32. The settings (learning rate 1e-3, no L2, 20 epochs) were chosen on the
validation split (benchmarks/tune_fashion_mlp.py); the official 10k test set is used
once, at the end. Then the trained model is handed to PyTorch, which predicts the same.
Debian's dataset-fashion-mnist must be installed. About half a minute; --quick trains on
5k images for 2 epochs (seconds).

    python examples/14_fashion_mnist_mlp.py [OUT] [--quick]
"""

import sys
import time
from pathlib import Path

import numpy as np

import tensorgraph as tg
import tensorgraph.nn.functional as F
from tensorgraph import nn
from viz.course import plots


def main(out: Path, quick: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    try:
        X, y, X_test, y_test = tg.data.load_fashion_mnist()
    except FileNotFoundError as err:
        print(err)
        return
    X_train, X_val, _, y_train, y_val, _ = tg.data.train_val_test_split(
        X, y, val=10000, test=0, seed=0
    )
    if quick:
        X_train, y_train = X_train[:5000], y_train[:5000]
    prep = tg.data.MeanImage(scale=255, dtype=np.float32).fit(X_train)
    X_train, X_val, X_test = (prep.transform(a) for a in (X_train, X_val, X_test))
    print(f"train {len(X_train)}, validation {len(X_val)}, test {len(X_test)} images")

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).float()
    optimizer = tg.optim.Adam(model.parameters(), lr=1e-3)
    print(model)

    def accuracy(X: np.ndarray, y: np.ndarray) -> float:
        with tg.no_grad():
            return float(np.mean(model(X).data.argmax(axis=1) == y))

    rng = np.random.default_rng(0)
    epochs, batch_size = (2, 128) if quick else (20, 128)
    start = time.perf_counter()
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, validation accuracy "
              f"{accuracy(X_val, y_val):.4f}")  # fmt: skip
    seconds = time.perf_counter() - start
    test = accuracy(X_test, y_test)  # the test set, once, at the end
    print(f"test accuracy {test:.4f} ({seconds:.1f} s of training)")

    W1 = model[0].weight.data
    print("wrote", plots.templates(
        W1[:20], (28, 28), out / "fashion_first_layer.png", [f"unit {i}" for i in range(20)],
        title="first-layer weights: what 20 of the 256 hidden units look for",
        raises="the unit's input",
    ))  # fmt: skip

    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install torch==2.13.0 to hand the model over")
        return
    twin = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
    )  # PyTorch's own model of the same shape
    print("PyTorch load_state_dict:", twin.load_state_dict(model.state_dict()))
    with torch.no_grad():
        theirs = twin(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    same = np.mean(theirs == model(X_test).data.argmax(axis=1))
    print(f"PyTorch's test accuracy {np.mean(theirs == y_test):.4f}; "
          f"the same prediction on {same:.2%} of the test images")  # fmt: skip


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    main(Path(args[0] if args else "out/examples"), quick="--quick" in sys.argv[1:])
