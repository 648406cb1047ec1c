"""Slides 'Gradient Descent': minibatch SGD in the lecture's shape, and the step size.

The slide's loop, with its own names:

    while True:
        data_batch = sample_data(training_data, 256)
        weights_grad = eval_grad(loss_fun, data_batch, weights)
        weights += - step_size * weights_grad  # in-place update

Here eval_grad is one backward pass through the graph of the softmax loss. The loop
runs a fixed number of steps for three step sizes; the validation accuracy chooses
between them (the slide's 'validate learning rate').

    python examples/09_gradient_descent.py [OUT]
"""

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import tensorgraph as tg

rng = np.random.default_rng(0)


def sample_data(training_data, batch_size):
    X, y = training_data
    idx = rng.choice(len(y), size=batch_size, replace=False)
    return X[idx], y[idx]


def loss_fun(data_batch, weights):
    X, y = data_batch
    # The bias trick: a column of ones in X, so weights (K x (D + 1)) holds W and b.
    return tg.softmax_loss(tg.tensor(X) @ weights.T, y) + 1e-3 * tg.l2(weights)


def eval_grad(loss_fun, data_batch, weights):
    weights.zero_grad()
    loss = loss_fun(data_batch, weights)
    loss.backward()
    return weights.grad, loss.item()


def train(training_data, step_size, steps=150):
    D, K = training_data[0].shape[1], 10
    weights = tg.tensor(0.001 * rng.standard_normal((K, D)), requires_grad=True, name="W")
    losses = []
    for _ in range(steps):  # the slide's `while True`, with a budget
        data_batch = sample_data(training_data, 256)
        weights_grad, loss = eval_grad(loss_fun, data_batch, weights)
        weights.data += -step_size * weights_grad  # in-place update
        losses.append(loss)
    return weights, losses


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    X, y = tg.data.load_digits()
    X_train, X_val, _, y_train, y_val, _ = tg.data.train_val_test_split(X, y)
    scaler = tg.data.Standardizer().fit(X_train)

    def prep(A):
        return np.hstack([scaler.transform(A), np.ones((len(A), 1))])

    training_data = (prep(X_train), y_train)
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    best = None
    for step_size in (0.01, 1.0, 50.0):  # too small, about right, too large
        weights, losses = train(training_data, step_size)
        val_acc = float(np.mean(np.argmax(prep(X_val) @ weights.data.T, axis=1) == y_val))
        print(
            f"step size {step_size:<6g} loss {losses[0]:.3f} -> {losses[-1]:.3f}  "
            f"validation accuracy {val_acc:.3f}"
        )
        ax.plot(losses, label=f"step size {step_size:g} (val acc {val_acc:.2f})")
        if best is None or val_acc > best[1]:
            best = (step_size, val_acc)
    print(f"chosen on validation: step size {best[0]:g}")
    ax.set(
        xlabel="step",
        ylabel="minibatch loss",
        yscale="log",
        title="minibatch SGD (256 examples per step) on digits",
    )
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "gradient_descent.png", dpi=110)
    print("wrote", out / "gradient_descent.png")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
